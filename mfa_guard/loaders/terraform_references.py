"""Checks that follow references: `count`/`for_each` cycles and named files.

Both find configurations that crash or hang tfparse 0.6.22 (see
`terraform_guards`): a `count` or `for_each` that depends on its own block,
and a file function whose argument names a pipe, a device or a socket.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from mfa_guard.loaders.hcl_source import SourceFile
from mfa_guard.loaders.positions import Pos, Unresolved
from mfa_guard.loaders.terraform_blocks import Attribute, Block
from mfa_guard.loaders.terraform_expressions import Evaluator

if TYPE_CHECKING:
    from tree_sitter import Node

_FILE_FUNCTIONS = frozenset({"file", "filebase64", "templatefile"})
_META_ARGUMENTS = ("count", "for_each")


def block_address(block: Block) -> str | None:
    """Return the address of a resource, data source or module block."""
    if block.type == "resource" and len(block.labels) == 2:
        return ".".join(block.labels)
    if block.type == "data" and len(block.labels) == 2:
        return "data." + ".".join(block.labels)
    if block.type == "module" and block.labels:
        return f"module.{block.labels[0]}"
    return None


def reference_graph(blocks: list[Block]) -> dict[str, set[str]]:
    """Map the address of each block to the addresses its `count` and `for_each` refer to."""
    edges = {}
    for candidate in blocks:
        name = block_address(candidate)
        if name is not None:
            edges[name] = _meta_references(candidate)
    return edges


def self_reference(
    block: Block, edges: Mapping[str, set[str]]
) -> tuple[Pos, str] | None:
    """Find a `count` or `for_each` of `block` that depends on the block itself.

    `edges` is the `reference_graph` of the blocks of the same file. Only
    those are followed, which covers a block that refers to itself and
    cycles between neighbouring blocks. The graph is built once per file:
    building it for each block made a file of 2,000 resources take 8 s.
    """
    address = block_address(block)
    if address is None:
        return None

    pending = [(target, [address]) for target in edges.get(address, ())]
    seen: set[str] = set()
    while pending:
        current, chain = pending.pop()
        if current in (address, "self"):
            argument = next(a for a in _META_ARGUMENTS if a in block.attributes)
            through = f" through {', '.join(chain[1:])}" if len(chain) > 1 else ""
            message = (
                f"the {argument} of {address} depends on {address} itself{through}; "
                "Terraform rejects this dependency cycle, so the file was left out"
            )
            return block.attributes[argument].span, message
        if current not in seen:
            seen.add(current)
            pending.extend(
                (target, [*chain, current]) for target in edges.get(current, ())
            )
    return None


def _meta_references(block: Block) -> set[str]:
    """Return the addresses the `count` and `for_each` of a block refer to."""
    references: set[str] = set()
    for argument in _META_ARGUMENTS:
        attribute = block.attributes.get(argument)
        if attribute is None or attribute.expression is None:
            continue
        for names in traversals(attribute.expression, attribute.source):
            length = 3 if names[0] == "data" else 2
            references.add(".".join(names[:length]))
    return references


def traversals(node: Node, source: SourceFile) -> list[list[str]]:
    """Return the names of every traversal (`a.b.c`) inside an expression.

    tree-sitter-hcl puts the steps of a traversal next to its root, inside
    an `expression` or directly inside an operation, so siblings are read.
    """
    found = []
    stack = [node]
    while stack:
        current = stack.pop()
        children = current.children
        for index, child in enumerate(children):
            if child.type != "variable_expr":
                continue
            names = [source.node_text(child)]
            for step in children[index + 1 :]:
                if step.type != "get_attr":
                    break
                names.append(source.node_text(step).lstrip(".").strip())
            found.append(names)
        stack.extend(children)
    return found


def special_file(
    block: Block, evaluator: Evaluator, bases: list[Path]
) -> tuple[Pos, str] | None:
    """Find a file function whose argument names a pipe, a device or a socket.

    A relative name is looked up in each of `bases`. tfparse does not read
    absolute names.
    """
    for attribute in _attributes(block):
        # Every file function's name contains "file", so text without it
        # has no call to look for.
        if attribute.expression is None or "file" not in attribute.source.node_text(
            attribute.expression
        ):
            continue
        for call in _file_calls(attribute.expression, attribute.source):
            name = _first_argument(call, attribute.source, evaluator)
            if name is not None and _is_special(name, bases):
                message = f'"{name}" is not a regular file; reading it would block'
                return attribute.span, message
    return None


def _attributes(block: Block) -> list[Attribute]:
    found = list(block.attributes.values())
    for child in block.blocks:
        found.extend(_attributes(child))
    return found


def _file_calls(node: Node, source: SourceFile) -> list[Node]:
    calls = []
    stack = [node]
    while stack:
        current = stack.pop()
        if (
            current.type == "function_call"
            and current.children
            and source.node_text(current.children[0]) in _FILE_FUNCTIONS
        ):
            calls.append(current)
        stack.extend(current.children)
    return calls


def _first_argument(call: Node, source: SourceFile, evaluator: Evaluator) -> str | None:
    for child in call.children:
        if child.type != "function_arguments":
            continue
        arguments = [c for c in child.children if c.type == "expression"]
        if not arguments:
            return None
        value = evaluator.evaluate(arguments[0], source)
        if isinstance(value, str) and not isinstance(value, Unresolved):
            return value
    return None


def _is_special(name: str, bases: list[Path]) -> bool:
    if os.path.isabs(name):
        return False
    for base in bases:
        try:
            mode = os.stat(base / name).st_mode
        except (OSError, ValueError):
            continue
        if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
            return True
    return False
