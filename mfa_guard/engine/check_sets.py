"""Checks that evaluate requests against whole policy sets: `set-decision` and
`user-path-differs`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mfa_guard.engine.check_requests import (
    matches_action,
    resolve_resource,
    validate_requests,
    validate_scenarios,
)
from mfa_guard.engine.context import RunContext
from mfa_guard.engine.policy_sets import ROOT_PATH, PolicySet
from mfa_guard.engine.schema import RuleError, check_unknown, require_mapping
from mfa_guard.engine.scope import DocumentScope, Hit
from mfa_guard.engine.set_fields import (
    describe_sets,
    join_names,
    partial_text,
    set_scenario,
    user_names,
)
from mfa_guard.iam.evaluate import (
    Decision,
    DecisionKind,
    Match,
    Request,
    evaluate,
    match_statement,
)
from mfa_guard.iam.scenarios import Scenario
from mfa_guard.loaders.positions import Unresolved
from mfa_guard.model import PolicyDocument, SourceSpan, Statement
from mfa_guard.records import record, replace

DECISIONS = {
    "allowed": DecisionKind.ALLOWED,
    "explicitly-denied": DecisionKind.EXPLICIT_DENY,
    "implicitly-denied": DecisionKind.IMPLICIT_DENY,
}


@record
class SetResult:
    """One request whose decision a set check reports."""

    action: str
    resource: str
    scenario: Scenario
    policy_set: PolicySet
    decision: Decision


def _validate_flag(body: Mapping[str, Any], name: str, path: Path, key: str) -> None:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise RuleError(
            path, f"{key}.{name}", f"expected true or false, found {value!r}"
        )


def validate_set_decision(
    body: Any, path: Path, key: str, statement_flags: bool = True
) -> None:
    body = require_mapping(body, path, key, "expected a mapping")
    allowed = {"scenarios", "requests", "decision", "ignore-user-path"}
    if statement_flags:
        allowed.add("exempted")
    check_unknown(body, allowed, path, key + ".")
    validate_scenarios(body.get("scenarios"), path, f"{key}.scenarios")
    validate_requests(body.get("requests"), path, f"{key}.requests")
    if body.get("decision") not in DECISIONS:
        raise RuleError(
            path, f"{key}.decision", f"expected one of {', '.join(DECISIONS)}"
        )
    for flag in ("exempted", "ignore-user-path"):
        _validate_flag(body, flag, path, key)


def validate_user_path_differs(body: Any, path: Path, key: str) -> None:
    body = require_mapping(body, path, key, "expected a mapping")
    check_unknown(body, {"scenarios", "requests"}, path, key + ".")
    validate_scenarios(body.get("scenarios"), path, f"{key}.scenarios")
    validate_requests(body.get("requests"), path, f"{key}.requests")


def exempted_by(statement: Statement, action: str) -> bool:
    """Return True when the statement's NotAction lists `action`."""
    if statement.not_actions is None:
        return False
    return any(
        not isinstance(pattern, Unresolved) and matches_action(pattern, action)
        for pattern in statement.not_actions
    )


def _would_apply(
    statement: Statement, document: PolicyDocument, request: Request
) -> bool:
    """Return True when the statement would match the request if its NotAction did not exempt it."""
    every_action = replace(statement, actions=("*",), not_actions=None)
    return match_statement(every_action, document, request).match is not Match.NO


