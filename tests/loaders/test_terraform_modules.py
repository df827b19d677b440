from __future__ import annotations

import functools
from pathlib import Path

from mfa_guard.loaders.base import LoadResult
from mfa_guard.loaders.terraform import TerraformLoadResult, load_terraform_module
from mfa_guard.loaders.terraform_module import module_owner
from mfa_guard.model import DiagnosticKind, PolicyDocument

FIXTURE = Path(__file__).parent.parent / "fixtures" / "terraform" / "modules"
LIVE = FIXTURE / "live"
CHILD = FIXTURE / "modules" / "require_mfa"


@functools.cache
def load_live() -> LoadResult:
    return load_terraform_module(LIVE, sorted(LIVE.glob("*.tf")))


def document_named(result: LoadResult, name: str) -> PolicyDocument:
    matches = [document for document in result.documents if document.name == name]
    assert len(matches) == 1, [document.name for document in result.documents]
    return matches[0]


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def load(directory: Path) -> LoadResult:
    return load_terraform_module(directory, sorted(directory.glob("*.tf")))


CHILD_POLICY = (
    'variable "actions" {\n'
    '  default = ["s3:GetObject"]\n'
    "}\n"
    'resource "aws_iam_policy" "p" {\n'
    "  policy = jsonencode({\n"
    '    Statement = [{ Effect = "Deny", Action = var.actions, Resource = "*" }]\n'
    "  })\n"
    "}\n"
)


def test_module_owner_of_addresses() -> None:
    assert module_owner("aws_iam_policy.p") == ""
    assert module_owner("module.a.aws_iam_policy.p") == "module.a"
    assert (
        module_owner('module.e["x.y"].module.b.data.t.n') == 'module.e["x.y"].module.b'
    )
    assert module_owner("module.a.module.b", is_module=True) == "module.a"
    assert module_owner("module.a", is_module=True) == ""


def test_instances_named_by_module_address() -> None:
    names = [document.name for document in load_live().documents]

    assert names == [
        "module.developers.aws_iam_group_policy.require_mfa",
        "module.operators.aws_iam_group_policy.require_mfa",
    ]


def test_instance_located_in_child_file() -> None:
    document = document_named(
        load_live(), "module.developers.aws_iam_group_policy.require_mfa"
    )
    deny = document.statements[0]
    condition = deny.conditions[0]

    assert document.path == str(CHILD / "main.tf")
    assert deny.span.path == str(CHILD / "main.tf")
    assert (deny.span.line, deny.span.column) == (6, 18)
    assert (condition.span.line, condition.span.column) == (11, 21)


def test_caller_input_overrides_default() -> None:
    developers = document_named(
        load_live(), "module.developers.aws_iam_group_policy.require_mfa"
    )
    operators = document_named(
        load_live(), "module.operators.aws_iam_group_policy.require_mfa"
    )

    assert developers.statements[0].not_actions is not None
    assert "iam:ChangePassword" not in developers.statements[0].not_actions
    assert operators.statements[0].not_actions is not None
    assert operators.statements[0].not_actions[0] == "iam:ChangePassword"


def test_remote_modules_unresolved() -> None:
    diagnostics = load_live().diagnostics

    assert [d.kind for d in diagnostics] == [DiagnosticKind.UNRESOLVED] * 2
    assert [(d.span.line, d.span.column) for d in diagnostics] == [(20, 1), (25, 1)]
    assert diagnostics[0].message == (
        'policies of module "iam_account" were not checked: its source '
        '"terraform-aws-modules/iam/aws//modules/iam-account" is not a local path, '
        "and modules are not downloaded"
    )
    assert (
        '"git::https://example.com/iam-policies.git?ref=v1"' in diagnostics[1].message
    )


def test_local_modules_listed() -> None:
    result = load_live()

    assert isinstance(result, TerraformLoadResult)
    assert result.local_modules == [str(CHILD)]


def test_child_loaded_alone_with_defaults() -> None:
    result = load(CHILD)
    (document,) = result.documents

    assert document.name == "aws_iam_group_policy.require_mfa"
    assert document.statements[0].not_actions is not None
    assert document.statements[0].not_actions[0] == "iam:ChangePassword"


def test_nested_module_receives_inputs(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "main.tf": 'module "outer" {\n  source  = "./outer"\n'
            '  actions = ["s3:PutObject"]\n}\n',
            "outer/main.tf": 'variable "actions" {}\n'
            'module "inner" {\n  source  = "../inner"\n  actions = var.actions\n}\n',
            "inner/main.tf": CHILD_POLICY,
        },
    )
    result = load(tmp_path)
    (document,) = result.documents

    assert document.name == "module.outer.module.inner.aws_iam_policy.p"
    assert document.path == str(tmp_path / "inner" / "main.tf")
    assert document.statements[0].actions == ("s3:PutObject",)
    assert result.diagnostics == []


