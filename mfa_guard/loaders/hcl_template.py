"""Text of HCL quoted strings and heredocs, with each character's source offset.

Terraform turns a heredoc or a quoted string into text before the policy JSON
in it is parsed. This module rebuilds that text from the source the way
Terraform does: it decodes the escapes (`$${` and `%%{` everywhere, backslash
escapes in quoted strings only) and removes the common indentation of a
`<<-` heredoc. For every character it records the source offset it came from,
so JSON parsed from the text gets its real line and column in the file.

Interpolations (`${...}`) and directives (`%{...}`) stay in the text as
written, because their values come from tfparse or from the evaluator.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from mfa_guard.loaders.hcl_source import SourceFile
from mfa_guard.loaders.jsonpos import JsonError, parse_json
from mfa_guard.loaders.positions import Pos, PosDict, PosList
from mfa_guard.records import field, record

if TYPE_CHECKING:
    from tree_sitter import Node

_OPAQUE_PARTS = ("template_interpolation", "template_directive")
_TEMPLATE_ESCAPES = ("$${", "%%{")
_SPECIAL = re.compile(r"[$%]")
_SPECIAL_WITH_BACKSLASH = re.compile(r"[$%\\]")
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_UNICODE_ESCAPES = {"u": 4, "U": 8}


@record(frozen=False)
class TemplateText:
    """Template text and the source offset of each of its characters.

    `origins` has one entry more than `text`: the offset where the template
    ends. `parts` are the interpolation and directive nodes, whose source text
    `text` contains unchanged.
    """

    text: str
    origins: list[int]
    parts: list[Node] = field(default_factory=list)


@record(frozen=False)
class Decoded:
    """Decoded template characters, with the source offset and kind of each.

    `origins[i]` is the source offset of `text[i]`, and `opaque[i]` is 1
    when that character belongs to an interpolation or directive, which is
    copied as written.
    """

    text: str
    origins: list[int]
    opaque: bytearray


def template_text(node: Node, source: SourceFile) -> TemplateText | None:
    """Rebuild the text of a heredoc, a quoted template or a string literal node."""
    if node.type == "heredoc_template":
        return _heredoc_text(node, source)
    if node.type in ("quoted_template", "string_lit"):
        return _quoted_text(node, source)
    return None


def _heredoc_text(node: Node, source: SourceFile) -> TemplateText | None:
    children = node.children
    markers = [child for child in children if child.type == "heredoc_identifier"]
    if len(markers) < 2 or markers[-1].is_missing:
        return None

    text = source.text
    opening_end = source.node_range(markers[0])[1]
    newline = text.find("\n", opening_end)
    body_start = len(text) if newline < 0 else newline + 1
    body_end = source.node_range(markers[-1])[0]
    while body_end > body_start and text[body_end - 1] in " \t":
        body_end -= 1

    opaque = _opaque_ranges(children, source)
    decoded = decode_literal(source, body_start, body_end, opaque, backslashes=False)
    if children[0].type == "heredoc_start" and source.node_text(children[0]) == "<<-":
        decoded = _dedent(decoded)
    return _assemble(decoded, body_end, children)


def _quoted_text(node: Node, source: SourceFile) -> TemplateText:
    children = node.children
    start = source.node_range(children[0])[1]
    end = source.node_range(children[-1])[0]
    if children[-1].type != "quoted_template_end":
        end = source.node_range(node)[1]
    opaque = _opaque_ranges(children, source)
    decoded = decode_literal(source, start, end, opaque, backslashes=True)
    return _assemble(decoded, end, children)


def _opaque_ranges(children: list[Node], source: SourceFile) -> dict[int, int]:
    ranges = {}
    for child in children:
        if child.type in _OPAQUE_PARTS:
            start, end = source.node_range(child)
            ranges[start] = end
    return ranges


def decode_literal(
    source: SourceFile,
    start: int,
    end: int,
    opaque: dict[int, int],
    *,
    backslashes: bool,
) -> Decoded:
    """Decode the source text between two offsets into template characters.

    `opaque` maps the start offset of each interpolation or directive to its
    end, and those ranges are copied unchanged. `backslashes` enables the
    escapes of quoted strings, which heredocs and template files do not have.
    Runs of plain characters are copied as slices, so a string without
    escapes costs a few list operations, not one object per character.
    """
    text = source.text
    special = _SPECIAL_WITH_BACKSLASH if backslashes else _SPECIAL
    pieces: list[str] = []
    origins: list[int] = []
    kinds = bytearray()
    offset = start
    while offset < end:
        if offset in opaque:
            stop = opaque[offset]
            pieces.append(text[offset:stop])
            origins.extend(range(offset, stop))
            kinds.extend(b"\x01" * (stop - offset))
            offset = stop
            continue

        if text.startswith(_TEMPLATE_ESCAPES, offset):
            char, length = text[offset], 2
        elif backslashes and text[offset] == "\\":
            char, length = _backslash_escape(text, offset)
        else:
            # Copy the plain characters up to the next one that may start an
            # escape or an interpolation (every opaque range starts with $ or %).
            match = special.search(text, offset + 1, end)
            stop = end if match is None else match.start()
            pieces.append(text[offset:stop])
            origins.extend(range(offset, stop))
            kinds.extend(bytes(stop - offset))
            offset = stop
            continue

        pieces.append(char)
        origins.append(offset)
        kinds.append(0)
        offset += length
    return Decoded("".join(pieces), origins, kinds)


def _backslash_escape(text: str, offset: int) -> tuple[str, int]:
    """Decode the escape at `offset` and return its character and source length.

    An invalid escape is kept as a plain backslash. HCL rejects the file, so
    the loader reports it as a syntax error anyway.
    """
    letter = text[offset + 1 : offset + 2]
    if letter in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[letter], 2
    digits = _UNICODE_ESCAPES.get(letter)
    if digits is not None:
        code = text[offset + 2 : offset + 2 + digits]
        try:
            return chr(int(code, 16)), 2 + digits
        except ValueError:
            pass
    return "\\", 1


def _dedent(decoded: Decoded) -> Decoded:
    """Remove the indentation common to all lines, as Terraform does for `<<-`.

    Lines that contain only spaces and tabs neither count towards the common
    indentation nor lose any of theirs (checked against tfparse 0.6.22). An
    interpolation at the start of a line counts as text.
    """
    lines = _line_ranges(decoded)
    widths = [
        _indent_width(decoded, start, end)
        for start, end in lines
        if not _is_blank(decoded, start, end)
    ]
    if not widths:
        return decoded
    common = min(widths)

    pieces: list[str] = []
    origins: list[int] = []
    kinds = bytearray()
    for start, end in lines:
        if not _is_blank(decoded, start, end):
            start += common
        pieces.append(decoded.text[start:end])
        origins.extend(decoded.origins[start:end])
        kinds.extend(decoded.opaque[start:end])
    return Decoded("".join(pieces), origins, kinds)


def _line_ranges(decoded: Decoded) -> list[tuple[int, int]]:
    """Return (start, end) of each line, its newline included.

    A newline inside an interpolation does not end a line.
    """
    text = decoded.text
    ranges = []
    start = 0
    newline = text.find("\n")
    while newline >= 0:
        if not decoded.opaque[newline]:
            ranges.append((start, newline + 1))
            start = newline + 1
        newline = text.find("\n", newline + 1)
    ranges.append((start, len(text)))
    return ranges


def _is_blank(decoded: Decoded, start: int, end: int) -> bool:
    # An interpolation starts with $ or %, so a line with one is never blank,
    # and indentation never includes one.
    return not decoded.text[start:end].strip(" \t\n")


def _indent_width(decoded: Decoded, start: int, end: int) -> int:
    line = decoded.text[start:end]
    return len(line) - len(line.lstrip(" \t"))


def _assemble(decoded: Decoded, end: int, children: list[Node]) -> TemplateText:
    origins = decoded.origins
    origins.append(end)
    parts = [child for child in children if child.type in _OPAQUE_PARTS]
    return TemplateText(decoded.text, origins, parts)


class _PositionMapper:
    """Map (line, column) in template text to (line, column) in the source."""

    def __init__(self, template: TemplateText, source: SourceFile) -> None:
        self.template = template
        self.source = source
        self.line_starts = [0]
        self.line_starts.extend(
            i + 1 for i, char in enumerate(template.text) if char == "\n"
        )

    def offset(self, line: int, column: int) -> int:
        row = min(max(line - 1, 0), len(self.line_starts) - 1)
        offset = self.line_starts[row] + column - 1
        return min(max(offset, 0), len(self.template.text))

    def start(self, line: int, column: int) -> tuple[int, int]:
        origin = self.template.origins[self.offset(line, column)]
        return self.source.location(origin)

    def end(self, line: int, column: int) -> tuple[int, int]:
        offset = self.offset(line, column)
        if offset == 0:
            return self.source.location(self.template.origins[0])
        return self.source.location(self.template.origins[offset - 1] + 1)

    def span(self, pos: Pos) -> Pos:
        return self.start(pos[0], pos[1]) + self.end(pos[2], pos[3])

    def remap(self, value: Any) -> None:
        if isinstance(value, PosDict):
            value.pos = self.span(value.pos)
            for key, key_pos in value.key_pos.items():
                value.key_pos[key] = self.span(key_pos)
            for item in value.values():
                self.remap(item)
        elif isinstance(value, PosList):
            value.pos = self.span(value.pos)
            value.item_pos = [self.span(pos) for pos in value.item_pos]
            for item in value:
                self.remap(item)


def parse_template_json(template: TemplateText, source: SourceFile) -> Any:
    """Parse template text as JSON, with positions in the source file.

    Raises JsonError whose line and column are those of the source file.
    """
    mapper = _PositionMapper(template, source)
    try:
        parsed = parse_json(template.text)
    except JsonError as error:
        line, column = mapper.start(error.line, error.column)
        raise JsonError(error.message, line, column) from None
    mapper.remap(parsed.value)
    return parsed.value
