"""Condition block evaluation with three-valued results.

The rules follow the IAM condition operator reference
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html)
and the multivalued-key reference
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html).
When the request lacks the key, a positive operator is false, a negated one is
true, an `...IfExists` operator is true, `ForAnyValue:` is false and
`ForAllValues:` is true. `Null` tests whether the key is absent. A key that the
scenario does not define makes the result UNKNOWN, with the key named.
"""

from __future__ import annotations

import enum
import functools
import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from mfa_guard.iam.arns import compile_arn_pattern
from mfa_guard.iam.glob import Glob, Token, literal_tokens, wildcard_tokens
from mfa_guard.iam.scenarios import Scenario
from mfa_guard.iam.variables import PatternPart, Substituted, join_parts, resolve
from mfa_guard.model import ConditionEntry, Statement
from mfa_guard.records import field, record

if TYPE_CHECKING:
    from decimal import Decimal


class Tri(enum.Enum):
    """A three-valued truth value: UNKNOWN when the scenario lacks a needed key."""

    TRUE = "true"
    FALSE = "false"
    UNKNOWN = "unknown"


def tri_and(values: Iterable[Tri]) -> Tri:
    """Combine with AND: FALSE wins over UNKNOWN, which wins over TRUE."""
    result = Tri.TRUE
    for value in values:
        if value is Tri.FALSE:
            return Tri.FALSE
        if value is Tri.UNKNOWN:
            result = Tri.UNKNOWN
    return result


def tri_or(values: Iterable[Tri]) -> Tri:
    """Combine with OR: TRUE wins over UNKNOWN, which wins over FALSE."""
    result = Tri.FALSE
    for value in values:
        if value is Tri.TRUE:
            return Tri.TRUE
        if value is Tri.UNKNOWN:
            result = Tri.UNKNOWN
    return result


def tri_not(value: Tri) -> Tri:
    if value is Tri.TRUE:
        return Tri.FALSE
    if value is Tri.FALSE:
        return Tri.TRUE
    return Tri.UNKNOWN


def tri_of(value: bool) -> Tri:
    return Tri.TRUE if value else Tri.FALSE


@record
class ConditionOutcome:
    """The value of a condition and the unknown keys it depends on.

    `explanation` is a sentence for messages. It does not take part in
    comparisons.
    """

    value: Tri
    unknown_keys: frozenset[str] = frozenset()
    explanation: str = field(default="", compare=False)


# A comparison takes the request value, the resolved policy value as pattern
# parts, and the same policy value as plain text.
Comparison = Callable[[str, tuple[PatternPart, ...], str], bool]


@record
class Operator:
    """A parsed condition operator such as `ForAnyValue:StringNotLikeIfExists`."""

    text: str
    set_operator: str | None
    comparison: str
    negated: bool
    if_exists: bool
    takes_variables: bool


SET_OPERATORS = {"foranyvalue": "ForAnyValue", "forallvalues": "ForAllValues"}

# Lower-cased operator name -> (comparison, negated, policy variables allowed).
_OPERATORS: dict[str, tuple[str, bool, bool]] = {
    "stringequals": ("string-equals", False, True),
    "stringnotequals": ("string-equals", True, True),
    "stringequalsignorecase": ("string-equals-ignore-case", False, True),
    "stringnotequalsignorecase": ("string-equals-ignore-case", True, True),
    "stringlike": ("string-like", False, True),
    "stringnotlike": ("string-like", True, True),
    "numericequals": ("numeric-equals", False, False),
    "numericnotequals": ("numeric-equals", True, False),
    "numericlessthan": ("numeric-less-than", False, False),
    "numericlessthanequals": ("numeric-less-than-equals", False, False),
    "numericgreaterthan": ("numeric-greater-than", False, False),
    "numericgreaterthanequals": ("numeric-greater-than-equals", False, False),
    "dateequals": ("date-equals", False, False),
    "datenotequals": ("date-equals", True, False),
    "datelessthan": ("date-less-than", False, False),
    "datelessthanequals": ("date-less-than-equals", False, False),
    "dategreaterthan": ("date-greater-than", False, False),
    "dategreaterthanequals": ("date-greater-than-equals", False, False),
    "bool": ("bool", False, True),
    "binaryequals": ("binary-equals", False, False),
    "ipaddress": ("ip-address", False, False),
    "notipaddress": ("ip-address", True, False),
    "arnequals": ("arn-like", False, True),
    "arnlike": ("arn-like", False, True),
    "arnnotequals": ("arn-like", True, True),
    "arnnotlike": ("arn-like", True, True),
    "null": ("null", False, False),
}

_IF_EXISTS = "ifexists"
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")


