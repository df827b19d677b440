"""The check vocabulary of rule files.

A rule's `check` has exactly one key, the check's name:

- `denies`: the selected statement explicitly denies one of `requests`
  (action and resource) in one of `scenarios`.
- `condition-differs`: the statement's condition holds in every scenario of
  `holds-in` but not in some scenario of `fails-in`. A deny whose condition
  holds for console users without MFA but not for access keys is the
  access-key bypass.
- `diagnostic`: turns a loader's problem report (`parse-error` or
  `unresolved-policy`) into findings of this rule.

Resources in requests are an ARN, "*", or a keyword: `own-user` (the
caller's own IAM user) or `mfa-device` (a virtual MFA device with a name the
user chose).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mfa_guard.engine.context import RunContext
from mfa_guard.engine.rules import RuleError
from mfa_guard.iam.conditions import Tri, evaluate_conditions
from mfa_guard.iam.evaluate import Match, Request, match_statement
from mfa_guard.iam.scenarios import (
    SCENARIO_NAMES,
    Scenario,
    mfa_device_arn,
    own_user_arn,
)
from mfa_guard.model import DiagnosticKind, PolicyDocument, SourceSpan, Statement

DIAGNOSTIC_KINDS = tuple(kind.value for kind in DiagnosticKind)


@dataclass(frozen=True)
class Hit:
    """One place a check fired, with the values for the message template."""

    span: SourceSpan
    fields: Mapping[str, str]


def _scenario_list(value: Any, path: Path, key: str) -> None:
    if not isinstance(value, list) or not value:
        raise RuleError(path, key, "expected a non-empty list of scenario names")
    for name in value:
        if name not in SCENARIO_NAMES:
            raise RuleError(
                path,
                key,
                f"unknown scenario {name!r}; expected one of {', '.join(SCENARIO_NAMES)}",
            )


def validate_check(check: Mapping[str, Any], path: Path) -> None:
    names = ("denies", "condition-differs", "diagnostic")
    if len(check) != 1 or next(iter(check)) not in names:
        raise RuleError(path, "check", f"expected exactly one of {', '.join(names)}")
    name, body = next(iter(check.items()))
    prefix = f"check.{name}"
    if name == "diagnostic":
        if body not in DIAGNOSTIC_KINDS:
            raise RuleError(
                path, prefix, f"expected one of {', '.join(DIAGNOSTIC_KINDS)}"
            )
        return
    if not isinstance(body, dict):
        raise RuleError(path, prefix, "expected a mapping")
    if name == "denies":
        _validate_denies(body, path, prefix)
    else:
        for key in ("holds-in", "fails-in"):
            _scenario_list(body.get(key), path, f"{prefix}.{key}")
        unknown = set(body) - {"holds-in", "fails-in"}
        if unknown:
            raise RuleError(
                path,
                f"{prefix}.{sorted(unknown)[0]}",
                "unknown key; expected holds-in, fails-in",
            )


def _validate_denies(body: Mapping[str, Any], path: Path, prefix: str) -> None:
    unknown = set(body) - {"scenarios", "requests"}
    if unknown:
        raise RuleError(
            path,
            f"{prefix}.{sorted(unknown)[0]}",
            "unknown key; expected scenarios, requests",
        )
    _scenario_list(body.get("scenarios"), path, f"{prefix}.scenarios")
    requests = body.get("requests")
    if not isinstance(requests, list) or not requests:
        raise RuleError(
            path,
            f"{prefix}.requests",
            "expected a non-empty list of {action, resource} mappings",
        )
    for index, request in enumerate(requests):
        key = f"{prefix}.requests[{index}]"
        if not isinstance(request, dict) or set(request) - {"action", "resource"}:
            raise RuleError(path, key, "expected a mapping with action and resource")
        if not isinstance(request.get("action"), str) or ":" not in request["action"]:
            raise RuleError(
                path, f"{key}.action", "expected an action such as iam:ChangePassword"
            )
        if not isinstance(request.get("resource", "*"), str):
            raise RuleError(
                path, f"{key}.resource", "expected an ARN, '*', own-user or mfa-device"
            )


def resolve_resource(action: str, resource: str, scenario: Scenario) -> str:
    """Turn a request's resource keyword into the ARN the request is authorised against.

    Actions without resource-level permissions are authorised against "*"
    whatever resource the rule names.
    """
    from mfa_guard.iam.actions import get_catalogue

    if get_catalogue().has_resource_types(action) is False:
        return "*"
    if resource == "own-user":
        return own_user_arn(scenario)
    if resource == "mfa-device":
        return mfa_device_arn(scenario)
    return resource


def _conditional_text(keys: frozenset[str]) -> str:
    if not keys:
        return ""
    return f" (if the condition on {', '.join(sorted(keys))} holds)"


def run_denies(
    body: Mapping[str, Any],
    document: PolicyDocument,
    statement: Statement,
    context: RunContext,
) -> list[Hit]:
    denied: list[tuple[str, str, Scenario]] = []
    unknown: set[str] = set()
    for name in body["scenarios"]:
        scenario = context.scenarios[name]
        for spec in body["requests"]:
            action = spec["action"]
            resource = resolve_resource(action, spec.get("resource", "*"), scenario)
            result = match_statement(
                statement, document, Request(action, resource, scenario)
            )
            if result.match is Match.NO:
                continue
            if result.match is Match.MAYBE:
                unknown.update(result.unknown_keys)
            denied.append((action, resource, scenario))
    if not denied:
        return []

    actions = list(dict.fromkeys(action for action, _, _ in denied))
    scenarios = list(dict.fromkeys(scenario.name for _, _, scenario in denied))
    first_action, first_resource, first_scenario = denied[0]
    fields = {
        "action": first_action,
        "actions": ", ".join(actions),
        "resource": first_resource,
        "scenario": ", ".join(scenarios),
        "who": first_scenario.description,
        "conditional": _conditional_text(frozenset(unknown)),
    }
    return [Hit(statement.span, fields)]


def run_condition_differs(
    body: Mapping[str, Any],
    document: PolicyDocument,
    statement: Statement,
    context: RunContext,
    span: SourceSpan,
) -> list[Hit]:
    unknown: set[str] = set()
    for name in body["holds-in"]:
        outcome = evaluate_conditions(
            statement, context.scenarios[name], document.version
        )
        if outcome.value is Tri.FALSE:
            return []
        unknown.update(outcome.unknown_keys)
    for name in body["fails-in"]:
        scenario = context.scenarios[name]
        outcome = evaluate_conditions(statement, scenario, document.version)
        if outcome.value is Tri.FALSE:
            fields = {
                "scenario": scenario.name,
                "who": scenario.description,
                "conditional": _conditional_text(frozenset(unknown)),
            }
            return [Hit(span, fields)]
    return []
