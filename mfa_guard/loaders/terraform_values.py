"""Pair tfparse's evaluated values with their source positions.

tfparse evaluates an expression but does not report where each part of the
result was written. `ValueResolver` walks the expression's syntax tree
alongside the value: an object literal becomes a PosDict with the position of
each key, a tuple literal a PosList with the position of each item. A value
that came through a reference (`local.exempt`) carries no positions of its
own, so consumers fall back to the position of the enclosing key. Parts
tfparse returned no value for are evaluated by the `Evaluator`.

tfparse 0.6.22 drops an unknown value from some results instead of
marking it: `concat(local.a, [var.unset])` comes back as `local.a` alone.
So an argument that refers to a variable nothing sets is always evaluated
by the `Evaluator`, which keeps an Unresolved marker in its place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mfa_guard.loaders.hcl_source import SourceFile
from mfa_guard.loaders.positions import PosDict, PosList, Unresolved
from mfa_guard.loaders.terraform_blocks import Attribute, unwrap
from mfa_guard.loaders.terraform_expressions import (
    UNKNOWN,
    Evaluator,
    ModuleScope,
    is_unknown,
    plain,
    tries_outside,
)
from mfa_guard.loaders.terraform_references import traversals

if TYPE_CHECKING:
    from tree_sitter import Node


class ValueResolver:
    """Resolve the expressions of one module from tfparse's values and the trees."""

    def __init__(self, scope: ModuleScope) -> None:
        self.evaluator = Evaluator(scope)

    def resolve(self, attribute: Attribute, value: Any) -> Any:
        """Return the attribute's value, positioned where the source allows."""
        if attribute.expression is None:
            return self.resolve_json(attribute.json_value, value)
        node, source = attribute.expression, attribute.source
        if self.uses_unset_variable(node, source) or self.uses_guessed_value(
            node, source
        ):
            value = UNKNOWN
        return self.resolve_node(node, source, value)

    def uses_guessed_value(self, node: Node, source: SourceFile) -> bool:
        """Return True when tfparse's value of the expression may come from a guessed `try`."""
        guessed = self.evaluator.scope.guessed_locals
        if guessed and any(
            names[0] == "local" and len(names) > 1 and names[1] in guessed
            for names in traversals(node, source)
        ):
            return True
        return tries_outside(node, source)

    def uses_unset_variable(self, node: Node, source: SourceFile) -> bool:
        """Return True when the expression refers to a variable without a value."""
        variables = self.evaluator.scope.variables
        for names in traversals(node, source):
            if names[0] != "var" or len(names) < 2:
                continue
            definition = variables.get(names[1])
            if definition is None or not definition.known or definition.value is None:
                return True
        return False

    def resolve_node(self, node: Node, source: SourceFile, value: Any) -> Any:
        core = unwrap(node)
        if is_unknown(value) and core.type != "null_lit":
            value = UNKNOWN

        if core.type == "object" and (value is UNKNOWN or isinstance(value, dict)):
            return self._object(core, source, value)

        if core.type == "tuple":
            items = [child for child in core.children if child.type == "expression"]
            matches = isinstance(value, list) and len(value) == len(items)
            if value is UNKNOWN or matches:
                return self._tuple(core, items, source, value)

        if value is UNKNOWN:
            return self.evaluator.evaluate(core, source)
        return value

    def _object(self, node: Node, source: SourceFile, value: Any) -> PosDict:
        """Pair an object's elements with tfparse's value of it, keeping positions.

        A key the fallback evaluator cannot compute, such as
        `(each.value.test)`, takes tfparse's key when exactly one such key
        and one key of tfparse's value are left unpaired. Otherwise tfparse's
        keys are kept without positions.
        """
        result = PosDict(source.node_span(node))
        unpaired: list[tuple[Node, Node]] = []
        for element in node.children:
            key_node = element.child_by_field_name("key")
            value_node = element.child_by_field_name("val")
            if element.type != "object_elem" or key_node is None or value_node is None:
                continue
            key = self.evaluator.object_key(key_node, source)
            if key is None:
                continue
            if isinstance(key, Unresolved) and isinstance(value, dict):
                unpaired.append((element, value_node))
                continue

            item = value.get(key, UNKNOWN) if isinstance(value, dict) else UNKNOWN
            result[key] = self.resolve_node(value_node, source, item)
            result.key_pos[key] = source.node_span(element)

        if isinstance(value, dict):
            left = [key for key in value if key not in result]
            if len(unpaired) == 1 and len(left) == 1:
                (element, value_node), key = unpaired[0], left[0]
                result[key] = self.resolve_node(value_node, source, value[key])
                result.key_pos[key] = source.node_span(element)
            for key, item in value.items():
                if key not in result:
                    result[key] = plain(item)
        return result

    def _tuple(
        self, node: Node, items: list[Node], source: SourceFile, value: Any
    ) -> PosList:
        result = PosList(source.node_span(node))
        for index, item_node in enumerate(items):
            item = value[index] if isinstance(value, list) else UNKNOWN
            result.append(self.resolve_node(item_node, source, item))
            result.item_pos.append(source.node_span(item_node))
        return result

    def resolve_json(self, positioned: Any, value: Any) -> Any:
        """Pair a positioned JSON value (`.tf.json` syntax) with tfparse's value."""
        if is_unknown(value):
            value = UNKNOWN
        if isinstance(positioned, PosDict) and (
            value is UNKNOWN or isinstance(value, dict)
        ):
            return self._json_object(positioned, value)
        if isinstance(positioned, PosList) and (
            value is UNKNOWN
            or (isinstance(value, list) and len(value) == len(positioned))
        ):
            result = PosList(positioned.pos)
            result.item_pos = list(positioned.item_pos)
            for index, item in enumerate(positioned):
                known = value[index] if isinstance(value, list) else UNKNOWN
                result.append(self.resolve_json(item, known))
            return result

        if value is not UNKNOWN:
            return value
        if isinstance(positioned, str) and "${" in positioned:
            # NOTE: templates in JSON syntax are not evaluated, so the marker
            # keeps the text as written.
            return Unresolved(positioned)
        return plain(positioned)

    def _json_object(self, positioned: PosDict, value: Any) -> PosDict:
        result = PosDict(positioned.pos)
        for key, item in positioned.items():
            known = value.get(key, UNKNOWN) if isinstance(value, dict) else UNKNOWN
            result[key] = self.resolve_json(item, known)
            result.key_pos[key] = positioned.key_pos[key]
        if isinstance(value, dict):
            for key, item in value.items():
                if key not in result:
                    result[key] = plain(item)
        return result
