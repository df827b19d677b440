"""Check the `type` constraints of variable blocks before tfparse reads them.

tfparse 0.6.22 aborts the whole process (a Go nil pointer panic, which Python
cannot catch) when a variable's `type` is not a valid type constraint, for
example `type = lsit(string)` or `type = map(optional(string))`. Terraform
rejects such a file as well, so the loader reports it and leaves it out of
the evaluation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mfa_guard.loaders.hcl_source import SourceFile, make_parser, parse_hcl
from mfa_guard.loaders.hcl_template import template_text
from mfa_guard.loaders.positions import Pos
from mfa_guard.loaders.terraform_blocks import Attribute, Block, hcl_blocks, unwrap

if TYPE_CHECKING:
    from tree_sitter import Node

_KEYWORDS = frozenset({"string", "number", "bool", "any", "list", "map", "set"})
# Quoted type names tfparse 0.6.22 accepts (Terraform 0.11 syntax). It aborts
# on any other quoted name, "set" included.
_QUOTED_KEYWORDS = frozenset({"string", "number", "bool", "any", "list", "map"})
_COLLECTIONS = frozenset({"list", "map", "set"})


def invalid_type_constraints(blocks: list[Block]) -> list[tuple[Pos, str]]:
    """Return the position and message of each invalid variable type constraint."""
    problems = []
    for block in blocks:
        attribute = block.attributes.get("type")
        if block.type != "variable" or attribute is None:
            continue
        if not _is_valid_attribute(attribute):
            name = block.labels[0] if block.labels else ""
            message = (
                f'invalid type constraint in variable "{name}": expected a type '
                "such as string, list(string) or object({...})"
            )
            problems.append((attribute.span, message))
    return problems


def _is_valid_attribute(attribute: Attribute) -> bool:
    if attribute.expression is not None:
        return is_type_constraint(attribute.expression, attribute.source)
    if not isinstance(attribute.json_value, str):
        return False

    # In JSON syntax the constraint is a string containing an HCL type expression.
    text = f'variable "v" {{\n  type = {attribute.json_value}\n}}\n'
    snippet = SourceFile("", "", text, text.encode("utf-8", "surrogateescape"))
    parse_hcl(snippet, make_parser())
    blocks = hcl_blocks(snippet)
    if snippet.tree is None or snippet.tree.root_node.has_error or len(blocks) != 1:
        return False
    expression = blocks[0].attributes.get("type")
    if expression is None or expression.expression is None:
        return False
    return is_type_constraint(expression.expression, snippet)


def is_type_constraint(node: Node, source: SourceFile, attribute: bool = False) -> bool:
    """Return True when `node` is a type constraint tfparse can read.

    `attribute` is True for the type of an object attribute, the only place
    where `optional(...)` is allowed.
    """
    core = unwrap(node)
    if core.type == "variable_expr":
        return source.node_text(core) in _KEYWORDS
    if core.type == "string_lit":
        template = template_text(core, source)
        return template is not None and template.text in _QUOTED_KEYWORDS
    if core.type != "function_call":
        return False

    name = source.node_text(core.children[0])
    arguments = _arguments(core)
    if name in _COLLECTIONS:
        return len(arguments) == 1 and is_type_constraint(arguments[0], source)
    if name == "optional":
        return (
            attribute
            and len(arguments) in (1, 2)
            and is_type_constraint(arguments[0], source)
        )
    if name == "tuple":
        return len(arguments) == 1 and _is_tuple_type(arguments[0], source)
    if name == "object":
        return len(arguments) == 1 and _is_object_type(arguments[0], source)
    return False


def _arguments(call: Node) -> list[Node]:
    for child in call.children:
        if child.type == "function_arguments":
            return [c for c in child.children if c.type == "expression"]
    return []


def _is_tuple_type(node: Node, source: SourceFile) -> bool:
    core = unwrap(node)
    if core.type != "tuple":
        return False
    items = [child for child in core.children if child.type == "expression"]
    return all(is_type_constraint(item, source) for item in items)


def _is_object_type(node: Node, source: SourceFile) -> bool:
    core = unwrap(node)
    if core.type != "object":
        return False
    for element in core.children:
        if element.type != "object_elem":
            continue
        key = element.child_by_field_name("key")
        value = element.child_by_field_name("val")
        if key is None or value is None or unwrap(key).type != "variable_expr":
            return False
        if not is_type_constraint(value, source, attribute=True):
            return False
    return True
