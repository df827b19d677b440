"""Evaluate Terraform expressions where tfparse returned no value.

tfparse returns None, or a mapping naming the reference, for what it cannot
evaluate. tfparse 0.6.22 also sets every reference inside `jsonencode(...)`
to null as soon as one of them is unknown. For those parts the loader
evaluates the expression from the syntax tree: literals, templates,
`var.<name>` from variable defaults, `local.<name>` from tfparse's locals,
`path.module` and the functions in `terraform_functions`. Anything else
becomes an `Unresolved` marker describing the expression.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mfa_guard.loaders.hcl_source import SourceFile
from mfa_guard.loaders.hcl_template import TemplateText, template_text
from mfa_guard.loaders.positions import Unresolved
from mfa_guard.loaders.terraform_blocks import Attribute, unwrap
from mfa_guard.loaders.terraform_functions import FUNCTIONS

if TYPE_CHECKING:
    from tree_sitter import Node

logger = logging.getLogger(__name__)

_DESCRIPTION_LENGTH = 60
_SCALARS = (str, int, float, bool)


class _Unknown:
    """Marker for "tfparse returned no value here"."""


UNKNOWN: Any = _Unknown()


def is_unknown(value: Any) -> bool:
    """Return True for what tfparse returns when it cannot evaluate an expression.

    That is None, or a mapping such as `{"__attribute__": "var.x", ...}`
    naming an unresolved reference.
    """
    if value is None or value is UNKNOWN:
        return True
    return isinstance(value, dict) and "__attribute__" in value


def contains_unknown(value: Any) -> bool:
    if is_unknown(value):
        return True
    if isinstance(value, dict):
        return any(contains_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(contains_unknown(item) for item in value)
    return False


def plain(value: Any) -> Any:
    """Return `value` without positions (PosDict and PosList become dict and list)."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def describe(node: Node, source: SourceFile) -> str:
    """Return the source text of an expression on one line, shortened."""
    text = re.sub(r"\s+", " ", source.node_text(node)).strip()
    if len(text) > _DESCRIPTION_LENGTH:
        text = text[: _DESCRIPTION_LENGTH - 3] + "..."
    return text


@dataclass
class Definition:
    """A variable or local value: tfparse's value and where it is written.

    For a variable, `attribute` is its `default` argument, and `known` is
    False when it has no default.
    """

    value: Any
    attribute: Attribute | None
    known: bool = True


@dataclass
class ModuleScope:
    variables: dict[str, Definition] = field(default_factory=dict)
    locals: dict[str, Definition] = field(default_factory=dict)