def test_for_each_module_instances(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "main.tf": 'module "each" {\n  for_each = toset(["s3:GetObject", "s3:PutObject"])\n'
            '  source   = "./child"\n  actions  = [each.value]\n}\n',
            "child/main.tf": CHILD_POLICY,
        },
    )
    result = load(tmp_path)

    assert [(d.name, d.statements[0].actions) for d in result.documents] == [
        ('module.each["s3:GetObject"].aws_iam_policy.p', ("s3:GetObject",)),
        ('module.each["s3:PutObject"].aws_iam_policy.p', ("s3:PutObject",)),
    ]


def test_unknown_input_evaluated_in_caller_scope(tmp_path: Path) -> None:
    # tfparse sets every reference in the caller's jsonencode to null when one
    # is unknown, so the caller's fallback evaluator computes the input.
    write_tree(
        tmp_path,
        {
            "main.tf": 'variable "unknown" {}\n'
            'locals {\n  actions = ["s3:PutObject"]\n}\n'
            'module "c" {\n  source  = "./child"\n'
            "  actions = concat(local.actions, [var.unknown])\n}\n",
            "child/main.tf": CHILD_POLICY,
        },
    )
    (document,) = load(tmp_path).documents

    assert document.statements[0].actions == (
        "s3:PutObject",
        "var.unknown (no default)",
    )
    assert document.unresolved == ("var.unknown (no default)",)


def test_child_file_function_uses_module_path(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "live/main.tf": 'module "c" {\n  source = "../child"\n}\n',
            "child/main.tf": 'resource "aws_iam_policy" "p" {\n'
            '  policy = file("${path.module}/policy.json")\n}\n',
            "child/policy.json": '{"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}',
        },
    )
    (document,) = load(tmp_path / "live").documents

    assert document.name == "module.c.aws_iam_policy.p"
    assert document.path == str(tmp_path / "child" / "policy.json")
    assert (document.statements[0].span.line, document.statements[0].span.column) == (
        1,
        16,
    )


def test_missing_local_module_unresolved(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {"main.tf": 'module "gone" {\n  source = "./gone"\n}\n' + CHILD_POLICY},
    )
    (diagnostic,) = load(tmp_path).diagnostics

    assert diagnostic.kind is DiagnosticKind.UNRESOLVED
    assert diagnostic.message == (
        f'policies of module "gone" were not checked: its source directory '
        f"{tmp_path / 'gone'} was not found"
    )


def test_child_syntax_error_unresolved(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "main.tf": 'module "c" {\n  source = "./child"\n}\n',
            "child/good.tf": CHILD_POLICY,
            "child/bad.tf": 'resource "aws_iam_policy" "q" {\n  policy = \n}\n',
        },
    )
    result = load(tmp_path)
    (diagnostic,) = result.diagnostics

    assert [d.name for d in result.documents] == ["module.c.aws_iam_policy.p"]
    assert diagnostic.kind is DiagnosticKind.UNRESOLVED
    assert (diagnostic.span.line, diagnostic.span.column) == (1, 1)
    assert str(tmp_path / "child" / "bad.tf") in diagnostic.message


def test_module_only_directory_relevant(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "main.tf": 'module "c" {\n  source = "./child"\n}\n',
            "child/main.tf": CHILD_POLICY,
        },
    )

    assert load(tmp_path).relevant is True


def test_unrelated_modules_not_relevant(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "main.tf": 'module "vpc" {\n  source = "terraform-aws-modules/vpc/aws"\n}\n'
            'module "c" {\n  source = "./child"\n}\n',
            "child/main.tf": 'resource "aws_s3_bucket" "b" {}\n',
        },
    )
    result = load(tmp_path)

    assert result.relevant is False
    assert result.diagnostics == []


def test_nul_source_and_file_name(tmp_path: Path) -> None:
    # No path can contain a NUL character. Each file is reported as far as it can
    # be read, never with Python's "embedded null byte" error.
    policy = (
        'resource "aws_iam_policy" "parent" {\n'
        '  policy = jsonencode({ Statement = { Effect = "Deny",'
        ' Action = "*", Resource = "*" } })\n}\n'
    )
    files = {
        "source": 'module"child" {\n  source  = "./\0./child"\n}\n\n' + policy,
        "file": 'resource "aws_iam_policy" "p" {\n'
        '  policy = file("${path.module}/a\0b.json")\n}\n',
    }
    for name, text in files.items():
        folder = tmp_path / name
        write_tree(folder, {"main.tf": text, "child/main.tf": policy})
        result = load_terraform_module(folder, [folder / "main.tf"])
        messages = [diagnostic.message for diagnostic in result.diagnostics]

        assert messages, name
        assert not any("embedded null" in message for message in messages), name
