"""The module instances of an evaluated configuration, each with its scope.

tfparse evaluates each local child module once per instance (`count` and
`for_each` on a module block make several), with the arguments its caller
passes. The loader builds one `ModuleInstance` per instance: its blocks,
and a scope where each variable the caller sets takes the caller's value
instead of its default. A caller's value that tfparse could not compute is
evaluated by the caller's own `ValueResolver`, in the caller's scope.
"""

from __future__ import annotations

import posixpath
from typing import Any

from mfa_guard.loaders.terraform_blocks import Block
from mfa_guard.loaders.terraform_expressions import Definition, plain
from mfa_guard.loaders.terraform_module import Entry, ModuleIndex
from mfa_guard.loaders.terraform_tree import LOCAL_PREFIXES, ModuleTree, module_source
from mfa_guard.loaders.terraform_values import ValueResolver
from mfa_guard.records import record

# Arguments of a module block that are not input variables of the module.
MODULE_META_ARGUMENTS = frozenset(
    {"source", "version", "count", "for_each", "providers", "depends_on"}
)
# Maximum number of module instances analyzed in one configuration.
MAX_INSTANCES = 1000


@record(frozen=False)
class ModuleInstance:
    """One instance of a module: its blocks and the resolver of its scope.

    `path` is the instance address ("" for the root module) and `relative`
    the module directory relative to the root module.
    """

    path: str
    relative: str
    index: ModuleIndex
    resolver: ValueResolver


def module_instances(
    output: dict[str, Any],
    blocks: list[Block],
    tree: ModuleTree,
    var_definitions: dict[str, Definition],
) -> list[ModuleInstance]:
    """Return the root module's instance followed by every local child instance."""
    root_index = ModuleIndex(output, blocks)
    root_scope = root_index.scope(var_definitions)
    instances = [ModuleInstance("", ".", root_index, ValueResolver(root_scope))]
    for instance in instances:
        if len(instances) >= MAX_INSTANCES:
            break
        for entry in instance.index.module_entries():
            child = _child(instance, entry, tree, blocks)
            if child is not None:
                instances.append(child)
    return instances


def _child(
    caller: ModuleInstance, entry: Entry, tree: ModuleTree, blocks: list[Block]
) -> ModuleInstance | None:
    source = module_source(entry.block)
    if source is None or not source.startswith(LOCAL_PREFIXES):
        return None
    relative = posixpath.normpath(posixpath.join(caller.relative, source))
    if relative not in tree.modules:
        return None

    index = ModuleIndex(caller.index.output, blocks, entry.address)
    scope = index.scope(_inputs(entry, caller.resolver), path_module=relative)
    return ModuleInstance(entry.address, relative, index, ValueResolver(scope))


def _inputs(entry: Entry, resolver: ValueResolver) -> dict[str, Definition]:
    """Return the variables a module block sets, with the values it passes.

    The definitions carry no attribute, because the caller's expression
    belongs to the caller's scope and file. Positions in the child then fall
    back to where the child uses the variable.
    """
    inputs = {}
    for name, attribute in entry.block.attributes.items():
        if name in MODULE_META_ARGUMENTS:
            continue
        value = resolver.resolve(attribute, entry.values.get(name))
        inputs[name] = Definition(plain(value), None)
    return inputs
