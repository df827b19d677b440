"""Scenarios and message fields for checks that evaluate whole policy sets."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mfa_guard.engine.context import RunContext
from mfa_guard.engine.policy_sets import ROOT_PATH, PolicySet, assignment_note
from mfa_guard.iam.scenarios import Scenario


def set_scenario(
    context: RunContext, name: str, policy_set: PolicySet, at_root: bool = False
) -> Scenario:
    """Return scenario `name` for the user of `policy_set`.

    A set without a user uses the run's own scenario user. With `at_root`,
    the user's path is replaced by `/`. An unresolved path counts as `/`.
    """
    user = policy_set.user
    if user is None:
        return context.scenarios[name]
    path = ROOT_PATH if at_root else (user.path or ROOT_PATH)
    return context.user_scenario(name, user.label, path)


def join_names(names: Sequence[str]) -> str:
    """Join names as English prose: "a", "a and b", "a, b and c"."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def user_names(sets: Iterable[PolicySet]) -> list[str]:
    names = [policy_set.user.label for policy_set in sets if policy_set.user]
    return list(dict.fromkeys(names))


def describe_sets(sets: Sequence[PolicySet]) -> str:
    """Describe policy sets for a message, such as "the policies of users alice and bob".

    Sets built for some CloudFormation condition values name them after the
    principals, as in "the policies of user dave (Fn::If IsProd=true)".
    """
    users = user_names(sets)
    others = [
        f"{policy_set.principal.kind.value} {policy_set.principal.label}"
        for policy_set in sets
        if policy_set.principal is not None and policy_set.user is None
    ]
    parts = []
    if users:
        word = "user" if len(users) == 1 else "users"
        parts.append(f"{word} {join_names(users)}")
    parts.extend(dict.fromkeys(others))
    if not parts:
        return "this policy"
    return f"the policies of {join_names(parts)}{assignment_note(sets)}"


def partial_text(sets: Iterable[PolicySet]) -> str:
    """Return the `partial` field: empty, or a note on what the sets may lack."""
    missing = [item for policy_set in sets for item in policy_set.missing]
    if not missing:
        return ""
    unique = list(dict.fromkeys(missing))
    return f" (based on a partial policy set: {'; '.join(unique)})"
