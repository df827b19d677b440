from __future__ import annotations

import functools
from pathlib import Path

from mfa_guard.loaders.base import LoadResult
from mfa_guard.loaders.terraform import load_terraform_module
from mfa_guard.loaders.terraform_merge import (
    DocumentParts,
    PlacedStatement,
    merge_documents,
)
from mfa_guard.model import DiagnosticKind, PolicyDocument

FIXTURE = Path(__file__).parent.parent / "fixtures" / "terraform" / "override"


@functools.cache
def load_fixture() -> LoadResult:
    return load_terraform_module(FIXTURE, sorted(FIXTURE.glob("*.tf")))


def document_named(result: LoadResult, name: str) -> PolicyDocument:
    matches = [document for document in result.documents if document.name == name]
    assert len(matches) == 1, [document.name for document in result.documents]
    return matches[0]


def write_module(directory: Path, text: str) -> LoadResult:
    (directory / "main.tf").write_text(text, encoding="utf-8")
    return load_terraform_module(directory, [directory / "main.tf"])


def parts(*statements: tuple[str, str], version: str | None = None) -> DocumentParts:
    """Return document parts whose statements are (Sid, Action) pairs."""
    placed = [
        PlacedStatement(
            {"Sid": sid, "Action": action} if sid else {"Action": action},
            (1, 1, 1, 1),
            "f",
        )
        for sid, action in statements
    ]
    return DocumentParts(version=version, statements=placed)


def actions(document: DocumentParts) -> list[str]:
    return [statement.value["Action"] for statement in document.statements]


# Merge semantics


def test_own_statement_replaces_source_in_place() -> None:
    merged, _ = merge_documents(
        [parts(("A", "a"), ("B", "b"))], parts(("A", "own")), []
    )

    assert actions(merged) == ["own", "b"]


def test_statement_without_sid_appended() -> None:
    merged, _ = merge_documents([parts(("", "a"))], parts(("", "own")), [])

    assert actions(merged) == ["a", "own"]


def test_override_replaces_and_appends() -> None:
    merged, _ = merge_documents(
        [parts(("A", "a"))],
        parts(("B", "b")),
        [parts(("B", "override"), ("C", "c")), parts(("C", "last"))],
    )

    assert actions(merged) == ["a", "override", "last"]


def test_duplicate_source_sids_reported() -> None:
    _, duplicates = merge_documents([parts(("A", "a")), parts(("A", "b"))], parts(), [])

    assert duplicates == ["A"]


def test_greatest_version_wins() -> None:
    merged, _ = merge_documents(
        [parts(version="2012-10-17")], parts(version="2008-10-17"), []
    )

    assert merged.version == "2012-10-17"


# The fixture: an override fixes a baseline, another breaks a correct one


def test_override_fix_replaces_deny() -> None:
    document = document_named(load_fixture(), "data.aws_iam_policy_document.fixed")
    deny = document.statements[1]

    assert [s.sid for s in document.statements] == [
        "AllowViewAccountInfo",
        "DenyAllExceptListedIfNoMFA",
    ]
    assert deny.not_actions is not None
    assert "iam:ChangePassword" in deny.not_actions


def test_override_statement_located_in_override_file() -> None:
    document = document_named(load_fixture(), "data.aws_iam_policy_document.fixed")
    allow, deny = document.statements
    condition = deny.conditions[0]

    assert document.path == str(FIXTURE / "main.tf")
    assert allow.span.path == str(FIXTURE / "main.tf")
    assert (allow.span.line, allow.span.column) == (15, 3)
    assert deny.span.path == str(FIXTURE / "fix.tf")
    assert (deny.span.line, deny.span.column) == (3, 3)
    assert condition.span.path == str(FIXTURE / "fix.tf")
    assert (condition.span.line, condition.span.column) == (10, 7)
    assert deny.item_span("NotAction", 0).path == str(FIXTURE / "fix.tf")


def test_override_jsonencode_breaks_deny() -> None:
    document = document_named(load_fixture(), "data.aws_iam_policy_document.broken")
    (deny,) = document.statements

    assert deny.not_actions is not None
    assert "iam:ChangePassword" not in deny.not_actions
    assert deny.span.path == str(FIXTURE / "broken.tf")
    assert (deny.span.line, deny.span.column) == (22, 20)


def test_input_documents_not_reported_alone() -> None:
    names = [document.name for document in load_fixture().documents]

    assert names == [
        "data.aws_iam_policy_document.broken",
        "data.aws_iam_policy_document.fixed",
    ]


def test_fixture_loads_cleanly() -> None:
    result = load_fixture()

    assert result.diagnostics == []
    assert [document.unresolved for document in result.documents] == [(), ()]


