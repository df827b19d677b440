"""Checks that evaluate requests with the IAM engine: `denies`, `not-denied`
and `allow-differs`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mfa_guard.engine.schema import (
    RuleError,
    check_unknown,
    require_mapping,
    string_list,
)
from mfa_guard.engine.scope import DocumentScope, Hit
from mfa_guard.iam.actions import action_matches, get_catalogue
from mfa_guard.iam.arns import localize_pattern
from mfa_guard.iam.evaluate import (
    DecisionKind,
    Match,
    Request,
    evaluate,
    match_statement,
)
from mfa_guard.iam.scenarios import (
    SCENARIO_NAMES,
    Scenario,
    mfa_device_arn,
    own_user_arn,
)
from mfa_guard.iam.variables import substitute
from mfa_guard.loaders.positions import Unresolved
from mfa_guard.model import SourceSpan, Statement
from mfa_guard.records import replace

RESOURCE_KEYWORDS = ("own-user", "mfa-device", "user-named-mfa-device")
STATEMENT_REQUESTS = "statement"


def validate_scenarios(value: Any, path: Path, key: str) -> None:
    names = string_list(value, path, key, "expected a non-empty list of scenario names")
    for name in names:
        if name not in SCENARIO_NAMES:
            raise RuleError(
                path,
                key,
                f"unknown scenario {name!r}; expected one of {', '.join(SCENARIO_NAMES)}",
            )


def validate_request(value: Any, path: Path, key: str) -> None:
    if not isinstance(value, dict) or set(value) - {"action", "resource"}:
        raise RuleError(path, key, "expected a mapping with action and resource")
    if not isinstance(value.get("action"), str) or ":" not in value["action"]:
        raise RuleError(
            path, f"{key}.action", "expected an action such as iam:ChangePassword"
        )
    if not isinstance(value.get("resource", "*"), str):
        raise RuleError(
            path,
            f"{key}.resource",
            f"expected an ARN, '*' or one of {', '.join(RESOURCE_KEYWORDS)}",
        )


def validate_requests(value: Any, path: Path, key: str) -> None:
    if not isinstance(value, list) or not value:
        raise RuleError(
            path, key, "expected a non-empty list of {action, resource} mappings"
        )
    for index, request in enumerate(value):
        validate_request(request, path, f"{key}[{index}]")


def validate_denies(body: Any, path: Path, key: str) -> None:
    body = require_mapping(body, path, key, "expected a mapping")
    check_unknown(body, {"scenarios", "requests", "at-least"}, path, key + ".")
    validate_scenarios(body.get("scenarios"), path, f"{key}.scenarios")
    validate_requests(body.get("requests"), path, f"{key}.requests")

    at_least = body.get("at-least", 1)
    if not isinstance(at_least, int) or isinstance(at_least, bool) or at_least < 1:
        raise RuleError(
            path,
            f"{key}.at-least",
            f"expected a whole number of 1 or more, found {at_least!r}",
        )


def validate_not_denied(body: Any, path: Path, key: str) -> None:
    body = require_mapping(body, path, key, "expected a mapping")
    check_unknown(body, {"scenarios", "requests"}, path, key + ".")
    validate_scenarios(body.get("scenarios"), path, f"{key}.scenarios")
    if body.get("requests") != STATEMENT_REQUESTS:
        validate_requests(body.get("requests"), path, f"{key}.requests")


def validate_allow_differs(body: Any, path: Path, key: str) -> None:
    body = require_mapping(body, path, key, "expected a mapping")
    check_unknown(body, {"scenarios", "allowed", "not-allowed"}, path, key + ".")
    validate_scenarios(body.get("scenarios"), path, f"{key}.scenarios")
    for name in ("allowed", "not-allowed"):
        validate_request(body.get(name), path, f"{key}.{name}")


def resolve_resource(action: str, resource: str, scenario: Scenario) -> str:
    """Turn a request's resource keyword into the ARN the request is authorised against.

    Actions without resource-level permissions are authorised against "*"
    whatever resource the rule names. A role scenario has no user name, so
    `user-named-mfa-device` is then the device named "phone".
    """
    if get_catalogue().has_resource_types(action) is False:
        return "*"
    if resource == "own-user":
        return own_user_arn(scenario)
    if resource == "mfa-device":
        return mfa_device_arn(scenario)
    if resource == "user-named-mfa-device":
        return mfa_device_arn(scenario, scenario.user_name or "phone")
    return resource


@functools.lru_cache(maxsize=16384)
def matches_action(pattern: str, action: str) -> bool:
    """Return `action_matches(pattern, action)` from a cache.

    Rules ask about the same few actions for every statement they check.
    """
    return action_matches(pattern, action)


def may_cover_action(statement: Statement, action: str) -> bool:
    """Return False when the Action or NotAction element certainly leaves `action` out.

    This runs before anything that needs the action catalogue, so documents
    whose statements never name the action do not load it.
    """
    if statement.actions is not None:
        return any(
            isinstance(pattern, Unresolved) or matches_action(pattern, action)
            for pattern in statement.actions
        )
    if statement.not_actions is not None:
        return not any(
            not isinstance(pattern, Unresolved) and matches_action(pattern, action)
            for pattern in statement.not_actions
        )
    return False


def conditional_text(keys: frozenset[str], word: str = "if") -> str:
    """Return the `conditional` field: empty, or a note naming the unknown keys."""
    if not keys:
        return ""
    return f" ({word} the condition on {', '.join(sorted(keys))} holds)"


def run_denies(
    body: Mapping[str, Any],
    statement: Statement,
    scope: DocumentScope,
    span: SourceSpan,
) -> list[Hit]:
    specs = [
        spec for spec in body["requests"] if may_cover_action(statement, spec["action"])
    ]
    denied: list[tuple[str, str, Scenario]] = []
    unknown: set[str] = set()
    for name in body["scenarios"]:
        scenario = scope.scenario(name)
        for spec in specs:
            action = spec["action"]
            resource = resolve_resource(action, spec.get("resource", "*"), scenario)
            request = Request(action, resource, scenario)
            result = match_statement(statement, scope.document, request)
            if result.match is Match.NO or result.unresolved:
                # A value the loader could not resolve may exempt the action;
                # the unresolved-policy finding reports it instead.
                continue
            if result.match is Match.MAYBE:
                unknown.update(result.unknown_keys)
            denied.append((action, resource, scenario))

    actions = list(dict.fromkeys(action for action, _, _ in denied))
    if len(actions) < body.get("at-least", 1):
        return []

    scenarios = list(dict.fromkeys(scenario.name for _, _, scenario in denied))
    first_action, first_resource, first_scenario = denied[0]
    fields = {
        "action": first_action,
        "actions": ", ".join(actions),
        "resource": first_resource,
        "scenario": ", ".join(scenarios),
        "who": first_scenario.description,
        "conditional": conditional_text(frozenset(unknown)),
    }
    return [Hit(span, fields, tuple(actions))]


def _statement_requests(
    statement: Statement, scope: DocumentScope, scenario: Scenario
) -> Iterator[tuple[str, str]]:
    """Yield the statement's own Action entries, each on its first Resource entry.

    A NotAction statement yields the action "*", which stands for an action
    that no specific pattern names. Variables in the resource are replaced
    with the scenario's values, so other statements scoped to the caller's
    own user can match it.
    """
    resource = "*"
    resources = [
        entry
        for entry in statement.resources or ()
        if not isinstance(entry, Unresolved)
    ]
    if resources:
        text = localize_pattern(resources[0], scenario.account)
        resource = substitute(text, scenario, scope.document.version) or text

    if statement.actions is None:
        if statement.not_actions is not None:
            yield "*", resource
        return

    for action in statement.actions:
        if not isinstance(action, Unresolved):
            yield action, resource


def _listed_requests(
    body: Mapping[str, Any], scenario: Scenario
) -> Iterator[tuple[str, str]]:
    for spec in body["requests"]:
        action = spec["action"]
        yield action, resolve_resource(action, spec.get("resource", "*"), scenario)


def run_not_denied(
    body: Mapping[str, Any],
    statement: Statement,
    scope: DocumentScope,
    span: SourceSpan,
) -> list[Hit]:
    document = scope.document
    for name in body["scenarios"]:
        scenario = scope.scenario(name)
        if body["requests"] == STATEMENT_REQUESTS:
            requests = _statement_requests(statement, scope, scenario)
        else:
            requests = _listed_requests(body, scenario)

        for action, resource in requests:
            request = Request(action, resource, scenario)
            decision = evaluate([document], request, kinds={document.kind})
            if decision.kind is DecisionKind.EXPLICIT_DENY:
                continue
            fields = {
                "action": action,
                "actions": action,
                "resource": decision.resource,
                "scenario": scenario.name,
                "who": scenario.description,
                "conditional": conditional_text(decision.conditional_on, "unless"),
            }
            return [Hit(span, fields, (action,))]
    return []


def _granted_resources(
    statement: Statement, scope: DocumentScope, request: Request
) -> list[str]:
    """Return the statement's Resource entries that grant the request on their own."""
    granted = []
    for entry in statement.resources or ():
        single = replace(statement, resources=(entry,), not_resources=None)
        if match_statement(single, scope.document, request).match is Match.YES:
            granted.append(f'"{entry}"')
    return granted


