"""Checks on the entries of a statement: `exempts`, `unknown-actions` and
`policy-variables`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mfa_guard.engine.check_requests import matches_action, validate_scenarios
from mfa_guard.engine.schema import (
    RuleError,
    check_unknown,
    require_mapping,
    string_list,
)
from mfa_guard.engine.scope import DocumentScope, Hit
from mfa_guard.iam.actions import get_catalogue, has_wildcard
from mfa_guard.iam.conditions import Tri, evaluate_conditions
from mfa_guard.iam.scenarios import Scenario
from mfa_guard.iam.variables import Variable, split_variables
from mfa_guard.loaders.positions import Unresolved
from mfa_guard.model import SourceSpan, Statement

ACTION_ELEMENTS = ("Action", "NotAction")
# Maximum number of action names a message lists before "and N more".
MAX_LISTED = 8

# A policy variable names a condition key, such as `aws:username` or
# `aws:PrincipalTag/team`. Template references that a loader left in place
# (`${AWS::AccountId}`, `${var.name}`) do not have this form.
_CONDITION_KEY = re.compile(r"^[A-Za-z0-9-]+:[^:]+$")

# Minimum difflib similarity ratio for suggesting an action name as the
# intended spelling of an unknown one.
_SUGGESTION_CUTOFF = 0.8


def validate_exempts(body: Any, path: Path, key: str) -> None:
    body = require_mapping(body, path, key, "expected a mapping")
    check_unknown(
        body, {"actions", "outside", "whole-services", "scenarios"}, path, key + "."
    )
    if "actions" in body and "outside" in body:
        raise RuleError(path, key, "expected either actions or outside, not both")
    name = "outside" if "outside" in body else "actions"
    string_list(
        body.get(name),
        path,
        f"{key}.{name}",
        "expected a list of action patterns such as iam:Attach*Policy",
    )
    validate_scenarios(body.get("scenarios"), path, f"{key}.scenarios")
    whole_services = body.get("whole-services", False)
    if not isinstance(whole_services, bool):
        raise RuleError(
            path,
            f"{key}.whole-services",
            f"expected true or false, found {whole_services!r}",
        )


def validate_unknown_actions(body: Any, path: Path, key: str) -> None:
    body = require_mapping(body, path, key, "expected a mapping")
    check_unknown(body, {"elements"}, path, key + ".")
    elements = body.get("elements")
    if elements is None:
        return
    names = string_list(
        elements, path, f"{key}.elements", "expected Action or NotAction"
    )
    for name in names:
        if name not in ACTION_ELEMENTS:
            raise RuleError(
                path,
                f"{key}.elements",
                f"invalid element {name!r}; expected Action or NotAction",
            )


def validate_policy_variables(body: Any, path: Path, key: str) -> None:
    body = require_mapping(body, path, key, "expected an empty mapping, {}")
    check_unknown(body, set(), path, key + ".")


@functools.lru_cache(maxsize=64)
def expand_patterns(patterns: tuple[str, ...]) -> tuple[str, ...]:
    """Return every catalogue action that one of the patterns matches, sorted."""
    catalogue = get_catalogue()
    actions: set[str] = set()
    for pattern in patterns:
        if has_wildcard(pattern):
            actions.update(catalogue.expand(pattern))
        else:
            actions.add(catalogue.canonical(pattern) or pattern)
    return tuple(sorted(actions))


def _is_whole_service(pattern: str) -> bool:
    """Return True for a pattern whose action part is only `*`: "s3:*", "*"."""
    name = pattern.rpartition(":")[2]
    return bool(name) and set(name) == {"*"}


def _first_holding_scenario(
    names: list[str], statement: Statement, scope: DocumentScope
) -> Scenario | None:
    """Return the first scenario in which the statement's condition may hold."""
    for name in names:
        scenario = scope.scenario(name)
        outcome = evaluate_conditions(statement, scenario, scope.document.version)
        if outcome.value is not Tri.FALSE:
            return scenario
    return None


