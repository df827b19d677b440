"""Checks on a statement's Condition block: `condition-differs`,
`condition-holds` and `condition-entries`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mfa_guard.engine.check_mfa_strings import is_string_operator, string_test_problem
from mfa_guard.engine.check_requests import conditional_text, validate_scenarios
from mfa_guard.engine.predicates import MFA_KEYS, base_operator
from mfa_guard.engine.schema import (
    RuleError,
    check_unknown,
    require_mapping,
    string_list,
)
from mfa_guard.engine.scope import DocumentScope, Hit
from mfa_guard.iam.conditions import (
    SET_OPERATORS,
    Tri,
    evaluate_conditions,
    evaluate_entry,
    is_known_operator,
)
from mfa_guard.iam.scenarios import Scenario
from mfa_guard.loaders.positions import Unresolved
from mfa_guard.model import ConditionEntry, SourceSpan, Statement

# `mfa-boolean` checks `Bool` and `Null` entries as `boolean` does, and
# string-operator entries with `string_test_problem`.
MFA_BOOLEAN = "mfa-boolean"
VALUE_KINDS = ("boolean", "number", MFA_BOOLEAN)
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")

# The scenario whose request context is used to say what a set operator
# does when the key is absent. Any scenario works, because the key is
# removed from it first.
_ABSENT_KEY_SCENARIO = "access-key"


def validate_condition_differs(body: Any, path: Path, key: str) -> None:
    body = require_mapping(body, path, key, "expected a mapping")
    check_unknown(body, {"holds-in", "fails-in", "unless-covered"}, path, key + ".")
    for name in ("holds-in", "fails-in"):
        validate_scenarios(body.get(name), path, f"{key}.{name}")
    covered = body.get("unless-covered", False)
    if not isinstance(covered, bool):
        raise RuleError(
            path, f"{key}.unless-covered", f"expected true or false, found {covered!r}"
        )


def validate_condition_holds(body: Any, path: Path, key: str) -> None:
    body = require_mapping(body, path, key, "expected a mapping")
    check_unknown(body, {"scenarios"}, path, key + ".")
    validate_scenarios(body.get("scenarios"), path, f"{key}.scenarios")


def validate_condition_entries(body: Any, path: Path, key: str) -> None:
    body = require_mapping(body, path, key, "expected a mapping")
    check_unknown(
        body, {"keys", "operators", "set-operator", "values"}, path, key + "."
    )
    string_list(
        body.get("keys"),
        path,
        f"{key}.keys",
        "expected a list of condition keys such as aws:MultiFactorAuthPresent",
    )

    operators = body.get("operators")
    if operators is not None:
        names = string_list(
            operators, path, f"{key}.operators", "expected a list of operator names"
        )
        for name in names:
            if not is_known_operator(name) or base_operator(name) != name:
                raise RuleError(
                    path,
                    f"{key}.operators",
                    f"invalid operator {name!r}; expected a name without prefix or IfExists, such as Bool",
                )

    set_operator = body.get("set-operator", False)
    if not isinstance(set_operator, bool):
        raise RuleError(
            path,
            f"{key}.set-operator",
            f"expected true or false, found {set_operator!r}",
        )
    values = body.get("values")
    if values not in (None, *VALUE_KINDS):
        expected = ", ".join(VALUE_KINDS)
        raise RuleError(
            path, f"{key}.values", f"expected one of {expected}, found {values!r}"
        )


def run_condition_differs(
    body: Mapping[str, Any],
    statement: Statement,
    scope: DocumentScope,
    span: SourceSpan,
) -> list[Hit]:
    version = scope.document.version
    unknown: set[str] = set()
    for name in body["holds-in"]:
        outcome = evaluate_conditions(statement, scope.scenario(name), version)
        if outcome.value is Tri.FALSE:
            return []
        unknown.update(outcome.unknown_keys)

    for name in body["fails-in"]:
        scenario = scope.scenario(name)
        outcome = evaluate_conditions(statement, scenario, version)
        if outcome.value is not Tri.FALSE:
            continue
        if body.get("unless-covered") and _covered(statement, scope, scenario):
            continue
        fields = {
            "scenario": scenario.name,
            "who": scenario.description,
            "conditional": conditional_text(frozenset(unknown)),
            "detail": outcome.explanation,
        }
        return [Hit(span, fields)]
    return []


def _covered(statement: Statement, scope: DocumentScope, scenario: Scenario) -> bool:
    """Return whether another statement denies what `statement` denies, in `scenario`.

    That is a Deny of the same document with the same Action or NotAction
    list and Resource list, no NotResource, and a condition that tests only
    MFA keys and is true in the scenario. A `Bool` deny next to a copy of it
    that tests `Null` covers access keys that way. A test of another key,
    such as aws:RequestedRegion, would cover only some requests, so a deny
    with one covers nothing.
    """
    for other in scope.document.statements:
        if other is statement or other.effect != "Deny" or other.not_resources:
            continue
        if any(entry.key.lower() not in MFA_KEYS for entry in other.conditions):
            continue
        if not _same_entries(other.actions, statement.actions, fold=True):
            continue
        if not _same_entries(other.not_actions, statement.not_actions, fold=True):
            continue
        if not _same_entries(other.resources, statement.resources, fold=False):
            continue
        outcome = evaluate_conditions(other, scenario, scope.document.version)
        if outcome.value is Tri.TRUE:
            return True
    return False


def _same_entries(
    first: tuple[str, ...] | None, second: tuple[str, ...] | None, fold: bool
) -> bool:
    """Compare two element lists as sets, in any letter case with `fold` (action names)."""
    if first is None or second is None:
        return first is second
    if fold:
        return {entry.lower() for entry in first} == {entry.lower() for entry in second}
    return set(first) == set(second)


def run_condition_holds(
    body: Mapping[str, Any],
    statement: Statement,
    scope: DocumentScope,
    span: SourceSpan,
) -> list[Hit]:
    for name in body["scenarios"]:
        scenario = scope.scenario(name)
        outcome = evaluate_conditions(statement, scenario, scope.document.version)
        if outcome.value is Tri.FALSE:
            continue
        fields = {
            "scenario": scenario.name,
            "who": scenario.description,
            "conditional": conditional_text(outcome.unknown_keys),
            "detail": outcome.explanation,
        }
        return [Hit(span, fields)]
    return []


def run_condition_entries(
    body: Mapping[str, Any],
    statement: Statement,
    scope: DocumentScope,
    span: SourceSpan,
) -> list[Hit]:
    keys = {key.lower() for key in body["keys"]}
    operators = set(body.get("operators") or ())
    hits = []
    for entry in statement.conditions:
        if entry.key.lower() not in keys:
            continue
        if operators and base_operator(entry.operator) not in operators:
            continue

        details = []
        has_set_operator = _set_operator(entry) is not None
        if "set-operator" in body:
            if has_set_operator != body["set-operator"]:
                continue
            if has_set_operator:
                details.append(_absent_key_result(entry, scope))

        if body.get("values"):
            problem = _value_problem(entry, body["values"], scope.document.version)
            if problem is None:
                continue
            details.append(problem)

        fields = {
            "operator": entry.operator,
            "key": entry.key,
            "detail": " and ".join(detail for detail in details if detail),
        }
        entry_span = entry.key_span if body.get("values") else entry.span
        hits.append(Hit(entry_span, fields))
    return hits


def _set_operator(entry: ConditionEntry) -> str | None:
    prefix, separator, _ = entry.operator.partition(":")
    if not separator:
        return None
    return SET_OPERATORS.get(prefix.strip().lower())


def _absent_key_result(entry: ConditionEntry, scope: DocumentScope) -> str:
    """Describe the value the IAM engine gives the test for a request without the key."""
    scenario = scope.scenario(_ABSENT_KEY_SCENARIO).with_overrides({entry.key: None})
    outcome = evaluate_entry(entry, scenario, scope.document.version)
    if outcome.value is Tri.UNKNOWN:
        return ""
    return f"it is {outcome.value.value} for a request without the key"


def _show(value: object) -> str:
    return json.dumps(value, default=str)


def _value_problem(entry: ConditionEntry, kind: str, version: str | None) -> str | None:
    """Describe why the entry's values are not exactly one `kind`, or return None."""
    if kind == MFA_BOOLEAN and is_string_operator(entry.operator):
        return string_test_problem(entry, version)

    values = entry.raw_values
    if any(isinstance(value, Unresolved) for value in values):
        return None
    if not values:
        return "has no value"
    if len(values) > 1:
        return f"has {len(values)} values, {_show(list(values))}, and IAM ORs them"

    value = values[0]
    if kind in ("boolean", MFA_BOOLEAN):
        if isinstance(value, bool) or value in ("true", "false"):
            return None
        return f'has the value {_show(value)}, which is not "true" or "false"'

    if isinstance(value, int | float) and not isinstance(value, bool):
        return None
    if isinstance(value, str) and _NUMBER.match(value):
        return None
    return f"has the value {_show(value)}, which is not a number"