@functools.lru_cache(maxsize=512)
def parse_operator(text: str) -> Operator | None:
    """Parse an operator name, or return None if it is unknown.

    Results are cached: a scan evaluates the same few operator names
    thousands of times.

    `Null` takes no `IfExists` suffix, so "NullIfExists" is unknown.
    NOTE: names are matched case-insensitively. Whether IAM accepts a name
    such as "stringequals" has not been verified.
    """
    set_operator = None
    name = text.strip()
    prefix, separator, rest = name.partition(":")
    if separator:
        set_operator = SET_OPERATORS.get(prefix.lower())
        if set_operator is None:
            return None
        name = rest

    lowered = name.lower()
    if_exists = lowered.endswith(_IF_EXISTS) and lowered != _IF_EXISTS
    if if_exists:
        lowered = lowered[: -len(_IF_EXISTS)]

    spec = _OPERATORS.get(lowered)
    if spec is None:
        return None
    comparison, negated, takes_variables = spec
    if comparison == "null" and if_exists:
        return None

    return Operator(text, set_operator, comparison, negated, if_exists, takes_variables)


def is_known_operator(operator: str) -> bool:
    return parse_operator(operator) is not None


def evaluate_conditions(
    statement: Statement, scenario: Scenario, version: str | None
) -> ConditionOutcome:
    """Evaluate a statement's Condition block: the AND of all its entries."""
    if not statement.conditions:
        return ConditionOutcome(Tri.TRUE, frozenset(), "no Condition")

    outcomes = [
        evaluate_entry(entry, scenario, version) for entry in statement.conditions
    ]
    for outcome in outcomes:
        if outcome.value is Tri.FALSE:
            return outcome

    unknown = [outcome for outcome in outcomes if outcome.value is Tri.UNKNOWN]
    if unknown:
        keys = frozenset().union(*(outcome.unknown_keys for outcome in unknown))
        explanation = " and ".join(outcome.explanation for outcome in unknown)
        return ConditionOutcome(Tri.UNKNOWN, keys, explanation)

    explanation = " and ".join(outcome.explanation for outcome in outcomes)
    return ConditionOutcome(Tri.TRUE, frozenset(), explanation)


def evaluate_entry(
    entry: ConditionEntry, scenario: Scenario, version: str | None
) -> ConditionOutcome:
    """Evaluate one `operator -> key -> values` test against a scenario."""
    label = f"{entry.operator} {entry.key} = {_values_text(entry.values)}"
    operator = parse_operator(entry.operator)
    if operator is None:
        explanation = f'unknown condition operator "{entry.operator}" on {entry.key}'
        return ConditionOutcome(Tri.UNKNOWN, frozenset({entry.key}), explanation)

    state = scenario.key_state(entry.key)
    if state == "unknown":
        explanation = (
            f"{label} is unknown because the scenario does not set {entry.key}"
        )
        return ConditionOutcome(Tri.UNKNOWN, frozenset({entry.key}), explanation)

    request_values = scenario.values.get(entry.key.lower(), ())
    if operator.comparison == "null":
        value = _evaluate_null(entry.values, key_absent=not request_values)
        return _outcome(value, frozenset(), label, _key_text(request_values))

    if not request_values:
        return _outcome(_absent_result(operator), frozenset(), label, "absent")

    policy_values = [
        _resolve_value(text, operator, scenario, version) for text in entry.values
    ]
    value = _evaluate_present(operator, request_values, policy_values)
    unknown: frozenset[str] = frozenset()
    if value is Tri.UNKNOWN:
        unknown = frozenset().union(*(item.unknown_keys for item in policy_values))
        keys = ", ".join(sorted(unknown))
        explanation = f"{label} is unknown because the scenario does not set {keys}"
        return ConditionOutcome(value, unknown, explanation)
    return _outcome(value, unknown, label, _key_text(request_values))


def _outcome(
    value: Tri, unknown: frozenset[str], label: str, key_text: str
) -> ConditionOutcome:
    verb = "holds" if value is Tri.TRUE else "does not hold"
    return ConditionOutcome(
        value, unknown, f"{label} {verb} because the key is {key_text}"
    )


def _absent_result(operator: Operator) -> Tri:
    if operator.if_exists:
        return Tri.TRUE
    if operator.set_operator == "ForAllValues":
        return Tri.TRUE
    if operator.set_operator == "ForAnyValue":
        return Tri.FALSE
    return tri_of(operator.negated)


def _evaluate_null(policy_values: Sequence[str], *, key_absent: bool) -> Tri:
    """`Null` "true" is true when the key is absent, and "false" when it is present."""
    results = []
    for text in policy_values:
        lowered = text.strip().lower()
        if lowered == "true":
            results.append(tri_of(key_absent))
        elif lowered == "false":
            results.append(tri_of(not key_absent))
    return tri_or(results)


@record
class _PolicyValue:
    """A condition value after variable substitution.

    `parts` is None when a variable has no value (the value matches nothing)
    or an unknown one (`unknown_keys`).
    """

    parts: tuple[PatternPart, ...] | None
    text: str
    unknown_keys: frozenset[str] = frozenset()


