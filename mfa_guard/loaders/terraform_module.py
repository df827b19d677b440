"""Join tfparse's evaluated blocks with the positioned blocks of the same files.

tfparse also returns the blocks of local child modules (file names such as
`child/main.tf`). Those belong to the child directory, which is scanned on
its own, so only blocks of the directory's own files are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mfa_guard.loaders.hcl_source import SourceFile
from mfa_guard.loaders.terraform_blocks import Block
from mfa_guard.loaders.terraform_expressions import Definition, ModuleScope

_METADATA_KEYS = ("__tfmeta", "id")


@dataclass
class Entry:
    """One evaluated block: tfparse's values and the block they were written in."""

    values: dict[str, Any]
    block: Block
    address: str

    @property
    def source(self) -> SourceFile:
        return self.block.source


class ModuleIndex:
    """tfparse's output for one directory, matched to the positioned blocks."""

    def __init__(self, output: dict[str, Any], blocks: list[Block]) -> None:
        self.output = output
        self._blocks: dict[tuple[str, int], list[Block]] = {}
        for block in blocks:
            key = (block.source.name, block.span[0])
            self._blocks.setdefault(key, []).append(block)

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

    def block_types(self) -> set[str]:
        """Return the resource and data source types declared in the directory."""
        types = set()
        for type_name in self.output:
            for values in self._evaluated(type_name):
                meta = _metadata(values)
                if meta.get("type") in ("resource", "data") and _is_own(meta):
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

    def scope(self) -> ModuleScope:
        """Collect the variable defaults and local values of the directory."""
        scope = ModuleScope()
        for values in self._evaluated("variable"):
            meta = _metadata(values)
            name = meta.get("label")
            block = self._find_block(meta, "variable", (name,))
            if not isinstance(name, str) or not _is_own(meta):
                continue
            attribute = block.attributes.get("default") if block else None
            known = "default" in values
            scope.variables[name] = Definition(values.get("default"), attribute, known)

        for values in self._evaluated("locals"):
            meta = _metadata(values)
            if not _is_own(meta):
                continue
            block = self._find_block(meta, "locals", ())
            for name, value in values.items():
                if name in _METADATA_KEYS:
                    continue
                attribute = block.attributes.get(name) if block else None
                scope.locals[name] = Definition(value, attribute)
        return scope

    def _evaluated(self, key: str) -> list[dict[str, Any]]:
        """Return tfparse's blocks under `key`.

        tfparse nests the output further for a type name that contains a dot,
        so anything but a list of mappings is skipped.
        """
        blocks = self.output.get(key)
        if not isinstance(blocks, list):
            return []
        return [values for values in blocks if isinstance(values, dict)]

    def _find_block(
        self, meta: dict[str, Any], block_type: str, labels: tuple[Any, ...]
    ) -> Block | None:
        filename = meta.get("filename")
        line = meta.get("line_start")
        if (
            not _is_own(meta)
            or not isinstance(filename, str)
            or not isinstance(line, int)
        ):
            return None
        for block in self._blocks.get((filename, line), []):
            if block.type == block_type and block.labels[: len(labels)] == labels:
                return block
        return None


def _metadata(values: dict[str, Any]) -> dict[str, Any]:
    meta = values.get("__tfmeta")
    return meta if isinstance(meta, dict) else {}


def _is_own(meta: dict[str, Any]) -> bool:
    """Return True for a block of the directory's own files, not a child module's."""
    filename = meta.get("filename")
    return isinstance(filename, str) and "/" not in filename and "\\" not in filename
