"""Expand the `%{ if }` and `%{ for }` directives of template text, for positions.

tfparse renders the directives of a heredoc or quoted-string policy: its JSON
has the taken branch of each `if` and one copy of a `for` body per element.
Parsed from the source text with every branch kept, the JSON has lists of
another length, so its positions cannot be paired with tfparse's values.
`expand_directives` builds the text tfparse rendered, with interpolations
still as written: it keeps the taken branches and repeats each `for` body,
every copy with the source offsets of the body. JSON parsed from that text
gives each statement the place where it is written, and each statement a
`for` generates the place of the statement in its body.

The fallback evaluator decides the conditions and loop collections. Where it
cannot, the caller keeps no positions rather than guess a branch. Strip
markers (`~`) only remove whitespace, which leaves the JSON structure as it
is, so they are ignored here.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

from mfa_guard.loaders.hcl_render import MAX_RENDERED_LENGTH
from mfa_guard.loaders.hcl_source import SourceFile
from mfa_guard.loaders.hcl_template import TemplateText
from mfa_guard.loaders.positions import Unresolved
from mfa_guard.loaders.terraform_operations import truth_value

if TYPE_CHECKING:
    from tree_sitter import Node

    from mfa_guard.loaders.terraform_expressions import Evaluator

# A range of template text indices, end excluded.
Segment = tuple[int, int]


class _Undecided(Exception):
    """A directive whose condition or collection the evaluator cannot compute."""


def expand_directives(
    template: TemplateText,
    source: SourceFile,
    evaluator: Evaluator,
    expanded: set[int],
) -> TemplateText | None:
    """Return the template text with its directives rendered, or None if undecided.

    `template` has the parts and origins of `template_text`, and its text
    may have placeholders in place of the parts. Only directives whose first
    character is at an index in `expanded` are rendered: the others stay
    as text, as a directive inside a JSON string does. Returns None when
    the evaluator cannot decide a directive or the text would exceed
    MAX_RENDERED_LENGTH characters.
    """
    expansion = _Expansion(template, source, evaluator, expanded)
    saved = dict(evaluator.bound)
    try:
        segments = expansion.segments(0, len(template.text), template.parts)
    except _Undecided:
        return None
    finally:
        evaluator.bound = saved

    text = "".join(template.text[start:end] for start, end in segments)
    origins: list[int] = []
    for start, end in segments:
        origins.extend(template.origins[start:end])
    origins.append(template.origins[-1])
    return TemplateText(text, origins, [])


class _Expansion:
    """Render the directives of one template text as index segments."""

    def __init__(
        self,
        template: TemplateText,
        source: SourceFile,
        evaluator: Evaluator,
        expanded: set[int],
    ) -> None:
        self.template = template
        self.source = source
        self.evaluator = evaluator
        self.expanded = expanded
        self.length = 0

    def index(self, offset: int) -> int:
        """Return the index of the first character at or after a source offset.

        The origins of template text increase with the index, so a bisection
        finds it.
        """
        origins = self.template.origins
        return bisect.bisect_left(origins, offset, 0, len(self.template.text))

    def segments(self, start: int, end: int, parts: list[Node]) -> list[Segment]:
        """Return the segments that the text between two indices renders to.

        `parts` are the interpolation and directive nodes of that text.
        """
        result: list[Segment] = []
        cursor = start
        for part in parts:
            if part.type != "template_directive":
                continue
            part_start, part_end = self.source.node_range(part)
            first = self.index(part_start)
            if first not in self.expanded:
                continue

            self._add(result, (cursor, first))
            for segment in self._directive(part):
                self._add(result, segment)
            cursor = self.index(part_end)
        self._add(result, (cursor, end))
        return result

    def _add(self, result: list[Segment], segment: Segment) -> None:
        start, end = segment
        if start >= end:
            return
        self.length += end - start
        if self.length > MAX_RENDERED_LENGTH:
            raise _Undecided(f"more than {MAX_RENDERED_LENGTH} characters")
        result.append(segment)

    def _directive(self, part: Node) -> list[Segment]:
        directive = next((c for c in part.children if c.is_named), None)
        if directive is not None and directive.type == "template_if":
            return self._if(directive)
        if directive is not None and directive.type == "template_for":
            return self._for(directive)
        raise _Undecided(self.source.node_text(part))

    def _if(self, directive: Node) -> list[Segment]:
        intro = _child(directive, "template_if_intro")
        else_intro = _child(directive, "template_else_intro")
        end = _child(directive, "template_if_end")
        if intro is None or end is None:
            raise _Undecided(self.source.node_text(directive))

        condition = truth_value(self._evaluate(intro))
        if condition is None:
            raise _Undecided(self.source.node_text(intro))
        if condition:
            return self._between(directive, intro, else_intro or end)
        if else_intro is not None:
            return self._between(directive, else_intro, end)
        return []

    def _for(self, directive: Node) -> list[Segment]:
        start = _child(directive, "template_for_start")
        end = _child(directive, "template_for_end")
        if start is None or end is None:
            raise _Undecided(self.source.node_text(directive))
        names = [
            self.source.node_text(c) for c in start.children if c.type == "identifier"
        ]
        pairs = _loop_pairs(self._evaluate(start))
        if pairs is None or len(names) not in (1, 2):
            raise _Undecided(self.source.node_text(start))
        if not self.evaluator.spend_iterations(len(pairs)):
            raise _Undecided(f"{self.source.node_text(start)} (too many iterations)")

        result = []
        saved = dict(self.evaluator.bound)
        for key, value in pairs:
            if len(names) == 1:
                self.evaluator.bound[names[0]] = value
            else:
                self.evaluator.bound.update({names[0]: key, names[1]: value})
            result.extend(self._between(directive, start, end))
        self.evaluator.bound = saved
        return result

    def _between(self, directive: Node, first: Node, last: Node) -> list[Segment]:
        """Return the segments of the text between two markers of a directive."""
        low, high = first.end_byte, last.start_byte
        parts = [
            child
            for child in directive.children
            if low <= child.start_byte and child.end_byte <= high
        ]
        start = self.index(self.source.node_range(first)[1])
        end = self.index(self.source.node_range(last)[0])
        return self.segments(start, end, parts)

    def _evaluate(self, marker: Node) -> Any:
        expressions = [c for c in marker.children if c.type == "expression"]
        if len(expressions) != 1:
            return Unresolved(self.source.node_text(marker))
        return self.evaluator.evaluate(expressions[0], self.source)


def _child(directive: Node, kind: str) -> Node | None:
    return next((c for c in directive.children if c.type == kind), None)


def _loop_pairs(collection: Any) -> list[tuple[Any, Any]] | None:
    """Return the (key, value) pairs a `%{ for }` iterates over, if known.

    Terraform iterates a map in the lexical order of its keys. A list with
    an Unresolved item may stand for more items than it has (see
    `terraform_operations`), so its length is unknown.
    """
    if isinstance(collection, dict):
        return [(key, collection[key]) for key in sorted(collection)]
    if not isinstance(collection, list):
        return None
    if any(isinstance(item, Unresolved) for item in collection):
        return None
    return list(enumerate(collection))
