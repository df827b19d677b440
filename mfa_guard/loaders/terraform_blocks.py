"""Blocks and attributes of Terraform files, in HCL or JSON syntax, with positions.

tfparse returns evaluated values but only the first and last line of each
block. This module reads the same blocks from the tree-sitter tree (HCL) or
from a positioned JSON parse (`.tf.json`), so the loader can find the exact
position of every attribute and nested block.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from mfa_guard.loaders.hcl_source import SourceFile
from mfa_guard.loaders.hcl_template import template_text
from mfa_guard.loaders.positions import Pos, PosDict, PosList, key_position
from mfa_guard.records import field, record

if TYPE_CHECKING:
    from tree_sitter import Node

# In JSON syntax only the provider schema distinguishes a nested block from an
# object attribute. These are the nested blocks the loader reads.
JSON_NESTED_BLOCKS = frozenset(
    {"statement", "condition", "principals", "not_principals", "inline_policy"}
)
_LABELLED_TOP_LEVEL = {"resource": 2, "data": 2, "variable": 1, "module": 1}
_WRAPPERS = ("expression", "collection_value", "literal_value", "template_expr")
_QUOTES = ("quoted_template_start", "quoted_template_end")


@record(frozen=False)
class Attribute:
    """An argument such as `policy = ...`.

    `expression` is the tree-sitter expression node in an HCL file. In a JSON
    file it is None and `json_value` contains the positioned JSON value.
    """

    name: str
    span: Pos
    source: SourceFile
    expression: Node | None = None
    json_value: Any = None


@record(frozen=False)
class Block:
    """A block such as `resource "aws_iam_policy" "x" { ... }`, with its contents."""

    type: str
    labels: tuple[str, ...]
    span: Pos
    source: SourceFile
    attributes: dict[str, Attribute] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)

    def children(self, block_type: str) -> list[Block]:
        return [block for block in self.blocks if block.type == block_type]

    def dynamic_contents(self, block_type: str) -> list[Block]:
        """Return the `content` blocks of `dynamic "<block_type>"` blocks."""
        contents = []
        for dynamic in self.children("dynamic"):
            if dynamic.labels == (block_type,):
                contents.extend(dynamic.children("content"))
        return contents


def hcl_blocks(source: SourceFile) -> list[Block]:
    """Read the top-level blocks of an HCL file from its tree-sitter tree."""
    if source.tree is None:
        return []
    body = _child_of_type(source.tree.root_node, "body")
    if body is None:
        return []
    return [_hcl_block(node, source) for node in body.children if node.type == "block"]


def hcl_attributes(source: SourceFile) -> dict[str, Attribute]:
    """Read the top-level arguments of an HCL file, such as a `.tfvars` file."""
    if source.tree is None:
        return {}
    body = _child_of_type(source.tree.root_node, "body")
    if body is None:
        return {}
    attributes = {}
    for child in body.children:
        if child.type == "attribute":
            attribute = _hcl_attribute(child, source)
            attributes[attribute.name] = attribute
    return attributes


def _hcl_attribute(node: Node, source: SourceFile) -> Attribute:
    name = source.node_text(node.children[0])
    expression = _child_of_type(node, "expression")
    return Attribute(name, source.node_span(node), source, expression)


def _hcl_block(node: Node, source: SourceFile) -> Block:
    children = node.children
    labels = []
    for child in children[1:]:
        if child.type == "string_lit":
            template = template_text(child, source)
            labels.append(template.text if template else "")
        elif child.type == "identifier":
            labels.append(source.node_text(child))

    block = Block(
        source.node_text(children[0]), tuple(labels), source.node_span(node), source
    )
    body = _child_of_type(node, "body")
    if body is None:
        return block

    for child in body.children:
        if child.type == "block":
            block.blocks.append(_hcl_block(child, source))
        elif child.type == "attribute":
            attribute = _hcl_attribute(child, source)
            block.attributes[attribute.name] = attribute
    return block


def _child_of_type(node: Node, node_type: str) -> Node | None:
    for child in node.children:
        if child.type == node_type:
            return child
    return None


def json_blocks(source: SourceFile, root: Any) -> list[Block]:
    """Read the top-level blocks of a `.tf.json` file from its positioned JSON."""
    blocks: list[Block] = []
    if not isinstance(root, PosDict):
        return blocks
    for block_type, value in root.items():
        depth = _LABELLED_TOP_LEVEL.get(block_type, 0)
        position = key_position(root, block_type) or root.pos
        for labels, body, span in _json_labelled(value, depth, position):
            blocks.append(_json_block(block_type, labels, body, span, source))
    return blocks


def _json_labelled(
    value: Any, depth: int, span: Pos
) -> Iterator[tuple[tuple[str, ...], Any, Pos]]:
    """Yield (labels, body, span) for each block body under `depth` label levels.

    JSON syntax allows a list of objects wherever one object is expected.
    """
    if isinstance(value, PosList):
        for index, item in enumerate(value):
            yield from _json_labelled(item, depth, value.item_pos[index])
        return
    if depth == 0 or not isinstance(value, PosDict):
        yield (), value, span
        return
    for label, item in value.items():
        item_span = key_position(value, label) or span
        for labels, body, body_span in _json_labelled(item, depth - 1, item_span):
            yield (label, *labels), body, body_span


def _json_block(
    block_type: str, labels: tuple[str, ...], body: Any, span: Pos, source: SourceFile
) -> Block:
    block = Block(block_type, labels, span, source)
    if not isinstance(body, PosDict):
        return block
    for name, value in body.items():
        name_span = key_position(body, name) or body.pos
        if name in JSON_NESTED_BLOCKS and isinstance(value, (PosDict, PosList)):
            for _, nested, nested_span in _json_labelled(value, 0, name_span):
                if isinstance(nested, PosDict):
                    nested_span = nested.pos
                block.blocks.append(_json_block(name, (), nested, nested_span, source))
            continue
        block.attributes[name] = Attribute(name, name_span, source, json_value=value)
    return block


def unwrap(node: Node) -> Node:
    """Skip the wrapper nodes around an expression and parentheses around it.

    A traversal such as `var.x[0]` is an `expression` node with several
    children and is returned as it is. A quoted string that is one
    interpolation (`"${var.x}"`, Terraform 0.11 style) is its expression,
    because HCL returns that value unconverted: a list stays a list.
    """
    while True:
        named = [child for child in node.children if child.is_named]
        if node.type in _WRAPPERS and len(named) == 1:
            node = named[0]
            continue
        inner = _single_interpolation(node)
        if inner is not None:
            node = inner
            continue
        return node


def _single_interpolation(node: Node) -> Node | None:
    """Return the expression of a quoted template made of one interpolation."""
    if node.type != "quoted_template":
        return None
    parts = [child for child in node.children if child.type not in _QUOTES]
    if len(parts) != 1 or parts[0].type != "template_interpolation":
        return None
    expressions = [c for c in parts[0].children if c.type == "expression"]
    return expressions[0] if len(expressions) == 1 else None


def traversal(node: Node, source: SourceFile) -> list[str] | None:
    """Return the names of a plain traversal (`var.x` -> ["var", "x"]), else None.

    A traversal with an index or a splat (`var.x[0]`) returns None.
    """
    node = unwrap(node)
    if node.type == "variable_expr":
        return [source.node_text(node)]
    if node.type != "expression" or not node.children:
        return None
    if node.children[0].type != "variable_expr":
        return None
    names = [source.node_text(node.children[0])]
    for child in node.children[1:]:
        if child.type != "get_attr":
            return None
        names.append(source.node_text(child).lstrip(".").strip())
    return names
