from __future__ import annotations

from pathlib import Path

import pytest

from mfa_guard.loaders.base import LoadResult
from mfa_guard.loaders.positions import Unresolved
from mfa_guard.loaders.terraform import load_terraform_module
from mfa_guard.loaders.terraform_evaluate import parse_hcl_diagnostic
from mfa_guard.loaders.terraform_functions import FUNCTIONS
from mfa_guard.model import DiagnosticKind, PolicyDocument


def load_module(directory: Path, files: dict[str, str]) -> LoadResult:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return load_terraform_module(directory, sorted(directory.glob("*.tf")))


def only_document(result: LoadResult) -> PolicyDocument:
    assert len(result.documents) == 1, [d.name for d in result.documents]
    return result.documents[0]


def jsonencoded(statement: str) -> str:
    """Return an aws_iam_policy whose jsonencode statement starts on line 4."""
    return (
        'resource "aws_iam_policy" "p" {\n'
        "  policy = jsonencode({\n"
        "    Statement = [\n"
        f"      {statement}\n"
        "    ]\n"
        "  })\n"
        "}\n"
    )


# Fallback evaluation where tfparse returns no value


def test_jsonencode_keeps_known_values(tmp_path: Path) -> None:
    files = {
        "main.tf": 'variable "known" {\n  default = ["s3:GetObject"]\n}\n'
        'variable "unknown" {}\n'
        + jsonencoded(
            '{ Effect = "Deny", Action = concat(var.known, ["s3:PutObject"]), '
            "Resource = var.unknown }"
        )
    }
    document = only_document(load_module(tmp_path, files))
    statement = document.statements[0]

    assert statement.actions == ("s3:GetObject", "s3:PutObject")
    assert statement.resources == ("var.unknown (no default)",)
    assert (statement.span.line, statement.span.column) == (8, 7)


def test_local_referring_to_unknown_variable(tmp_path: Path) -> None:
    files = {
        "main.tf": 'variable "extra" {}\n'
        'locals {\n  actions = concat(["iam:GetUser"], var.extra)\n}\n'
        + jsonencoded('{ Effect = "Deny", NotAction = local.actions, Resource = "*" }')
    }
    statement = only_document(load_module(tmp_path, files)).statements[0]

    assert statement.not_actions == ("iam:GetUser", "var.extra (no default)")
    assert statement.not_actions is not None
    assert isinstance(statement.not_actions[1], Unresolved)


def test_undeclared_variable_unresolved(tmp_path: Path) -> None:
    files = {
        "main.tf": jsonencoded(
            '{ Effect = "Deny", Action = var.missing, Resource = "*" }'
        )
    }
    statement = only_document(load_module(tmp_path, files)).statements[0]

    assert statement.actions == ("var.missing (not declared)",)


@pytest.mark.parametrize(
    ("name", "arguments", "expected"),
    [
        ("concat", (["a"], ["b", "c"]), ["a", "b", "c"]),
        ("flatten", ([["a"], ["b", ["c"]]],), ["a", "b", "c"]),
        ("distinct", (["a", "b", "a"],), ["a", "b"]),
        ("compact", (["a", "", None],), ["a"]),
        ("toset", (["b", "a", "b"],), ["a", "b"]),
        ("merge", ({"a": 1}, {"b": 2}), {"a": 1, "b": 2}),
        ("jsonencode", ({"b": 1, "a": [True]},), '{"a":[true],"b":1}'),
        ("format", ("%s/%d%%", "pipe", 2.0), "pipe/2%"),
        ("format", ("%v-%s", True, "x"), "true-x"),
    ],
)
def test_fallback_functions(
    name: str, arguments: tuple[object, ...], expected: object
) -> None:
    assert FUNCTIONS[name](*arguments) == expected


def test_fallback_function_invalid_argument() -> None:
    with pytest.raises(ValueError, match="concat expects lists"):
        FUNCTIONS["concat"]("a")


@pytest.mark.parametrize(
    "arguments",
    [("%5s", "x"), ("%q", "x"), ("%s",), ("%s", "a", "b"), ("%d", "x"), ("%s", [1])],
)
def test_format_not_computed(arguments: tuple[object, ...]) -> None:
    with pytest.raises(ValueError):
        FUNCTIONS["format"](*arguments)


