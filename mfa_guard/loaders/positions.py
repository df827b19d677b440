"""Parsed values that remember where they were written.

Parsers return ordinary dicts and lists, subclassed to carry positions, so the
values compare equal to a plain `json.loads` result. A `Pos` is
(line, column, end line, end column), 1-based. Values built without positions
(for example from an evaluated Terraform expression) are plain dicts and lists;
consumers then fall back to the nearest enclosing position.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Pos = tuple[int, int, int, int]


class PosDict(dict[str, Any]):
    """A mapping with the position of itself (`pos`) and of each key (`key_pos`)."""

    __slots__ = ("key_pos", "pos")

    def __init__(self, pos: Pos) -> None:
        super().__init__()
        self.pos = pos
        self.key_pos: dict[str, Pos] = {}


class PosList(list[Any]):
    """A sequence with the position of itself (`pos`) and of each item (`item_pos`)."""

    __slots__ = ("item_pos", "pos")

    def __init__(self, pos: Pos) -> None:
        super().__init__()
        self.pos = pos
        self.item_pos: list[Pos] = []


def position_of(value: Any) -> Pos | None:
    return getattr(value, "pos", None)


def key_position(mapping: Any, key: str) -> Pos | None:
    positions = getattr(mapping, "key_pos", None)
    if positions is None:
        return None
    result: Pos | None = positions.get(key)
    return result


def item_position(sequence: Any, index: int) -> Pos | None:
    positions = getattr(sequence, "item_pos", None)
    if positions is None or index >= len(positions):
        return None
    result: Pos = positions[index]
    return result


def replace_strings(value: Any, transform: Callable[[str], Any]) -> Any:
    """Replace, in place, every string inside dicts and lists by `transform(string)`.

    Dict keys stay as they are, and so do their positions. Returns the
    value, or `transform(value)` when the value is a string itself.
    """
    if isinstance(value, dict):
        for key in list(value):
            value[key] = replace_strings(value[key], transform)
        return value
    if isinstance(value, list):
        for index, item in enumerate(value):
            value[index] = replace_strings(item, transform)
        return value
    if isinstance(value, str):
        return transform(value)
    return value


class Unresolved(str):
    """Text standing for a value a loader could not resolve.

    The text describes what was missing, such as "var.exempt_actions (no
    default)". Loaders put it where the value would be, so the document keeps
    its shape and the resolvable parts can still be checked.
    """

    __slots__ = ()


class LiteralText(str):
    """The text of a literal YAML block scalar (`|`), with where its lines start.

    Line `n` of the text is line `n + line_offset` of the file, and column `c`
    of any line is column `c + column_offset`. Loaders use this to point into
    JSON written inside a block scalar. It lives here rather than in
    `yamlpos`, so that loaders can test for it without importing PyYAML.
    """

    line_offset: int
    column_offset: int
