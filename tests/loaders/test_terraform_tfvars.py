from __future__ import annotations

import functools
from pathlib import Path

from mfa_guard.loaders.base import LoadResult
from mfa_guard.loaders.terraform import load_terraform_module
from mfa_guard.loaders.terraform_tfvars import var_file_names
from mfa_guard.model import DiagnosticKind, PolicyDocument

FIXTURE = Path(__file__).parent.parent / "fixtures" / "terraform" / "tfvars"

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
def load_fixture() -> LoadResult:
    return load_terraform_module(FIXTURE, sorted(FIXTURE.glob("*.tf")))


def document_named(result: LoadResult, name: str) -> PolicyDocument:
    matches = [document for document in result.documents if document.name == name]
    assert len(matches) == 1, [document.name for document in result.documents]
    return matches[0]


def write_module(directory: Path, files: dict[str, str]) -> LoadResult:
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return load_terraform_module(directory, sorted(directory.glob("*.tf")))


POLICY_OF_VARIABLE = (
    'variable "actions" {\n'
    '  default = ["s3:GetObject"]\n'
    "}\n"
    'resource "aws_iam_policy" "p" {\n'
    "  policy = jsonencode({\n"
    '    Statement = [{ Effect = "Deny", Action = var.actions, Resource = "*" }]\n'
    "  })\n"
    "}\n"
)


def test_var_file_names_in_load_order() -> None:
    entries = [
        "b.auto.tfvars",
        "main.tf",
        "terraform.tfvars.json",
        "a.auto.tfvars.json",
        "terraform.tfvars",
        "prod.tfvars",
    ]

    assert var_file_names(entries) == [
        "terraform.tfvars",
        "terraform.tfvars.json",
        "a.auto.tfvars.json",
        "b.auto.tfvars",
    ]


def test_last_auto_file_wins() -> None:
    document = document_named(load_fixture(), "aws_iam_group_policy.require_mfa")
    deny = document.statements[0]

    assert deny.not_actions == SELF_SERVICE_EXEMPTIONS


def test_json_file_overrides_hcl_file() -> None:
    document = document_named(load_fixture(), "aws_iam_group_policy.require_mfa")
    condition = document.statements[0].conditions[0]

    assert condition.operator == "BoolIfExists"
    assert (condition.span.line, condition.span.column) == (35, 9)


def test_statement_stays_where_written() -> None:
    document = document_named(load_fixture(), "aws_iam_group_policy.require_mfa")
    deny = document.statements[0]

    assert deny.span.path == str(FIXTURE / "main.tf")
    assert (deny.span.line, deny.span.column) == (29, 18)
    assert document.unresolved == ()


def test_policy_positioned_in_tfvars() -> None:
    document = document_named(load_fixture(), "aws_iam_policy.from_tfvars")
    deny = document.statements[0]
    condition = deny.conditions[0]

    assert document.path == str(FIXTURE / "terraform.tfvars")
    assert deny.not_actions == ("iam:GetUser", "sts:GetSessionToken")
    assert (deny.span.line, deny.span.column) == (8, 5)
    assert (condition.span.line, condition.span.column) == (13, 21)


def test_fixture_loads_cleanly() -> None:
    assert load_fixture().diagnostics == []


def test_tfvars_syntax_error_reported(tmp_path: Path) -> None:
    result = write_module(
        tmp_path,
        {
            "main.tf": POLICY_OF_VARIABLE,
            "terraform.tfvars": 'actions = ["s3:PutObject"]\n',
            "broken.auto.tfvars": 'actions = ["s3:DeleteObject",\n',
        },
    )
    (error,) = result.diagnostics

    assert error.kind is DiagnosticKind.PARSE_ERROR
    assert error.span.path == str(tmp_path / "broken.auto.tfvars")
    assert error.message.startswith("invalid HCL syntax")


def test_tfvars_syntax_error_keeps_other_files(tmp_path: Path) -> None:
    result = write_module(
        tmp_path,
        {
            "main.tf": POLICY_OF_VARIABLE,
            "terraform.tfvars": 'actions = ["s3:PutObject"]\n',
            "broken.auto.tfvars": 'actions = ["s3:DeleteObject",\n',
        },
    )

    assert result.documents[0].statements[0].actions == ("s3:PutObject",)


def test_tfvars_block_rejected(tmp_path: Path) -> None:
    result = write_module(
        tmp_path,
        {"main.tf": POLICY_OF_VARIABLE, "terraform.tfvars": "settings {\n}\n"},
    )
    (error,) = result.diagnostics

    assert error.span.path == str(tmp_path / "terraform.tfvars")
    assert (error.span.line, error.span.column) == (1, 1)
    assert 'unexpected "settings" block' in error.message
    assert result.documents[0].statements[0].actions == ("s3:GetObject",)


def test_tfvars_json_must_be_object(tmp_path: Path) -> None:
    result = write_module(
        tmp_path,
        {"main.tf": POLICY_OF_VARIABLE, "terraform.tfvars.json": '["s3:PutObject"]'},
    )
    (error,) = result.diagnostics

    assert error.message == "invalid variable definitions: expected a JSON object"
    assert result.documents[0].statements[0].actions == ("s3:GetObject",)


def test_other_var_files_ignored(tmp_path: Path) -> None:
    result = write_module(
        tmp_path,
        {"main.tf": POLICY_OF_VARIABLE, "prod.tfvars": 'actions = ["s3:PutObject"]\n'},
    )

    assert result.documents[0].statements[0].actions == ("s3:GetObject",)


def test_tfvars_value_used_by_fallback(tmp_path: Path) -> None:
    # tfparse sets every reference inside jsonencode to null when one is
    # unknown, so the fallback evaluator must see the tfvars value too.
    main = POLICY_OF_VARIABLE.replace(
        'Action = var.actions, Resource = "*"',
        "Action = var.actions, Resource = var.unknown",
    )
    result = write_module(
        tmp_path,
        {
            "main.tf": 'variable "unknown" {}\n' + main,
            "terraform.tfvars": 'actions = ["s3:PutObject"]\n',
        },
    )
    statement = result.documents[0].statements[0]

    assert statement.actions == ("s3:PutObject",)
    assert statement.resources == ("var.unknown (no default)",)
