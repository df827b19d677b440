"""Heredoc policies with `%{ for }` and `%{ if }` directives and interpolated keys.

tfparse renders the directives, so its JSON has one statement per `for`
element and only the taken `if` branch. Statements written outside a
directive keep their own positions, and each generated statement points at
the statement written in the `for` body. The `if` between statements and
the `for` in a Resource list follow two public Terraform modules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mfa_guard.loaders.base import LoadResult
from mfa_guard.loaders.hcl_placeholders import same_shape
from mfa_guard.loaders.positions import PosDict, PosList
from mfa_guard.loaders.terraform import load_terraform_module
from mfa_guard.model import Statement

# Policy attributes at lines 17, 42 and 84, column 3.
MODULE = """variable "users" {
  default = ["alice", "bob"]
}
variable "use_cmk" {
  default = false
}
variable "destination_buckets" {
  default = [{ arn = "arn:aws:s3:::a" }, { arn = "arn:aws:s3:::b" }]
}
variable "prefix" {
  default = "aws"
}
locals {
  keys = { mfa = "aws:MultiFactorAuthPresent" }
}
resource "aws_iam_policy" "per_user" {
  policy = <<EOF
{
  "Version": "2012-10-17",
  "Statement": [
    %{ for user in var.users }
    {
      "Sid": "Deny${user}",
      "Effect": "Deny",
      "NotAction": "iam:GetUser",
      "Resource": "arn:aws:iam::*:user/${user}",
      "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    },
    %{ endfor }
    {
      "Sid": "DenyAll",
      "Effect": "Deny",
      "NotAction": "iam:GetUser",
      "Resource": "*",
      "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    }
  ]
}
EOF
}
resource "aws_iam_policy" "optional_key" {
  policy = <<EOF
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AllowS3",
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": [
        %{ for bucket in var.destination_buckets }
        "${bucket.arn}/*",
        %{ endfor }
        "arn:aws:s3:::c/*"
      ]
    },
%{ if var.use_cmk }
    {
      "Sid": "AllowKmsCmk",
      "Effect": "Allow",
      "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
      "Resource": "*"
    },
%{ endif }
    {
      "Sid": "DenyWithoutMfa",
      "Effect": "Deny",
      "NotAction": "iam:GetUser",
      "Resource": "*",
      "Condition": {"Bool": {"${var.prefix}:MultiFactorAuthPresent": "false"}}
    },
    {
      "Sid": "DenyLookup",
      "Effect": "Deny",
      "NotAction": "iam:GetUser",
      "Resource": "*",
      "Condition": {"Bool": {"${lookup(local.keys, "mfa")}": "false"}}
    }
  ]
}
EOF
}
resource "aws_iam_policy" "ranged" {
  policy = <<EOF
{
  "Version": "2012-10-17",
  "Statement": [
    %{ for index in range(2) }
    {
      "Sid": "Deny${index}",
      "Effect": "Deny",
      "NotAction": "iam:GetUser",
      "Resource": "*"
    },
    %{ endfor }
    {
      "Sid": "DenyAll",
      "Effect": "Deny",
      "NotAction": "iam:GetUser",
      "Resource": "*"
    }
  ]
}
EOF
}
"""


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> LoadResult:
    directory = tmp_path_factory.mktemp("directives")
    (directory / "main.tf").write_text(MODULE, encoding="utf-8")
    return load_terraform_module(directory, [])


def statements(result: LoadResult, name: str) -> dict[str, Statement]:
    (document,) = [d for d in result.documents if d.name == name]
    return {statement.sid or "": statement for statement in document.statements}


def start(statement: Statement) -> tuple[int, int]:
    return statement.span.line, statement.span.column


def test_directives_no_diagnostics(loaded: LoadResult) -> None:
    assert loaded.diagnostics == []


def test_for_copies_point_at_body(loaded: LoadResult) -> None:
    found = statements(loaded, "aws_iam_policy.per_user")

    assert sorted(found) == ["DenyAll", "Denyalice", "Denybob"]
    assert start(found["Denyalice"]) == (22, 5)
    assert start(found["Denybob"]) == (22, 5)


def test_for_copies_condition_position(loaded: LoadResult) -> None:
    condition = statements(loaded, "aws_iam_policy.per_user")["Denybob"].conditions[0]

    assert (condition.span.line, condition.span.column) == (27, 21)
    assert (condition.key_span.line, condition.key_span.column) == (27, 38)


def test_statement_after_for_keeps_position(loaded: LoadResult) -> None:
    statement = statements(loaded, "aws_iam_policy.per_user")["DenyAll"]
    condition = statement.conditions[0]

    assert start(statement) == (30, 5)
    assert (condition.span.line, condition.span.column) == (35, 21)


def test_for_in_resource_list(loaded: LoadResult) -> None:
    statement = statements(loaded, "aws_iam_policy.optional_key")["AllowS3"]

    assert statement.resources == (
        "arn:aws:s3:::a/*",
        "arn:aws:s3:::b/*",
        "arn:aws:s3:::c/*",
    )
    assert start(statement) == (46, 5)


def test_false_if_skipped(loaded: LoadResult) -> None:
    found = statements(loaded, "aws_iam_policy.optional_key")

    assert sorted(found) == ["AllowS3", "DenyLookup", "DenyWithoutMfa"]
    assert start(found["DenyWithoutMfa"]) == (65, 5)
    assert start(found["DenyLookup"]) == (72, 5)


def test_interpolated_key_position(loaded: LoadResult) -> None:
    condition = statements(loaded, "aws_iam_policy.optional_key")[
        "DenyWithoutMfa"
    ].conditions[0]

    assert condition.key == "aws:MultiFactorAuthPresent"
    assert (condition.key_span.line, condition.key_span.column) == (70, 30)


def test_quoted_interpolation_key_position(loaded: LoadResult) -> None:
    condition = statements(loaded, "aws_iam_policy.optional_key")[
        "DenyLookup"
    ].conditions[0]

    assert condition.key == "aws:MultiFactorAuthPresent"
    assert (condition.key_span.line, condition.key_span.column) == (77, 30)


def test_undecided_for_at_attribute(loaded: LoadResult) -> None:
    # The fallback evaluator has no range(), so the loop length is unknown
    # and no statement gets a guessed position.
    found = statements(loaded, "aws_iam_policy.ranged")

    assert sorted(found) == ["Deny0", "Deny1", "DenyAll"]
    assert [start(statement) for statement in found.values()] == [(84, 3)] * 3


def test_directive_findings_located(run_scan: Any, tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(MODULE, encoding="utf-8")
    located = run_scan(tmp_path).located()

    assert ("password-change-blocked", 22, 5) in located
    assert ("password-change-blocked", 30, 5) in located
    assert ("access-key-bypass", 70, 21) in located
    assert ("access-key-bypass", 77, 21) in located


def positioned_list(*items: Any) -> PosList:
    result = PosList((1, 1, 1, 1))
    result.extend(items)
    result.item_pos = [(1, 1, 1, 1)] * len(items)
    return result


def test_same_shape_lengths() -> None:
    assert same_shape(positioned_list("a", "${x}"), ["a", "b"])
    assert not same_shape(positioned_list("a"), ["a", "b"])


def test_same_shape_literal_text() -> None:
    value = PosDict((1, 1, 1, 1))
    value["Sid"] = "A"

    assert same_shape(value, {"Sid": "A"})
    assert not same_shape(value, {"Sid": "B"})
    assert not same_shape(value, {"Sid": "A", "Effect": "Deny"})
