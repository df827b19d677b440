"""Find the local child modules of a root module before tfparse evaluates it.

tfparse loads every module whose `source` is a local path (`./x`, `../x`)
and evaluates it with the arguments its caller passes. The loader reads
the same directories first, so it can check their files for what would
crash or hang tfparse (see `terraform_guards`) and position the blocks
tfparse returns. Registry and git sources are never downloaded.

A module that is its own ancestor (`source = "./"`, or two modules that
call each other) makes tfparse 0.6.22 recurse until it is killed. Such a
call is therefore recorded as a cycle, and its file is left out of the
evaluation.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from mfa_guard.loaders.hcl_template import template_text
from mfa_guard.loaders.terraform_blocks import Block, unwrap
from mfa_guard.loaders.terraform_sources import (
    ModuleFiles,
    display_directory,
    read_module_files,
)
from mfa_guard.records import field, record

# Maximum number of module calls followed, however the modules nest. Each
# call of a module tree is followed once per path that reaches it.
MAX_MODULE_CALLS = 1000

LOCAL_PREFIXES = ("./", "../")


@record(frozen=False)
class ModuleCall:
    """A `module` block and the directory its source names.

    `caller` is the calling module's directory relative to the root module,
    `source` the literal source (None when it is not a literal string) and
    `child` the called directory, relative to the root module, for a local
    source.
    """

    block: Block
    caller: str
    source: str | None
    child: str | None = None

    @property
    def name(self) -> str:
        return self.block.labels[0] if self.block.labels else ""

    @property
    def is_local(self) -> bool:
        # Terraform requires "./" or "../", but tfparse also follows "." and
        # "..", so they must be checked for cycles too.
        return self.source is not None and (
            self.source in (".", "..") or self.source.startswith(LOCAL_PREFIXES)
        )


@record(frozen=False)
class ModuleTree:
    """The root module and the local modules it calls, directly or not.

    `modules` maps a directory relative to the root module to its files.
    `cycles` are the calls of a module that is already among the caller's
    ancestors, and `missing` the local calls whose directory does not exist.
    """

    root: Path
    modules: dict[str, ModuleFiles]
    calls: list[ModuleCall] = field(default_factory=list)
    cycles: list[ModuleCall] = field(default_factory=list)
    missing: list[ModuleCall] = field(default_factory=list)

    def files(self) -> list[ModuleFiles]:
        return list(self.modules.values())

    def remote_calls(self) -> list[ModuleCall]:
        return [call for call in self.calls if not call.is_local]

    def callers_of(self, relative: str) -> list[ModuleCall]:
        return [call for call in self.calls if call.child == relative]


def discover_modules(root: ModuleFiles) -> ModuleTree:
    """Read the local modules the root module calls, following nested calls."""
    tree = ModuleTree(root.directory, {".": root})
    calls_by_module: dict[str, list[ModuleCall]] = {}
    pending: list[tuple[str, tuple[str, ...]]] = [(".", ())]
    visits = 0
    while pending and visits < MAX_MODULE_CALLS:
        relative, ancestors = pending.pop()
        if relative not in calls_by_module:
            calls = _calls(tree.modules[relative])
            calls_by_module[relative] = calls
            tree.calls.extend(calls)
            for call in calls:
                _read_child(tree, call)

        for call in calls_by_module[relative]:
            visits += 1
            if call.child is None or call.child not in tree.modules:
                continue
            # Compared resolved, so that a symbolic link back to a caller counts.
            callers = {_resolved(tree, name) for name in (*ancestors, relative)}
            if _resolved(tree, call.child) in callers:
                if not any(known is call for known in tree.cycles):
                    tree.cycles.append(call)
                continue
            pending.append((call.child, (*ancestors, relative)))
    return tree


def _resolved(tree: ModuleTree, relative: str) -> str:
    return os.path.realpath(display_directory(tree.root, relative))


def _read_child(tree: ModuleTree, call: ModuleCall) -> None:
    """Read the directory a local call names, or record it as missing."""
    child = call.child
    if child is None or child in tree.modules:
        return
    directory = display_directory(tree.root, child)
    try:
        tree.modules[child] = read_module_files(directory, child)
    except (OSError, ValueError):
        # ValueError: a source with a NUL character, which no path can contain.
        tree.missing.append(call)


def _calls(module: ModuleFiles) -> list[ModuleCall]:
    calls = []
    for block in module.all_blocks():
        if block.type != "module":
            continue
        source = module_source(block)
        call = ModuleCall(block, module.relative, source)
        if call.is_local and source is not None:
            call.child = posixpath.normpath(posixpath.join(module.relative, source))
        calls.append(call)
    return calls


def module_source(block: Block) -> str | None:
    """Return the literal `source` of a module block, or None."""
    attribute = block.attributes.get("source")
    if attribute is None:
        return None
    if attribute.expression is None:
        value = attribute.json_value
        return value if isinstance(value, str) and "${" not in value else None
    node = unwrap(attribute.expression)
    if node.type != "string_lit":
        return None
    template = template_text(node, attribute.source)
    return template.text if template is not None else None
