from __future__ import annotations

import functools
from pathlib import Path

import pytest

from mfa_guard.loaders.base import LoadResult
from mfa_guard.loaders.positions import Unresolved
from mfa_guard.loaders.terraform import TerraformLoadResult, load_terraform_module
from mfa_guard.model import (
    Diagnostic,
    DiagnosticKind,
    PolicyDocument,
    PolicyKind,
    Statement,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "terraform"

SELF_SERVICE_EXEMPTIONS = (
    "iam:CreateVirtualMFADevice",
    "iam:EnableMFADevice",
    "iam:GetUser",
    "iam:ListMFADevices",
    "iam:ListVirtualMFADevices",
    "iam:ResyncMFADevice",
    "sts:GetSessionToken",
)


@functools.cache
def load(case: str) -> LoadResult:
    """Load a fixture directory once per test run, because each load runs tfparse."""
    directory = FIXTURES / case
    files = sorted(directory.glob("*.tf"))
    return load_terraform_module(directory, files)


def fixture_path(case: str, name: str) -> str:
    return str(FIXTURES / case / name)


def document_named(result: LoadResult, name: str) -> PolicyDocument:
    matches = [document for document in result.documents if document.name == name]
    assert len(matches) == 1, [document.name for document in result.documents]
    return matches[0]


def deny_statement(document: PolicyDocument) -> Statement:
    matches = [s for s in document.statements if s.effect == "Deny"]
    assert len(matches) == 1, [s.label for s in document.statements]
    return matches[0]


def diagnostics_of(result: LoadResult, kind: DiagnosticKind) -> list[Diagnostic]:
    return [diagnostic for diagnostic in result.diagnostics if diagnostic.kind == kind]


# The self-service MFA policy in each way Terraform can write it:
# (case, document, file, Deny statement (line, column),
#  condition operator (line, column), condition key (line, column)).
SELF_SERVICE_CASES = [
    ("heredoc", "aws_iam_policy.require_mfa", "main.tf", (31, 5), (45, 9), (46, 11)),
    (
        "heredoc_indented",
        "aws_iam_user_policy.require_mfa",
        "main.tf",
        (15, 9),
        (28, 25),
        (28, 42),
    ),
    (
        "jsonencode",
        "aws_iam_policy.require_mfa",
        "main.tf",
        (12, 7),
        (26, 11),
        (26, 28),
    ),
    (
        "document",
        "data.aws_iam_policy_document.mfa",
        "main.tf",
        (8, 3),
        (23, 7),
        (24, 7),
    ),
    ("locals", "data.aws_iam_policy_document.mfa", "main.tf", (2, 3), (9, 7), (10, 7)),
    ("locals", "aws_iam_policy.jsonencoded", "main.tf", (20, 18), (25, 21), (25, 38)),
    (
        "variables",
        "aws_iam_group_policy.require_mfa",
        "main.tf",
        (6, 18),
        (12, 9),
        (12, 32),
    ),
]


@pytest.mark.parametrize(
    ("case", "name", "filename", "statement_at", "operator_at", "key_at"),
    SELF_SERVICE_CASES,
)
def test_self_service_policy_positions(
    case: str,
    name: str,
    filename: str,
    statement_at: tuple[int, int],
    operator_at: tuple[int, int],
    key_at: tuple[int, int],
) -> None:
    document = document_named(load(case), name)
    deny = deny_statement(document)
    condition = deny.conditions[0]

    assert deny.span.path == fixture_path(case, filename)
    assert (deny.span.line, deny.span.column) == statement_at
    assert (condition.span.line, condition.span.column) == operator_at
    assert (condition.key_span.line, condition.key_span.column) == key_at
    assert condition.key_span.path == fixture_path(case, filename)


@pytest.mark.parametrize(
    ("case", "name"), [(case, name) for case, name, *_ in SELF_SERVICE_CASES]
)
def test_self_service_policy_values(case: str, name: str) -> None:
    document = document_named(load(case), name)
    deny = deny_statement(document)
    condition = deny.conditions[0]

    assert document.version == "2012-10-17"
    assert deny.sid == "DenyAllExceptListedIfNoMFA"
    assert deny.not_actions == SELF_SERVICE_EXEMPTIONS
    assert deny.actions is None
    assert deny.resources == ("*",)
    assert condition.operator == "BoolIfExists"
    assert condition.key == "aws:MultiFactorAuthPresent"
    assert condition.values == ("false",)
    assert document.unresolved == ()


@pytest.mark.parametrize("case", ["heredoc", "jsonencode", "document", "variables"])
def test_self_service_policy_loads_cleanly(case: str) -> None:
    result = load(case)

    assert result.relevant is True
    assert result.diagnostics == []


def test_heredoc_allow_statements() -> None:
    document = document_named(load("heredoc"), "aws_iam_policy.require_mfa")
    allows = [s for s in document.statements if s.effect == "Allow"]

    assert [s.sid for s in allows] == [
        "AllowViewAccountInfo",
        "AllowManageOwnVirtualMFADevice",
        "AllowManageOwnUserMFA",
    ]
    assert [(s.span.line, s.span.column) for s in allows] == [(8, 5), (14, 5), (20, 5)]
    assert allows[1].actions == ("iam:CreateVirtualMFADevice",)
    assert allows[2].resources == ("arn:aws:iam::*:user/${aws:username}",)


def test_heredoc_document_span() -> None:
    document = document_named(load("heredoc"), "aws_iam_policy.require_mfa")

    assert document.path == fixture_path("heredoc", "main.tf")
    assert (document.span.line, document.span.column) == (5, 1)
    assert document.kind is PolicyKind.IDENTITY


def test_document_created_once_for_references() -> None:
    result = load("document")

    assert [d.name for d in result.documents] == ["data.aws_iam_policy_document.mfa"]


def test_document_references_recorded() -> None:
    result = load("document")

    assert isinstance(result, TerraformLoadResult)
    assert result.policy_references == {
        "data.aws_iam_policy_document.mfa": [
            "aws_iam_policy.require_mfa",
            "aws_iam_group_policy.require_mfa",
        ]
    }


def test_document_allow_statement_defaults() -> None:
    document = document_named(load("document"), "data.aws_iam_policy_document.mfa")
    allow = document.statements[0]

    assert allow.effect == "Allow"
    assert (allow.span.line, allow.span.column) == (2, 3)
    assert allow.actions == ("iam:EnableMFADevice", "iam:ListMFADevices")


# Syntax errors


def test_syntax_error_reported_per_file() -> None:
    errors = diagnostics_of(load("syntax_error"), DiagnosticKind.PARSE_ERROR)

    assert [e.span.path for e in errors] == [
        fixture_path("syntax_error", "broken.tf"),
        fixture_path("syntax_error", "unterminated.tf"),
    ]
    assert (errors[0].span.line, errors[0].span.column) == (6, 3)
    assert (errors[1].span.line, errors[1].span.column) == (2, 23)


def test_syntax_error_message() -> None:
    errors = diagnostics_of(load("syntax_error"), DiagnosticKind.PARSE_ERROR)

    assert errors[0].message.startswith("invalid HCL syntax: Invalid expression")
    assert errors[1].message.startswith("invalid HCL syntax: Invalid multi-line string")


def test_syntax_error_keeps_valid_files() -> None:
    result = load("syntax_error")
    document = document_named(result, "aws_iam_policy.valid")

    assert result.relevant is True
    assert document.statements[0].not_actions == ("iam:GetUser",)
    assert (document.statements[0].span.line, document.statements[0].span.column) == (
        4,
        18,
    )


def test_syntax_error_leaves_scanned_tree_unchanged() -> None:
    names = sorted(path.name for path in (FIXTURES / "syntax_error").iterdir())

    assert names == ["broken.tf", "main.tf", "unterminated.tf"]


# Relevance


def test_unrelated_directory_not_relevant() -> None:
    result = load("unrelated")

    assert result.relevant is False
    assert result.documents == []
    assert result.diagnostics == []
    assert result.note is not None
    assert "no IAM resources" in result.note


def test_empty_directory_not_relevant(tmp_path: Path) -> None:
    result = load_terraform_module(tmp_path, [])

    assert result.relevant is False


def test_missing_directory_reported(tmp_path: Path) -> None:
    result = load_terraform_module(tmp_path / "missing", [])

    assert [d.kind for d in result.diagnostics] == [DiagnosticKind.PARSE_ERROR]


# Unresolved values


def test_variable_without_default_in_statement() -> None:
    document = document_named(load("no_default"), "aws_iam_policy.partial")
    deny = deny_statement(document)

    assert deny.not_actions == ("var.exempt_actions (no default)",)
    assert deny.not_actions is not None
    assert isinstance(deny.not_actions[0], Unresolved)
    assert document.unresolved == ("var.exempt_actions (no default)",)
    assert deny.conditions[0].values == ("false",)


def test_variable_without_default_as_policy() -> None:
    unresolved = diagnostics_of(load("no_default"), DiagnosticKind.UNRESOLVED)
    messages = {d.message: (d.span.line, d.span.column) for d in unresolved}

    message = (
        "policy of aws_iam_policy.whole could not be resolved: "
        "var.policy_json has no default"
    )
    assert messages[message] == (22, 3)


def test_remote_state_policy_unresolved() -> None:
    unresolved = diagnostics_of(load("no_default"), DiagnosticKind.UNRESOLVED)
    remote = [d for d in unresolved if "aws_iam_policy.remote" in d.message]

    assert len(remote) == 1
    assert "data.terraform_remote_state.iam.outputs.policy_json" in remote[0].message
    assert (remote[0].span.line, remote[0].span.column) == (26, 3)


def test_templatefile_policy_rendered() -> None:
    document = document_named(load("no_default"), "aws_iam_policy.template")
    statement = document.statements[0]

    assert document.path == fixture_path("no_default", "policy.json.tftpl")
    assert statement.resources == ("alice",)
    assert (statement.span.line, statement.span.column) == (1, 41)
    assert document.unresolved == ()


def test_unresolved_policies_build_no_document() -> None:
    names = [d.name for d in load("no_default").documents]

    assert names == ["aws_iam_policy.partial", "aws_iam_policy.template"]


def test_heredoc_interpolations() -> None:
    document = document_named(load("interpolation"), "aws_iam_policy.mixed")
    deny = deny_statement(document)
    resource = "arn:aws:iam::${var.account_id}:user/${aws:username}"

    assert deny.not_actions == ("iam:GetUser", "sts:GetSessionToken")
    assert deny.resources == (resource,)
    assert deny.resources is not None
    assert isinstance(deny.resources[0], Unresolved)
    assert document.unresolved == (resource,)
    assert (deny.span.line, deny.span.column) == (14, 5)


# Policy kinds


def test_assume_role_policy_is_trust() -> None:
    document = document_named(load("trust"), "aws_iam_role.admin")

    assert document.kind is PolicyKind.TRUST
    assert document.statements[0].has_principal is True
    assert document.statements[0].conditions[0].operator == "Bool"


def test_trust_document_kind_follows_role() -> None:
    document = document_named(load("trust"), "data.aws_iam_policy_document.assume")

    assert document.kind is PolicyKind.TRUST
    assert document.statements[0].has_principal is True
    assert (document.statements[0].span.line, document.statements[0].span.column) == (
        15,
        3,
    )


def test_organizations_policy_is_scp() -> None:
    result = load("scp")
    document = document_named(result, "aws_organizations_policy.require_mfa")
    statement = document.statements[0]

    assert document.kind is PolicyKind.SCP
    assert statement.actions == ("ec2:StopInstances", "ec2:TerminateInstances")
    assert (statement.span.line, statement.span.column) == (7, 5)


def test_tag_policy_skipped() -> None:
    result = load("scp")

    assert [d.name for d in result.documents] == [
        "aws_organizations_policy.require_mfa"
    ]
    assert result.diagnostics == []


# Escapes


@pytest.mark.parametrize(
    ("name", "statement_at"),
    [
        ("data.aws_iam_policy_document.ampersand", (2, 3)),
        ("aws_iam_policy.heredoc", (10, 15)),
        ("aws_iam_policy.jsonencode", (16, 17)),
        ("aws_iam_policy.quoted", (25, 29)),
    ],
)
def test_escaped_username_variable(name: str, statement_at: tuple[int, int]) -> None:
    document = document_named(load("escapes"), name)
    statement = document.statements[0]

    assert statement.resources == ("arn:aws:iam::*:user/${aws:username}",)
    assert (statement.span.line, statement.span.column) == statement_at


# Other sources of policies


def test_tf_json_document_positions() -> None:
    result = load("tf_json")
    document = document_named(result, "data.aws_iam_policy_document.mfa")
    deny = deny_statement(document)
    condition = deny.conditions[0]

    assert deny.span.path == fixture_path("tf_json", "main.tf.json")
    assert (deny.span.line, deny.span.column) == (6, 11)
    assert deny.not_actions == ("iam:GetUser", "sts:GetSessionToken")
    assert (condition.span.line, condition.span.column) == (12, 15)
    assert (condition.key_span.line, condition.key_span.column) == (13, 15)


def test_tf_json_reference_and_string_policy() -> None:
    result = load("tf_json")
    inline = document_named(result, "aws_iam_policy.inline")

    assert isinstance(result, TerraformLoadResult)
    assert result.policy_references == {
        "data.aws_iam_policy_document.mfa": ["aws_iam_policy.require_mfa"]
    }
    assert (inline.statements[0].span.line, inline.statements[0].span.column) == (
        27,
        9,
    )


def test_file_function_positions() -> None:
    document = document_named(load("file_function"), "aws_iam_policy.from_file")
    deny = deny_statement(document)
    path = fixture_path("file_function", "policies/require_mfa.json")

    assert document.path == path
    assert deny.span.path == path
    assert (deny.span.line, deny.span.column) == (4, 5)
    assert (deny.conditions[0].span.line, deny.conditions[0].span.column) == (9, 21)


def test_dynamic_statements_expanded() -> None:
    document = document_named(
        load("dynamic"), "data.aws_iam_policy_document.per_service"
    )

    assert [s.sid for s in document.statements] == [
        "Denyec2WithoutMFA",
        "Denys3WithoutMFA",
    ]
    assert [(s.span.line, s.span.column) for s in document.statements] == [
        (8, 5),
        (8, 5),
    ]
    assert document.statements[1].actions == ("s3:*",)
    assert document.statements[1].conditions[0].values == ("false",)


def test_child_module_policies_named_by_module() -> None:
    result = load("child_module")
    child = document_named(result, "module.child.aws_iam_policy.child")

    assert [d.name for d in result.documents] == [
        "module.child.aws_iam_policy.child",
        "aws_iam_policy.parent",
    ]
    assert child.path == fixture_path("child_module", "child/main.tf")
    assert child.statements[0].actions == ("s3:GetObject",)