# Other forms of source and override documents


def test_input_used_by_resource_reported(tmp_path: Path) -> None:
    result = write_module(
        tmp_path,
        'data "aws_iam_policy_document" "base" {\n'
        '  statement {\n    actions = ["s3:GetObject"]\n  }\n}\n'
        'data "aws_iam_policy_document" "d" {\n'
        "  source_policy_documents = [data.aws_iam_policy_document.base.json]\n"
        "}\n"
        'resource "aws_iam_policy" "base" {\n'
        "  policy = data.aws_iam_policy_document.base.json\n"
        "}\n",
    )

    assert [d.name for d in result.documents] == [
        "data.aws_iam_policy_document.base",
        "data.aws_iam_policy_document.d",
    ]


def test_heredoc_override_positioned(tmp_path: Path) -> None:
    result = write_module(
        tmp_path,
        'data "aws_iam_policy_document" "d" {\n'
        "  statement {\n"
        '    sid     = "A"\n'
        '    actions = ["s3:GetObject"]\n'
        "  }\n"
        "  override_policy_documents = [<<EOF\n"
        '{"Statement": [\n'
        '  {"Sid": "A", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"}\n'
        "]}\n"
        "EOF\n"
        "  ]\n"
        "}\n",
    )
    (document,) = result.documents
    (statement,) = document.statements

    assert statement.effect == "Deny"
    assert statement.actions == ("s3:PutObject",)
    assert (statement.span.line, statement.span.column) == (8, 3)


def test_override_from_local_list(tmp_path: Path) -> None:
    result = write_module(
        tmp_path,
        "locals {\n"
        '  overrides = [jsonencode({ Statement = [{ Sid = "A", Effect = "Deny", '
        'Action = "s3:PutObject", Resource = "*" }] })]\n'
        "}\n"
        'data "aws_iam_policy_document" "d" {\n'
        '  statement {\n    sid     = "A"\n    actions = ["s3:GetObject"]\n  }\n'
        "  override_policy_documents = local.overrides\n"
        "}\n",
    )
    (document,) = result.documents
    (statement,) = document.statements

    assert statement.actions == ("s3:PutObject",)
    assert (statement.span.line, statement.span.column) == (9, 3)


def test_unknown_override_noted(tmp_path: Path) -> None:
    result = write_module(
        tmp_path,
        'variable "overrides" {\n  type = list(string)\n}\n'
        'data "aws_iam_policy_document" "d" {\n'
        '  statement {\n    actions = ["s3:GetObject"]\n  }\n'
        "  override_policy_documents = var.overrides\n"
        "}\n",
    )
    (document,) = result.documents

    assert document.unresolved == ("var.overrides could not be evaluated",)
    assert document.statements[0].actions == ("s3:GetObject",)


def test_invalid_override_json_reported(tmp_path: Path) -> None:
    result = write_module(
        tmp_path,
        'data "aws_iam_policy_document" "d" {\n'
        '  statement {\n    actions = ["s3:GetObject"]\n  }\n'
        '  override_policy_documents = ["{\\"Statement\\": ["]\n'
        "}\n",
    )
    errors = [d for d in result.diagnostics if d.kind is DiagnosticKind.PARSE_ERROR]

    assert len(errors) == 1
    assert errors[0].span.line == 5
    assert result.documents[0].unresolved == ('"{\\"Statement\\": ["',)


def test_duplicate_source_sid_diagnostic(tmp_path: Path) -> None:
    statement = (
        '{"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}'
    )
    document = '{"Statement": [' + statement + "]}"
    escaped = document.replace('"', '\\"')
    result = write_module(
        tmp_path,
        'data "aws_iam_policy_document" "d" {\n'
        f'  source_policy_documents = ["{escaped}", "{escaped}"]\n'
        "}\n",
    )
    (error,) = result.diagnostics

    assert error.kind is DiagnosticKind.PARSE_ERROR
    assert "duplicate Sid 'A'" in error.message
    assert (error.span.line, error.span.column) == (1, 1)


def test_source_json_merged(tmp_path: Path) -> None:
    result = write_module(
        tmp_path,
        'data "aws_iam_policy_document" "base" {\n'
        '  statement {\n    sid     = "A"\n    actions = ["s3:GetObject"]\n  }\n}\n'
        'data "aws_iam_policy_document" "d" {\n'
        "  source_json = data.aws_iam_policy_document.base.json\n"
        '  statement {\n    sid     = "B"\n    actions = ["s3:PutObject"]\n  }\n}\n',
    )
    (document,) = result.documents

    assert [s.sid for s in document.statements] == ["A", "B"]
