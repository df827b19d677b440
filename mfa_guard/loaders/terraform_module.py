"""Join tfparse's evaluated blocks with the positioned blocks of the same files.

tfparse returns the blocks of the root module and of every local child
module instance together. The address in each block's metadata distinguishes
them: `aws_iam_policy.p` belongs to the root module,
`module.iam.aws_iam_policy.p` to the instance `module.iam` and
`module.each["a"].module.inner.data.x.y` to `module.each["a"].module.inner`.
A `ModuleIndex` shows the blocks of one module instance.
"""

from __future__ import annotations

import re
from typing import Any

from mfa_guard.loaders.hcl_source import SourceFile
from mfa_guard.loaders.terraform_blocks import Block
from mfa_guard.loaders.terraform_expressions import (
    ACCOUNT_DATA,
    UNKNOWN,
    Definition,
    ModuleScope,
    tries_outside,
)
from mfa_guard.loaders.terraform_references import traversals
from mfa_guard.records import record

_METADATA_KEYS = ("__tfmeta", "id")
# The `module.<name>` or `module.<name>[<key>]` steps at the start of an address.
_MODULE_STEPS = re.compile(r'(?:module\.[^.\[]+(?:\[(?:"[^"]*"|[^\]]*)\])?\.)*')


@record(frozen=False)
class Entry:
    """One evaluated block: tfparse's values and the block they were written in."""

    values: dict[str, Any]
    block: Block
    address: str

    @property
    def source(self) -> SourceFile:
        return self.block.source


def module_owner(address: str, is_module: bool = False) -> str:
    """Return the module instance an address belongs to, "" for the root module.

    A module block's own address (`is_module`) belongs to its caller.
    """
    if is_module:
        address = address.rsplit(".module.", 1)[0] if ".module." in address else ""
        return address
    prefix = _MODULE_STEPS.match(address)
    return prefix.group(0).rstrip(".") if prefix else ""


