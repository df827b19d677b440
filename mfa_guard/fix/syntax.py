"""The parts of a written statement that fixes edit, in every source format.

Each format (JSON, YAML, HCL) finds a statement in the source and describes
the parts a fix edits: an element's list, a condition operator's name and
the strings of an element's entries. The edits built here from those parts
are the same for every format.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

from mfa_guard.fix.source import FixError, LineIndex, TextEdit, newline_at
from mfa_guard.records import record

Render = Callable[[str], str]

# The text between two list items when it is only a comma and white space.
_SEPARATOR = re.compile(r"^[ \t]*,\s*$")
# The text before an item of a YAML block sequence on its line: indentation and a dash.
_BLOCK_ITEM_PREFIX = re.compile(r"^[ \t]*-[ \t]+$")
# The forms a policy variable `${name}` takes in the source formats.
_VARIABLE_FORMS = r"(?:\$\$\{|\$\{!|\$\{|&\{)"


@record
class ListSyntax:
    """An element's list as written.

    `items` are the start and end offsets of the entries. `open_end` is
    the offset just after the opening bracket, or None for a YAML block
    sequence (`- item` lines). `render` writes a new entry in the list's
    quoting style.
    """

    items: tuple[tuple[int, int], ...]
    open_end: int | None
    render: Render


@record
class ScalarSyntax:
    """An element written as one string, from `start` to `end`."""

    start: int
    end: int
    render: Render


class StatementSyntax(Protocol):
    """A statement as written in one source format."""

    def element_list(self, element: str) -> ListSyntax | ScalarSyntax:
        """Return the element's list or single string, or raise FixError."""

    def operator_names(self, operator: str) -> list[tuple[int, int]]:
        """Return the offsets of the names of the statement's `operator` keys."""

    def string_ends(self, element: str) -> list[tuple[int, int]]:
        """Return ranges of the element's entries whose end is the end of the value.

        A range may start before the string's text (at its opening quote
        or a tag), but it ends where the text ends, before a closing quote.
        """


def add_to_list(
    text: str, syntax: ListSyntax | ScalarSyntax, values: tuple[str, ...]
) -> list[TextEdit]:
    """Return the edits that add `values` in front of a list's entries."""
    if isinstance(syntax, ScalarSyntax):
        entries = [syntax.render(value) for value in values]
        entries.append(text[syntax.start : syntax.end])
        return [TextEdit(syntax.start, syntax.end, "[" + ", ".join(entries) + "]")]

    rendered = [syntax.render(value) for value in values]
    if syntax.open_end is None:
        return [_block_insert(text, syntax, rendered)]
    if not syntax.items:
        return [TextEdit(syntax.open_end, syntax.open_end, ", ".join(rendered))]

    separator = _separator(text, syntax)
    start = syntax.items[0][0]
    inserted = "".join(entry + separator for entry in rendered)
    return [TextEdit(start, start, inserted)]


def _separator(text: str, syntax: ListSyntax) -> str:
    """Return the text to write between entries, as the list already has it."""
    items = syntax.items
    if len(items) >= 2:
        between = text[items[0][1] : items[1][0]]
        if _SEPARATOR.match(between):
            return between

    first = items[0][0]
    assert syntax.open_end is not None
    multiline = "\n" in text[syntax.open_end : first] or (
        len(items) >= 2 and "\n" in text[items[0][1] : items[1][0]]
    )
    if not multiline:
        return ", "
    line_start = LineIndex(text).line_start(first)
    indent = text[line_start:first]
    if indent.strip():
        indent = " " * len(indent)
    return "," + newline_at(text, first) + indent


def _block_insert(text: str, syntax: ListSyntax, rendered: list[str]) -> TextEdit:
    """Insert `- entry` lines before the first line of a YAML block sequence."""
    if not syntax.items:
        raise FixError("the YAML sequence has no entries")
    first = syntax.items[0][0]
    line_start = LineIndex(text).line_start(first)
    prefix = text[line_start:first]
    if not _BLOCK_ITEM_PREFIX.match(prefix):
        raise FixError(
            "the first entry of the YAML sequence is not on a line of its own"
        )
    newline = newline_at(text, first)
    inserted = "".join(prefix + entry + newline for entry in rendered)
    return TextEdit(line_start, line_start, inserted)


def replace_operator(
    syntax: StatementSyntax, operator: str, replacement: str
) -> list[TextEdit]:
    """Return the edit that renames the statement's one `operator` key."""
    names = syntax.operator_names(operator)
    if len(names) != 1:
        found = "no" if not names else str(len(names))
        raise FixError(f"the statement has {found} {operator!r} condition operators")
    start, end = names[0]
    return [TextEdit(start, end, replacement)]


def variable_end_pattern(find: str) -> re.Pattern[str]:
    """Return a pattern for `find` at the end of a string, in any variable form.

    `find` is literal text followed by one policy variable, such as
    `mfa/${aws:username}`.
    """
    split = find.rindex("${")
    prefix, name = find[:split], find[split + 2 : -1]
    return re.compile(re.escape(prefix) + _VARIABLE_FORMS + re.escape(name) + r"\}\Z")


def replace_variable_end(
    text: str, syntax: StatementSyntax, element: str, find: str, replacement: str
) -> list[TextEdit]:
    """Return the edits that replace `find` at the end of the element's strings."""
    pattern = variable_end_pattern(find)
    edits = []
    for start, end in syntax.string_ends(element):
        match = pattern.search(text, start, end)
        if match is not None:
            edits.append(TextEdit(match.start(), match.end(), replacement))
    if not edits:
        raise FixError(f"no {element} entry is written to end in {find!r}")
    return edits
