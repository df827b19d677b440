"""IAM policies for the synthetic repository, and their Terraform and CloudFormation forms.

Each policy is an IAM JSON value plus the rule ids mfa-guard must report
for it: an empty tuple for a correct policy, one id for a planted
mistake. The expected ids were checked by scanning each policy as a
standalone JSON file.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

VERSION = "2012-10-17"
OWN_USER = "arn:aws:iam::*:user/${aws:username}"
SELF_SERVICE = [
    "iam:ChangePassword",
    "iam:GetAccountPasswordPolicy",
    "iam:CreateVirtualMFADevice",
    "iam:EnableMFADevice",
    "iam:GetUser",
    "iam:ListMFADevices",
    "iam:ListVirtualMFADevices",
    "iam:ResyncMFADevice",
    "sts:GetSessionToken",
]
NO_MFA = {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}


@dataclass(frozen=True)
class Policy:
    """A policy value, what it is about, and the rule ids a scan must report for it."""

    name: str
    value: dict[str, Any]
    mfa: bool
    expected: tuple[str, ...] = ()


def _force_mfa(exempt: list[str]) -> dict[str, Any]:
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "AllowViewAccountInfo",
                "Effect": "Allow",
                "Action": ["iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"],
                "Resource": "*",
            },
            {
                "Sid": "AllowManageOwnPasswords",
                "Effect": "Allow",
                "Action": ["iam:ChangePassword", "iam:GetUser"],
                "Resource": OWN_USER,
            },
            {
                "Sid": "AllowManageOwnVirtualMFADevice",
                "Effect": "Allow",
                "Action": ["iam:CreateVirtualMFADevice"],
                "Resource": "arn:aws:iam::*:mfa/*",
            },
            {
                "Sid": "AllowManageOwnUserMFA",
                "Effect": "Allow",
                "Action": [
                    "iam:EnableMFADevice",
                    "iam:ListMFADevices",
                    "iam:ResyncMFADevice",
                ],
                "Resource": OWN_USER,
            },
            {
                "Sid": "DenyAllExceptListedIfNoMFA",
                "Effect": "Deny",
                "NotAction": exempt,
                "Resource": "*",
                "Condition": copy.deepcopy(NO_MFA),
            },
        ],
    }


def _targeted(
    sid: str, effect: str, actions: list[str] | str, condition: dict[str, Any]
) -> dict[str, Any]:
    statement = {
        "Sid": sid,
        "Effect": effect,
        "Action": actions,
        "Resource": "*",
        "Condition": condition,
    }
    return {"Version": VERSION, "Statement": [statement]}


def _plain(sid: str, actions: list[str], resources: list[str]) -> dict[str, Any]:
    statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": actions,
        "Resource": resources,
    }
    return {"Version": VERSION, "Statement": [statement]}


CORRECT_MFA: list[Callable[[], Policy]] = [
    lambda: Policy("force-mfa", _force_mfa(list(SELF_SERVICE)), True),
    lambda: Policy(
        "deny-terminate-without-mfa",
        _targeted(
            "DenyTerminateWithoutMFA",
            "Deny",
            ["ec2:StopInstances", "ec2:TerminateInstances"],
            copy.deepcopy(NO_MFA),
        ),
        True,
    ),
    lambda: Policy(
        "allow-admin-with-mfa",
        _targeted(
            "AllowAdminWithMFA",
            "Allow",
            ["iam:*", "organizations:Describe*"],
            {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        ),
        True,
    ),
]

MISTAKES: list[Callable[[], Policy]] = [
    lambda: Policy(
        "force-mfa-without-change-password",
        _force_mfa(
            [
                action
                for action in SELF_SERVICE
                if action not in ("iam:ChangePassword", "iam:GetAccountPasswordPolicy")
            ]
        ),
        True,
        ("MFA001",),
    ),
    lambda: Policy(
        "deny-with-bool",
        _targeted(
            "DenyEc2WithoutMFA",
            "Deny",
            ["ec2:StopInstances", "ec2:TerminateInstances"],
            {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
        ),
        True,
        ("MFA101",),
    ),
    lambda: Policy(
        "deny-with-null",
        _targeted(
            "DenyDeleteWithoutMFA",
            "Deny",
            ["s3:DeleteBucket", "s3:DeleteObject"],
            {"Null": {"aws:MultiFactorAuthPresent": "true"}},
        ),
        True,
        ("MFA102",),
    ),
    lambda: Policy(
        "allow-with-bool-if-exists",
        _targeted(
            "AllowRdsAdminWithMFA",
            "Allow",
            ["rds:*"],
            {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}},
        ),
        True,
        ("MFA103",),
    ),
    lambda: Policy(
        "deny-everything-without-mfa",
        _targeted("DenyAllWithoutMFA", "Deny", "*", copy.deepcopy(NO_MFA)),
        True,
        ("MFA001", "MFA002"),
    ),
]

PLAIN: list[Callable[[], Policy]] = [
    lambda: Policy(
        "s3-read",
        _plain(
            "ReadData",
            ["s3:GetObject", "s3:ListBucket"],
            ["arn:aws:s3:::data-bucket", "arn:aws:s3:::data-bucket/*"],
        ),
        False,
    ),
    lambda: Policy("ec2-describe", _plain("Describe", ["ec2:Describe*"], ["*"]), False),
    lambda: Policy(
        "logs-write",
        _plain(
            "WriteLogs",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            ["arn:aws:logs:*:*:log-group:/app/*"],
        ),
        False,
    ),
    lambda: Policy(
        "dynamodb-table",
        _plain(
            "UseTable",
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
            ["arn:aws:dynamodb:us-east-1:123456789012:table/orders"],
        ),
        False,
    ),
]

TRUST_POLICY = {
    "Version": VERSION,
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def hcl_string(text: str) -> str:
    """Return `text` as a quoted HCL string, with template sequences escaped."""
    return json.dumps(text).replace("${", "$${").replace("%{", "%%{")


def hcl_value(value: Any, indent: int) -> str:
    """Render a JSON value as an HCL expression, as `jsonencode(...)` arguments are written."""
    pad = " " * indent
    if isinstance(value, dict):
        lines = ["{"]
        for key, item in value.items():
            name = key if _IDENTIFIER.match(key) else hcl_string(key)
            lines.append(f"{pad}  {name} = {hcl_value(item, indent + 2)}")
        lines.append(pad + "}")
        return "\n".join(lines)
    if isinstance(value, list):
        if all(isinstance(item, str) for item in value) and len(value) <= 2:
            return "[" + ", ".join(hcl_string(item) for item in value) + "]"
        lines = ["["]
        lines.extend(f"{pad}  {hcl_value(item, indent + 2)}," for item in value)
        lines.append(pad + "]")
        return "\n".join(lines)
    return hcl_string(value) if isinstance(value, str) else json.dumps(value)


def heredoc(value: dict[str, Any], indent: int) -> str:
    """Render a policy as an indented `<<-EOT` heredoc of JSON text."""
    pad = " " * (indent + 2)
    text = json.dumps(value, indent=2).replace("${", "$${")
    body = "\n".join(pad + line for line in text.splitlines())
    return f"<<-EOT\n{body}\n{' ' * indent}EOT"


def policy_document_block(name: str, value: dict[str, Any]) -> str:
    """Render a policy as a `data "aws_iam_policy_document"` block."""
    lines = [f'data "aws_iam_policy_document" "{name}" {{']
    for statement in value["Statement"]:
        lines.append("  statement {")
        if "Sid" in statement:
            lines.append(f"    sid    = {hcl_string(statement['Sid'])}")
        lines.append(f"    effect = {hcl_string(statement['Effect'])}")
        for key, argument in (("Action", "actions"), ("NotAction", "not_actions")):
            if key in statement:
                lines.append(f"    {argument} = {_string_list(statement[key])}")
        lines.append(f"    resources = {_string_list(statement.get('Resource', '*'))}")
        for operator, entries in statement.get("Condition", {}).items():
            for key, values in entries.items():
                lines.append("")
                lines.append("    condition {")
                lines.append(f"      test     = {hcl_string(operator)}")
                lines.append(f"      variable = {hcl_string(key)}")
                lines.append(f"      values   = {_string_list(values)}")
                lines.append("    }")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines)


def _string_list(value: list[str] | str) -> str:
    items = value if isinstance(value, list) else [value]
    return "[" + ", ".join(hcl_string(item) for item in items) + "]"
