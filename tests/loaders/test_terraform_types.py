from __future__ import annotations

from pathlib import Path

import pytest

from mfa_guard.loaders.hcl_source import SourceFile, make_parser, parse_hcl
from mfa_guard.loaders.terraform import load_terraform_module
from mfa_guard.loaders.terraform_blocks import hcl_blocks
from mfa_guard.loaders.terraform_types import is_type_constraint
from mfa_guard.model import DiagnosticKind

# Each constraint was run through tfparse 0.6.22: the valid ones load, and
# each invalid one aborts the process.
VALID = [
    "string",
    "any",
    "list",
    '"string"',
    '"map"',
    "list(string)",
    "set(number)",
    "list(list(map(set(string))))",
    "tuple([string, number])",
    "tuple([])",
    "object({})",
    "object({a = string})",
    "object({a = optional(string)})",
    'object({a = optional(string, "x")})',
    'list(object({ a = optional(string, "x") }))',
]
INVALID = [
    "foo",
    "1",
    "var.x",
    '"set"',
    '"foo"',
    "l(string)",
    "list(foo)",
    "list(string, number)",
    "optional(string)",
    "map(optional(string))",
    'object({a = optional(string, "x", 1)})',
    'object({"a" = string})',
    "s%tring",
]


def type_constraint_valid(expression: str) -> bool:
    text = f'variable "v" {{\n  type = {expression}\n}}\n'
    source = SourceFile("main.tf", "main.tf", text, text.encode("utf-8"))
    parse_hcl(source, make_parser())
    attribute = hcl_blocks(source)[0].attributes["type"]
    assert attribute.expression is not None
    return is_type_constraint(attribute.expression, source)


@pytest.mark.parametrize("expression", VALID)
def test_type_constraint_valid(expression: str) -> None:
    assert type_constraint_valid(expression) is True


@pytest.mark.parametrize("expression", INVALID)
def test_type_constraint_invalid(expression: str) -> None:
    assert type_constraint_valid(expression) is False


def test_invalid_type_reported_not_evaluated(tmp_path: Path) -> None:
    (tmp_path / "variables.tf").write_text(
        'variable "actions" {\n  type = lsit(string)\n}\n', encoding="utf-8"
    )
    (tmp_path / "main.tf").write_text(
        'resource "aws_iam_policy" "p" {\n'
        '  policy = jsonencode({ Statement = { Effect = "Deny", Action = "*", '
        'Resource = "*" } })\n'
        "}\n",
        encoding="utf-8",
    )
    result = load_terraform_module(tmp_path, [tmp_path / "main.tf"])
    (error,) = result.diagnostics

    assert error.kind is DiagnosticKind.PARSE_ERROR
    assert error.span.path == str(tmp_path / "variables.tf")
    assert (error.span.line, error.span.column) == (2, 3)
    assert error.message.startswith('invalid type constraint in variable "actions"')
    assert [d.name for d in result.documents] == ["aws_iam_policy.p"]


def test_invalid_json_type_reported(tmp_path: Path) -> None:
    (tmp_path / "main.tf.json").write_text(
        '{"variable": {"v": {"type": "list(foo)"}},\n'
        ' "resource": {"aws_iam_policy": {"p": {"policy": "{}"}}}}\n',
        encoding="utf-8",
    )
    result = load_terraform_module(tmp_path, [tmp_path / "main.tf.json"])
    (error,) = result.diagnostics

    assert error.kind is DiagnosticKind.PARSE_ERROR
    assert error.message.startswith('invalid type constraint in variable "v"')
    assert (error.span.line, error.span.column) == (1, 21)