def evaluate_set_requests(
    body: Mapping[str, Any],
    policy_set: PolicySet,
    context: RunContext,
    exemption: tuple[Statement, PolicyDocument] | None = None,
) -> list[SetResult]:
    """Evaluate the listed requests against one set and keep those with the expected decision.

    With `exemption`, only the requests that the statement's NotAction
    exempts, and that the statement would otherwise match, are evaluated.
    A request whose decision depends on an unknown value is left out.
    """
    expected = DECISIONS[body["decision"]]
    at_root = body.get("ignore-user-path", False)
    results = []
    for name in body["scenarios"]:
        scenario = set_scenario(context, name, policy_set, at_root)
        for spec in body["requests"]:
            action = spec["action"]
            if exemption and not exempted_by(exemption[0], action):
                continue
            resource = resolve_resource(action, spec.get("resource", "*"), scenario)
            request = Request(action, resource, scenario)
            if exemption and not _would_apply(*exemption, request):
                continue
            decision = evaluate(policy_set.documents, request)
            # A decision that depends on a value the scan could not resolve
            # or on a key the scenario does not set is not certain.
            if decision.kind is expected and not decision.conditional_on:
                result = SetResult(
                    action, decision.resource, scenario, policy_set, decision
                )
                results.append(result)
    return results


def set_hit(span: SourceSpan, results: list[SetResult], detail: str = "") -> Hit:
    """Build one hit that reports every result, naming the users and sets."""
    sets = list(
        {id(result.policy_set): result.policy_set for result in results}.values()
    )
    actions = list(dict.fromkeys(result.action for result in results))
    first = results[0]
    fields = {
        "action": first.action,
        "actions": ", ".join(actions),
        "resource": first.resource,
        "scenario": ", ".join(dict.fromkeys(r.scenario.name for r in results)),
        "who": first.scenario.description,
        "users": join_names(user_names(sets)),
        "set": describe_sets(sets),
        "partial": partial_text(sets),
        "detail": detail,
    }
    return Hit(span, fields, tuple(actions))


def run_set_decision(
    body: Mapping[str, Any],
    statement: Statement,
    scope: DocumentScope,
    span: SourceSpan,
) -> list[Hit]:
    exemption = None
    if body.get("exempted", False):
        if not any(exempted_by(statement, spec["action"]) for spec in body["requests"]):
            return []
        exemption = (statement, scope.document)

    results = []
    for policy_set in scope.sets:
        found = evaluate_set_requests(body, policy_set, scope.context, exemption)
        results.extend(found)
    if not results:
        return []
    return [set_hit(span, results)]


def _path_results(
    body: Mapping[str, Any],
    statement: Statement,
    scope: DocumentScope,
    policy_set: PolicySet,
) -> list[SetResult]:
    results = []
    for name in body["scenarios"]:
        real = set_scenario(scope.context, name, policy_set)
        root = set_scenario(scope.context, name, policy_set, at_root=True)
        for spec in body["requests"]:
            action = spec["action"]
            keyword = spec.get("resource", "*")
            real_request = Request(
                action, resolve_resource(action, keyword, real), real
            )
            root_request = Request(
                action, resolve_resource(action, keyword, root), root
            )
            document = scope.document
            if match_statement(statement, document, root_request).match is Match.NO:
                continue
            if match_statement(statement, document, real_request).match is not Match.NO:
                continue
            decision = evaluate(policy_set.documents, real_request)
            at_root = evaluate(policy_set.documents, root_request)
            uncertain = decision.conditional_on or at_root.conditional_on
            if decision.kind is not at_root.kind and not uncertain:
                results.append(
                    SetResult(action, decision.resource, real, policy_set, decision)
                )
    return results


def run_user_path_differs(
    body: Mapping[str, Any],
    statement: Statement,
    scope: DocumentScope,
    span: SourceSpan,
) -> list[Hit]:
    results = []
    for policy_set in scope.sets:
        user = policy_set.user
        if user is None or user.path is None or user.path == ROOT_PATH:
            continue
        results.extend(_path_results(body, statement, scope, policy_set))
    if not results:
        return []

    paths = {
        result.policy_set.user.label: result.policy_set.user.path
        for result in results
        if result.policy_set.user is not None
    }
    detail = "; ".join(f"{name} has the path {path}" for name, path in paths.items())
    first = results[0]
    outcome = f"{first.action} on {first.resource} is {first.decision.kind.value}"
    return [set_hit(span, results, f"{detail}, and {outcome}")]
