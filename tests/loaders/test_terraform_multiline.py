"""Heredoc and quoted-string policies whose interpolations break JSON syntax.

An interpolation may contain quotes or span lines (`"${join(",",\\n
[var.a, var.b])}"`), which makes the source text invalid JSON although the
text Terraform renders is valid. Findings still point at the statement and
at the condition.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mfa_guard.loaders.hcl_placeholders import (
    json_placeholders,
    parse_with_placeholders,
)
from mfa_guard.loaders.hcl_source import SourceFile, make_parser, parse_hcl
from mfa_guard.loaders.hcl_template import TemplateText, template_text
from mfa_guard.loaders.terraform import load_terraform_module

VARIABLES = """variable "a" {
  default = "arn:aws:iam::111122223333:user/a"
}
variable "b" {
  default = "arn:aws:iam::111122223333:user/b"
}
"""

# Lines 7 to 33. The Deny statement starts at line 19, column 5, and its
# condition operator at line 28, column 21. The Deny uses Bool, so it
# reports access-key-bypass at the condition, and it does not exempt
# iam:ChangePassword, so it reports password-change-blocked at the statement.
HEREDOC = """resource "aws_iam_policy" "mfa" {
  policy = <<EOF
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AllowListUsers",
      "Effect": "Allow",
      "Action": "iam:ListUsers",
      "Resource": "${join(",",
        [var.a, var.b])}"
    },
    {
      "Sid": "DenyAllExceptListedIfNoMFA",
      "Effect": "Deny",
      "NotAction": [
        "iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser",
        "iam:ListMFADevices", "iam:ListVirtualMFADevices",
        "iam:ResyncMFADevice", "sts:GetSessionToken"
      ],
      "Resource": "*",
      "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}
    }
  ]
}
EOF
}
"""

# The interpolation sits inside the Deny statement, before its condition,
# and gives "*". The Deny starts at line 12, column 5, and its operator is at
# line 22, column 21.
HEREDOC_INSIDE_STATEMENT = """resource "aws_iam_policy" "mfa" {
  policy = <<EOF
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "DenyAllExceptListedIfNoMFA",
      "Effect": "Deny",
      "NotAction": [
        "iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser",
        "iam:ListMFADevices", "iam:ListVirtualMFADevices",
        "iam:ResyncMFADevice", "sts:GetSessionToken"
      ],
      "Resource": "${lookup(var.resources, "deny",
        "*")}",
      "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}
    }
  ]
}
EOF
}
variable "resources" {
  default = {}
}
"""

# A list written as an interpolation outside a JSON string, over four lines,
# in an indented heredoc. The Deny starts at line 12, column 9, and its
# operator at line 20, column 25.
HEREDOC_OUTSIDE_STRING = """resource "aws_iam_policy" "mfa" {
  policy = <<-EOF
    {
      "Version": "2012-10-17",
      "Statement": [
        {
          "Sid": "DenyAllExceptListedIfNoMFA",
          "Effect": "Deny",
          "NotAction": ${jsonencode(["iam:CreateVirtualMFADevice",
            "iam:EnableMFADevice", "iam:GetUser", "iam:ListMFADevices",
            "iam:ListVirtualMFADevices", "iam:ResyncMFADevice",
            "sts:GetSessionToken"])},
          "Resource": "*",
          "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}
        }
      ]
    }
  EOF
}
"""

# A quoted string whose interpolation continues on line 9, where the Deny
# statement starts at column 26 and its operator at column 301.
QUOTED = (
    'resource "aws_iam_policy" "mfa" {\n'
    '  policy = "{\\"Statement\\": [{\\"Effect\\": \\"Allow\\", '
    '\\"Action\\": \\"iam:ListUsers\\", \\"Resource\\": \\"${join(",",\n'
    '    [var.a, var.b])}\\"}, {\\"Sid\\": \\"Deny\\", \\"Effect\\": \\"Deny\\", '
    '\\"NotAction\\": [\\"iam:CreateVirtualMFADevice\\", \\"iam:EnableMFADevice\\", '
    '\\"iam:GetUser\\", \\"iam:ListMFADevices\\", \\"iam:ListVirtualMFADevices\\", '
    '\\"iam:ResyncMFADevice\\", \\"sts:GetSessionToken\\"], \\"Resource\\": \\"*\\", '
    '\\"Condition\\": {\\"Bool\\": {\\"aws:MultiFactorAuthPresent\\": \\"false\\"}}}]}"\n'
    "}\n"
)


def scan_policy(run_scan: Any, root: Path, resource: str) -> Any:
    (root / "main.tf").write_text(VARIABLES + resource, encoding="utf-8")
    return run_scan(root)


def test_heredoc_statement_after_interpolation(run_scan: Any, tmp_path: Path) -> None:
    located = scan_policy(run_scan, tmp_path, HEREDOC).located()

    assert ("password-change-blocked", 19, 5) in located


def test_heredoc_condition_after_interpolation(run_scan: Any, tmp_path: Path) -> None:
    located = scan_policy(run_scan, tmp_path, HEREDOC).located()

    assert ("access-key-bypass", 28, 21) in located


def test_heredoc_interpolation_in_statement(run_scan: Any, tmp_path: Path) -> None:
    located = scan_policy(run_scan, tmp_path, HEREDOC_INSIDE_STATEMENT).located()

    assert ("password-change-blocked", 12, 5) in located
    assert ("access-key-bypass", 22, 21) in located


def test_heredoc_interpolation_as_value(run_scan: Any, tmp_path: Path) -> None:
    located = scan_policy(run_scan, tmp_path, HEREDOC_OUTSIDE_STRING).located()

    assert ("password-change-blocked", 12, 9) in located
    assert ("access-key-bypass", 20, 25) in located


def test_quoted_statement_after_interpolation(run_scan: Any, tmp_path: Path) -> None:
    located = scan_policy(run_scan, tmp_path, QUOTED).located()

    assert ("password-change-blocked", 9, 26) in located


def test_quoted_condition_after_interpolation(run_scan: Any, tmp_path: Path) -> None:
    located = scan_policy(run_scan, tmp_path, QUOTED).located()

    assert ("access-key-bypass", 9, 301) in located


def test_heredoc_values_from_evaluation(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(VARIABLES + HEREDOC, encoding="utf-8")
    (document,) = load_terraform_module(tmp_path, []).documents
    allow = document.statements[0]

    assert allow.resources == (
        "arn:aws:iam::111122223333:user/a,arn:aws:iam::111122223333:user/b",
    )
    assert (allow.span.line, allow.span.column) == (12, 5)
    assert (document.span.line, document.span.column) == (9, 1)


def test_unknown_interpolation_unresolved(tmp_path: Path) -> None:
    # tfparse writes "${...}" for the join, which the loader evaluates again.
    resource = HEREDOC.replace("[var.a, var.b]", "[var.a, local.missing]")
    (tmp_path / "main.tf").write_text(VARIABLES + resource, encoding="utf-8")
    (document,) = load_terraform_module(tmp_path, []).documents
    allow, deny = document.statements
    expected = "arn:aws:iam::111122223333:user/a,local.missing (not declared)"

    assert allow.resources == (expected,)
    assert document.unresolved == (expected,)
    assert (allow.span.line, allow.span.column) == (12, 5)
    assert (deny.span.line, deny.span.column) == (19, 5)


def first_heredoc(text: str) -> tuple[TemplateText, SourceFile]:
    """Return the template text of the first heredoc in an HCL file, and the file."""
    source = SourceFile("main.tf", "main.tf", text, text.encode("utf-8"))
    parse_hcl(source, make_parser())
    assert source.tree is not None
    nodes = [source.tree.root_node]
    while nodes[0].type != "heredoc_template":
        node = nodes.pop(0)
        nodes.extend(node.children)
    template = template_text(nodes[0], source)
    assert template is not None
    return template, source


def test_placeholder_inside_string() -> None:
    text = 'x = <<EOF\n{"a": "${join(",",\n  [b])}"}\nEOF\n'
    placeholders = json_placeholders(*first_heredoc(text))

    assert placeholders.template.text == '{"a": "${join(_,_,_  [b])}"}\n'


def test_placeholder_outside_string() -> None:
    text = 'x = <<EOF\n{"a": ${jsonencode(b)}, "c": "${d}"}\nEOF\n'
    placeholders = json_placeholders(*first_heredoc(text))

    assert placeholders.template.text == '{"a": "{jsonencode(b)", "c": "${d}"}\n'


def test_placeholder_parts_restored() -> None:
    text = 'x = <<EOF\n{"a": "<${join(",",\n  [b])}>", "c": ${jsonencode(d)}}\nEOF\n'
    value = parse_with_placeholders(*first_heredoc(text))

    assert value == {"a": '<${join(",",\n  [b])}>', "c": "${jsonencode(d)}"}
    assert value.key_pos["c"][:2] == (3, 12)


def test_placeholder_directive_markers() -> None:
    text = "x = <<EOF\n[1%{ if b }, 2%{ else }, 3%{ endif }]\nEOF\n"
    placeholders = json_placeholders(*first_heredoc(text))

    # Each marker becomes spaces, so the text of both branches stays.
    assert placeholders.template.text == "[1         , 2         , 3          ]\n"


def test_placeholder_for_markers() -> None:
    text = 'x = <<EOF\n[%{ for s in a }"${s}",%{ endfor }1]\nEOF\n'
    placeholders = json_placeholders(*first_heredoc(text))

    assert placeholders.template.text == '[               "${s}",           1]\n'


# Line 7 contains the policy attribute. The first Deny statement starts at line
# 9, column 5, and the second, inside the directive, at line 16, column 5.
HEREDOC_DIRECTIVE = """locals {
  strict = true
}
resource "aws_iam_policy" "mfa" {
  policy = <<-EOF
    {
      "Version": "2012-10-17",
      "Statement": [
        {
          "Sid": "ConsoleDeny",
          "Effect": "Deny",
          "NotAction": ["iam:ChangePassword", "iam:GetAccountPasswordPolicy"],
          "Resource": "*",
          "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}
        }%{ if local.strict },
        {
          "Sid": "KeyDeny",
          "Effect": "Deny",
          "NotAction": ["iam:ChangePassword", "iam:GetAccountPasswordPolicy"],
          "Resource": "*",
          "Condition": {"Null": {"aws:MultiFactorAuthPresent": "true"}}
        }%{ endif }
      ]
    }
  EOF
}
"""


def test_heredoc_directive_between_statements(run_scan: Any, tmp_path: Path) -> None:
    located = scan_policy(run_scan, tmp_path, HEREDOC_DIRECTIVE).located()

    # The Bool and Null denies cover each other, so only the enrollment they
    # both block is reported, once at each statement.
    assert located == [
        ("mfa-enrollment-blocked", 15, 9),
        ("mfa-enrollment-blocked", 22, 9),
    ]


# A quoted-string policy whose rendered text is invalid JSON: the Sid value
# contains quotes, and the NotAction list comes from an interpolation.
QUOTED_INVALID = """locals {
  sid     = "Deny \\"quoted\\""
  actions = ["iam:GetUser", "iam:ChangePassword", "iam:GetAccountPasswordPolicy"]
}
resource "aws_iam_policy" "mfa" {
  policy = "{\\"Version\\":\\"2012-10-17\\",\\"Statement\\":[{\\"Sid\\":\\"${local.sid}\\",\\"Effect\\":\\"Deny\\",\\"NotAction\\":${jsonencode(local.actions)},\\"Resource\\":\\"*\\",\\"Condition\\":{\\"BoolIfExists\\":{\\"aws:MultiFactorAuthPresent\\":\\"false\\"}}}]}"
}
"""


def test_quoted_invalid_rendering_parse_error(run_scan: Any, tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(QUOTED_INVALID, encoding="utf-8")

    located = run_scan(tmp_path).located()

    # At the interpolation, where the source text stops being JSON.
    assert located == [("parse-error", 6, 116)]
