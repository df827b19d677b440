from __future__ import annotations

import functools
from pathlib import Path

import pytest

from mfa_guard.loaders.base import LoadResult
from mfa_guard.loaders.terraform import TerraformLoadResult, load_terraform_module
from mfa_guard.model import PolicyDocument

FIXTURE = Path(__file__).parent.parent / "fixtures" / "terraform" / "legacy"

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


def document_named(name: str) -> PolicyDocument:
    matches = [d for d in load_fixture().documents if d.name == name]
    assert len(matches) == 1, [d.name for d in load_fixture().documents]
    return matches[0]


def write_module(directory: Path, text: str) -> LoadResult:
    (directory / "main.tf").write_text(text, encoding="utf-8")
    return load_terraform_module(directory, [directory / "main.tf"])


def test_list_interpolated_into_list_flattened() -> None:
    deny = document_named("data.aws_iam_policy_document.require_mfa").statements[0]

    assert deny.not_actions == SELF_SERVICE_EXEMPTIONS
    assert deny.item_span("NotAction", 6).line == 20


def test_condition_argument_read_as_block() -> None:
    deny = document_named("data.aws_iam_policy_document.require_mfa").statements[0]
    (condition,) = deny.conditions

    assert condition.operator == "BoolIfExists"
    assert condition.key == "aws:MultiFactorAuthPresent"
    assert condition.values == ("false",)
    assert (condition.span.line, condition.span.column) == (24, 7)
    assert (condition.key_span.line, condition.key_span.column) == (25, 7)


def test_whole_string_interpolation_unwrapped() -> None:
    deny = document_named("data.aws_iam_policy_document.scalar_string").statements[0]

    assert deny.not_actions == SELF_SERVICE_EXEMPTIONS
    assert deny.conditions[0].values == ("false",)


@pytest.mark.parametrize(
    ("name", "references"),
    [
        ("data.aws_iam_policy_document.require_mfa", ["aws_iam_policy.require_mfa"]),
        (
            "data.aws_iam_policy_document.scalar_string",
            ["aws_iam_policy.scalar_string"],
        ),
    ],
)
def test_quoted_document_reference(name: str, references: list[str]) -> None:
    result = load_fixture()

    assert isinstance(result, TerraformLoadResult)
    assert result.policy_references[name] == references


def test_quoted_file_function_positioned() -> None:
    document = document_named("aws_iam_policy.from_file")

    assert document.path == str(FIXTURE / "policy.json")
    assert (document.statements[0].span.line, document.statements[0].span.column) == (
        4,
        5,
    )


def test_fixture_loads_cleanly() -> None:
    result = load_fixture()

    assert result.diagnostics == []
    assert [d.unresolved for d in result.documents] == [(), (), ()]


def test_principals_argument_read(tmp_path: Path) -> None:
    result = write_module(
        tmp_path,
        'data "aws_iam_policy_document" "trust" {\n'
        "  statement {\n"
        '    actions    = ["sts:AssumeRole"]\n'
        "    principals = {\n"
        '      type        = "AWS"\n'
        '      identifiers = ["arn:aws:iam::123456789012:root"]\n'
        "    }\n"
        "  }\n"
        "}\n",
    )
    (document,) = result.documents

    assert document.statements[0].has_principal is True


def test_scalar_values_bool(tmp_path: Path) -> None:
    result = write_module(
        tmp_path,
        'data "aws_iam_policy_document" "d" {\n'
        "  statement {\n"
        '    effect    = "Deny"\n'
        '    actions   = ["*"]\n'
        '    resources = ["*"]\n'
        "    condition {\n"
        '      test     = "Bool"\n'
        '      variable = "aws:MultiFactorAuthPresent"\n'
        "      values   = false\n"
        "    }\n"
        "  }\n"
        "}\n",
    )
    (condition,) = result.documents[0].statements[0].conditions

    assert condition.values == ("false",)
    assert (condition.key_span.line, condition.key_span.column) == (8, 7)
