"""Checks of rules with `subject: users`: `set-lacks-statement` and `set-decision`.

Each check runs once per IAM user, on the user's policy set, and a finding
is placed at the user's resource. A check that cannot decide because the
set is partial returns the reason, which becomes an `unresolved-policy`
report at the user instead of a finding.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mfa_guard.engine.check_sets import (
    evaluate_set_requests,
    set_hit,
    validate_set_decision,
)
from mfa_guard.engine.context import RunContext
from mfa_guard.engine.policy_sets import PolicySet
from mfa_guard.engine.schema import (
    RuleError,
    check_unknown,
    require_mapping,
    string_list,
)
from mfa_guard.engine.scope import DocumentScope, Hit
from mfa_guard.model import SourceSpan
from mfa_guard.records import field, record


@record(frozen=False)
class UserOutcome:
    """The hits of a user check, or the reason it could not decide."""

    hits: list[Hit] = field(default_factory=list)
    undecided: str | None = None


Validator = Callable[[Any, Path, str], None]
Runner = Callable[[Mapping[str, Any], PolicySet, RunContext, SourceSpan], UserOutcome]


@record
class UserCheckKind:
    validate: Validator
    run: Runner


def _validate_lacks(body: Any, path: Path, key: str) -> None:
    from mfa_guard.engine.predicates import PREDICATES

    body = require_mapping(body, path, key, "expected a mapping with where")
    check_unknown(body, {"where"}, path, key + ".")
    names = string_list(
        body.get("where"),
        path,
        f"{key}.where",
        "expected a list of statement predicates such as mfa-deny",
    )
    for index, name in enumerate(names):
        if name not in PREDICATES:
            expected = ", ".join(sorted(PREDICATES))
            raise RuleError(
                path,
                f"{key}.where[{index}]",
                f"unknown predicate {name!r}; expected one of {expected}",
            )


def _describe_members(policy_set: PolicySet) -> str:
    if not policy_set.members:
        return "no policy reaches the user"
    labels = [f"{member.document.label} {member.via}" for member in policy_set.members]
    return "policies that reach the user: " + ", ".join(dict.fromkeys(labels))


def _run_lacks(
    body: Mapping[str, Any],
    policy_set: PolicySet,
    context: RunContext,
    span: SourceSpan,
) -> UserOutcome:
    from mfa_guard.engine.predicates import PREDICATES

    names = body["where"]
    for document in policy_set.documents:
        scope = DocumentScope(document, context, (policy_set,))
        for statement in document.statements:
            if all(PREDICATES[name](statement, scope) for name in names):
                return UserOutcome()

    if policy_set.partial:
        return UserOutcome(undecided="; ".join(policy_set.missing))
    user = policy_set.user
    fields = {
        "users": user.label if user else "",
        "detail": _describe_members(policy_set),
    }
    return UserOutcome([Hit(span, fields)])


def _validate_user_set_decision(body: Any, path: Path, key: str) -> None:
    validate_set_decision(body, path, key, statement_flags=False)


def _run_user_set_decision(
    body: Mapping[str, Any],
    policy_set: PolicySet,
    context: RunContext,
    span: SourceSpan,
) -> UserOutcome:
    results = evaluate_set_requests(body, policy_set, context)
    if not results:
        return UserOutcome()
    return UserOutcome([set_hit(span, results, _describe_members(policy_set))])


USER_CHECKS: dict[str, UserCheckKind] = {
    "set-lacks-statement": UserCheckKind(_validate_lacks, _run_lacks),
    "set-decision": UserCheckKind(_validate_user_set_decision, _run_user_set_decision),
}


def validate_user_check(check: Any, path: Path) -> None:
    """Validate the `check` of a rule with `subject: users`, or raise RuleError."""
    names = list(USER_CHECKS)
    if not isinstance(check, dict) or len(check) != 1 or next(iter(check)) not in names:
        raise RuleError(
            path,
            "check",
            f"expected exactly one of {', '.join(names)} for subject: users",
        )
    name, body = next(iter(check.items()))
    USER_CHECKS[name].validate(body, path, f"check.{name}")


def run_user_check(
    check: Mapping[str, Any],
    policy_set: PolicySet,
    context: RunContext,
    span: SourceSpan,
) -> UserOutcome:
    """Run a validated user check on one user's policy set."""
    name, body = next(iter(check.items()))
    return USER_CHECKS[name].run(body, policy_set, context, span)
