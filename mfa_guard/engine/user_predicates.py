"""Named predicates on IAM users, for rules about users and for `users` filters.

A rule with `subject: users` checks each IAM user that a Terraform module or
CloudFormation template declares, and its `where` lists predicates from
here. A statement rule's `users` key lists predicates from here too: the
`{users}` and `{affected}` fields of its findings then name only the users
(of the policy sets that contain the statement) for which every predicate
is true.

- `console-user`: the user has a console password (a login profile).
- `password-reset-required`: the login profile requires a new password at
  the next sign-in (`password_reset_required`, `PasswordResetRequired`).
- `password-expires`: the user has a console password and the account
  password policy of the same Terraform module sets `max_password_age`.
- `must-change-password`: `password-reset-required` or `password-expires`.
- `has-path`: the user's IAM path is not `/`.
"""

from __future__ import annotations

from collections.abc import Callable

from mfa_guard.engine.policy_sets import ROOT_PATH, PolicySet
from mfa_guard.records import record


@record
class UserPredicate:
    """A test on the user of a policy set, and the reason text when it is true."""

    test: Callable[[PolicySet], bool]
    reason: Callable[[PolicySet], str]


def _console_user(policy_set: PolicySet) -> bool:
    user = policy_set.user
    return user is not None and user.login_profile is not None


def _reset_required(policy_set: PolicySet) -> bool:
    user = policy_set.user
    if user is None or user.login_profile is None:
        return False
    return user.login_profile.password_reset_required is True


def _password_expires(policy_set: PolicySet) -> bool:
    policy = policy_set.password_policy
    return _console_user(policy_set) and policy is not None and policy.passwords_expire


def _expiry_reason(policy_set: PolicySet) -> str:
    policy = policy_set.password_policy
    days = policy.max_password_age if policy is not None else None
    return f"password expires after {days} days"


def _must_change(policy_set: PolicySet) -> bool:
    return _reset_required(policy_set) or _password_expires(policy_set)


def _must_change_reason(policy_set: PolicySet) -> str:
    if _reset_required(policy_set):
        return _RESET_REASON
    return _expiry_reason(policy_set)


def _has_path(policy_set: PolicySet) -> bool:
    user = policy_set.user
    return user is not None and user.path not in (None, ROOT_PATH)


def _path_reason(policy_set: PolicySet) -> str:
    user = policy_set.user
    return f"has the path {user.path if user else ROOT_PATH}"


_RESET_REASON = "must set a new password at the next sign-in"

USER_PREDICATES: dict[str, UserPredicate] = {
    "console-user": UserPredicate(_console_user, lambda _: "has a console password"),
    "password-reset-required": UserPredicate(_reset_required, lambda _: _RESET_REASON),
    "password-expires": UserPredicate(_password_expires, _expiry_reason),
    "must-change-password": UserPredicate(_must_change, _must_change_reason),
    "has-path": UserPredicate(_has_path, _path_reason),
}


def users_matching(
    sets: tuple[PolicySet, ...], names: tuple[str, ...]
) -> list[PolicySet]:
    """Return the user sets among `sets` for which every predicate in `names` is true."""
    return [
        policy_set
        for policy_set in sets
        if policy_set.user is not None
        and all(USER_PREDICATES[name].test(policy_set) for name in names)
    ]


def user_reasons(policy_set: PolicySet, names: tuple[str, ...]) -> str:
    """Join the reasons of the predicates in `names` for one user set."""
    return ", ".join(USER_PREDICATES[name].reason(policy_set) for name in names)