def _resolve_value(
    text: str, operator: Operator, scenario: Scenario, version: str | None
) -> _PolicyValue:
    if not operator.takes_variables:
        return _PolicyValue((text,), text)

    resolution = resolve(text, scenario, version)
    if resolution.parts is None:
        return _PolicyValue(None, text, resolution.unknown_keys)

    return _PolicyValue(resolution.parts, join_parts(resolution.parts))


def _evaluate_present(
    operator: Operator,
    request_values: Sequence[str],
    policy_values: Sequence[_PolicyValue],
) -> Tri:
    """Evaluate an operator when the request carries the key.

    Several policy values are ORed, so a negated operator is true only when no
    value matches. A set operator applies the test to each request value.
    """
    compare = _COMPARISONS[operator.comparison]
    per_request = []
    for request_value in request_values:
        matched = tri_or(_compare(compare, request_value, p) for p in policy_values)
        per_request.append(tri_not(matched) if operator.negated else matched)

    if operator.set_operator == "ForAllValues":
        return tri_and(per_request)
    if operator.set_operator == "ForAnyValue":
        return tri_or(per_request)
    if operator.negated:
        return tri_and(per_request)
    return tri_or(per_request)


def _compare(compare: Comparison, request_value: str, policy: _PolicyValue) -> Tri:
    if policy.parts is None:
        return Tri.UNKNOWN if policy.unknown_keys else Tri.FALSE
    return tri_of(compare(request_value, policy.parts, policy.text))


def _values_text(values: Sequence[str]) -> str:
    if len(values) == 1:
        return values[0]
    return json.dumps(list(values))


def _key_text(request_values: Sequence[str]) -> str:
    if not request_values:
        return "absent"
    if len(request_values) == 1:
        return json.dumps(request_values[0])
    return json.dumps(list(request_values))


def _string_like(request: str, parts: tuple[PatternPart, ...], _text: str) -> bool:
    return _compile_like(parts).fullmatch(request) is not None


@functools.lru_cache(maxsize=4096)
def _compile_like(parts: tuple[PatternPart, ...]) -> Glob:
    """Compile a StringLike value: `*` and `?` match any characters, `/` included."""
    tokens: list[Token] = []
    for part in parts:
        if isinstance(part, Substituted):
            tokens.extend(literal_tokens(part.text))
        else:
            tokens.extend(wildcard_tokens(part))
    return Glob(tokens)


def _arn_like(request: str, parts: tuple[PatternPart, ...], _text: str) -> bool:
    return compile_arn_pattern(parts).fullmatch(request) is not None


def _parse_number(text: str) -> Decimal | None:
    from decimal import Decimal

    stripped = text.strip()
    if not _NUMBER.match(stripped):
        return None
    return Decimal(stripped)


def _parse_date(text: str) -> Decimal | None:
    """Parse an ISO 8601 date or epoch seconds into epoch seconds.

    A date without a time zone is read as UTC.
    """
    from decimal import Decimal

    stripped = text.strip()
    if _NUMBER.match(stripped):
        return Decimal(stripped)
    try:
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return Decimal(str(moment.timestamp()))


def _ordered(
    parse: Callable[[str], Decimal | None], test: Callable[[Decimal, Decimal], bool]
) -> Comparison:
    def compare(request: str, _parts: tuple[PatternPart, ...], text: str) -> bool:
        left = parse(request)
        right = parse(text)
        if left is None or right is None:
            return False
        return test(left, right)

    return compare


def _ip_address(request: str, _parts: tuple[PatternPart, ...], text: str) -> bool:
    try:
        address = ipaddress.ip_address(request.strip())
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return False
    return address in network


_COMPARISONS: dict[str, Comparison] = {
    "string-equals": lambda request, _parts, text: request == text,
    "string-equals-ignore-case": lambda request, _parts, text: (
        request.casefold() == text.casefold()
    ),
    "string-like": _string_like,
    "numeric-equals": _ordered(_parse_number, lambda a, b: a == b),
    "numeric-less-than": _ordered(_parse_number, lambda a, b: a < b),
    "numeric-less-than-equals": _ordered(_parse_number, lambda a, b: a <= b),
    "numeric-greater-than": _ordered(_parse_number, lambda a, b: a > b),
    "numeric-greater-than-equals": _ordered(_parse_number, lambda a, b: a >= b),
    "date-equals": _ordered(_parse_date, lambda a, b: a == b),
    "date-less-than": _ordered(_parse_date, lambda a, b: a < b),
    "date-less-than-equals": _ordered(_parse_date, lambda a, b: a <= b),
    "date-greater-than": _ordered(_parse_date, lambda a, b: a > b),
    "date-greater-than-equals": _ordered(_parse_date, lambda a, b: a >= b),
    "bool": lambda request, _parts, text: request.lower() == text.lower(),
    "binary-equals": lambda request, _parts, text: request == text,
    "ip-address": _ip_address,
    "arn-like": _arn_like,
}
