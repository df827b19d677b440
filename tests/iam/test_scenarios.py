from __future__ import annotations

from datetime import datetime

import pytest

from mfa_guard.iam.scenarios import (
    SCENARIO_NAMES,
    build_scenario,
    custom_scenario,
    mfa_device_arn,
    own_user_arn,
)
from tests.iam.policies import NOW, scenario

MFA_PRESENT = "aws:multifactorauthpresent"
MFA_AGE = "aws:multifactorauthage"


def test_names_in_table_order() -> None:
    assert SCENARIO_NAMES == (
        "console-without-mfa",
        "console-with-mfa",
        "access-key",
        "session-with-mfa",
        "role-session-without-mfa",
    )


@pytest.mark.parametrize(
    ("name", "present", "age"),
    [
        ("console-without-mfa", ("false",), None),
        ("console-with-mfa", ("true",), ("300",)),
        ("access-key", None, None),
        ("session-with-mfa", ("true",), ("300",)),
        ("role-session-without-mfa", ("false",), None),
    ],
)
def test_mfa_keys_per_scenario(
    name: str, present: tuple[str, ...] | None, age: tuple[str, ...] | None
) -> None:
    built = scenario(name)

    assert built.values.get(MFA_PRESENT) == present
    assert built.values.get(MFA_AGE) == age
    assert (MFA_PRESENT in built.absent) == (present is None)
    assert (MFA_AGE in built.absent) == (age is None)


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_common_keys_present(name: str) -> None:
    built = scenario(name, region="eu-west-1")

    assert built.values["aws:viaawsservice"] == ("false",)
    assert built.values["aws:securetransport"] == ("true",)
    assert built.values["aws:requestedregion"] == ("eu-west-1",)
    assert built.values["aws:currenttime"] == ("2024-05-01T12:00:00Z",)
    assert built.values["aws:epochtime"] == ("1714564800",)
    assert built.values["aws:principalaccount"] == ("123456789012",)


def test_user_scenario_identity_keys() -> None:
    built = scenario("console-without-mfa", user_name="bob", user_path="/dev/")

    assert built.principal_type == "user"
    assert built.user_name == "bob"
    assert built.values["aws:username"] == ("bob",)
    assert built.values["aws:userid"][0].startswith("AIDA")
    assert built.values["aws:principaltype"] == ("User",)
    assert built.values["aws:principalarn"] == (
        "arn:aws:iam::123456789012:user/dev/bob",
    )


def test_role_scenario_identity_keys() -> None:
    built = scenario("role-session-without-mfa", role_name="deploy")

    assert built.principal_type == "role"
    assert built.user_name is None
    assert "aws:username" not in built.values
    assert "aws:username" in built.absent
    assert built.values["aws:userid"][0].startswith("AROA")
    assert built.values["aws:userid"][0].endswith(":session")
    assert built.values["aws:principaltype"] == ("AssumedRole",)
    assert built.values["aws:principalarn"] == (
        "arn:aws:iam::123456789012:role/deploy",
    )


def test_description_names_caller() -> None:
    built = scenario("console-without-mfa")

    assert built.description == "an IAM user signed in to the console without MFA"


def test_unknown_name_raises_value_error() -> None:
    with pytest.raises(ValueError, match="unknown scenario 'console'"):
        build_scenario("console")


def test_naive_now_read_as_utc() -> None:
    built = build_scenario("access-key", now=datetime(2024, 5, 1, 12, 0, 0))

    assert built.values["aws:currenttime"] == ("2024-05-01T12:00:00Z",)


def test_default_now_is_current_time() -> None:
    built = build_scenario("access-key")

    assert built.values["aws:currenttime"][0] > "2024"


def test_unset_key_is_unknown() -> None:
    built = scenario("access-key")

    assert built.key_state("aws:SourceIp") == "unknown"
    assert built.key_state("AWS:MultiFactorAuthPresent") == "absent"
    assert built.key_state("aws:UserName") == "present"


def test_overrides_set_value() -> None:
    built = scenario("access-key").with_overrides({"AWS:SourceIp": "10.0.0.1"})

    assert built.values["aws:sourceip"] == ("10.0.0.1",)
    assert built.name == "access-key"


@pytest.mark.parametrize("marker", [None, "absent"])
def test_overrides_mark_absent(marker: str | None) -> None:
    built = scenario("console-with-mfa").with_overrides(
        {"aws:MultiFactorAuthAge": marker}
    )

    assert MFA_AGE not in built.values
    assert MFA_AGE in built.absent


def test_overrides_replace_absent() -> None:
    built = scenario("access-key").with_overrides(
        {"aws:MultiFactorAuthPresent": "true"}
    )

    assert built.values[MFA_PRESENT] == ("true",)
    assert MFA_PRESENT not in built.absent


def test_overrides_keep_original() -> None:
    original = scenario("access-key")
    original.with_overrides({"aws:SourceIp": "10.0.0.1"})

    assert "aws:sourceip" not in original.values


def test_custom_scenario_from_base() -> None:
    built = custom_scenario({"aws:SourceIp": "10.0.0.1"}, base="access-key", now=NOW)

    assert built.name == "custom"
    assert built.values["aws:sourceip"] == ("10.0.0.1",)
    assert MFA_PRESENT in built.absent
    assert built.description == (
        "an IAM user calling with a long-term access key, with aws:SourceIp overridden"
    )


def test_scenarios_hashable_and_equal() -> None:
    assert hash(scenario("access-key")) == hash(scenario("access-key"))
    assert scenario("access-key") == scenario("access-key")
    assert scenario("access-key") != scenario("console-with-mfa")


def test_own_user_arn_root_path() -> None:
    assert own_user_arn(scenario("console-without-mfa")) == (
        "arn:aws:iam::123456789012:user/alice"
    )


@pytest.mark.parametrize("path", ["/dev/", "dev", "/dev"])
def test_own_user_arn_with_path(path: str) -> None:
    built = scenario("console-without-mfa", user_path=path, account="111122223333")

    assert built.user_path == "/dev/"
    assert own_user_arn(built) == "arn:aws:iam::111122223333:user/dev/alice"


def test_own_user_arn_role_is_role_arn() -> None:
    built = scenario("role-session-without-mfa")

    assert own_user_arn(built) == "arn:aws:iam::123456789012:role/ci"


def test_mfa_device_arn_named() -> None:
    built = scenario("console-without-mfa")

    assert mfa_device_arn(built) == "arn:aws:iam::123456789012:mfa/phone"
    assert mfa_device_arn(built, "yubikey") == "arn:aws:iam::123456789012:mfa/yubikey"
