"""Template text: decoding the characters of HCL strings and heredocs."""

from typing import NamedTuple

from hypothesis import given
from hypothesis import strategies as st

from mfa_guard.loaders.hcl_source import SourceFile
from mfa_guard.loaders.hcl_template import (
    _TEMPLATE_ESCAPES,
    Decoded,
    _backslash_escape,
    _dedent,
    decode_literal,
)

PLAIN = st.text(alphabet=st.sampled_from(list('ab$%{}\\"n u0é')), max_size=12)
INDENTED = st.text(alphabet=st.sampled_from(list(" \t\nab$")), max_size=12)
INTERPOLATION = st.sampled_from(["${var.x}", "%{ if a }", "${b}"])


class TextUnit(NamedTuple):
    """One decoded character, its source offset, and whether it is in an interpolation."""

    char: str
    origin: int
    opaque: bool = False


def units_of(decoded: Decoded) -> list[TextUnit]:
    return [
        TextUnit(char, origin, bool(kind))
        for char, origin, kind in zip(
            decoded.text, decoded.origins, decoded.opaque, strict=True
        )
    ]


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


def reference_dedent(units):
    """Remove the common indentation one character at a time, as the loader first did."""
    lines = [[]]
    for unit in units:
        lines[-1].append(unit)
        if unit.char == "\n" and not unit.opaque:
            lines.append([])

    def blank(line):
        return all(not unit.opaque and unit.char in " \t\n" for unit in line)

    def width(line):
        count = 0
        for unit in line:
            if unit.opaque or unit.char not in " \t":
                break
            count += 1
        return count

    widths = [width(line) for line in lines if not blank(line)]
    if not widths:
        return units
    common = min(widths)
    result = []
    for line in lines:
        result.extend(line if blank(line) else line[common:])
    return result


def source_of(parts):
    """Join text parts and tuples of one interpolation into a source file."""
    text = ""
    opaque = {}
    for part in parts:
        if isinstance(part, tuple):
            opaque[len(text)] = len(text) + len(part[0])
            text += part[0]
        else:
            text += part
    source = SourceFile(path="t.tf", name="t.tf", text=text, data=text.encode())
    return source, opaque


@given(
    parts=st.lists(
        st.one_of(PLAIN, INTERPOLATION.map(lambda text: (text,))), max_size=8
    ),
    backslashes=st.booleans(),
)
def test_decode_matches_reference(parts, backslashes):
    source, opaque = source_of(parts)
    text = source.text

    expected = reference_units(text, 0, len(text), opaque, backslashes)
    decoded = decode_literal(source, 0, len(text), opaque, backslashes=backslashes)
    assert units_of(decoded) == expected


@given(
    parts=st.lists(
        st.one_of(
            INDENTED, st.sampled_from(["${\n x}", "%{ if a }\n"]).map(lambda t: (t,))
        ),
        max_size=8,
    )
)
def test_dedent_matches_reference(parts):
    source, opaque = source_of(parts)
    decoded = decode_literal(source, 0, len(source.text), opaque, backslashes=False)
    units = units_of(decoded)

    assert units_of(_dedent(decoded)) == reference_dedent(units)
