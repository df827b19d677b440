"""Blocks that tfparse evaluates to no instance: reported at `for_each` or `count`.

Each module puts the meta-argument on line 2 of `main.tf`, column 3, and
the Deny statement of the policy at line 7, column 5.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mfa_guard.loaders.terraform import load_terraform_module
from mfa_guard.model import DiagnosticKind

# The AWS self-service MFA policy's Deny without iam:ChangePassword among
# its exemptions, which reports password-change-blocked when it is checked.
POLICY = """  policy = <<EOF
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "DenyAllExceptListedIfNoMFA",
      "Effect": "Deny",
      "NotAction": ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice",
        "iam:GetUser", "iam:ListMFADevices", "iam:ListVirtualMFADevices",
        "iam:ResyncMFADevice", "sts:GetSessionToken"],
      "Resource": "*",
      "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    }
  ]
}
EOF
"""

MAP_VARIABLE = 'variable "m" {\n  type    = map(number)\n  default = {}\n}\n'
UNSET_VARIABLE = 'variable "unset" {}\n'


def policy_resource(meta_argument: str) -> str:
    return f'resource "aws_iam_policy" "mfa" {{\n  {meta_argument}\n{POLICY}}}\n'


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def scan_module(run_scan: Any, root: Path, meta_argument: str, extra: str) -> Any:
    """Scan a module whose policy resource has `meta_argument` on line 2."""
    write_tree(root, {"main.tf": policy_resource(meta_argument) + extra})
    return run_scan(root)


def test_collection_for_each_checked(run_scan: Any, tmp_path: Path) -> None:
    run = scan_module(run_scan, tmp_path, 'for_each = toset(["a"])', "")

    assert ("password-change-blocked", 7, 5) in run.located()


def test_lookup_default_number(run_scan: Any, tmp_path: Path) -> None:
    # Another value of var.m may have the key, so the number is not proof
    # of an invalid for_each. tfparse drops the block with the default.
    meta = 'for_each = lookup(var.m, "k", 1)'
    run = scan_module(run_scan, tmp_path, meta, MAP_VARIABLE)

    assert run.located() == [("unresolved-policy", 2, 3)]


def test_lookup_local_number(run_scan: Any, tmp_path: Path) -> None:
    meta = 'for_each = lookup(local.sizes, "a")'
    run = scan_module(run_scan, tmp_path, meta, "locals {\n  sizes = { a = 2 }\n}\n")

    assert run.located() == [("parse-error", 2, 3)]


def test_lookup_unknown_key(run_scan: Any, tmp_path: Path) -> None:
    meta = "for_each = lookup(local.sizes, var.unset)"
    extra = "locals {\n  sizes = { a = 2 }\n}\n" + UNSET_VARIABLE
    run = scan_module(run_scan, tmp_path, meta, extra)

    assert run.located() == [("unresolved-policy", 2, 3)]


def test_unset_variable_for_each(run_scan: Any, tmp_path: Path) -> None:
    run = scan_module(run_scan, tmp_path, "for_each = var.unset", UNSET_VARIABLE)

    assert run.located() == [("unresolved-policy", 2, 3)]


def test_data_source_for_each(run_scan: Any, tmp_path: Path) -> None:
    meta = "for_each = toset(data.aws_iam_users.all.names)"
    run = scan_module(run_scan, tmp_path, meta, 'data "aws_iam_users" "all" {}\n')

    assert run.located() == [("unresolved-policy", 2, 3)]


def test_null_for_each(run_scan: Any, tmp_path: Path) -> None:
    run = scan_module(run_scan, tmp_path, "for_each = null", "")

    assert run.located() == [("unresolved-policy", 2, 3)]


def test_negative_count(run_scan: Any, tmp_path: Path) -> None:
    # Terraform rejects it, so the guard reports it before tfparse drops it.
    run = scan_module(run_scan, tmp_path, "count = -1", "")

    assert run.located() == [("parse-error", 2, 3)]


def test_dropped_block_message(tmp_path: Path) -> None:
    # A default may be replaced, so only tfparse's result shows the block
    # was dropped.
    negative = 'variable "n" {\n  default = -1\n}\n'
    write_tree(tmp_path, {"main.tf": policy_resource("count = var.n") + negative})
    result = load_terraform_module(tmp_path, [])
    (diagnostic,) = result.diagnostics

    assert diagnostic.kind is DiagnosticKind.UNRESOLVED
    assert (diagnostic.span.line, diagnostic.span.column) == (2, 3)
    assert (diagnostic.span.end_line, diagnostic.span.end_column) == (2, 16)
    assert diagnostic.message == (
        "aws_iam_policy.mfa was not checked: the Terraform evaluator (tfparse)"
        " returned no instance of the block. tfparse drops a block without an"
        " error when its count is negative; here the count is the number -1"
    )
    assert result.relevant


def test_unset_variable_message(tmp_path: Path) -> None:
    files = {"main.tf": policy_resource("for_each = var.unset") + UNSET_VARIABLE}
    write_tree(tmp_path, files)
    (diagnostic,) = load_terraform_module(tmp_path, []).diagnostics

    assert diagnostic.message.startswith(
        "aws_iam_policy.mfa was not checked: the Terraform evaluator (tfparse)"
        " returned no instance of the block. tfparse drops a block without an"
        " error when its for_each is not a map or a set of strings, or depends"
        " on a value known only after apply"
    )
    assert diagnostic.message.endswith("; here var.unset could not be evaluated")


def test_json_syntax_for_each(run_scan: Any, tmp_path: Path) -> None:
    text = (
        '{\n  "variable": {"unset": {}},\n  "resource": {"aws_iam_policy": {"mfa": {\n'
        '    "for_each": "${var.unset}",\n'
        '    "policy": "{\\"Statement\\": [{\\"Effect\\": \\"Deny\\", '
        '\\"Action\\": \\"*\\", \\"Resource\\": \\"*\\"}]}"\n'
        "  }}}\n}\n"
    )
    write_tree(tmp_path, {"main.tf.json": text})

    assert run_scan(tmp_path).located() == [("unresolved-policy", 4, 5)]


CHILD = 'variable "items" {}\n' + (
    'resource "aws_iam_policy" "p" {\n'
    "  for_each = var.items\n"
    '  policy   = jsonencode({ Statement = [{ Effect = "Deny", Action = "*",'
    ' Resource = "*" }] })\n'
    "}\n"
)


def test_module_call_for_each(run_scan: Any, tmp_path: Path) -> None:
    files = {
        "live/main.tf": UNSET_VARIABLE
        + 'module "iam" {\n  source   = "../child"\n  for_each = var.unset\n'
        "  items    = {}\n}\n",
        "child/main.tf": CHILD,
    }
    write_tree(tmp_path, files)
    run = run_scan(tmp_path / "live")

    assert run.located() == [("unresolved-policy", 4, 3)]


def test_child_instance_for_each(tmp_path: Path) -> None:
    files = {
        "live/main.tf": UNSET_VARIABLE
        + 'module "iam" {\n  source = "../child"\n  items  = var.unset\n}\n',
        "child/main.tf": CHILD,
    }
    write_tree(tmp_path, files)
    (diagnostic,) = load_terraform_module(tmp_path / "live", []).diagnostics

    assert diagnostic.span.path == str(tmp_path / "child" / "main.tf")
    assert (diagnostic.span.line, diagnostic.span.column) == (3, 3)
    assert diagnostic.message.startswith("module.iam.aws_iam_policy.p was not checked")


def test_child_instance_empty_input(tmp_path: Path) -> None:
    files = {
        "live/main.tf": 'module "iam" {\n  source = "../child"\n  items  = {}\n}\n',
        "child/main.tf": CHILD,
    }
    write_tree(tmp_path, files)
    result = load_terraform_module(tmp_path / "live", [])

    assert result.diagnostics == []
    assert result.documents == []


DYNAMIC_DOCUMENT = """data "aws_iam_policy_document" "mfa" {
  dynamic "statement" {
    for_each = %s
    content {
      effect      = "Deny"
      not_actions = ["iam:GetUser"]
      resources   = ["*"]
      condition {
        test     = "BoolIfExists"
        variable = "aws:MultiFactorAuthPresent"
        values   = ["false"]
      }
    }
  }
}
resource "aws_iam_policy" "mfa" {
  policy = data.aws_iam_policy_document.mfa.json
}
"""


def test_dynamic_statement_for_each(run_scan: Any, tmp_path: Path) -> None:
    files = {"main.tf": DYNAMIC_DOCUMENT % "var.unset" + UNSET_VARIABLE}
    write_tree(tmp_path, files)

    assert run_scan(tmp_path).located() == [("unresolved-policy", 3, 5)]


def test_dynamic_statement_message(tmp_path: Path) -> None:
    files = {"main.tf": DYNAMIC_DOCUMENT % "var.unset" + UNSET_VARIABLE}
    write_tree(tmp_path, files)
    (diagnostic,) = load_terraform_module(tmp_path, []).diagnostics

    assert diagnostic.message.startswith(
        'data.aws_iam_policy_document.mfa was checked without its dynamic "statement"'
        " block: the Terraform evaluator (tfparse) returned no instance of the block."
    )


def test_dynamic_condition_for_each(tmp_path: Path) -> None:
    text = (
        UNSET_VARIABLE + 'data "aws_iam_policy_document" "mfa" {\n'
        "  statement {\n"
        '    effect      = "Deny"\n'
        '    not_actions = ["iam:GetUser"]\n'
        '    resources   = ["*"]\n'
        '    dynamic "condition" {\n'
        "      for_each = var.unset\n"
        "      content {\n"
        '        test     = "BoolIfExists"\n'
        '        variable = "aws:MultiFactorAuthPresent"\n'
        '        values   = ["false"]\n'
        "      }\n"
        "    }\n"
        "  }\n"
        "}\n"
    )
    write_tree(tmp_path, {"main.tf": text})
    (diagnostic,) = load_terraform_module(tmp_path, []).diagnostics

    assert diagnostic.kind is DiagnosticKind.UNRESOLVED
    assert (diagnostic.span.line, diagnostic.span.column) == (8, 7)
    assert diagnostic.message.startswith(
        'data.aws_iam_policy_document.mfa was checked without its dynamic "condition"'
    )


@pytest.mark.parametrize(
    "meta_argument",
    [
        "for_each = {}",
        "for_each = toset([])",
        "count = 0",
        "for_each = { for key, size in var.m : key => size if size > 1 }",
        "for_each = length(var.m) > 0 ? var.m : {}",
        'for_each = lookup({ a = {} }, "a")',
        "for_each = tomap({})",
        "count = -1 + 1",
        "count = 2 * 3 - 6",
    ],
)
def test_empty_expansion_not_reported(
    run_scan: Any, tmp_path: Path, meta_argument: str
) -> None:
    run = scan_module(run_scan, tmp_path, meta_argument, MAP_VARIABLE)

    assert run.findings == []


def test_empty_module_call_not_reported(run_scan: Any, tmp_path: Path) -> None:
    files = {
        "live/main.tf": UNSET_VARIABLE
        + 'module "iam" {\n  source   = "../child"\n  for_each = {}\n'
        "  items    = var.unset\n}\n",
        "child/main.tf": CHILD,
    }
    write_tree(tmp_path, files)

    assert run_scan(tmp_path / "live").findings == []


def test_empty_dynamic_statement_not_reported(tmp_path: Path) -> None:
    write_tree(tmp_path, {"main.tf": DYNAMIC_DOCUMENT % "[]"})
    result = load_terraform_module(tmp_path, [])

    assert result.diagnostics == []
    assert [document.name for document in result.documents] == [
        "data.aws_iam_policy_document.mfa"
    ]


# A map of which only the entry "a" sets `on` to the value given.
SWITCHES = "locals {\n  m = { a = { on = %s }, b = { on = false } }\n}\n"


@pytest.mark.parametrize(
    "meta_argument",
    [
        "for_each = { for k, v in local.m : k => v if v.on }",
        "for_each = toset([for k, v in local.m : k if v.on])",
    ],
)
def test_filtered_for_empty(run_scan: Any, tmp_path: Path, meta_argument: str) -> None:
    run = scan_module(run_scan, tmp_path, meta_argument, SWITCHES % "false")

    assert run.findings == []


def test_filtered_for_non_empty(tmp_path: Path) -> None:
    # Terraform rejects a set of lists as for_each, and tfparse drops the
    # block, so the evaluator's non-empty value keeps the report.
    meta = "for_each = toset([for k, v in local.m : [k] if v.on])"
    files = {"main.tf": policy_resource(meta) + SWITCHES % "true"}
    write_tree(tmp_path, files)
    (diagnostic,) = load_terraform_module(tmp_path, []).diagnostics

    assert (diagnostic.span.line, diagnostic.span.column) == (2, 3)
    assert diagnostic.message.endswith("; here the for_each is a list of 1 elements")


def test_filtered_for_invalid_condition(tmp_path: Path) -> None:
    meta = "for_each = { for k, v in local.m : k => v if v.on }"
    files = {"main.tf": policy_resource(meta) + SWITCHES % '"yes"'}
    write_tree(tmp_path, files)
    (diagnostic,) = load_terraform_module(tmp_path, []).diagnostics

    assert (diagnostic.span.line, diagnostic.span.column) == (2, 3)
    assert diagnostic.message.endswith(
        "; here { for k, v in local.m : k => v if v.on } could not be evaluated"
    )


def test_filtered_dynamic_statement_empty(tmp_path: Path) -> None:
    for_each = "{ for k, v in local.m : k => v if v.on }"
    files = {"main.tf": DYNAMIC_DOCUMENT % for_each + SWITCHES % "false"}
    write_tree(tmp_path, files)
    result = load_terraform_module(tmp_path, [])

    assert result.diagnostics == []
    assert [len(document.statements) for document in result.documents] == [0]
