"""Render the template of a `templatefile(path, vars)` call into policy JSON.

tfparse 0.6.22 returns null for `templatefile()`, so the loader renders the
template itself (see `hcl_render`) with the variables the call passes. The
template language is that of a heredoc without its delimiters, so the file
text is parsed by tree-sitter-hcl inside a synthetic heredoc. Positions in
that heredoc are shifted back into the template file.

The rendered JSON keeps the positions of the template text: a statement is
found at its line and column in the template file. A string that still
contains a part that could not be rendered becomes an Unresolved marker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mfa_guard.loaders.hcl_render import (
    RenderingTooLarge,
    TemplateEvaluator,
    TemplateRenderer,
    heredoc_parts,
)
from mfa_guard.loaders.hcl_source import (
    SourceFile,
    find_deep_nesting,
    make_parser,
    parse_hcl,
)
from mfa_guard.loaders.hcl_template import TemplateText, parse_template_json
from mfa_guard.loaders.jsonpos import JsonError
from mfa_guard.loaders.positions import Pos, Unresolved, replace_strings
from mfa_guard.records import field, record

if TYPE_CHECKING:
    from tree_sitter import Node

_MARKER = "MFA_GUARD_TEMPLATE"
_OPENINGS = ("template_interpolation_start", "template_directive_start")


@record(frozen=False)
class RenderedPolicy:
    """The JSON value a template renders to, or why there is none.

    `value` is None when the template could not be rendered to valid JSON.
    Then `error` gives the position in the template file and the message of
    a syntax or JSON error. `unresolved` lists the template parts that could
    not be rendered, in either case.
    """

    value: Any = None
    unresolved: list[str] = field(default_factory=list)
    error: tuple[Pos, str] | None = None


def render_policy_template(
    template: SourceFile, variables: dict[str, Any]
) -> RenderedPolicy:
    """Render a template file with `variables` and parse the result as JSON."""
    prefix, wrapped = _wrap(template)
    heredoc = _heredoc(wrapped)
    if heredoc is None:
        return RenderedPolicy(error=_syntax_error(wrapped, len(prefix)))
    too_deep = find_deep_nesting(wrapped)
    if too_deep is not None:
        (line, column, end_line, end_column), message = too_deep
        # The wrapper adds one line before the template text.
        pos = (max(line - 1, 1), column, max(end_line - 1, 1), end_column)
        return RenderedPolicy(error=(pos, f"invalid template: {message}"))

    body_end = wrapped.node_range(heredoc.children[-1])[0]
    renderer = TemplateRenderer(wrapped, TemplateEvaluator(variables))
    try:
        rendering = renderer.render(len(prefix), body_end, heredoc_parts(heredoc))
    except RenderingTooLarge as error:
        return RenderedPolicy(error=((1, 1, 1, 1), f"template renders to {error}"))

    length = len(template.text)
    origins = [min(max(o - len(prefix), 0), length) for o in rendering.template.origins]
    shifted = TemplateText(rendering.template.text, origins)
    try:
        value = parse_template_json(shifted, template)
    except JsonError as error:
        pos = (error.line, error.column, error.line, error.column)
        message = f"invalid JSON in rendered template: {error.message}"
        return RenderedPolicy(unresolved=rendering.unresolved, error=(pos, message))

    if rendering.written:
        value = mark_unresolved(value, rendering.written)
    return RenderedPolicy(value, rendering.unresolved)


def _wrap(template: SourceFile) -> tuple[str, SourceFile]:
    """Return the heredoc opening and a source with the template as a heredoc body."""
    marker = _MARKER
    while marker in template.text:
        marker += "_"
    prefix = f"template = <<{marker}\n"
    body = template.text if template.text.endswith("\n") else template.text + "\n"
    text = f"{prefix}{body}{marker}\n"
    data = text.encode("utf-8", "surrogateescape")
    wrapped = SourceFile(template.path, template.name, text, data)
    parse_hcl(wrapped, make_parser())
    return prefix, wrapped


def _heredoc(wrapped: SourceFile) -> Node | None:
    """Return the heredoc node of a wrapped template, or None after a syntax error."""
    tree = wrapped.tree
    if tree is None or tree.root_node.has_error:
        return None
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "heredoc_template":
            return node
        stack.extend(node.children)
    return None


def _syntax_error(wrapped: SourceFile, body_start: int) -> tuple[Pos, str]:
    """Return the syntax error of a wrapped template, positioned in the template file.

    tree-sitter wraps the whole heredoc in an ERROR node, so the error is
    placed at the first error node inside the template text, or else at the
    last `${` or `%{` that opens an interpolation or a directive.
    """
    error: Node | None = None
    opening: Node | None = None
    stack = [wrapped.tree.root_node] if wrapped.tree is not None else []
    while stack:
        node = stack.pop()
        inside = wrapped.node_range(node)[0] >= body_start
        if inside and (node.is_error or node.is_missing) and error is None:
            error = node
        later = opening is None or node.start_byte > opening.start_byte
        if inside and node.type in _OPENINGS and later:
            opening = node
        stack.extend(reversed(node.children))

    found = error or opening
    if found is None:
        return (1, 1, 1, 1), "invalid template syntax"
    line, column, end_line, end_column = wrapped.node_span(found)
    # The wrapper adds one line before the template text.
    pos = (max(line - 1, 1), column, max(end_line - 1, 1), end_column)
    if found is opening:
        return (
            pos,
            "invalid template syntax: an interpolation or directive is not closed",
        )
    snippet = wrapped.node_text(found).strip().split("\n", 1)[0][:40]
    return pos, f"invalid template syntax: unexpected {snippet!r}"


def mark_unresolved(value: Any, parts: list[str]) -> Any:
    """Replace each string that contains an unrendered part by an Unresolved marker.

    NOTE: a literal `$${x}` rendered as `${x}` next to an unrendered `${x}`
    is marked too, because both read the same by now.
    """

    def marked(text: str) -> str:
        if not isinstance(text, Unresolved) and any(part in text for part in parts):
            return Unresolved(text)
        return text

    return replace_strings(value, marked)
