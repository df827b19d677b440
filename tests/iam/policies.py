"""Policies and helpers shared by the IAM engine tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from mfa_guard.iam.scenarios import Scenario, build_scenario
from mfa_guard.loaders.build import build_document
from mfa_guard.loaders.jsonpos import parse_json
from mfa_guard.model import PolicyDocument, PolicyKind

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)

ENROLLMENT_ACTIONS = [
    "iam:CreateVirtualMFADevice",
    "iam:EnableMFADevice",
    "iam:GetUser",
    "iam:ListMFADevices",
    "iam:ListVirtualMFADevices",
    "iam:ResyncMFADevice",
    "sts:GetSessionToken",
]

OWN_USER = "arn:aws:iam::*:user/${aws:username}"

# The "manage your own credentials with MFA" example from the IAM User Guide
# (reference_policies_examples_aws_my-sec-creds-self-manage), as of 2023-05.
AWS_SELF_MANAGE: dict[str, Any] = {
    "Version": "2012-10-17",
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
            "Sid": "AllowManageOwnAccessKeys",
            "Effect": "Allow",
            "Action": [
                "iam:CreateAccessKey",
                "iam:DeleteAccessKey",
                "iam:ListAccessKeys",
                "iam:UpdateAccessKey",
            ],
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
                "iam:DeactivateMFADevice",
                "iam:EnableMFADevice",
                "iam:ListMFADevices",
                "iam:ResyncMFADevice",
            ],
            "Resource": OWN_USER,
        },
        {
            "Sid": "DenyAllExceptListedIfNoMFA",
            "Effect": "Deny",
            "NotAction": ENROLLMENT_ACTIONS,
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        },
    ],
}

# An administrator's grant, as a separate attached policy.
ALLOW_ALL: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def load_policy(
    value: dict[str, Any] | str, kind: PolicyKind = PolicyKind.IDENTITY
) -> PolicyDocument:
    """Parse a policy (a dict or JSON text) the way the JSON loader does."""
    text = value if isinstance(value, str) else json.dumps(value, indent=2)
    parsed = parse_json(text)
    document, problems = build_document(parsed.value, path="policy.json", kind=kind)
    assert problems == []
    assert document is not None
    return document


def scenario(name: str, **kwargs: Any) -> Scenario:
    """Build a shipped scenario at a fixed instant."""
    return build_scenario(name, now=NOW, **kwargs)
