"""Parse template text as JSON where its interpolations break JSON syntax.

The positions of a heredoc or quoted-string policy come from parsing its
source text as JSON (see `hcl_template`), with the interpolations still as
written. An interpolation can make that text invalid JSON where Terraform's
rendered text is valid:

- inside a JSON string, its expression may contain quotes, backslashes or
  line breaks: `"Resource": "${join(",",\\n [var.a, var.b])}"`;
- outside a string, it is no JSON value: `"Action": ${jsonencode(local.a)}`.

`parse_with_placeholders` rewrites each interpolation and directive into a
placeholder of the same length, so the character origins still apply and
the JSON parsed from the result has the positions of the source. It then
puts each part back as written into the strings and object keys, so the
value is what parsing the source text would give if that were valid JSON.
Given an evaluator, it renders the directives outside JSON strings first
(see `hcl_directives`), so the lists have the lengths of tfparse's.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mfa_guard.loaders.hcl_directives import expand_directives
from mfa_guard.loaders.hcl_source import SourceFile
from mfa_guard.loaders.hcl_template import TemplateText, parse_template_json
from mfa_guard.loaders.positions import PosDict, replace_strings
from mfa_guard.records import field, record

if TYPE_CHECKING:
    from tree_sitter import Node

    from mfa_guard.loaders.terraform_expressions import Evaluator

# Replaces each character of a placeholder that JSON does not allow there.
_FILLER = "_"

# tree-sitter-hcl's nodes of a directive: those that hold other nodes, and
# the markers between which the directive's own template text lies.
_DIRECTIVE_BODIES = frozenset({"template_directive", "template_if", "template_for"})
_DIRECTIVE_MARKERS = frozenset(
    {
        "template_if_intro",
        "template_else_intro",
        "template_if_end",
        "template_for_start",
        "template_for_end",
    }
)


@record(frozen=False)
class Placeholders:
    """Template text with JSON-safe placeholders, and the parts they replace.

    `in_strings` maps the placeholder of each part inside a JSON string to
    the part as written, for the parts whose placeholder differs. `values`
    does the same for the parts outside strings, by the text of the JSON
    string that replaces each. `directives` contains the index where each
    directive marker outside a JSON string starts.
    """

    template: TemplateText
    in_strings: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    directives: set[int] = field(default_factory=set)


def parse_with_placeholders(
    template: TemplateText,
    source: SourceFile,
    evaluator: Evaluator | None = None,
    evaluated: Any = None,
) -> Any:
    """Parse template text as JSON, with each part replaced by a placeholder.

    A part inside a JSON string comes back as written. A part outside a
    string comes back as a string of its text, such as
    "${jsonencode(local.a)}". Raises JsonError, with the position in the
    source file, when the text is invalid JSON even so.

    Without `evaluator`, the text of every branch of a directive stays. With
    it, the directives outside JSON strings are rendered, and the result is
    None when one cannot be decided or the parsed value does not have the
    shape of `evaluated`, tfparse's parsed JSON of the rendered text.
    """
    placeholders = json_placeholders(template, source)
    if evaluator is None or not placeholders.directives:
        value = parse_template_json(placeholders.template, source)
        return _restore(value, placeholders)

    expanded = expand_directives(
        placeholders.template, source, evaluator, placeholders.directives
    )
    if expanded is None:
        return None
    value = _restore(parse_template_json(expanded, source), placeholders)
    return value if same_shape(value, evaluated) else None


def json_placeholders(template: TemplateText, source: SourceFile) -> Placeholders:
    """Replace each interpolation and directive by a placeholder that is valid JSON.

    Inside a JSON string, the quotes, backslashes and control characters of
    a part become `_`. Outside a string, a directive (`%{ if x }`) becomes
    spaces, so the text of every branch stays, and an interpolation's first
    and last characters become quotes, so it reads as a JSON string of the
    same length. The result has the same origins and parts as `template`.
    """
    text = template.text
    characters = list(text)
    result = Placeholders(template)
    in_string = False
    cursor = 0
    for start, end, marker in _part_ranges(template, source):
        in_string = _string_state(text, cursor, start, in_string)
        written = text[start:end]
        if in_string:
            masked = _mask(written)
            characters[start:end] = masked
            if masked != written:
                result.in_strings[masked] = written
        elif marker:
            characters[start:end] = " " * (end - start)
            result.directives.add(start)
        elif end - start >= 2:
            masked = _mask(written[1:-1])
            characters[start:end] = f'"{masked}"'
            result.values[masked] = written
        cursor = end

    masked_text = "".join(characters)
    result.template = TemplateText(masked_text, template.origins, template.parts)
    return result


def _mask(text: str) -> str:
    return "".join(
        _FILLER if character in '"\\' or character < " " else character
        for character in text
    )


def _part_ranges(
    template: TemplateText, source: SourceFile
) -> list[tuple[int, int, bool]]:
    """Return the (start, end, marker) of each part in the template text, in order.

    A directive's markers (`%{ if x }`, `%{ else }`, `%{ endif }` and the
    `for` ones) are parts with `marker` True. The text between them is
    template text again, with interpolations and directives of its own. The
    origins of template text increase with the index, because the text is
    the source with escapes decoded and indentation removed.
    """
    length = len(template.text)
    origins = template.origins
    ranges = []
    for node, marker in _leaf_parts(template.parts):
        part_start, part_end = source.node_range(node)
        start = bisect.bisect_left(origins, part_start, 0, length)
        end = bisect.bisect_left(origins, part_end, start, length)
        if start < end:
            ranges.append((start, end, marker))
    ranges.sort()
    return ranges


def _leaf_parts(parts: list[Node]) -> list[tuple[Node, bool]]:
    """Return the interpolations and directive markers within `parts`, with True for a marker."""
    found = []
    pending = list(reversed(parts))
    while pending:
        node = pending.pop()
        if node.type == "template_interpolation":
            found.append((node, False))
        elif node.type in _DIRECTIVE_MARKERS:
            found.append((node, True))
        elif node.type in _DIRECTIVE_BODIES:
            pending.extend(reversed(node.children))
    return found


def _string_state(text: str, start: int, end: int, in_string: bool) -> bool:
    """Return whether `text[end]` is inside a JSON string, scanning from `start`.

    `in_string` is the state at `start`. Scanning restarts after each part,
    whose last character is never a backslash, so no escape is pending there.
    """
    escaped = False
    for index in range(start, end):
        character = text[index]
        if not in_string:
            in_string = character == '"'
        elif escaped:
            escaped = False
        elif character == "\\":
            escaped = True
        elif character == '"':
            in_string = False
    return in_string


def _restore(value: Any, placeholders: Placeholders) -> Any:
    """Put the parts back as written into the strings and keys of a parsed value.

    Strings are replaced in place. A key keeps its position and its place
    in the key order.
    """

    def in_string(text: str) -> str:
        for masked, written in placeholders.in_strings.items():
            if masked in text:
                text = text.replace(masked, written)
        return text

    def restored(text: str) -> str:
        if text in placeholders.values:
            return placeholders.values[text]
        return in_string(text)

    if placeholders.in_strings:
        _restore_keys(value, in_string)
    return replace_strings(value, restored)


def _restore_keys(value: Any, restored: Callable[[str], str]) -> None:
    if isinstance(value, list):
        for item in value:
            _restore_keys(item, restored)
        return
    if not isinstance(value, dict):
        return

    items = list(value.items())
    positions = getattr(value, "key_pos", {})
    value.clear()
    for key, item in items:
        written = restored(key)
        value[written] = item
        if isinstance(value, PosDict) and key in positions:
            value.key_pos[written] = positions.pop(key)
        _restore_keys(item, restored)


def same_shape(positioned: Any, evaluated: Any) -> bool:
    """Return whether a value parsed from source text matches tfparse's value.

    Lists must have the same lengths and objects the same number of keys.
    A string without `${` or `%{` is literal text and must be equal. A
    string with one may have been rendered by tfparse into anything.
    """
    if isinstance(positioned, dict):
        if not isinstance(evaluated, dict) or len(positioned) != len(evaluated):
            return False
        return all(
            same_shape(item, evaluated[key])
            for key, item in positioned.items()
            if key in evaluated
        )
    if isinstance(positioned, list):
        if not isinstance(evaluated, list) or len(positioned) != len(evaluated):
            return False
        return all(map(same_shape, positioned, evaluated))
    if isinstance(positioned, str):
        if "${" in positioned or "%{" in positioned:
            return True
        return isinstance(evaluated, str) and positioned == evaluated
    return type(positioned) is type(evaluated) and bool(positioned == evaluated)
