from __future__ import annotations

import json
from pathlib import Path

import pytest

from mfa_guard.iam.evaluate import DecisionKind, Request, evaluate
from mfa_guard.iam.managed import (
    aws_managed_arn,
    managed_policy,
    managed_policy_info,
    policy_name_of_arn,
)
from mfa_guard.iam.scenarios import build_scenario

MANAGED = Path(__file__).parents[2] / "mfa_guard" / "iam" / "managed"
BUNDLED = [
    "AdministratorAccess",
    "IAMFullAccess",
    "IAMReadOnlyAccess",
    "IAMUserChangePassword",
    "PowerUserAccess",
    "ReadOnlyAccess",
]


def test_index_lists_every_bundled_file():
    index = json.loads((MANAGED / "index.json").read_text())
    files = sorted(path.stem for path in MANAGED.glob("*.json") if path.stem != "index")
    assert sorted(index) == files
    assert files == BUNDLED


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_policy_loads(name):
    document = managed_policy(f"arn:aws:iam::aws:policy/{name}")
    assert document is not None
    assert document.version == "2012-10-17"
    assert document.statements
    assert document.path == f"arn:aws:iam::aws:policy/{name}"


def test_unknown_policy_is_none():
    assert managed_policy("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess") is None


def test_customer_policy_is_none():
    assert (
        managed_policy("arn:aws:iam::123456789012:policy/AdministratorAccess") is None
    )


def test_change_password_version():
    info = managed_policy_info("arn:aws:iam::aws:policy/IAMUserChangePassword")
    assert info is not None
    assert info.version == "v3"
    assert info.source.startswith("https://docs.aws.amazon.com/")


def test_change_password_allows_path_user():
    document = managed_policy("arn:aws:iam::aws:policy/IAMUserChangePassword")
    assert document is not None
    scenario = build_scenario("console-without-mfa", user_path="/engineering/")
    arn = "arn:aws:iam::123456789012:user/engineering/alice"
    decision = evaluate([document], Request("iam:ChangePassword", arn, scenario))
    assert decision.kind is DecisionKind.ALLOWED


def test_change_password_other_user_denied():
    document = managed_policy("arn:aws:iam::aws:policy/IAMUserChangePassword")
    assert document is not None
    scenario = build_scenario("console-without-mfa")
    arn = "arn:aws:iam::123456789012:user/bob"
    decision = evaluate([document], Request("iam:ChangePassword", arn, scenario))
    assert decision.kind is DecisionKind.IMPLICIT_DENY


def test_read_only_grants_get_user():
    document = managed_policy("arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert document is not None
    scenario = build_scenario("console-with-mfa")
    arn = "arn:aws:iam::123456789012:user/alice"
    get_user = evaluate([document], Request("iam:GetUser", arn, scenario))
    enable = evaluate([document], Request("iam:EnableMFADevice", arn, scenario))
    assert get_user.kind is DecisionKind.ALLOWED
    assert enable.kind is DecisionKind.IMPLICIT_DENY


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
        ),
        (
            "arn:aws-cn:iam::aws:policy/ReadOnlyAccess",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
        ),
        (
            "arn:${data.aws_partition.current.partition}:iam::aws:policy/job-function/ViewOnlyAccess",
            "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
        ),
        ("arn:aws:iam::123456789012:policy/ReadOnlyAccess", None),
        ("ReadOnlyAccess", None),
    ],
)
def test_aws_managed_arn(text, expected):
    assert aws_managed_arn(text) == expected


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        ("arn:aws:iam::123456789012:policy/force-mfa", "force-mfa"),
        ("arn:aws:iam::123456789012:policy/team/force-mfa", "force-mfa"),
        ("arn:aws:iam::123456789012:user/alice", None),
    ],
)
def test_policy_name_of_arn(arn, expected):
    assert policy_name_of_arn(arn) == expected
