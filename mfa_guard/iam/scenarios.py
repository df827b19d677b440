"""Request contexts for the kinds of caller that MFA policies must handle.

A scenario fixes which condition keys a request carries. The MFA keys follow
the AWS global condition key reference
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html):
a long-term access key carries neither `aws:MultiFactorAuthPresent` nor
`aws:MultiFactorAuthAge`, while console and role sessions without MFA carry
`aws:MultiFactorAuthPresent` = "false". A key that a scenario neither sets nor
marks absent is unknown, and the IAM engine reports results that depend on it
as conditional.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from mfa_guard.records import record, replace

MFA_PRESENT = "aws:multifactorauthpresent"
MFA_AGE = "aws:multifactorauthage"
USERNAME = "aws:username"

ABSENT_TEXT = "absent"

# Placeholder unique ids, in the formats IAM uses: "AIDA..." for users and
# "AROA...:<session name>" for assumed-role sessions.
_USER_ID = "AIDAEXAMPLEUSERID0001"
_ROLE_ID = "AROAEXAMPLEROLEID0001"
_ROLE_SESSION = "session"

# MFA age, in seconds, for the scenarios where the caller signed in with MFA.
_MFA_AGE_SECONDS = "300"


@record
class Scenario:
    """The request context of one kind of caller.

    `values` maps lower-cased condition keys to the values the request
    carries, and `absent` lists lower-cased keys the request is known not to
    carry. Any other key is unknown. `role_name` is set for role scenarios.
    """

    name: str
    description: str
    principal_type: str
    user_name: str | None
    user_path: str
    account: str
    values: Mapping[str, tuple[str, ...]]
    absent: frozenset[str]
    role_name: str | None = None

    def __hash__(self) -> int:
        items = tuple(sorted(self.values.items()))
        return hash(
            (self.name, self.principal_type, self.user_name, items, self.absent)
        )

    def with_overrides(self, values: Mapping[str, str | None]) -> Scenario:
        """Return a copy with context keys set or marked absent.

        Keys are case-insensitive. A value of None, or the text "absent" as
        typed on the command line, marks the key absent. The other fields,
        such as `user_name`, are not changed.
        """
        new_values = dict(self.values)
        new_absent = set(self.absent)
        for key, value in values.items():
            lowered = key.strip().lower()
            if value is None or value == ABSENT_TEXT:
                new_values.pop(lowered, None)
                new_absent.add(lowered)
            else:
                new_values[lowered] = (value,)
                new_absent.discard(lowered)

        return replace(
            self,
            values=types.MappingProxyType(new_values),
            absent=frozenset(new_absent),
        )

    def key_state(self, key: str) -> str:
        """Return "present", "absent" or "unknown" for a condition key (any case)."""
        lowered = key.lower()
        if lowered in self.values:
            return "present"
        if lowered in self.absent:
            return "absent"
        return "unknown"


@record
class _Template:
    description: str
    principal_type: str
    mfa_present: str | None
    mfa_age: str | None


_TEMPLATES: dict[str, _Template] = {
    "console-without-mfa": _Template(
        "an IAM user signed in to the console without MFA", "user", "false", None
    ),
    "console-with-mfa": _Template(
        "an IAM user signed in to the console with MFA",
        "user",
        "true",
        _MFA_AGE_SECONDS,
    ),
    "access-key": _Template(
        "an IAM user calling with a long-term access key", "user", None, None
    ),
    "session-with-mfa": _Template(
        "an IAM user calling with a session from sts:GetSessionToken with MFA",
        "user",
        "true",
        _MFA_AGE_SECONDS,
    ),
    "role-session-without-mfa": _Template(
        "an assumed-role session without MFA (CI, a service or an instance profile)",
        "role",
        "false",
        None,
    ),
}

SCENARIO_NAMES: tuple[str, ...] = tuple(_TEMPLATES)


# The account of every scenario unless the configuration sets another. An
# IAM ARN that names some other literal account then stands for this one.
DEFAULT_ACCOUNT = "123456789012"


def build_scenario(
    name: str,
    *,
    account: str = DEFAULT_ACCOUNT,
    user_name: str = "alice",
    user_path: str = "/",
    region: str = "us-east-1",
    role_name: str = "ci",
    now: datetime | None = None,
) -> Scenario:
    """Build one of the shipped scenarios, or raise ValueError for an unknown name.

    `now` sets `aws:CurrentTime` and `aws:EpochTime`. It defaults to the
    current UTC time, and a naive datetime is read as UTC.
    """
    template = _TEMPLATES.get(name)
    if template is None:
        known = ", ".join(SCENARIO_NAMES)
        raise ValueError(f"unknown scenario {name!r}: expected one of {known}")

    path = _normalise_path(user_path)
    instant = _utc(now)
    values: dict[str, tuple[str, ...]] = {
        "aws:viaawsservice": ("false",),
        "aws:securetransport": ("true",),
        "aws:requestedregion": (region,),
        "aws:currenttime": (instant.strftime("%Y-%m-%dT%H:%M:%SZ"),),
        "aws:epochtime": (str(int(instant.timestamp())),),
        "aws:principalaccount": (account,),
    }
    absent: set[str] = set()

    _set_or_absent(values, absent, MFA_PRESENT, template.mfa_present)
    _set_or_absent(values, absent, MFA_AGE, template.mfa_age)

    if template.principal_type == "user":
        values["aws:principalarn"] = (f"arn:aws:iam::{account}:user{path}{user_name}",)
        values["aws:principaltype"] = ("User",)
        values[USERNAME] = (user_name,)
        values["aws:userid"] = (_USER_ID,)
        return Scenario(
            name=name,
            description=template.description,
            principal_type="user",
            user_name=user_name,
            user_path=path,
            account=account,
            values=types.MappingProxyType(values),
            absent=frozenset(absent),
        )

    values["aws:principalarn"] = (f"arn:aws:iam::{account}:role/{role_name}",)
    values["aws:principaltype"] = ("AssumedRole",)
    values["aws:userid"] = (f"{_ROLE_ID}:{_ROLE_SESSION}",)
    absent.add(USERNAME)
    return Scenario(
        name=name,
        description=template.description,
        principal_type="role",
        user_name=None,
        user_path="/",
        account=account,
        values=types.MappingProxyType(values),
        absent=frozenset(absent),
        role_name=role_name,
    )


def custom_scenario(
    values: Mapping[str, str | None],
    base: str = "console-without-mfa",
    **kwargs: Any,
) -> Scenario:
    """Build the `base` scenario with context keys overridden, named "custom".

    `kwargs` are passed to `build_scenario`. `values` follows
    `Scenario.with_overrides`.
    """
    scenario = build_scenario(base, **kwargs).with_overrides(values)
    keys = ", ".join(sorted(values)) or "no keys"
    description = f"{scenario.description}, with {keys} overridden"
    return replace(scenario, name="custom", description=description)


def own_user_arn(scenario: Scenario) -> str:
    """Return the ARN of the scenario's IAM user, including its path.

    A role scenario has no IAM user, so the role's ARN is returned instead.
    """
    if scenario.user_name is None:
        return f"arn:aws:iam::{scenario.account}:role/{scenario.role_name}"
    return (
        f"arn:aws:iam::{scenario.account}:user{scenario.user_path}{scenario.user_name}"
    )


def mfa_device_arn(scenario: Scenario, device_name: str = "phone") -> str:
    """Return the ARN of a virtual MFA device named `device_name` in the account."""
    return f"arn:aws:iam::{scenario.account}:mfa/{device_name}"


def _set_or_absent(
    values: dict[str, tuple[str, ...]], absent: set[str], key: str, value: str | None
) -> None:
    if value is None:
        absent.add(key)
    else:
        values[key] = (value,)


def _normalise_path(path: str) -> str:
    """Return an IAM path with a leading and a trailing slash ("dev" -> "/dev/")."""
    stripped = path.strip("/")
    if not stripped:
        return "/"
    return f"/{stripped}/"


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        return now.replace(tzinfo=UTC)
    return now.astimezone(UTC)
