"""`mfa-guard simulate`: decide one request and explain which statements decided it.

With `--principal`, the request is made by one IAM user of a Terraform module
or CloudFormation template and evaluated against every policy that reaches
the user, each named with the way it reaches the user.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mfa_guard.engine.context import ScenarioSettings, scenario_settings
from mfa_guard.errors import UsageError
from mfa_guard.iam.evaluate import Decision, Request, evaluate
from mfa_guard.iam.scenarios import (
    SCENARIO_NAMES,
    Scenario,
    build_scenario,
    mfa_device_arn,
    own_user_arn,
)
from mfa_guard.model import Diagnostic, DiagnosticKind, PolicyDocument
from mfa_guard.records import replace
from mfa_guard.scan import collect_documents, load_paths
from mfa_guard.simulate_conditions import (
    choose_members,
    choose_variants,
    parse_conditions,
)
from mfa_guard.simulate_principal import (
    PrincipalSet,
    find_principal_set,
    principal_data,
)


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


def _scenario(
    name: str | None, pairs: Sequence[str], user: tuple[str, str] | None = None
) -> Scenario:
    """Build the scenario, for the (name, path) `user` when one is given."""
    if name is None and not pairs:
        raise UsageError(
            "simulate needs --scenario NAME or at least one --context KEY=VALUE"
        )
    base = name or "console-without-mfa"
    if base not in SCENARIO_NAMES:
        raise UsageError(
            f"unknown scenario {base!r}; expected one of {', '.join(SCENARIO_NAMES)}"
        )
    settings = _configured_settings()
    if user is None:
        user = settings.user_name, settings.user_path
    scenario = build_scenario(
        base,
        account=settings.account,
        region=settings.region,
        user_name=user[0],
        user_path=user[1],
    )
    if pairs:
        scenario = scenario.with_overrides(_parse_context(pairs))
    return scenario


def _configured_settings() -> ScenarioSettings:
    """Return the scenario settings of the configuration a scan here would read."""
    from mfa_guard.config import find_config, load_config

    found = find_config(Path.cwd())
    if found is None:
        return ScenarioSettings()
    return scenario_settings(load_config(found).scenarios)


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


def _principal_lines(principal: dict[str, Any]) -> list[str]:
    lines = [
        f"user:     {principal['name'] or principal['address']} ({principal['address']}, {principal['arn']})"
    ]
    if not principal["policies"]:
        lines.append("policies: none reach the user")
    else:
        lines.append("policies:")
        lines.extend(
            f"  {item['policy']}, {item['via']}" for item in principal["policies"]
        )
    lines.extend(f"incomplete: {item}" for item in principal["missing"])
    return lines


def _render_text(data: dict[str, Any], scenario: Scenario) -> str:
    lines = []
    if "principal" in data:
        lines.extend(_principal_lines(data["principal"]))
    lines += [
        f"request:  {data['action']} on {data['resource']}",
        f"scenario: {scenario.name} ({scenario.description})",
        f"decision: {data['decision']}",
    ]
    for item in data["deciding"]:
        label = f'"{item["statement"]}"' if item["statement"] else "without a Sid"
        where = f"{item['path']}:{item['line']}:{item['column']}"
        policy = "" if item["policy"] == item["path"] else f" in {item['policy']}"
        if item.get("via"):
            policy += f" ({item['via']})"
        lines.append(f"  {item['effect']} statement {label}{policy} at {where}")
        lines.append(f"    {item['reason']}")
    if data["conditional_on"]:
        lines.append(
            f"depends on: {', '.join(data['conditional_on'])} (not set in this scenario)"
        )
    lines.extend(f"note: {note}" for note in data["notes"])
    return "\n".join(lines) + "\n"


def _principal_set(
    paths: Sequence[str], principal: str, debug: bool
) -> tuple[PrincipalSet, list[str]]:
    loaded, result = load_paths(paths, debug=debug)
    if result.missing:
        raise UsageError(f"path not found: {', '.join(result.missing)}")
    diagnostics = [item for _, unit in loaded for item in unit.diagnostics]
    return find_principal_set(loaded, principal), _not_evaluated(diagnostics)


def _all_documents(
    paths: Sequence[str], debug: bool
) -> tuple[list[PolicyDocument], list[str]]:
    documents, diagnostics, result = collect_documents(paths, debug)
    if result.missing:
        raise UsageError(f"path not found: {', '.join(result.missing)}")
    skipped = _not_evaluated(diagnostics)
    if not documents:
        message = f"no IAM policy found in {', '.join(paths)}"
        if skipped:
            message += f"; {skipped[0]}"
        raise UsageError(message)
    return documents, skipped


def _not_evaluated(diagnostics: Sequence[Diagnostic]) -> list[str]:
    """Describe each policy or block that was found but could not be evaluated.

    The decision leaves them out, as if they were not there, so the output
    names them: a policy that tfparse could not expand might allow or deny
    the request.
    """
    return [
        f"not evaluated: {d.span.path}:{d.span.line}:{d.span.column}: {d.message}"
        for d in diagnostics
        if d.kind in (DiagnosticKind.UNRESOLVED, DiagnosticKind.PARSE_ERROR)
    ]


def _keep_documents(
    found: PrincipalSet, documents: Sequence[PolicyDocument]
) -> PrincipalSet:
    """Drop the policies of `found` that are not among `documents`."""
    document_ids = {id(document) for document in documents}
    members = tuple(
        member
        for member in found.policy_set.members
        if id(member.document) in document_ids
    )
    return replace(found, policy_set=replace(found.policy_set, members=members))


def _add_principal(
    data: dict[str, Any], found: PrincipalSet, arn: str, decision: Decision
) -> None:
    """Describe the user in `data` and record how each deciding policy reaches it."""
    data["principal"] = principal_data(found, arn)
    via = {id(m.document): m.via for m in found.policy_set.members}
    for item, match in zip(data["deciding"], decision.deciding, strict=True):
        item["via"] = via.get(id(match.document), "")


def run_simulation(
    paths: Sequence[str],
    action: str,
    resource: str | None,
    scenario_name: str | None,
    context: Sequence[str],
    output_format: str,
    debug: bool = False,
    principal: str | None = None,
    conditions: Sequence[str] = (),
) -> str:
    """Decide one request and render the decision as text or JSON.

    With `principal`, the caller is that IAM user, the request is evaluated
    against the policies that reach the user, and the resource defaults to
    the user's own ARN, path included. `conditions` are `NAME=true|false`
    values of CloudFormation conditions, which choose the `Fn::If` variant
    of each policy.
    """
    if ":" not in action:
        raise UsageError(
            f"invalid --action {action!r}: expected service:Action, such as iam:ChangePassword"
        )
    chosen = parse_conditions(conditions)
    found = None
    if principal is None:
        scenario = _scenario(scenario_name, context)
        documents, skipped = _all_documents(paths, debug)
        documents, condition_notes = choose_variants(documents, chosen)
    else:
        found, skipped = _principal_set(paths, principal, debug)
        user = (found.user.label, found.user.path or "/")
        scenario = _scenario(scenario_name, context, user)
        documents, condition_notes = choose_members(found.policy_set, chosen)
        found = _keep_documents(found, documents)

    request = Request(action, resource or default_resource(action, scenario), scenario)
    decision = evaluate(documents, request)
    data = _decision_data(decision, request)
    data["notes"].extend(condition_notes)
    data["notes"].extend(skipped)
    if found is not None:
        _add_principal(data, found, own_user_arn(scenario), decision)
    if output_format == "json":
        return json.dumps(data, indent=2) + "\n"
    return _render_text(data, scenario)