def run_exempts(
    body: Mapping[str, Any],
    statement: Statement,
    scope: DocumentScope,
    span: SourceSpan,
) -> list[Hit]:
    if statement.not_actions is None:
        return []
    scenario = _first_holding_scenario(body["scenarios"], statement, scope)
    if scenario is None:
        return []

    entries = [
        entry for entry in statement.not_actions if not isinstance(entry, Unresolved)
    ]
    reported: list[str] = []
    responsible: set[str] = set()
    if body.get("whole-services"):
        for entry in entries:
            if _is_whole_service(entry):
                reported.append(entry)
                responsible.add(entry)

    if "outside" in body:
        # A misspelt action exempts nothing, and the unknown-action rule reports it.
        catalogue = get_catalogue()
        allowed = expand_patterns(tuple(body["outside"]))
        for entry in entries:
            # A whole service is what `whole-services` reports.
            if _is_whole_service(entry):
                continue
            beyond = [
                action
                for action in expand_patterns((entry,))
                if action not in allowed and catalogue.exists(action)
            ]
            if beyond:
                reported.extend(action for action in beyond if action not in reported)
                responsible.add(entry)
    else:
        for action in expand_patterns(tuple(body["actions"])):
            matching = [entry for entry in entries if matches_action(entry, action)]
            if matching:
                reported.append(action)
                responsible.update(matching)
    if not reported:
        return []

    patterns = [f'"{entry}"' for entry in entries if entry in responsible]
    fields = {
        "actions": _shortened(sorted(reported))
        if "outside" in body
        else ", ".join(reported),
        "patterns": ", ".join(patterns),
        "scenario": scenario.name,
        "who": scenario.description,
    }
    return [Hit(span, fields, tuple(reported))]


def _shortened(actions: list[str]) -> str:
    """Join action names for a message, naming at most MAX_LISTED of them."""
    if len(actions) <= MAX_LISTED:
        return ", ".join(actions)
    listed = ", ".join(actions[:MAX_LISTED])
    return f"{listed} and {len(actions) - MAX_LISTED} more"


def action_problem(entry: str) -> str | None:
    """Describe why an Action entry names no action in the catalogue, or return None."""
    if set(entry) == {"*"}:
        return None
    catalogue = get_catalogue()
    service, separator, _ = entry.partition(":")
    if not separator and not has_wildcard(entry):
        return "is not of the form service:action"
    if separator and not has_wildcard(service) and not catalogue.has_service(service):
        return f'names the service prefix "{service}", which is not in the catalogue'

    if has_wildcard(entry):
        # A known service's "service:*" matches its actions without reading them.
        if separator and not has_wildcard(service) and _is_whole_service(entry):
            return None
        if catalogue.expand(entry):
            return None
        return "matches no action in the catalogue"

    if catalogue.exists(entry):
        return None
    problem = f"is not an action of {service.lower()}"
    import difflib

    names = catalogue.service_actions(service)
    lowered = {action.lower(): action for action in names}
    close = difflib.get_close_matches(
        entry.lower(), list(lowered), n=1, cutoff=_SUGGESTION_CUTOFF
    )
    if close:
        problem += f" (did you mean {lowered[close[0]]}?)"
    return problem


def run_unknown_actions(
    body: Mapping[str, Any],
    statement: Statement,
    scope: DocumentScope,
    span: SourceSpan,
) -> list[Hit]:
    elements = body.get("elements") or ACTION_ELEMENTS
    hits = []
    for element in elements:
        entries = statement.actions if element == "Action" else statement.not_actions
        for index, entry in enumerate(entries or ()):
            if isinstance(entry, Unresolved):
                continue
            problem = action_problem(entry)
            if problem is None:
                continue
            fields = {"action": entry, "actions": entry, "detail": problem}
            hits.append(Hit(statement.item_span(element, index), fields, (entry,)))
    return hits


def policy_variables(text: str) -> list[str]:
    """Return the `${...}` policy variables in a string, as written."""
    if isinstance(text, Unresolved):
        return []
    return [
        piece.text
        for piece in split_variables(text)
        if isinstance(piece, Variable) and _CONDITION_KEY.match(piece.key)
    ]


def run_policy_variables(
    body: Mapping[str, Any],
    statement: Statement,
    scope: DocumentScope,
    span: SourceSpan,
) -> list[Hit]:
    found: list[str] = []
    first: SourceSpan | None = None
    for element in ("Resource", "NotResource"):
        entries = (
            statement.resources if element == "Resource" else statement.not_resources
        )
        for index, entry in enumerate(entries or ()):
            variables = policy_variables(entry)
            if variables and first is None:
                first = statement.item_span(element, index)
            found.extend(variables)

    for condition in statement.conditions:
        variables = [
            name for value in condition.values for name in policy_variables(value)
        ]
        if variables and first is None:
            first = condition.key_span
        found.extend(variables)

    if first is None:
        return []
    fields = {"detail": ", ".join(dict.fromkeys(found))}
    return [Hit(first, fields)]
