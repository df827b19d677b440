"""Source files of a Terraform module: line offsets and bracket depth."""

from hypothesis import given
from hypothesis import strategies as st

from mfa_guard.loaders.hcl_source import SourceFile, _line_starts, find_deep_brackets


@given(st.text(alphabet=st.sampled_from(["a", "é", "\n", "\r", " ", "😀"])))
def test_line_starts_after_each_newline(text):
    expected = [0] + [index + 1 for index, char in enumerate(text) if char == "\n"]
    assert _line_starts(text) == expected


def test_line_starts_empty_text():
    assert _line_starts("") == [0]


def source_of(text):
    return SourceFile(path="deep.tf", name="deep.tf", text=text, data=text.encode())


def test_deep_brackets_found_at_first_excess():
    text = "locals {\n  x = " + "[{" * 60 + "\n}\n"
    pos, message = find_deep_brackets(source_of(text))
    # The brace of `locals` is level 1, so level 101 is the 100th bracket
    # of line 2, which starts at column 7.
    assert pos == (2, 106, 2, 107)
    assert message == "brackets nested too deeply (more than 100 levels)"


def test_balanced_brackets_within_limit_pass():
    text = "locals {\n  x = " + "[" * 99 + "]" * 99 + "\n}\n"
    assert find_deep_brackets(source_of(text)) is None


def test_closing_brackets_do_not_go_negative():
    text = "]" * 500 + "[" * 100
    assert find_deep_brackets(source_of(text)) is None
