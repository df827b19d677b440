"""Merge `aws_iam_policy_document` statements with source and override documents.

The AWS provider builds the document of a data source in three steps
(`dataSourcePolicyDocumentRead` and `IAMPolicyDoc.Merge` in
hashicorp/terraform-provider-aws, internal/service/iam):

1. The statements of each `source_policy_documents` entry, in list order.
   A Sid used twice across these documents is an error.
2. The data source's own `statement` blocks. One with the Sid of a statement
   already merged replaces that statement in its place. Any other is
   appended. A statement without a Sid is always appended.
3. The statements of each `override_policy_documents` entry, in list order,
   merged the same way: a Sid replaces, anything else is appended.

A replaced statement is replaced whole, never field by field. The `Id` of
the last document that has one wins, and `Version` is the greatest of the
documents' versions. `source_json` and `override_json`, the single-document
forms that provider versions before 4.0 accepted, are merged as if each
were the first entry of the matching list.

Each statement keeps the file and position where it is written, so a
finding points at the winning statement: into the override document when
the override won.
"""

from __future__ import annotations

from typing import Any

from mfa_guard import records
from mfa_guard.loaders.positions import (
    Pos,
    PosDict,
    PosList,
    Unresolved,
    item_position,
    position_of,
)
from mfa_guard.model import PolicyDocument, SourceSpan, Statement
from mfa_guard.records import field, record


@record(frozen=False)
class PlacedStatement:
    """A statement value and the file and position where it is written."""

    value: Any
    pos: Pos
    path: str

    @property
    def sid(self) -> str:
        sid = self.value.get("Sid") if isinstance(self.value, dict) else None
        return sid if isinstance(sid, str) else ""


@record(frozen=False)
class DocumentParts:
    """The parts of a policy document that merging combines.

    `notes` lists what could not be resolved in the document or its inputs.
    """

    version: Any = None
    policy_id: Any = None
    statements: list[PlacedStatement] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def document_parts(value: Any, path: str, fallback: Pos) -> DocumentParts | None:
    """Split a policy value into its parts, or return None when it has no Statement."""
    if not isinstance(value, dict) or "Statement" not in value:
        return None
    raw = value["Statement"]
    items = raw if isinstance(raw, list) else [raw]
    parts = DocumentParts(value.get("Version"), value.get("Id"))
    for index, item in enumerate(items):
        pos = item_position(raw, index) if isinstance(raw, list) else None
        pos = pos or position_of(item) or fallback
        parts.statements.append(PlacedStatement(item, pos, path))
    return parts


def merge_documents(
    sources: list[DocumentParts],
    own: DocumentParts,
    overrides: list[DocumentParts],
) -> tuple[DocumentParts, list[str]]:
    """Merge as the AWS provider does; return the result and the duplicate Sids."""
    merged = DocumentParts(version="")
    duplicates = []
    seen: set[str] = set()
    for document in sources:
        for statement in document.statements:
            if statement.sid in seen:
                duplicates.append(statement.sid)
            if statement.sid:
                seen.add(statement.sid)
        _merge_into(merged, document)
    _merge_into(merged, own)
    for document in overrides:
        _merge_into(merged, document)
    return merged, duplicates


def _merge_into(target: DocumentParts, new: DocumentParts) -> None:
    if new.policy_id:
        target.policy_id = new.policy_id
    if isinstance(new.version, Unresolved):
        target.notes.append(str(new.version))
    elif isinstance(new.version, str) and new.version > (target.version or ""):
        target.version = new.version
    target.notes.extend(new.notes)

    for statement in new.statements:
        sid = statement.sid
        replaced = False
        if sid:
            for index, existing in enumerate(target.statements):
                if existing.sid == sid:
                    target.statements[index] = statement
                    replaced = True
                    break
        if not replaced:
            target.statements.append(statement)


def policy_value(parts: DocumentParts, pos: Pos) -> PosDict:
    """Return the policy value of merged parts, with each statement's position."""
    value = PosDict(pos)
    if parts.version:
        value["Version"] = parts.version
    if parts.policy_id:
        value["Id"] = parts.policy_id
    statements = PosList(pos)
    for statement in parts.statements:
        statements.append(statement.value)
        statements.item_pos.append(statement.pos)
    value["Statement"] = statements
    return value


def relocate(document: PolicyDocument, paths: list[str]) -> PolicyDocument:
    """Point each statement's spans at the file its statement is written in.

    `paths` gives the file of each statement by its index in the value the
    document was built from.
    """
    statements = []
    for statement in document.statements:
        path = paths[statement.index] if statement.index < len(paths) else None
        if path is None or path == statement.span.path:
            statements.append(statement)
        else:
            statements.append(_moved(statement, path))
    return records.replace(document, statements=tuple(statements))


def _moved(statement: Statement, path: str) -> Statement:
    conditions = tuple(
        records.replace(
            condition,
            span=_span(condition.span, path),
            key_span=_span(condition.key_span, path),
        )
        for condition in statement.conditions
    )
    item_spans = tuple(
        (name, tuple(_span(span, path) for span in spans))
        for name, spans in statement.item_spans
    )
    return records.replace(
        statement,
        span=_span(statement.span, path),
        conditions=conditions,
        item_spans=item_spans,
    )


def _span(span: SourceSpan, path: str) -> SourceSpan:
    return records.replace(span, path=path)
