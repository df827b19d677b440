"""Render a Terraform template: interpolations and `%{if}`/`%{for}` directives.

`templatefile()` renders a file with the variables its caller passes. The
renderer walks the template's tree-sitter nodes and records, for every
output character, the source offset it came from, so JSON parsed from the
output maps back to lines and columns in the template file. Literal text
keeps its own offsets. The text an interpolation produces takes the offset
where the interpolation starts.

Some parts cannot be rendered: a variable the caller did not pass, an
unsupported function, an `if` on an unknown value or a `for` over an
unknown collection. Each is copied as written and listed in
`Rendering.unresolved`, so the output never silently lacks it. Strip markers (`${~ x ~}`, `%{~ if ~}`)
remove the whitespace of adjacent literal text, as in Terraform.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mfa_guard.loaders.hcl_source import SourceFile
from mfa_guard.loaders.hcl_template import TemplateText, decode_literal
from mfa_guard.loaders.positions import Unresolved
from mfa_guard.loaders.terraform_expressions import Evaluator, ModuleScope, describe
from mfa_guard.loaders.terraform_operations import truth_value
from mfa_guard.records import field, record

if TYPE_CHECKING:
    from tree_sitter import Node

# Maximum number of characters a template may render to. Nested `for`
# directives multiply their output, so this bounds memory and time.
MAX_RENDERED_LENGTH = 10 * 1024 * 1024

_PARTS = ("template_interpolation", "template_directive")
_SCALARS = (str, int, float, bool)
_WHITESPACE = " \t\r\n"


class RenderingTooLarge(Exception):
    """The template renders to more than MAX_RENDERED_LENGTH characters."""


class TemplateEvaluator(Evaluator):
    """Evaluate template expressions: bare names are the template's variables."""

    def __init__(self, names: dict[str, Any]) -> None:
        super().__init__(ModuleScope())
        self.names = dict(names)

    def root_value(
        self, root: str, steps: list[Node], source: SourceFile
    ) -> tuple[Any, int] | None:
        if root in self.names:
            return self.names[root], 0
        return Unresolved(f"{root} (not passed to the template)"), 0


@record(frozen=False)
class Rendering:
    """The rendered text and the parts copied as written.

    `unresolved` describes each such part for messages (shortened), and
    `written` contains its full source text, as the output does.
    """

    template: TemplateText
    unresolved: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)


@record(frozen=False)
class _Char:
    char: str
    origin: int
    literal: bool