class Evaluator:
    """Evaluate expressions of one module from variable defaults and locals."""

    def __init__(self, scope: ModuleScope) -> None:
        self.scope = scope
        self._active: set[str] = set()

    def definition(self, names: list[str] | None) -> Definition | None:
        """Return the definition a `var.<name>` or `local.<name>` traversal names."""
        if names is None or len(names) != 2:
            return None
        if names[0] == "var":
            return self.scope.variables.get(names[1])
        if names[0] == "local":
            return self.scope.locals.get(names[1])
        return None

    def evaluate(self, node: Node, source: SourceFile) -> Any:
        """Evaluate an expression that tfparse could not evaluate.

        Parts that this evaluator cannot evaluate either become Unresolved.
        """
        core = unwrap(node)
        kind = core.type
        if kind == "numeric_lit":
            return _number(source.node_text(core))
        if kind == "bool_lit":
            return source.node_text(core) == "true"
        if kind == "null_lit":
            return None
        if kind in ("string_lit", "quoted_template", "heredoc_template"):
            return self._template(core, source)
        if kind == "object":
            return self._object(core, source)
        if kind == "tuple":
            items = [c for c in core.children if c.type == "expression"]
            return [self.evaluate(item, source) for item in items]
        if kind == "variable_expr" or (
            kind == "expression" and core.children[0].type == "variable_expr"
        ):
            return self._traversal(core, source)
        if kind == "function_call":
            return self._call(core, source)
        return Unresolved(describe(core, source))

    def _object(self, node: Node, source: SourceFile) -> dict[str, Any]:
        result = {}
        for element in node.children:
            key_node = element.child_by_field_name("key")
            value_node = element.child_by_field_name("val")
            if element.type != "object_elem" or key_node is None or value_node is None:
                continue
            key = self.object_key(key_node, source)
            if key is not None:
                result[key] = self.evaluate(value_node, source)
        return result

    def object_key(self, node: Node, source: SourceFile) -> str | None:
        """Return the key an object element's key expression names, if known.

        A bare name (`Effect = ...`) is the key itself. A key in parentheses
        is an expression to evaluate.
        """
        parenthesized = bool(node.children) and node.children[0].type == "("
        core = unwrap(node)
        if core.type == "variable_expr" and not parenthesized:
            return source.node_text(core)
        key = self.evaluate(core, source)
        if isinstance(key, _SCALARS) and not isinstance(key, bool):
            return str(key)
        return None

    def _template(self, node: Node, source: SourceFile) -> Any:
        template = template_text(node, source)
        if template is None:
            return Unresolved(describe(node, source))
        return self.render(template, source)

    def render(self, template: TemplateText, source: SourceFile) -> str:
        """Return the template text with each interpolation replaced by its value.

        Returns Unresolved, with the interpolations left as written, when
        any of them cannot be evaluated. Directives (`%{if}`) are never
        evaluated.
        """
        starts = {source.node_range(part)[0]: part for part in template.parts}
        pieces: list[str] = []
        complete = True
        index = 0
        while index < len(template.text):
            part = starts.get(template.origins[index])
            if part is None:
                pieces.append(template.text[index])
                index += 1
                continue

            text, resolved = self.part_text(part, source)
            pieces.append(text)
            complete = complete and resolved
            end = source.node_range(part)[1]
            while index < len(template.text) and template.origins[index] < end:
                index += 1

        text = "".join(pieces)
        return text if complete else Unresolved(text)

    def part_text(self, part: Node, source: SourceFile) -> tuple[str, bool]:
        """Return the text an interpolation produces and whether it was evaluated."""
        raw = source.node_text(part)
        expressions = [child for child in part.children if child.type == "expression"]
        if part.type != "template_interpolation" or len(expressions) != 1:
            return raw, False
        value = self.evaluate(expressions[0], source)
        if isinstance(value, Unresolved) or not isinstance(value, _SCALARS):
            return raw, False
        if isinstance(value, bool):
            return ("true" if value else "false"), True
        return str(value), True

    def _traversal(self, node: Node, source: SourceFile) -> Any:
        children = node.children if node.type == "expression" else [node]
        root = source.node_text(children[0])
        steps = children[1:]
        if root not in ("var", "local", "path") or not steps:
            return Unresolved(describe(node, source))
        if steps[0].type != "get_attr":
            return Unresolved(describe(node, source))

        name = _attribute_name(steps[0], source)
        if root == "path":
            # Files are read relative to the module directory, so path.module
            # is that directory.
            if name == "module" and len(steps) == 1:
                return "."
            return Unresolved(describe(node, source))
        value = self._variable(name) if root == "var" else self._local(name)
        for step in steps[1:]:
            if isinstance(value, Unresolved):
                break
            value = self._step(value, step, source, node)
        return value

    def _step(self, value: Any, step: Node, source: SourceFile, whole: Node) -> Any:
        key: Any = None
        if step.type == "get_attr":
            key = _attribute_name(step, source)
        elif step.type == "index":
            expressions = [c for c in step.children[0].children if c.is_named]
            if expressions:
                key = self.evaluate(expressions[0], source)
            else:
                key = _number(source.node_text(step).lstrip("."))
        try:
            return value[key]
        except (KeyError, IndexError, TypeError):
            return Unresolved(describe(whole, source))

    def _variable(self, name: str) -> Any:
        definition = self.scope.variables.get(name)
        if definition is None:
            return Unresolved(f"var.{name} (not declared)")
        if not definition.known or definition.value is None:
            return Unresolved(f"var.{name} (no default)")
        return self._definition_value(f"var.{name}", definition)

    def _local(self, name: str) -> Any:
        definition = self.scope.locals.get(name)
        if definition is None:
            return Unresolved(f"local.{name} (not declared)")
        return self._definition_value(f"local.{name}", definition)

    def _definition_value(self, label: str, definition: Definition) -> Any:
        """Return tfparse's value, or evaluate the definition where it has gaps."""
        if not contains_unknown(definition.value):
            return definition.value
        attribute = definition.attribute
        if attribute is None or attribute.expression is None or label in self._active:
            return Unresolved(f"{label} (unresolved)")

        self._active.add(label)
        try:
            return self.evaluate(attribute.expression, attribute.source)
        finally:
            self._active.discard(label)

    def _call(self, node: Node, source: SourceFile) -> Any:
        name = source.node_text(node.children[0])
        function = FUNCTIONS.get(name)
        if function is None:
            return Unresolved(describe(node, source))

        arguments_node = next(
            (c for c in node.children if c.type == "function_arguments"), None
        )
        arguments = []
        if arguments_node is not None:
            for child in arguments_node.children:
                if child.type == "expression":
                    arguments.append(self.evaluate(child, source))

        unresolved = [item for item in arguments if isinstance(item, Unresolved)]
        if unresolved and name != "concat":
            return unresolved[0]
        if name == "jsonencode" and _contains_unresolved(arguments):
            return Unresolved(describe(node, source))
        try:
            return function(*arguments)
        except (ValueError, TypeError) as error:
            logger.debug("could not evaluate %s: %s", describe(node, source), error)
            return Unresolved(describe(node, source))


def _contains_unresolved(value: Any) -> bool:
    if isinstance(value, Unresolved):
        return True
    if isinstance(value, dict):
        return any(_contains_unresolved(item) for item in value.values())
    if isinstance(value, list):
        return any(_contains_unresolved(item) for item in value)
    return False


def _attribute_name(step: Node, source: SourceFile) -> str:
    return source.node_text(step).lstrip(".").strip()


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)
