"""Run the rules about users, and name the users in statement findings."""

from __future__ import annotations

from collections.abc import Sequence

from mfa_guard.engine.context import RunContext
from mfa_guard.engine.policy_sets import PolicySet
from mfa_guard.engine.rules import Rule
from mfa_guard.engine.scope import Hit
from mfa_guard.engine.set_fields import join_names
from mfa_guard.engine.user_checks import run_user_check
from mfa_guard.engine.user_predicates import (
    USER_PREDICATES,
    user_reasons,
    users_matching,
)
from mfa_guard.model import Diagnostic, DiagnosticKind


def user_fields(names: tuple[str, ...], sets: tuple[PolicySet, ...]) -> dict[str, str]:
    """Return the `users` and `affected` fields for a statement in `sets`.

    Only users for which every predicate in `names` is true are named.
    """
    matching = users_matching(sets, names)
    if not matching:
        return {}
    labels: dict[str, str] = {}
    for policy_set in matching:
        user = policy_set.user
        if user is not None:
            labels.setdefault(user.label, user_reasons(policy_set, names))

    users = join_names(list(labels))
    described = [
        f"{label} ({reason})" if reason else label for label, reason in labels.items()
    ]
    return {"users": users, "affected": "; affected users: " + ", ".join(described)}


def analyze_users(
    rules: Sequence[Rule], user_sets: Sequence[PolicySet], context: RunContext
) -> tuple[list[tuple[Rule, Hit]], list[Diagnostic]]:
    """Run every `subject: users` rule on every user's policy set.

    Returns the hits, and an `unresolved-policy` diagnostic for each rule a
    partial set left undecided.
    """
    hits: list[tuple[Rule, Hit]] = []
    diagnostics: list[Diagnostic] = []
    for policy_set in user_sets:
        user = policy_set.user
        if user is None:
            continue
        for rule in rules:
            if not all(USER_PREDICATES[name].test(policy_set) for name in rule.where):
                continue
            outcome = run_user_check(rule.check, policy_set, context, user.span)
            hits.extend((rule, hit) for hit in outcome.hits)
            if outcome.undecided is not None:
                message = (
                    f"{rule.name} was not checked for {user.kind.value} {user.label},"
                    f" because its policy set may be incomplete: {outcome.undecided}"
                )
                diagnostics.append(
                    Diagnostic(DiagnosticKind.UNRESOLVED, user.span, message)
                )
    return hits, diagnostics
