"""Source files of a Terraform module: line offsets."""

from hypothesis import given
from hypothesis import strategies as st

from mfa_guard.loaders.hcl_source import _line_starts


@given(st.text(alphabet=st.sampled_from(["a", "é", "\n", "\r", " ", "😀"])))
def test_line_starts_after_each_newline(text):
    expected = [0] + [index + 1 for index, char in enumerate(text) if char == "\n"]
    assert _line_starts(text) == expected


def test_line_starts_empty_text():
    assert _line_starts("") == [0]