class TemplateRenderer:
    """Render the body of one heredoc node, whose text has no backslash escapes."""

    def __init__(self, source: SourceFile, evaluator: TemplateEvaluator) -> None:
        self.source = source
        self.evaluator = evaluator
        self.output: list[_Char] = []
        self.unresolved: list[str] = []
        self.written: list[str] = []
        self.skip_space = False

    def render(self, start: int, end: int, parts: list[Node]) -> Rendering:
        """Render the source between two offsets, given the nodes of the parts inside.

        Raises RenderingTooLarge.
        """
        self._range(start, end, parts)
        text = "".join(item.char for item in self.output)
        origins = [item.origin for item in self.output]
        origins.append(end)
        return Rendering(TemplateText(text, origins), self.unresolved, self.written)

    def _range(self, start: int, end: int, parts: list[Node]) -> None:
        cursor = start
        for part in parts:
            part_start, part_end = self.source.node_range(part)
            self._literal(cursor, part_start)
            self._part(part)
            cursor = part_end
        self._literal(cursor, end)

    def _literal(self, start: int, end: int) -> None:
        decoded = decode_literal(self.source, start, end, {}, backslashes=False)
        for char, origin in zip(decoded.text, decoded.origins, strict=True):
            if self.skip_space and char in _WHITESPACE:
                continue
            self.skip_space = False
            self._emit(char, origin, literal=True)

    def _emit(self, text: str, origin: int, *, literal: bool = False) -> None:
        if len(self.output) + len(text) > MAX_RENDERED_LENGTH:
            raise RenderingTooLarge(f"more than {MAX_RENDERED_LENGTH} characters")
        self.output.extend(_Char(char, origin, literal) for char in text)

    def _strip_before(self) -> None:
        while (
            self.output
            and self.output[-1].literal
            and self.output[-1].char in _WHITESPACE
        ):
            self.output.pop()

    def _tag(self, tag: Node, *, before: bool = True, after: bool = True) -> None:
        """Apply the strip markers of a tag such as `%{~ else ~}`."""
        children = tag.children
        if before and len(children) > 1 and children[1].type == "strip_marker":
            self._strip_before()
        if after and len(children) > 1 and children[-2].type == "strip_marker":
            self.skip_space = True

    def _part(self, part: Node) -> None:
        if part.type == "template_interpolation":
            self._interpolation(part)
            return
        directive = next((c for c in part.children if c.is_named), None)
        if directive is not None and directive.type == "template_if":
            self._if(part, directive)
        elif directive is not None and directive.type == "template_for":
            self._for(part, directive)
        else:
            self._as_written(part)

    def _interpolation(self, part: Node) -> None:
        self._tag(part, after=False)
        expressions = [c for c in part.children if c.type == "expression"]
        value = None
        if len(expressions) == 1:
            value = self.evaluator.evaluate(expressions[0], self.source)

        if isinstance(value, _SCALARS) and not isinstance(value, Unresolved):
            if isinstance(value, bool):
                value = "true" if value else "false"
            self.skip_space = False
            self._emit(str(value), self.source.node_range(part)[0])
        else:
            self._as_written(part)
        self._tag(part, before=False)

    def _as_written(self, part: Node) -> None:
        """Copy a part as written and record it as unresolved."""
        self.unresolved.append(describe(part, self.source))
        self.written.append(self.source.node_text(part))
        start, end = self.source.node_range(part)
        self.skip_space = False
        for offset in range(start, end):
            self._emit(self.source.text[offset], offset)

    def _if(self, part: Node, directive: Node) -> None:
        intro, else_intro, end = _directive_tags(
            directive, "template_if_intro", "template_else_intro", "template_if_end"
        )
        condition = _condition(self.evaluator, intro, self.source)
        if intro is None or end is None or condition is None:
            self._as_written(part)
            return

        self._tag(intro, after=condition)
        branch_end = else_intro if else_intro is not None else end
        if condition:
            self._range(
                self.source.node_range(intro)[1],
                self.source.node_range(branch_end)[0],
                _parts_between(directive, intro, branch_end),
            )
            self._tag(branch_end, after=False)
        elif else_intro is not None:
            self._tag(else_intro, before=False)
            self._range(
                self.source.node_range(else_intro)[1],
                self.source.node_range(end)[0],
                _parts_between(directive, else_intro, end),
            )
            self._tag(end, after=False)
        self._tag(end, before=False)

    def _for(self, part: Node, directive: Node) -> None:
        start, _, end = _directive_tags(
            directive, "template_for_start", None, "template_for_end"
        )
        loop = _loop(self.evaluator, start, self.source)
        if start is None or end is None or loop is None:
            self._as_written(part)
            return

        names, items = loop
        body_start = self.source.node_range(start)[1]
        body_end = self.source.node_range(end)[0]
        body = _parts_between(directive, start, end)
        self._tag(start, after=False)
        saved = dict(self.evaluator.names)
        for key, value in items:
            self.evaluator.names.update(_bind(names, key, value))
            self._tag(start, before=False)
            self._range(body_start, body_end, body)
            self._tag(end, after=False)
        self.evaluator.names = saved
        self._tag(end, before=False)


def _directive_tags(
    directive: Node, first: str, middle: str | None, last: str
) -> tuple[Node | None, Node | None, Node | None]:
    found: dict[str, Node] = {}
    for child in directive.children:
        if child.type in (first, middle, last):
            found.setdefault(child.type, child)
    return found.get(first), found.get(middle or ""), found.get(last)


def _parts_between(directive: Node, start: Node, end: Node) -> list[Node]:
    low, high = start.end_byte, end.start_byte
    return [
        child
        for child in directive.children
        if child.type in _PARTS and low <= child.start_byte and child.end_byte <= high
    ]


def _condition(
    evaluator: Evaluator, intro: Node | None, source: SourceFile
) -> bool | None:
    if intro is None:
        return None
    expressions = [c for c in intro.children if c.type == "expression"]
    if len(expressions) != 1:
        return None
    return truth_value(evaluator.evaluate(expressions[0], source))


def _loop(
    evaluator: Evaluator, start: Node | None, source: SourceFile
) -> tuple[list[str], list[tuple[Any, Any]]] | None:
    """Return the loop's variable names and its (key, value) pairs, if known.

    Terraform iterates a map in the lexical order of its keys.
    """
    if start is None:
        return None
    names = [source.node_text(c) for c in start.children if c.type == "identifier"]
    expressions = [c for c in start.children if c.type == "expression"]
    if len(expressions) != 1 or len(names) not in (1, 2):
        return None
    collection = evaluator.evaluate(expressions[0], source)
    if isinstance(collection, list):
        if any(isinstance(item, Unresolved) for item in collection):
            return None
        return names, list(enumerate(collection))
    if isinstance(collection, dict):
        return names, [(key, collection[key]) for key in sorted(collection)]
    return None


def _bind(names: list[str], key: Any, value: Any) -> dict[str, Any]:
    if len(names) == 1:
        return {names[0]: value}
    return {names[0]: key, names[1]: value}


def heredoc_parts(node: Node) -> list[Node]:
    """Return the interpolation and directive nodes of a heredoc or template."""
    return [child for child in node.children if child.type in _PARTS]
