"""Tell, from the syntax alone, when an expression's value is a list, a set or a map.

The `count` and `for_each` checks use this where the fallback evaluator
cannot compute a value, and where the computed value cannot tell a list
from a set (the evaluator returns a Python list for both). The kind is plain
from the syntax for a list or object literal, a `for` expression, a call of
a function that returns a collection, and a variable whose `type` is a
collection type. It is also plain for a variable set by a `.tfvars` file to
one of these, and for a local value defined by one of them.

Terraform calls a `[...]` literal a tuple and a `{...}` literal an object.
They are reported as "list" and "map", the kinds Terraform converts them to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mfa_guard.loaders.hcl_source import SourceFile
from mfa_guard.loaders.terraform_blocks import Attribute, Block, traversal, unwrap
from mfa_guard.loaders.terraform_primitives import PrimitiveContext
from mfa_guard.loaders.terraform_scope import Definition, plain

if TYPE_CHECKING:
    from tree_sitter import Node

# Terraform functions whose result is always a list or a tuple.
_LIST_FUNCTIONS = frozenset(
    {
        "chunklist", "coalescelist", "compact", "concat", "distinct",
        "flatten", "formatlist", "keys", "range", "regexall", "reverse",
        "slice", "sort", "split", "tolist", "values",
    }
)  # fmt: skip
_SET_FUNCTIONS = frozenset({"setintersection", "setsubtract", "setunion", "toset"})
_MAP_FUNCTIONS = frozenset({"merge", "tomap", "transpose", "zipmap"})
# Functions whose result has the type of their arguments when all agree.
_SAME_KIND_FUNCTIONS = frozenset({"nonsensitive", "sensitive", "try"})
# Type constraints of collections, as a call (`list(string)`) or, in the
# Terraform 0.11 style, a bare or quoted keyword (`list`, `"map"`).
_TYPE_KINDS = {
    "list": "list",
    "tuple": "list",
    "set": "set",
    "map": "map",
    "object": "map",
}
# Maximum number of local values followed from one expression.
_MAX_DEPTH = 8


def collection_kind(
    attribute: Attribute,
    context: PrimitiveContext,
    variables: Mapping[str, Definition],
) -> str | None:
    """Return "list", "set" or "map" when the attribute's value is one whatever it is.

    `variables` maps each variable that a `.tfvars` file sets to its
    definition. A variable without one, or only with a default, counts as
    unknown, because a caller may set it to another type.
    """
    if attribute.expression is None:
        return _json_kind(attribute.json_value)
    return _expression_kind(attribute.expression, attribute.source, context, variables)


def _json_kind(value: Any) -> str | None:
    """Return the kind of a `.tf.json` value: a JSON array or object."""
    value = plain(value)
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    return None


def _expression_kind(
    node: Node,
    source: SourceFile,
    context: PrimitiveContext,
    variables: Mapping[str, Definition],
    depth: int = 0,
) -> str | None:
    core = unwrap(node)
    kind = core.type
    if kind == "tuple":
        return "list"
    if kind == "object":
        return "map"
    if kind == "for_expr":
        shapes = {child.type for child in core.children}
        return "list" if "for_tuple_expr" in shapes else "map"
    if kind == "conditional":
        branches = [c for c in core.children if c.type == "expression"][1:]
        return _common_kind(branches, source, context, variables, depth)
    if kind == "function_call":
        return _call_kind(core, source, context, variables, depth)
    return _reference_kind(core, source, context, variables, depth)


def _common_kind(
    nodes: list[Node],
    source: SourceFile,
    context: PrimitiveContext,
    variables: Mapping[str, Definition],
    depth: int,
) -> str | None:
    """Return the kind of all of `nodes` when they have the same one, else None."""
    kinds = {
        _expression_kind(node, source, context, variables, depth) for node in nodes
    }
    return kinds.pop() if len(kinds) == 1 else None


def _call_kind(
    node: Node,
    source: SourceFile,
    context: PrimitiveContext,
    variables: Mapping[str, Definition],
    depth: int,
) -> str | None:
    name = source.node_text(node.children[0])
    if name in _LIST_FUNCTIONS:
        return "list"
    if name in _SET_FUNCTIONS:
        return "set"
    if name in _MAP_FUNCTIONS:
        return "map"
    if name not in _SAME_KIND_FUNCTIONS:
        return None

    arguments = [
        argument
        for child in node.children
        if child.type == "function_arguments"
        for argument in child.children
        if argument.type == "expression"
    ]
    if not arguments:
        return None
    return _common_kind(arguments, source, context, variables, depth)


def _reference_kind(
    node: Node,
    source: SourceFile,
    context: PrimitiveContext,
    variables: Mapping[str, Definition],
    depth: int,
) -> str | None:
    names = traversal(node, source)
    if names is None or len(names) != 2 or depth >= _MAX_DEPTH:
        return None
    if names[0] == "local":
        attribute = context.locals.get(names[1])
        if attribute is None or attribute.expression is None:
            return None
        return _expression_kind(
            attribute.expression, attribute.source, context, variables, depth + 1
        )
    if names[0] != "var":
        return None

    kind = type_constraint_kind(context.variables.get(names[1]))
    if kind is not None:
        return kind
    definition = variables.get(names[1])
    if definition is None or definition.attribute is None or not definition.known:
        return None
    assigned = definition.attribute
    if assigned.expression is None:
        return _json_kind(assigned.json_value)
    return _expression_kind(
        assigned.expression, assigned.source, context, variables, depth + 1
    )


def type_constraint_kind(block: Block | None) -> str | None:
    """Return "list", "set" or "map" when a variable's `type` is a collection type."""
    if block is None:
        return None
    attribute = block.attributes.get("type")
    if attribute is None:
        return None
    if attribute.expression is None:
        # In JSON syntax the constraint is a string such as "list(string)".
        text = attribute.json_value if isinstance(attribute.json_value, str) else ""
        return _TYPE_KINDS.get(text.split("(", 1)[0].strip())

    core = unwrap(attribute.expression)
    if core.type == "function_call":
        return _TYPE_KINDS.get(attribute.source.node_text(core.children[0]))
    text = attribute.source.node_text(core).strip().strip('"')
    return _TYPE_KINDS.get(text)
