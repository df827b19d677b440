"""A list or tuple `for_each`: rejected by Terraform on blocks, valid in `dynamic`.

Each module puts the `for_each` on line 2 of `main.tf`, column 3, and the
Deny statement of the policy at line 7, column 5.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mfa_guard.loaders.terraform import load_terraform_module

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
REJECTED = (
    "a list is not a map or a set of strings (toset() converts a list of"
    " strings); Terraform rejects this"
)


def policy_resource(for_each: str, name: str = "mfa") -> str:
    return (
        f'resource "aws_iam_policy" "{name}" {{\n  for_each = {for_each}\n{POLICY}}}\n'
    )


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def messages(run: Any, rule: str) -> list[str]:
    return [f["message"] for f in run.findings if f["rule_name"] == rule]


def test_list_literal_checked_per_element(run_scan: Any, tmp_path: Path) -> None:
    write_tree(tmp_path, {"main.tf": policy_resource('["a", "b"]')})
    run = run_scan(tmp_path)

    assert run.located() == [("parse-error", 2, 3), ("password-change-blocked", 7, 5)]
    assert messages(run, "parse-error") == [
        f'invalid for_each in resource "aws_iam_policy" "mfa": {REJECTED}, and the'
        " block was checked once for each element"
    ]


def test_list_typed_variable(run_scan: Any, tmp_path: Path) -> None:
    # The type converts any value a caller sets to a list, so this is an
    # error even though only the default is known. tfparse expands the
    # default, so the policy is still checked.
    variable = 'variable "names" {\n  type    = list(string)\n  default = ["a"]\n}\n'
    write_tree(tmp_path, {"main.tf": policy_resource("var.names") + variable})
    run = run_scan(tmp_path)

    assert run.located() == [("parse-error", 2, 3), ("password-change-blocked", 7, 5)]
    assert messages(run, "parse-error") == [
        f'invalid for_each in resource "aws_iam_policy" "mfa": {REJECTED}'
    ]


def test_list_default_not_reported(run_scan: Any, tmp_path: Path) -> None:
    # A caller may set the untyped variable to a map or a set instead.
    variable = 'variable "names" {\n  default = ["a"]\n}\n'
    write_tree(tmp_path, {"main.tf": policy_resource("var.names") + variable})
    run = run_scan(tmp_path)

    assert run.located() == [("password-change-blocked", 7, 5)]


def test_list_from_tfvars(run_scan: Any, tmp_path: Path) -> None:
    variable = 'variable "names" {\n  default = {}\n}\n'
    files = {
        "main.tf": policy_resource("var.names") + variable,
        "terraform.tfvars": 'names = ["a"]\n',
    }
    write_tree(tmp_path, files)
    run = run_scan(tmp_path)

    assert run.located() == [("parse-error", 2, 3), ("password-change-blocked", 7, 5)]


def test_list_of_objects_not_checked(run_scan: Any, tmp_path: Path) -> None:
    # tfparse drops the block, and the other block of the file keeps its
    # finding and position.
    text = policy_resource('[{ name = "a" }]') + policy_resource("{}", "other")
    text = text.replace("for_each = {}", 'for_each = { a = "a" }')
    write_tree(tmp_path, {"main.tf": text})
    run = run_scan(tmp_path)

    assert run.located() == [("parse-error", 2, 3), ("password-change-blocked", 26, 5)]
    assert messages(run, "parse-error") == [
        f'invalid for_each in resource "aws_iam_policy" "mfa": {REJECTED}, so the'
        " block was not checked"
    ]


def test_unknown_list_keeps_dropped_report(tmp_path: Path) -> None:
    # tfparse drops the block, as the variable has no value. The guard
    # cannot tell, so the report that the block was not checked stays too.
    variable = 'variable "names" {\n  type = list(string)\n}\n'
    write_tree(tmp_path, {"main.tf": policy_resource("var.names") + variable})
    result = load_terraform_module(tmp_path, [])
    found = [(d.kind.value, d.span.line, d.span.column) for d in result.diagnostics]

    assert found == [("unresolved-policy", 2, 3), ("parse-error", 2, 3)]
    assert result.diagnostics[1].message == (
        f'invalid for_each in resource "aws_iam_policy" "mfa": {REJECTED}'
    )
    assert result.documents == []


def test_list_on_module_call(run_scan: Any, tmp_path: Path) -> None:
    files = {
        "main.tf": 'module "child" {\n  for_each = ["a"]\n  source   = "./child"\n}\n',
        "child/main.tf": 'resource "aws_iam_policy" "mfa" {\n  name = "x"\n'
        + POLICY
        + "}\n",
    }
    write_tree(tmp_path, files)
    run = run_scan(tmp_path)
    child = str(tmp_path / "child" / "main.tf")

    assert run.located() == [("password-change-blocked", 7, 5), ("parse-error", 2, 3)]
    assert [f["path"] for f in run.findings] == [child, str(tmp_path / "main.tf")]
    assert messages(run, "parse-error")[0].startswith(
        f'invalid for_each in module "child": {REJECTED}'
    )


def test_list_in_dynamic_block_valid(tmp_path: Path) -> None:
    text = (
        'data "aws_iam_policy_document" "d" {\n'
        '  dynamic "statement" {\n    for_each = ["s3:GetObject"]\n'
        "    content {\n      actions = [statement.value]\n    }\n  }\n}\n"
    )
    write_tree(tmp_path, {"main.tf": text})
    result = load_terraform_module(tmp_path, [])

    assert result.diagnostics == []
    assert [len(document.statements) for document in result.documents] == [1]


def test_list_in_json_syntax(tmp_path: Path) -> None:
    policy = {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    resources = {"p": {"for_each": ["a"], "policy": json.dumps(policy)}}
    text = json.dumps({"resource": {"aws_iam_policy": resources}}, indent=2)
    write_tree(tmp_path, {"main.tf.json": text})
    result = load_terraform_module(tmp_path, [])
    (diagnostic,) = result.diagnostics

    assert (diagnostic.span.line, diagnostic.span.column) == (5, 9)
    assert diagnostic.message == (
        f'invalid for_each in resource "aws_iam_policy" "p": {REJECTED}, and the'
        " block was checked once for each element"
    )
