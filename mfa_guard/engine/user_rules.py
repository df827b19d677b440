"""Run the rules about users, and name the users in statement findings."""

from __future__ import annotations

from collections.abc import Sequence

from mfa_guard.engine.context import RunContext
from mfa_guard.engine.policy_sets import PolicySet, describe_assignments
from mfa_guard.engine.rules import Rule
from mfa_guard.engine.scope import Hit
from mfa_guard.engine.set_fields import describe_sets, join_names
from mfa_guard.engine.user_checks import run_user_check
from mfa_guard.engine.user_predicates import (
    USER_PREDICATES,
    user_reasons,
    users_matching,
)
from mfa_guard.model import Diagnostic, DiagnosticKind
from mfa_guard.records import replace

# The message fields that `_merge_hits` combines across the sets of one user.
_MERGED_FIELDS = ("detail", "set")

SetHit = tuple[PolicySet, Hit]


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


def analyze_user_sets(
    rules: Sequence[Rule], user_sets: Sequence[PolicySet], context: RunContext
) -> tuple[list[tuple[Rule, Hit]], list[Diagnostic]]:
    """Run the user rules on every user's sets, and merge each user's hits.

    A user whose policies use Fn::If has one set per combination of
    conditions, and a rule that fires in several of them reports once.
    """
    hits: list[tuple[Rule, Hit]] = []
    diagnostics: list[Diagnostic] = []
    for sets in _sets_by_user(user_sets):
        if len(sets) == 1:
            found, problems = analyze_users(rules, sets, context)
            hits.extend(found)
            diagnostics.extend(problems)
            continue

        merged: dict[tuple[object, ...], tuple[Rule, list[SetHit]]] = {}
        for policy_set in sets:
            found, problems = analyze_users(rules, [policy_set], context)
            diagnostics.extend(problems)
            for rule, hit in found:
                key = (rule.id, hit.span, _unmerged_fields(hit))
                merged.setdefault(key, (rule, []))[1].append((policy_set, hit))
        hits.extend((rule, _merge_hits(found)) for rule, found in merged.values())
    return hits, diagnostics


def _sets_by_user(user_sets: Sequence[PolicySet]) -> list[list[PolicySet]]:
    groups: dict[int, list[PolicySet]] = {}
    for policy_set in user_sets:
        groups.setdefault(id(policy_set.principal), []).append(policy_set)
    return list(groups.values())


def _unmerged_fields(hit: Hit) -> tuple[tuple[str, str], ...]:
    return tuple(
        sorted(
            (name, value)
            for name, value in hit.fields.items()
            if name not in _MERGED_FIELDS
        )
    )


def _merge_hits(found: Sequence[SetHit]) -> Hit:
    """Merge the hits of one rule in several sets of one user into one hit.

    The `set` field names the condition values of the sets, and `detail`
    names them for each distinct detail, as in "with Fn::If IsProd=false,
    no policy reaches the user". A hit found in every set, with the same
    detail in each, keeps its fields. The other fields are the first hit's,
    because hits are merged only when those fields are equal.
    """
    first = found[0][1]
    fields = dict(first.fields)
    if "set" in fields:
        fields["set"] = describe_sets([policy_set for policy_set, _ in found])

    by_detail: dict[str, list[PolicySet]] = {}
    for policy_set, hit in found:
        by_detail.setdefault(hit.fields.get("detail", ""), []).append(policy_set)
    parts = []
    for detail, sets in by_detail.items():
        condition = describe_assignments(sets)
        if not condition:
            parts.append(detail)
        elif detail:
            parts.append(f"with {condition}, {detail}")
        else:
            parts.append(f"with {condition}")
    fields["detail"] = "; ".join(parts)
    return replace(first, fields=fields)
