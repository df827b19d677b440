"""Account, partition and region data sources, and `try`, in Terraform policies."""

from __future__ import annotations

from pathlib import Path

from mfa_guard.loaders.positions import Unresolved
from tests.loaders.test_terraform_values import jsonencoded, load_module, only_document

ACCOUNT_DATA = (
    'data "aws_caller_identity" "current" {}\ndata "aws_partition" "current" {}\n'
)


def resources_of(tmp_path: Path, prelude: str, resource: str) -> tuple[str, ...]:
    statement = f'{{ Effect = "Allow", Action = "iam:GetUser", Resource = {resource} }}'
    files = {"main.tf": prelude + jsonencoded(statement)}
    return only_document(load_module(tmp_path, files)).statements[0].resources


def test_account_and_partition_data(tmp_path: Path) -> None:
    resource = (
        '"arn:${data.aws_partition.current.partition}:iam::'
        '${data.aws_caller_identity.current.account_id}:user/$${aws:username}"'
    )
    resources = resources_of(tmp_path, ACCOUNT_DATA, resource)
    assert resources == ("arn:aws:iam::*:user/${aws:username}",)
    assert not isinstance(resources[0], Unresolved)


def test_counted_data_source(tmp_path: Path) -> None:
    prelude = 'data "aws_caller_identity" "current" {\n  count = 1\n}\n'
    resource = '"arn:aws:iam::${data.aws_caller_identity.current[0].account_id}:root"'
    assert resources_of(tmp_path, prelude, resource) == ("arn:aws:iam::*:root",)


def test_other_data_attribute_unresolved(tmp_path: Path) -> None:
    resource = '"arn:aws:iam::*:user/${data.aws_caller_identity.current.user_id}"'
    resources = resources_of(tmp_path, ACCOUNT_DATA, resource)
    assert isinstance(resources[0], Unresolved)


def test_try_local_of_data_source(tmp_path: Path) -> None:
    # tfparse has no value for the data source and returns the fallback "".
    prelude = (
        'variable "account_id" {\n  default = ""\n}\n'
        'data "aws_caller_identity" "current" {\n'
        '  count = var.account_id == "" ? 1 : 0\n'
        "}\n"
        "locals {\n"
        "  account = try(data.aws_caller_identity.current[0].account_id,"
        " var.account_id)\n"
        "}\n"
    )
    resource = '"arn:aws:iam::${local.account}:user/$${aws:username}"'
    resources = resources_of(tmp_path, prelude, resource)
    assert resources == ("arn:aws:iam::*:user/${aws:username}",)


def test_try_falls_back_on_missing_key(tmp_path: Path) -> None:
    prelude = (
        'variable "settings" {\n  default = {}\n}\n'
        'locals {\n  name = try(var.settings.name, "alice")\n}\n'
    )
    resource = '"arn:aws:iam::*:user/${local.name}"'
    resources = resources_of(tmp_path, prelude, resource)
    assert resources == ("arn:aws:iam::*:user/alice",)


def test_try_keeps_resource_unknown(tmp_path: Path) -> None:
    prelude = (
        'resource "aws_iam_user" "deploy" {\n  name = "deploy"\n}\n'
        "locals {\n"
        '  name = try(aws_iam_user.deploy.unique_id, "fallback")\n'
        "}\n"
    )
    resource = '"arn:aws:iam::*:user/${local.name}"'
    resources = resources_of(tmp_path, prelude, resource)
    assert isinstance(resources[0], Unresolved)


def test_other_provider_account_unresolved(tmp_path: Path) -> None:
    # The aliased provider may sign in to another account.
    prelude = 'data "aws_caller_identity" "prod" {\n  provider = aws.prod\n}\n'
    resource = '"arn:aws:iam::${data.aws_caller_identity.prod.account_id}:user/$${aws:username}"'
    resources = resources_of(tmp_path, prelude, resource)
    assert isinstance(resources[0], Unresolved)