class ModuleIndex:
    """tfparse's output for one module instance, matched to the positioned blocks.

    `module_path` is the instance address ("" for the root module). `blocks`
    are the positioned blocks of every file, whose names are relative to
    the root module as in tfparse's metadata.
    """

    def __init__(
        self, output: dict[str, Any], blocks: list[Block], module_path: str = ""
    ) -> None:
        self.output = output
        self.module_path = module_path
        self._blocks: dict[tuple[str, int], list[Block]] = {}
        for block in blocks:
            key = (block.source.name, block.span[0])
            self._blocks.setdefault(key, []).append(block)

    @property
    def prefix(self) -> str:
        """Return the address prefix of the instance's blocks ("module.x." or "")."""
        return f"{self.module_path}." if self.module_path else ""

    def entries(self, type_name: str, kind: str) -> list[Entry]:
        """Return the evaluated blocks of one resource or data source type.

        `kind` is "resource" or "data". A block tfparse returned but the
        files do not show (a syntax error left it out) is skipped.
        """
        result = []
        for values in self._evaluated(type_name):
            meta = _metadata(values)
            if meta.get("type") != kind:
                continue
            block = self._find_block(meta, kind, (type_name,))
            if block is not None:
                result.append(Entry(values, block, str(meta.get("path", type_name))))
        return result

    def module_entries(self) -> list[Entry]:
        """Return the module instances this module calls, with their blocks."""
        result = []
        for values in self._evaluated("module"):
            meta = _metadata(values)
            address = meta.get("path")
            if not isinstance(address, str):
                continue
            if module_owner(address, is_module=True) != self.module_path:
                continue
            # The label of an instance includes its key: `each["a"]`.
            label = str(meta.get("label", "")).split("[", 1)[0]
            block = self._find_block(meta, "module", (label,), True)
            if block is not None:
                result.append(Entry(values, block, address))
        return result

    def block_types(self) -> set[str]:
        """Return the resource and data source types declared in the instance."""
        types = set()
        for type_name in self.output:
            for values in self._evaluated(type_name):
                meta = _metadata(values)
                if meta.get("type") in ("resource", "data") and self._is_own(meta):
                    types.add(type_name)
        return types

    def data_ids(self, type_name: str) -> dict[str, str]:
        """Map tfparse's id of each data source of a type to its address.

        tfparse evaluates `data.<type>.<name>.json` to that id.
        """
        ids = {}
        for values in self._evaluated(type_name):
            meta = _metadata(values)
            if meta.get("type") == "data" and isinstance(values.get("id"), str):
                ids[values["id"]] = str(meta.get("path", type_name))
        return ids

    def scope(
        self, overrides: dict[str, Definition], path_module: str = "."
    ) -> ModuleScope:
        """Collect the variables and local values of the instance.

        A variable in `overrides` (set by a `.tfvars` file or by the caller)
        takes that definition instead of its default.
        """
        scope = ModuleScope(path_module=path_module)
        for values in self._evaluated("variable"):
            meta = _metadata(values)
            name = meta.get("label")
            if not isinstance(name, str) or not self._is_own(meta):
                continue
            if name in overrides:
                scope.variables[name] = overrides[name]
                continue
            block = self._find_block(meta, "variable", (name,))
            attribute = block.attributes.get("default") if block else None
            known = "default" in values
            scope.variables[name] = Definition(values.get("default"), attribute, known)

        for values in self._evaluated("locals"):
            meta = _metadata(values)
            if not self._is_own(meta):
                continue
            block = self._find_block(meta, "locals", ())
            for name, value in values.items():
                if name in _METADATA_KEYS:
                    continue
                attribute = block.attributes.get(name) if block else None
                scope.locals[name] = Definition(value, attribute)
        _mark_guessed_locals(scope)
        scope.other_accounts = self._other_account_data()
        return scope

    def _other_account_data(self) -> set[str]:
        """Return the account data sources ("type.name") read through another provider.

        `data "aws_caller_identity" "prod" { provider = aws.prod }` may
        describe another account than the caller's own.
        """
        names = set()
        for type_name, _ in ACCOUNT_DATA:
            for entry in self.entries(type_name, "data"):
                if "provider" in entry.block.attributes and len(entry.block.labels) > 1:
                    names.add(f"{type_name}.{entry.block.labels[1]}")
        return names

    def _evaluated(self, key: str) -> list[dict[str, Any]]:
        """Return tfparse's blocks under `key`.

        tfparse nests the output further for a type name that contains a dot,
        so anything but a list of mappings is skipped.
        """
        blocks = self.output.get(key)
        if not isinstance(blocks, list):
            return []
        return [values for values in blocks if isinstance(values, dict)]

    def _is_own(self, meta: dict[str, Any]) -> bool:
        address = meta.get("path")
        return isinstance(address, str) and module_owner(address) == self.module_path

    def _find_block(
        self,
        meta: dict[str, Any],
        block_type: str,
        labels: tuple[Any, ...],
        checked: bool = False,
    ) -> Block | None:
        """Return the positioned block tfparse's metadata names.

        `checked` skips the ownership test, done already by the caller.
        """
        filename = meta.get("filename")
        line = meta.get("line_start")
        if not isinstance(filename, str) or not isinstance(line, int):
            return None
        if not checked and not self._is_own(meta):
            return None
        for block in self._blocks.get((filename, line), []):
            if block.type == block_type and block.labels[: len(labels)] == labels:
                return block
        return None


def _metadata(values: dict[str, Any]) -> dict[str, Any]:
    meta = values.get("__tfmeta")
    return meta if isinstance(meta, dict) else {}


def _mark_guessed_locals(scope: ModuleScope) -> None:
    """Make the evaluator compute each local value that depends on a `try` tfparse guessed.

    That is a value written with `tries_outside`, or one that refers to
    such a value, at any depth.
    """
    dependents: dict[str, set[str]] = {}
    pending = []
    for name, definition in scope.locals.items():
        attribute = definition.attribute
        if attribute is None or attribute.expression is None:
            continue
        if tries_outside(attribute.expression, attribute.source):
            pending.append(name)
        for names in traversals(attribute.expression, attribute.source):
            if names[0] == "local" and len(names) > 1:
                dependents.setdefault(names[1], set()).add(name)

    while pending:
        name = pending.pop()
        if name in scope.guessed_locals:
            continue
        scope.guessed_locals.add(name)
        scope.locals[name] = Definition(UNKNOWN, scope.locals[name].attribute)
        pending.extend(dependents.get(name, ()))