def _may_be_allowed(scope: DocumentScope, request: Request) -> bool:
    """Return True when an Allow statement of the document matches, or may match."""
    for candidate in scope.document.statements:
        if candidate.effect != "Allow":
            continue
        match = match_statement(candidate, scope.document, request).match
        if match is not Match.NO:
            return True
    return False


def run_allow_differs(
    body: Mapping[str, Any],
    statement: Statement,
    scope: DocumentScope,
    span: SourceSpan,
) -> list[Hit]:
    allowed = body["allowed"]
    other = body["not-allowed"]
    if statement.effect != "Allow" or not may_cover_action(
        statement, allowed["action"]
    ):
        return []

    for name in body["scenarios"]:
        scenario = scope.scenario(name)
        resource = resolve_resource(
            allowed["action"], allowed.get("resource", "*"), scenario
        )
        request = Request(allowed["action"], resource, scenario)
        if match_statement(statement, scope.document, request).match is not Match.YES:
            continue

        other_resource = resolve_resource(
            other["action"], other.get("resource", "*"), scenario
        )
        other_request = Request(other["action"], other_resource, scenario)
        if _may_be_allowed(scope, other_request):
            continue

        fields = {
            "action": allowed["action"],
            "resource": other_resource,
            "resources": ", ".join(_granted_resources(statement, scope, request)),
            "scenario": scenario.name,
            "who": scenario.description,
        }
        return [Hit(span, fields, (allowed["action"],))]
    return []