# Policies defined away from the resource


def test_heredoc_in_locals_positions(tmp_path: Path) -> None:
    files = {
        "locals.tf": "locals {\n"
        "  policy = <<EOF\n"
        '{"Statement": [{"Effect": "Deny", "NotAction": "iam:GetUser", "Resource": "*"}]}\n'
        "EOF\n"
        "}\n",
        "main.tf": 'resource "aws_iam_policy" "p" {\n  policy = local.policy\n}\n',
    }
    document = only_document(load_module(tmp_path, files))
    statement = document.statements[0]

    assert document.name == "aws_iam_policy.p"
    assert statement.span.path == str(tmp_path / "locals.tf")
    assert (statement.span.line, statement.span.column) == (3, 16)


def test_jsonencode_of_local_object(tmp_path: Path) -> None:
    files = {
        "main.tf": "locals {\n"
        "  policy = {\n"
        '    Statement = [{ Effect = "Deny", Action = "*", Resource = "*" }]\n'
        "  }\n"
        "}\n"
        'resource "aws_iam_policy" "p" {\n  policy = jsonencode(local.policy)\n}\n'
    }
    statement = only_document(load_module(tmp_path, files)).statements[0]

    assert statement.actions == ("*",)
    assert (statement.span.line, statement.span.column) == (3, 18)


# Invalid policies


def test_invalid_json_in_heredoc(tmp_path: Path) -> None:
    files = {
        "main.tf": 'resource "aws_iam_policy" "p" {\n'
        "  policy = <<-EOF\n"
        '    {"Statement": [\n'
        '      {"Effect": "Deny" "Action": "*"}\n'
        "    ]}\n"
        "  EOF\n"
        "}\n"
    }
    result = load_module(tmp_path, files)
    (error,) = result.diagnostics

    assert result.documents == []
    assert error.kind is DiagnosticKind.PARSE_ERROR
    assert error.message.startswith("invalid JSON in policy of aws_iam_policy.p")
    assert (error.span.line, error.span.column) == (4, 25)


def test_policy_without_statement(tmp_path: Path) -> None:
    files = {"main.tf": 'resource "aws_iam_policy" "p" {\n  policy = "{}"\n}\n'}
    (error,) = load_module(tmp_path, files).diagnostics

    assert error.kind is DiagnosticKind.PARSE_ERROR
    assert "Statement" in error.message
    assert (error.span.line, error.span.column) == (2, 3)


def test_undeclared_policy_document(tmp_path: Path) -> None:
    files = {
        "main.tf": 'resource "aws_iam_policy" "p" {\n'
        "  policy = data.aws_iam_policy_document.missing.json\n"
        "}\n"
    }
    (error,) = load_module(tmp_path, files).diagnostics

    assert error.kind is DiagnosticKind.UNRESOLVED
    assert error.message == (
        "policy of aws_iam_policy.p could not be resolved: "
        "data.aws_iam_policy_document.missing is not declared in a file of this "
        "module that parses, or was not checked"
    )
    assert (error.span.line, error.span.column) == (2, 3)


# aws_iam_policy_document details


def test_document_conditions_merge_by_test(tmp_path: Path) -> None:
    files = {
        "main.tf": 'data "aws_iam_policy_document" "d" {\n'
        "  statement {\n"
        '    effect    = "Deny"\n'
        '    actions   = ["*"]\n'
        '    resources = ["*"]\n'
        "    condition {\n"
        '      test     = "BoolIfExists"\n'
        '      variable = "aws:MultiFactorAuthPresent"\n'
        "      values   = [false]\n"
        "    }\n"
        "    condition {\n"
        '      test     = "BoolIfExists"\n'
        '      variable = "aws:ViaAWSService"\n'
        '      values   = ["false"]\n'
        "    }\n"
        "  }\n"
        "}\n"
    }
    statement = only_document(load_module(tmp_path, files)).statements[0]
    first, second = statement.conditions

    assert [c.operator for c in statement.conditions] == ["BoolIfExists"] * 2
    assert (first.key, first.values) == ("aws:MultiFactorAuthPresent", ("false",))
    assert (second.key, second.values) == ("aws:ViaAWSService", ("false",))
    assert (second.key_span.line, second.key_span.column) == (13, 7)


