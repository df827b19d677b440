"""Template text: decoding the characters of HCL strings and heredocs."""

from hypothesis import given
from hypothesis import strategies as st

from mfa_guard.loaders.hcl_source import SourceFile
from mfa_guard.loaders.hcl_template import (
    _TEMPLATE_ESCAPES,
    TextUnit,
    _backslash_escape,
    literal_units,
)

PLAIN = st.text(alphabet=st.sampled_from(list('ab$%{}\\"n u0é')), max_size=12)
INTERPOLATION = st.sampled_from(["${var.x}", "%{ if a }", "${b}"])


def reference_units(text, start, end, opaque, backslashes):
    """Decode one character at a time, as the loader first did."""
    units = []
    offset = start
    while offset < end:
        if offset in opaque:
            stop = opaque[offset]
            units.extend(TextUnit(text[i], i, True) for i in range(offset, stop))
            offset = stop
            continue
        if text.startswith(_TEMPLATE_ESCAPES, offset):
            units.append(TextUnit(text[offset], offset))
            offset += 2
            continue
        if backslashes and text[offset] == "\\":
            char, length = _backslash_escape(text, offset)
            units.append(TextUnit(char, offset))
            offset += length
            continue
        units.append(TextUnit(text[offset], offset))
        offset += 1
    return units


@given(
    parts=st.lists(
        st.one_of(PLAIN, INTERPOLATION.map(lambda text: (text,))), max_size=8
    ),
    backslashes=st.booleans(),
)
def test_literal_units_match_reference(parts, backslashes):
    text = ""
    opaque = {}
    for part in parts:
        if isinstance(part, tuple):
            opaque[len(text)] = len(text) + len(part[0])
            text += part[0]
        else:
            text += part
    source = SourceFile(path="t.tf", name="t.tf", text=text, data=text.encode())

    expected = reference_units(text, 0, len(text), opaque, backslashes)
    assert (
        literal_units(source, 0, len(text), opaque, backslashes=backslashes) == expected
    )
