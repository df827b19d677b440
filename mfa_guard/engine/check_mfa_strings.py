"""String-operator tests on aws:MultiFactorAuthPresent that cannot detect MFA.

The request carries aws:MultiFactorAuthPresent as the lowercase text "true"
for a caller who used MFA and "false" for a caller who did not. A string
test whose result is the same for both values cannot tell the two callers
apart. Such a test is reported when one of its values looks like an attempt
to compare with a boolean (see `string_test_problem`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence

from mfa_guard.engine.predicates import MFA_PRESENT
from mfa_guard.iam.conditions import Tri, evaluate_entry, parse_operator
from mfa_guard.iam.scenarios import Scenario, build_scenario
from mfa_guard.loaders.positions import Unresolved
from mfa_guard.model import ConditionEntry, SourceSpan

KEY_VALUES = ("true", "false")

# Common spellings of a boolean, lower-cased: the YAML 1.1 boolean words and
# the digits 1 and 0.
BOOLEAN_WORDS = frozenset(
    {"true", "false", "yes", "no", "y", "n", "on", "off", "1", "0"}
)

# For each string comparison, the operator that compares one policy value in
# the same way, without negation, IfExists or a set-operator prefix.
_MATCHING_OPERATORS = {
    "string-equals": "StringEquals",
    "string-equals-ignore-case": "StringEqualsIgnoreCase",
    "string-like": "StringLike",
}


def is_string_operator(operator: str) -> bool:
    """Return True for a known `String...` operator, with any prefix or suffix."""
    parsed = parse_operator(operator)
    return parsed is not None and parsed.comparison in _MATCHING_OPERATORS


@functools.cache
def _key_scenarios() -> dict[str, Scenario]:
    scenario = build_scenario("console-with-mfa")
    return {
        value: scenario.with_overrides({MFA_PRESENT: value}) for value in KEY_VALUES
    }


def _outcome(
    operator: str, values: tuple[str, ...], key_value: str, version: str | None
) -> Tri:
    """Evaluate `operator` with `values` for a request whose key is `key_value`."""
    span = SourceSpan.point("", 1, 1)
    entry = ConditionEntry(operator, MFA_PRESENT, values, values, span, span)
    return evaluate_entry(entry, _key_scenarios()[key_value], version).value


def _matched(operator: str, value: str, version: str | None) -> frozenset[str]:
    """Return the key values, "true" and "false", that one policy value matches."""
    return frozenset(
        key_value
        for key_value in KEY_VALUES
        if _outcome(operator, (value,), key_value, version) is Tri.TRUE
    )


def _looks_boolean(operator: str, value: str, version: str | None) -> bool:
    text = value.strip().lower()
    if text in BOOLEAN_WORDS:
        return True
    return len(_matched(operator, text, version)) == 1


def _show(value: object) -> str:
    return json.dumps(value)


def _reason(
    operator: str, values: Sequence[str], suspect: str, version: str | None
) -> str:
    """Describe why no value of a test distinguishes "true" from "false".

    `operator` compares one value as the test does, and `suspect` is the
    first value that looks like a boolean.
    """
    matched = frozenset().union(*(_matched(operator, v, version) for v in values))
    if matched == frozenset(KEY_VALUES):
        listed = _show(list(values))
        if set(KEY_VALUES) <= set(values):
            listed = 'both "true" and "false"'
        return f"lists {listed}, and the key's value always matches one of them"

    ignores_case = operator == "StringEqualsIgnoreCase"
    if not ignores_case and _matched(operator, suspect.lower(), version):
        return f"compares {_show(suspect)} case-sensitively, and the key's value is lowercase"

    if _matched(operator, suspect.strip().lower(), version):
        return f"compares {_show(suspect)}, and the key's value has no spaces"

    return f'compares {_show(suspect)}, which is neither "true" nor "false"'


def string_test_problem(entry: ConditionEntry, version: str | None) -> str | None:
    """Describe why a string test on aws:MultiFactorAuthPresent ignores MFA.

    Return None unless the entry uses a string operator on that key, gives
    the same result for the key "true" as for "false", and has a value that
    looks like a boolean. A value looks like one when, lower-cased and
    stripped of spaces, it is in BOOLEAN_WORDS or matches exactly one of
    "true" and "false" under the entry's comparison, as `t*` does under
    `StringLike`. A presence test such as `StringLike` "*" is therefore
    not reported. `version` is the policy's Version, which decides whether
    policy variables are substituted. A result that depends on a value the
    scan could not resolve, or on a variable the scenario does not set, is
    not reported.
    """
    operator = parse_operator(entry.operator)
    if operator is None or operator.comparison not in _MATCHING_OPERATORS:
        return None
    if entry.key.lower() != MFA_PRESENT:
        return None
    if any(isinstance(value, Unresolved) for value in entry.raw_values):
        return None

    outcomes = {
        _outcome(entry.operator, entry.values, key_value, version)
        for key_value in KEY_VALUES
    }
    if len(outcomes) != 1 or Tri.UNKNOWN in outcomes:
        return None

    matching = _MATCHING_OPERATORS[operator.comparison]
    suspects = [
        value for value in entry.values if _looks_boolean(matching, value, version)
    ]
    if not suspects:
        return None

    reason = _reason(matching, entry.values, suspects[0], version)
    if outcomes == {Tri.TRUE}:
        result = "holds for every request that has the key"
    else:
        result = "fails for every request that has the key"
    return f"{reason}, so the test {result}, with MFA or without"
