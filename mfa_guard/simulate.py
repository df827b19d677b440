"""`mfa-guard simulate`: decide one request and explain which statements decided it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from mfa_guard.errors import UsageError
from mfa_guard.iam.evaluate import Decision, Request, evaluate
from mfa_guard.iam.scenarios import (
    SCENARIO_NAMES,
    Scenario,
    build_scenario,
    mfa_device_arn,
    own_user_arn,
)
from mfa_guard.scan import collect_documents


def _parse_context(pairs: Sequence[str]) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key.strip():
            raise UsageError(
                f"invalid --context {pair!r}: expected KEY=VALUE, such as aws:MultiFactorAuthPresent=false"
            )
        values[key.strip()] = None if value == "absent" else value
    return values


def _scenario(name: str | None, pairs: Sequence[str]) -> Scenario:
    if name is None and not pairs:
        raise UsageError(
            "simulate needs --scenario NAME or at least one --context KEY=VALUE"
        )
    base = name or "console-without-mfa"
    if base not in SCENARIO_NAMES:
        raise UsageError(
            f"unknown scenario {base!r}; expected one of {', '.join(SCENARIO_NAMES)}"
        )
    scenario = build_scenario(base)
    if pairs:
        scenario = scenario.with_overrides(_parse_context(pairs))
    return scenario


def default_resource(action: str, scenario: Scenario) -> str:
    """Pick the resource a request for `action` is usually made on."""
    from mfa_guard.iam.actions import get_catalogue

    types = get_catalogue().resource_types(action) or []
    if "user" in types and scenario.user_name:
        return own_user_arn(scenario)
    if "mfa" in types:
        return mfa_device_arn(scenario)
    return "*"


def _decision_data(decision: Decision, request: Request) -> dict[str, Any]:
    return {
        "action": request.action,
        "resource": decision.resource,
        "scenario": request.scenario.name,
        "decision": decision.kind.value,
        "deciding": [
            {
                "path": match.statement.span.path,
                "line": match.statement.span.line,
                "column": match.statement.span.column,
                "policy": match.document.label,
                "statement": match.statement.sid,
                "effect": match.statement.effect,
                "reason": match.reason,
            }
            for match in decision.deciding
        ],
        "conditional_on": sorted(decision.conditional_on),
        "notes": list(decision.notes),
    }


def _render_text(data: dict[str, Any], scenario: Scenario) -> str:
    lines = [
        f"request:  {data['action']} on {data['resource']}",
        f"scenario: {scenario.name} ({scenario.description})",
        f"decision: {data['decision']}",
    ]
    for item in data["deciding"]:
        label = f'"{item["statement"]}"' if item["statement"] else "without a Sid"
        where = f"{item['path']}:{item['line']}:{item['column']}"
        policy = "" if item["policy"] == item["path"] else f" in {item['policy']}"
        lines.append(f"  {item['effect']} statement {label}{policy} at {where}")
        lines.append(f"    {item['reason']}")
    if data["conditional_on"]:
        lines.append(
            f"depends on: {', '.join(data['conditional_on'])} (not set in this scenario)"
        )
    lines.extend(f"note: {note}" for note in data["notes"])
    return "\n".join(lines) + "\n"


def run_simulation(
    paths: Sequence[str],
    action: str,
    resource: str | None,
    scenario_name: str | None,
    context: Sequence[str],
    output_format: str,
    debug: bool = False,
) -> str:
    if ":" not in action:
        raise UsageError(
            f"invalid --action {action!r}: expected service:Action, such as iam:ChangePassword"
        )
    scenario = _scenario(scenario_name, context)
    documents, _, result = collect_documents(paths, debug)
    if result.missing:
        raise UsageError(f"path not found: {', '.join(result.missing)}")
    if not documents:
        raise UsageError(f"no IAM policy found in {', '.join(paths)}")

    request = Request(action, resource or default_resource(action, scenario), scenario)
    data = _decision_data(evaluate(documents, request), request)
    if output_format == "json":
        return json.dumps(data, indent=2) + "\n"
    return _render_text(data, scenario)
