"""Tell which values of a CloudFormation template's conditions can occur together.

A condition is defined with `Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`
and references to other conditions (`Condition: Name`). `C1: !Not
[Condition: C0]` makes C0 and C1 both false impossible, so no stack has a
policy variant built for that combination.

The model of `Fn::Equals` has three cases:

- two literals compare as text, so `!Equals [a, a]` is always true;
- a `Ref` to a parameter or pseudo parameter and a literal mean "the
  parameter has this value". A parameter has one value per stack, so
  `!Equals [!Ref Env, prod]` and `!Equals [!Ref Env, dev]` are never both
  true. A parameter with `AllowedValues` takes only those values, and any
  other parameter may also take a value that no literal names;
- any other form (two `Ref`s, `Fn::FindInMap`, ...) is an unknown fact,
  true or false independently of the others.

CloudFormation compares the values as strings, so the literal `1` equals
the parameter value "1", and YAML `true` equals "true". A combination of
condition values is possible when some choice of parameter values and
unknown facts gives every condition its value.

The definitions travel as canonical JSON text (`definitions_text`), so the
records that carry them stay hashable and picklable.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from mfa_guard.model import FnIfAssignment

# Maximum number of choices of parameter values and unknown facts tried for
# one combination of condition values, 2**8. When a combination needs more,
# it is taken as possible.
MAX_CHOICES = 256
# Maximum depth of nested condition functions that is followed.
MAX_DEPTH = 32

# The value of a parameter that equals none of the literals it is compared with.
_OTHER = None


def definitions_text(conditions: Any, parameters: Any = None) -> str:
    """Return a template's `Conditions` as canonical JSON, or "" for none.

    The text also carries the `AllowedValues` of each parameter in
    `parameters` (the template's `Parameters` section) that has them.
    """
    if not isinstance(conditions, dict) or not conditions:
        return ""
    try:
        data = {
            "AllowedValues": _allowed_values(parameters),
            "Conditions": _plain(conditions),
        }
        return json.dumps(data, sort_keys=True)
    except (TypeError, ValueError, RecursionError):
        return ""


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _allowed_values(parameters: Any) -> dict[str, list[str]]:
    """Map each parameter with a list of literal `AllowedValues` to their texts."""
    if not isinstance(parameters, dict):
        return {}
    allowed: dict[str, list[str]] = {}
    for name, spec in parameters.items():
        values = spec.get("AllowedValues") if isinstance(spec, dict) else None
        if not isinstance(values, list) or not values:
            continue
        texts = [_literal_text(value) for value in values]
        if all(text is not None for text in texts):
            allowed[str(name)] = list(dict.fromkeys(str(text) for text in texts))
    return allowed


def possible(assignment: Mapping[str, bool], text: str) -> bool:
    """Return False only when no stack can give the conditions these values."""
    if not text or not assignment:
        return True
    return _possible(tuple(sorted(assignment.items())), text)


@functools.lru_cache(maxsize=4096)
def _possible(assignment: tuple[tuple[str, bool], ...], text: str) -> bool:
    conditions, allowed = _definitions(text)
    expected = {name: value for name, value in assignment if name in conditions}
    if not expected:
        return True

    compared: dict[str, dict[str, None]] = {}
    facts: dict[str, None] = {}
    for name in expected:
        _collect(conditions.get(name), conditions, compared, facts, 0)
    domains = {
        parameter: _domain(literals, allowed.get(parameter))
        for parameter, literals in compared.items()
    }
    sizes = [len(domain) for domain in domains.values()]
    if math.prod(sizes) * 2 ** len(facts) > MAX_CHOICES:
        return True

    for choice in _choices(domains, list(facts)):
        results = {
            name: _value(conditions[name], conditions, choice, 0) for name in expected
        }
        if all(
            result is None or result == expected[name]
            for name, result in results.items()
        ):
            return True
    return False


@functools.lru_cache(maxsize=64)
def _definitions(text: str) -> tuple[dict[str, Any], dict[str, list[str]]]:
    loaded = json.loads(text)
    if not isinstance(loaded, dict):
        return {}, {}
    conditions = loaded.get("Conditions")
    allowed = loaded.get("AllowedValues")
    return (
        conditions if isinstance(conditions, dict) else {},
        allowed if isinstance(allowed, dict) else {},
    )


def _domain(literals: dict[str, None], allowed: list[str] | None) -> list[str | None]:
    """Return the values of a parameter worth trying: one per distinct outcome.

    Every value that no literal names compares the same way, so one stand-in
    (`_OTHER`) covers them, when the parameter can take such a value.
    """
    if allowed is None:
        return [*literals, _OTHER]
    domain: list[str | None] = [value for value in literals if value in allowed]
    if any(value not in literals for value in allowed):
        domain.append(_OTHER)
    return domain


class _Choice:
    """One value for each compared parameter and each unknown fact."""

    def __init__(self, parameters: dict[str, str | None], facts: dict[str, bool]):
        self.parameters = parameters
        self.facts = facts


def _choices(
    domains: dict[str, list[str | None]], facts: list[str]
) -> Iterator[_Choice]:
    names = list(domains)
    for values in itertools.product(*domains.values()):
        parameters = dict(zip(names, values, strict=True))
        for flags in itertools.product((True, False), repeat=len(facts)):
            yield _Choice(parameters, dict(zip(facts, flags, strict=True)))


def _collect(
    value: Any,
    conditions: dict[str, Any],
    compared: dict[str, dict[str, None]],
    facts: dict[str, None],
    depth: int,
) -> None:
    """Add what `value` depends on: compared parameters with their literals, and facts."""
    if depth > MAX_DEPTH or not isinstance(value, dict) or len(value) != 1:
        return
    name, arguments = next(iter(value.items()))
    if name == "Fn::Equals":
        if _literal_equals(arguments) is not None:
            return
        comparison = _parameter_comparison(arguments)
        if comparison is None:
            facts.setdefault(_fact_key(arguments))
        else:
            parameter, literal = comparison
            compared.setdefault(parameter, {}).setdefault(literal)
    elif name == "Condition" and isinstance(arguments, str):
        _collect(conditions.get(arguments), conditions, compared, facts, depth + 1)
    elif name in ("Fn::Not", "Fn::And", "Fn::Or") and isinstance(arguments, list):
        for item in arguments:
            _collect(item, conditions, compared, facts, depth + 1)


def _value(
    value: Any, conditions: dict[str, Any], choice: _Choice, depth: int
) -> bool | None:
    """Evaluate a condition function, or return None where it is not understood."""
    if depth > MAX_DEPTH or not isinstance(value, dict) or len(value) != 1:
        return None
    name, arguments = next(iter(value.items()))
    if name == "Fn::Equals":
        return _equals(arguments, choice)
    if name == "Condition" and isinstance(arguments, str):
        return _value(conditions.get(arguments), conditions, choice, depth + 1)
    if not isinstance(arguments, list):
        return None

    items = [_value(item, conditions, choice, depth + 1) for item in arguments]
    if None in items:
        return None
    if name == "Fn::Not" and len(items) == 1:
        return not items[0]
    if name == "Fn::And" and items:
        return all(items)
    if name == "Fn::Or" and items:
        return any(items)
    return None


def _equals(arguments: Any, choice: _Choice) -> bool | None:
    literal = _literal_equals(arguments)
    if literal is not None:
        return literal
    comparison = _parameter_comparison(arguments)
    if comparison is None:
        return choice.facts.get(_fact_key(arguments))
    parameter, text = comparison
    if parameter not in choice.parameters:
        return None
    return choice.parameters[parameter] == text


def _fact_key(arguments: Any) -> str:
    return json.dumps(arguments, sort_keys=True)


def _literal_text(value: Any) -> str | None:
    """Return a literal as the string CloudFormation compares, or None."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _literal_equals(arguments: Any) -> bool | None:
    """Return the result of an Fn::Equals of two literals, or None otherwise."""
    if not isinstance(arguments, list) or len(arguments) != 2:
        return None
    first, second = (_literal_text(item) for item in arguments)
    if first is None or second is None:
        return None
    return first == second


def _parameter_comparison(arguments: Any) -> tuple[str, str] | None:
    """Return (parameter, literal) for an Fn::Equals of one `Ref` and one literal."""
    if not isinstance(arguments, list) or len(arguments) != 2:
        return None
    for reference, other in (arguments, arguments[::-1]):
        parameter = _ref_name(reference)
        literal = _literal_text(other)
        if parameter is not None and literal is not None:
            return parameter, literal
    return None


def _ref_name(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1:
        name = value.get("Ref")
        if isinstance(name, str):
            return name
    return None


def matches_any(
    alternatives: tuple[FnIfAssignment, ...], values: Mapping[str, bool]
) -> bool:
    """Return True when `values` match one of `alternatives`, or there are none.

    Each alternative lists condition values that must all hold. A name that
    `values` leaves out does not match.
    """
    if not alternatives:
        return True
    return any(
        all(values.get(name) == value for name, value in alternative)
        for alternative in alternatives
    )


def conjoin(
    first: tuple[FnIfAssignment, ...], second: tuple[FnIfAssignment, ...]
) -> tuple[FnIfAssignment, ...] | None:
    """Return the alternatives under which both `first` and `second` hold.

    () stands for "always", as in `matches_any`, and None for "never": every pair
    of alternatives gives one condition two values.
    """
    if not first:
        return second
    if not second:
        return first
    joined: dict[FnIfAssignment, None] = {}
    for left in first:
        for right in second:
            merged = dict(left)
            if all(merged.setdefault(name, value) == value for name, value in right):
                joined.setdefault(tuple(merged.items()))
    if not joined:
        return None
    return tuple(joined)


def simplify(alternatives: Sequence[FnIfAssignment]) -> tuple[FnIfAssignment, ...]:
    """Merge alternatives that differ only in the value of one condition.

    `((A, true), (A, false))` becomes `()`, "always", as in `matches_any`, and
    duplicates are dropped.
    """
    found = list(dict.fromkeys(alternatives))
    merged = True
    while merged and () not in found:
        merged = False
        for left, right in itertools.combinations(found, 2):
            common = _merge_pair(left, right)
            if common is not None:
                found = [item for item in found if item not in (left, right)]
                found.append(common)
                merged = True
                break
    return () if () in found else tuple(dict.fromkeys(found))


def _merge_pair(left: FnIfAssignment, right: FnIfAssignment) -> FnIfAssignment | None:
    """Return `left` without the one condition whose value `right` flips, or None."""
    if len(left) != len(right) or dict(left).keys() != dict(right).keys():
        return None
    values = dict(right)
    differing = [name for name, value in left if values[name] != value]
    if len(differing) != 1:
        return None
    return tuple((name, value) for name, value in left if name != differing[0])
