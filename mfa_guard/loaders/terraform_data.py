"""Build the `aws_iam_policy_document` data sources of one module instance.

Each data source is translated from its blocks (`terraform_document`) and
then merged with the documents its `source_policy_documents` and
`override_policy_documents` list (`terraform_merge`). An entry of those
lists may be another data source's `.json`, which is built first, or any
policy text the loader reads elsewhere: a heredoc, `jsonencode(...)`,
`file()`, `templatefile()` or a reference to a local value holding one.
"""

from __future__ import annotations

from typing import Any

from mfa_guard.loaders.terraform_blocks import Attribute, unwrap
from mfa_guard.loaders.terraform_document import PolicyDocumentBuilder, as_list
from mfa_guard.loaders.terraform_dropped import dropped_dynamic_blocks
from mfa_guard.loaders.terraform_expressions import UNKNOWN, describe, is_unknown
from mfa_guard.loaders.terraform_merge import (
    DocumentParts,
    document_parts,
    merge_documents,
)
from mfa_guard.loaders.terraform_module import Entry, ModuleIndex
from mfa_guard.loaders.terraform_policies import (
    POLICY_DOCUMENT,
    PolicyReader,
    PolicyReference,
)
from mfa_guard.loaders.terraform_values import ValueResolver
from mfa_guard.model import Diagnostic, DiagnosticKind, SourceSpan
from mfa_guard.records import field, record

# (list argument, single-document argument of provider versions before 4.0).
_SOURCES = ("source_policy_documents", "source_json")
_OVERRIDES = ("override_policy_documents", "override_json")


@record(frozen=False)
class DataDocuments:
    """Build data sources on request, each once, and remember which are inputs.

    `inputs` contains the addresses of data sources used as a source or
    override document of another one.
    """

    index: ModuleIndex
    resolver: ValueResolver
    reader: PolicyReader
    diagnostics: list[Diagnostic]
    inputs: set[str] = field(default_factory=set)
    _built: dict[str, DocumentParts | None] = field(default_factory=dict)
    _active: set[str] = field(default_factory=set)
    _entries: dict[str, Entry] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for entry in self.index.entries(POLICY_DOCUMENT, "data"):
            self._entries[entry.address] = entry

    def entries(self) -> list[Entry]:
        return list(self._entries.values())

    def parts(self, address: str) -> DocumentParts | None:
        """Return the merged parts of a data source, or None when it is unknown.

        A data source that refers back to itself through its inputs is None
        inside that chain, as Terraform rejects such a cycle.
        """
        if address in self._built:
            return self._built[address]
        entry = self._entries.get(address)
        if entry is None or address in self._active:
            return None

        self._active.add(address)
        try:
            parts = self._build(entry)
        finally:
            self._active.discard(address)
        self._built[address] = parts
        return parts

    def _build(self, entry: Entry) -> DocumentParts:
        builder = PolicyDocumentBuilder(self.resolver)
        value = builder.build(entry.values, entry.block)
        self.diagnostics.extend(
            dropped_dynamic_blocks(
                entry.block, entry.values, self.resolver, entry.address
            )
        )
        own = document_parts(value, entry.source.path, entry.block.span)
        assert own is not None
        own.notes.extend(builder.notes)

        sources = self._documents(entry, _SOURCES)
        overrides = self._documents(entry, _OVERRIDES)
        merged, duplicates = merge_documents(sources, own, overrides)
        for sid in duplicates:
            message = (
                f"duplicate Sid {sid!r} in the source documents of {entry.address}; "
                "the AWS provider rejects this"
            )
            span = SourceSpan(entry.source.path, *entry.block.span)
            self.diagnostics.append(
                Diagnostic(DiagnosticKind.PARSE_ERROR, span, message)
            )
        return merged

    def _documents(self, entry: Entry, names: tuple[str, str]) -> list[DocumentParts]:
        list_name, single_name = names
        documents = []
        single = entry.block.attributes.get(single_name)
        if single is not None:
            documents.extend(
                self._element(entry, single, entry.values.get(single_name))
            )
        attribute = entry.block.attributes.get(list_name)
        if attribute is None:
            return documents
        elements = _elements(attribute, entry.values.get(list_name))
        if elements is None:
            note = f"{_describe(attribute)} could not be evaluated"
            return [*documents, DocumentParts(notes=[note])]
        for item, value in elements:
            documents.extend(self._element(entry, item, value))
        return documents

    def _element(
        self, entry: Entry, attribute: Attribute, value: Any
    ) -> list[DocumentParts]:
        """Read one source or override document, or return parts with a note."""
        expression = attribute.expression
        if expression is not None and unwrap(expression).type == "null_lit":
            # The provider skips a null entry.
            return []
        read = self.reader.read(attribute, value, entry.address)
        if isinstance(read, PolicyReference):
            self.inputs.add(read.address)
            parts = self.parts(read.address)
            if parts is not None:
                return [parts]
            return [DocumentParts(notes=[f"{read.address} (not declared here)"])]
        if isinstance(read, Diagnostic):
            if read.kind is DiagnosticKind.PARSE_ERROR:
                self.diagnostics.append(read)
            return [DocumentParts(notes=[_describe(attribute)])]

        parts = document_parts(read.value, read.path, read.fallback)
        if parts is None:
            return [DocumentParts(notes=[f"{_describe(attribute)} (no Statement)"])]
        return [parts]


def _elements(attribute: Attribute, value: Any) -> list[tuple[Attribute, Any]] | None:
    """Split a list argument into one attribute per entry, with tfparse's value.

    When the list is not written as a list literal (`local.documents`), each
    entry is read from tfparse's value, positioned at the argument. Returns
    None when that value is unknown.
    """
    values = value if isinstance(value, list) else None
    if attribute.expression is None:
        items = attribute.json_value if isinstance(attribute.json_value, list) else []
        return [
            (
                Attribute(attribute.name, attribute.span, attribute.source, None, item),
                values[index] if values and index < len(values) else UNKNOWN,
            )
            for index, item in enumerate(items)
        ]

    node = unwrap(attribute.expression)
    if node.type == "tuple":
        items = [child for child in node.children if child.type == "expression"]
        matches = values is not None and len(values) == len(items)
        return [
            (
                Attribute(
                    attribute.name,
                    attribute.source.node_span(item),
                    attribute.source,
                    item,
                ),
                values[index] if values is not None and matches else UNKNOWN,
            )
            for index, item in enumerate(items)
        ]
    if values is None or is_unknown(value):
        return None
    return [(_text_attribute(attribute), item) for item in as_list(values)]


def _text_attribute(attribute: Attribute) -> Attribute:
    """Return the argument without its expression, so only tfparse's value is read."""
    return Attribute(attribute.name, attribute.span, attribute.source, None, "")


def _describe(attribute: Attribute) -> str:
    if attribute.expression is not None:
        return describe(attribute.expression, attribute.source)
    return attribute.name
