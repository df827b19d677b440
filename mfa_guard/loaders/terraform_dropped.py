"""Report the IAM blocks that tfparse evaluated to no instance, without an error.

tfparse 0.6.22 drops a resource, data source or module block whose
`for_each` or `count` it cannot expand, and raises nothing. It does so for a
`for_each` that is a number, string, bool or null, one that depends on a
variable without a value or on an attribute of a data source, a list
`for_each` without a string, number or bool element, and a `count` that is
negative or too large for Terraform. The policies of such a block would go
unchecked without a word. So after evaluation, the loader compares the
blocks of each module instance that have a `for_each` or `count` with the
instances tfparse returned. Each IAM block with none is reported as an
`unresolved-policy` diagnostic at its `for_each` or `count`, unless the
fallback evaluator shows that the value is empty (`{}`, `toset([])`,
`count = 0`), which gives no instance in Terraform either.

tfparse drops a `dynamic` block with an unknown `for_each` the same way. In
a policy document that leaves out statements or conditions, so the document
is checked without them, and the `dynamic` block is reported at its
`for_each` as well.
"""

from __future__ import annotations

import posixpath
from typing import Any

from mfa_guard.loaders.terraform_blocks import Block
from mfa_guard.loaders.terraform_document import as_list
from mfa_guard.loaders.terraform_expansion import unexpanded_diagnostic
from mfa_guard.loaders.terraform_instances import ModuleInstance
from mfa_guard.loaders.terraform_module import module_owner
from mfa_guard.loaders.terraform_sources import IAM_MARKERS
from mfa_guard.loaders.terraform_tree import LOCAL_PREFIXES, ModuleTree, module_source
from mfa_guard.loaders.terraform_values import ValueResolver
from mfa_guard.model import Diagnostic

# (file name relative to the root module, first line, owning module instance).
BlockKey = tuple[str, int, str]


def dropped_blocks(
    output: dict[str, Any],
    tree: ModuleTree,
    instances: list[ModuleInstance],
    excluded: set[str],
) -> list[Diagnostic]:
    """Report each expanded IAM block of `instances` that has no instance in `output`.

    `output` is tfparse's result and `excluded` names the files left out of
    the evaluation, which are reported already.
    """
    evaluated = _evaluated_blocks(output)
    iam_modules = _modules_with_iam(tree)
    diagnostics: list[Diagnostic] = []
    for instance in instances:
        module = tree.modules.get(instance.relative)
        if module is None:
            continue
        for name, blocks in module.blocks.items():
            # A file with a syntax error is reported already, and its tree
            # may show blocks that are not there.
            if name in excluded or name in module.syntax_errors:
                continue
            for block in blocks:
                key = (block.source.name, block.span[0], instance.path)
                if key in evaluated or not _is_iam(block, instance, iam_modules):
                    continue
                address = instance.index.prefix + _address(block)
                subject = f"{address} was not checked"
                diagnostic = unexpanded_diagnostic(block, subject, instance.resolver)
                if diagnostic is not None and diagnostic not in diagnostics:
                    diagnostics.append(diagnostic)
    return diagnostics


def dropped_dynamic_blocks(
    block: Block, values: Any, resolver: ValueResolver, address: str
) -> list[Diagnostic]:
    """Report each `dynamic` block inside `block` that tfparse expanded to nothing.

    `values` is tfparse's value of `block`, whose nested blocks carry their
    first line, and `address` names the data source or resource in messages.
    A block of `.tf.json` syntax has no `dynamic` blocks the loader reads.
    """
    if not isinstance(values, dict):
        return []
    diagnostics = []
    for child in block.blocks:
        if child.type != "dynamic":
            for entry in _entries_at(values, child.type, child.span[0]):
                diagnostics.extend(
                    dropped_dynamic_blocks(child, entry, resolver, address)
                )
            continue
        if not child.labels:
            continue

        label = child.labels[0]
        for content in child.children("content"):
            entries = _entries_at(values, label, content.span[0])
            for entry in entries:
                diagnostics.extend(
                    dropped_dynamic_blocks(content, entry, resolver, address)
                )
            if entries:
                continue
            subject = f'{address} was checked without its dynamic "{label}" block'
            diagnostic = unexpanded_diagnostic(child, subject, resolver)
            if diagnostic is not None:
                diagnostics.append(diagnostic)
    return diagnostics


def _entries_at(values: dict[str, Any], name: str, line: int) -> list[Any]:
    """Return tfparse's nested blocks of a type that start at `line`."""
    entries = []
    for entry in as_list(values.get(name)):
        meta = entry.get("__tfmeta") if isinstance(entry, dict) else None
        if isinstance(meta, dict) and meta.get("line_start") == line:
            entries.append(entry)
    return entries


def _evaluated_blocks(output: dict[str, Any]) -> set[BlockKey]:
    """Return the file, line and owning instance of each block tfparse returned."""
    found = set()
    for type_name, blocks in output.items():
        if not isinstance(blocks, list):
            continue
        for values in blocks:
            key = _block_key(values, is_module=type_name == "module")
            if key is not None:
                found.add(key)
    return found


def _block_key(values: Any, is_module: bool) -> BlockKey | None:
    meta = values.get("__tfmeta") if isinstance(values, dict) else None
    if not isinstance(meta, dict):
        return None
    filename = meta.get("filename")
    line = meta.get("line_start")
    address = meta.get("path")
    if not isinstance(filename, str) or not isinstance(line, int):
        return None
    if not isinstance(address, str):
        return None
    return filename, line, module_owner(address, is_module)


def _modules_with_iam(tree: ModuleTree) -> set[str]:
    """Return the module directories that mention IAM themselves or in a module they call."""
    found = {
        relative for relative, module in tree.modules.items() if module.mentions_iam()
    }
    added = True
    while added:
        callers = {
            call.caller
            for call in tree.calls
            if call.child in found and call.caller not in found
        }
        found |= callers
        added = bool(callers)
    return found


def _is_iam(block: Block, instance: ModuleInstance, iam_modules: set[str]) -> bool:
    if block.type in ("resource", "data"):
        return bool(block.labels) and block.labels[0].startswith(IAM_MARKERS)
    if block.type != "module":
        return False
    source = module_source(block)
    if source is None or not source.startswith(LOCAL_PREFIXES):
        # A remote or computed source is reported as not checked already.
        return False
    child = posixpath.normpath(posixpath.join(instance.relative, source))
    return child in iam_modules


def _address(block: Block) -> str:
    names = ".".join(block.labels)
    if block.type == "resource":
        return names
    return f"{block.type}.{names}"
