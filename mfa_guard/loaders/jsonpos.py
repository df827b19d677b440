"""A JSON parser that records the position of every object, array, key and item.

The standard library's C decoder exposes no positions, so this is a small
recursive-descent parser. Strings are decoded by `json.decoder.scanstring`
(the C implementation when available), which keeps parsing fast. Duplicate
keys are kept last-wins, as `json.loads` does, and listed in
`ParsedJson.duplicates` so callers can report them.
"""

from __future__ import annotations

import bisect
import re
from json import decoder as json_decoder
from typing import Any

from mfa_guard.loaders.positions import Pos, PosDict, PosList
from mfa_guard.records import field, record

MAX_DEPTH = 200

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_LITERALS = {"true": True, "false": False, "null": None}


class JsonError(ValueError):
    """Invalid JSON, with the 1-based line and column of the problem."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"{message} (line {line}, column {column})")
        self.message = message
        self.line = line
        self.column = column


@record
class DuplicateKey:
    key: str
    pos: Pos
    first_pos: Pos


@record(frozen=False)
class ParsedJson:
    value: Any
    duplicates: list[DuplicateKey] = field(default_factory=list)


class _Parser:
    def __init__(self, text: str, line_offset: int, column_offset: int) -> None:
        self.text = text
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.line_offset = line_offset
        self.column_offset = column_offset
        self.duplicates: list[DuplicateKey] = []

    def location(self, offset: int) -> tuple[int, int]:
        row = bisect.bisect_left(self.newlines, offset)
        line_start = self.newlines[row - 1] + 1 if row else 0
        column = offset - line_start + 1
        if row == 0:
            column += self.column_offset
        return row + 1 + self.line_offset, column

    def span(self, start: int, end: int) -> Pos:
        line, column = self.location(start)
        end_line, end_column = self.location(end)
        return (line, column, end_line, end_column)

    def fail(self, message: str, offset: int) -> JsonError:
        line, column = self.location(offset)
        return JsonError(message, line, column)

    def skip(self, offset: int) -> int:
        match = _WHITESPACE.match(self.text, offset)
        assert match is not None
        return match.end()

    def value(self, offset: int, depth: int) -> tuple[Any, int]:
        offset = self.skip(offset)
        if offset >= len(self.text):
            raise self.fail("expected a value, found the end of the text", offset)
        char = self.text[offset]
        if char == "{":
            return self.object(offset, depth + 1)
        if char == "[":
            return self.array(offset, depth + 1)
        if char == '"':
            return self.string(offset)
        for word, literal in _LITERALS.items():
            if self.text.startswith(word, offset):
                return literal, offset + len(word)
        match = _NUMBER.match(self.text, offset)
        if match and match.end() > offset:
            number = match.group()
            if match.group(1) or match.group(2):
                return float(number), match.end()
            try:
                return int(number), match.end()
            except ValueError:
                # Python converts at most 4,300 digits (sys.int_info).
                raise self.fail(
                    f"number with {len(number):,} digits is too long", offset
                ) from None
        raise self.fail(f"unexpected character {char!r}", offset)

    def string(self, offset: int) -> tuple[str, int]:
        try:
            text, end = json_decoder.scanstring(self.text, offset + 1, True)  # type: ignore[attr-defined]
            return str(text), int(end)
        except ValueError as error:
            position = getattr(error, "pos", offset)
            message = getattr(error, "msg", str(error))
            raise self.fail(message, position) from None

    def check_depth(self, depth: int, offset: int) -> None:
        if depth > MAX_DEPTH:
            raise self.fail(f"nesting deeper than {MAX_DEPTH} levels", offset)

    def object(self, start: int, depth: int) -> tuple[PosDict, int]:
        self.check_depth(depth, start)
        result = PosDict((0, 0, 0, 0))
        offset = self.skip(start + 1)
        if self.text.startswith("}", offset):
            result.pos = self.span(start, offset + 1)
            return result, offset + 1
        while True:
            if not self.text.startswith('"', offset):
                raise self.fail("expected a double-quoted property name", offset)
            key, key_end = self.string(offset)
            key_pos = self.span(offset, key_end)
            offset = self.skip(key_end)
            if not self.text.startswith(":", offset):
                raise self.fail("expected ':' after a property name", offset)
            item, offset = self.value(offset + 1, depth)
            if key in result.key_pos:
                self.duplicates.append(DuplicateKey(key, key_pos, result.key_pos[key]))
            result[key] = item
            result.key_pos[key] = key_pos
            offset = self.skip(offset)
            if self.text.startswith(",", offset):
                offset = self.skip(offset + 1)
                continue
            if self.text.startswith("}", offset):
                result.pos = self.span(start, offset + 1)
                return result, offset + 1
            raise self.fail("expected ',' or '}' in an object", offset)

    def array(self, start: int, depth: int) -> tuple[PosList, int]:
        self.check_depth(depth, start)
        result = PosList((0, 0, 0, 0))
        offset = self.skip(start + 1)
        if self.text.startswith("]", offset):
            result.pos = self.span(start, offset + 1)
            return result, offset + 1
        while True:
            item_start = self.skip(offset)
            item, offset = self.value(item_start, depth)
            result.append(item)
            result.item_pos.append(self.span(item_start, offset))
            offset = self.skip(offset)
            if self.text.startswith(",", offset):
                offset += 1
                continue
            if self.text.startswith("]", offset):
                result.pos = self.span(start, offset + 1)
                return result, offset + 1
            raise self.fail("expected ',' or ']' in an array", offset)


def parse_json(text: str, line_offset: int = 0, column_offset: int = 0) -> ParsedJson:
    """Parse `text` as one JSON value, or raise JsonError.

    `line_offset` and `column_offset` shift reported positions, for JSON that
    is embedded in another file (a Terraform heredoc starting at line 8 has a
    line offset of 7). The column offset applies to the first line only.
    """
    parser = _Parser(text, line_offset, column_offset)
    value, offset = parser.value(0, 0)
    offset = parser.skip(offset)
    if offset != len(text):
        raise parser.fail("unexpected text after the JSON value", offset)
    return ParsedJson(value, parser.duplicates)