def test_document_principals_and_version(tmp_path: Path) -> None:
    files = {
        "main.tf": 'data "aws_iam_policy_document" "d" {\n'
        '  version = "2008-10-17"\n'
        "  statement {\n"
        '    actions = ["sts:AssumeRole"]\n'
        "    principals {\n"
        '      type        = "AWS"\n'
        '      identifiers = ["arn:aws:iam::123456789012:root"]\n'
        "    }\n"
        "  }\n"
        "}\n"
    }
    document = only_document(load_module(tmp_path, files))

    assert document.version == "2008-10-17"
    assert document.statements[0].has_principal is True


def test_document_source_documents_merged(tmp_path: Path) -> None:
    files = {
        "main.tf": 'data "aws_iam_policy_document" "base" {\n'
        '  statement {\n    actions = ["s3:GetObject"]\n  }\n}\n'
        'data "aws_iam_policy_document" "d" {\n'
        "  source_policy_documents = [data.aws_iam_policy_document.base.json]\n"
        '  statement {\n    actions = ["s3:PutObject"]\n  }\n}\n'
    }
    result = load_module(tmp_path, files)
    document = only_document(result)

    assert document.name == "data.aws_iam_policy_document.d"
    assert [s.actions for s in document.statements] == [
        ("s3:GetObject",),
        ("s3:PutObject",),
    ]
    assert [(s.span.line, s.span.column) for s in document.statements] == [
        (2, 3),
        (8, 3),
    ]
    assert document.unresolved == ()


# Resource variants


def test_count_instances_named_by_index(tmp_path: Path) -> None:
    files = {
        "main.tf": 'resource "aws_iam_policy" "p" {\n'
        "  count  = 2\n"
        '  policy = jsonencode({ Statement = { Effect = "Deny", '
        'Action = "s3:Get${count.index}", Resource = "*" } })\n'
        "}\n"
    }
    result = load_module(tmp_path, files)

    assert [d.name for d in result.documents] == [
        "aws_iam_policy.p[0]",
        "aws_iam_policy.p[1]",
    ]
    assert result.documents[1].statements[0].actions == ("s3:Get1",)


def test_role_inline_policy(tmp_path: Path) -> None:
    files = {
        "main.tf": 'resource "aws_iam_role" "r" {\n'
        '  assume_role_policy = jsonencode({ Statement = { Effect = "Allow", '
        'Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } } })\n'
        "  inline_policy {\n"
        '    name   = "deny"\n'
        '    policy = jsonencode({ Statement = { Effect = "Deny", Action = "*", '
        'Resource = "*" } })\n'
        "  }\n"
        "}\n"
    }
    result = load_module(tmp_path, files)
    names = [d.name for d in result.documents]

    assert names == ["aws_iam_role.r", "aws_iam_role.r.inline_policy[0]"]
    assert result.documents[1].statements[0].effect == "Deny"
    assert result.documents[1].statements[0].span.line == 5


# HCL diagnostics from tfparse


def test_hcl_diagnostic_parsed() -> None:
    text = (
        "unable to create TerraformConverter: bad.tf:2,9-3,1: Invalid multi-line "
        "string; Quoted strings may not be split over multiple lines., and 2 other "
        "diagnostic(s)"
    )
    found = parse_hcl_diagnostic(text)

    assert found is not None
    name, pos, message = found
    assert name == "bad.tf"
    assert pos == (2, 9, 2, 9)
    assert message == (
        "Invalid multi-line string: Quoted strings may not be split over multiple lines."
    )


def test_hcl_diagnostic_without_position() -> None:
    text = "unable to create TerraformConverter: read dir: open /x: no such file"

    assert parse_hcl_diagnostic(text) is None


def test_child_module_syntax_error_ignored(tmp_path: Path) -> None:
    files = {
        "main.tf": 'module "c" {\n  source = "./child"\n}\n'
        + jsonencoded('{ Effect = "Deny", Action = "*", Resource = "*" }'),
        "child/main.tf": 'resource "x" "y" {\n  a = \n}\n',
    }
    result = load_module(tmp_path, files)

    assert result.diagnostics == []
    assert [d.name for d in result.documents] == ["aws_iam_policy.p"]
