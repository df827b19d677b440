"""Tell which values of a CloudFormation template's conditions can occur together.

A condition is defined with `Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`
and references to other conditions (`Condition: Name`). `C1: !Not
[Condition: C0]` makes C0 and C1 both false impossible, so no stack has a
policy variant built for that combination. Each `Fn::Equals` counts as an
unknown fact, except one that compares two equal literals, and a
combination of condition values is possible when some choice of those
facts gives every condition its value.

The definitions travel as canonical JSON text (`definitions_text`), so the
records that carry them stay hashable and picklable.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Mapping
from typing import Any

# Maximum number of Fn::Equals facts tried in every combination. A template
# with more is taken to allow every combination.
MAX_FACTS = 8
# Maximum depth of nested condition functions that is followed.
MAX_DEPTH = 32


def definitions_text(conditions: Any) -> str:
    """Return a template's `Conditions` section as canonical JSON, or "" for none."""
    if not isinstance(conditions, dict) or not conditions:
        return ""
    try:
        return json.dumps(_plain(conditions), sort_keys=True)
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


def possible(assignment: Mapping[str, bool], text: str) -> bool:
    """Return False only when no stack can give the conditions these values."""
    if not text or not assignment:
        return True
    definitions = _definitions(text)
    names = [name for name in assignment if name in definitions]
    if not names:
        return True
    facts: dict[str, None] = {}
    for name in names:
        _facts(definitions.get(name), definitions, facts, 0)
    if len(facts) > MAX_FACTS:
        return True
    keys = list(facts)
    for choice in itertools.product((True, False), repeat=len(keys)):
        values = dict(zip(keys, choice, strict=True))
        results = [_value(definitions[name], definitions, values, 0) for name in names]
        if all(
            result is None or result == assignment[name]
            for name, result in zip(names, results, strict=True)
        ):
            return True
    return False


@functools.lru_cache(maxsize=64)
def _definitions(text: str) -> dict[str, Any]:
    loaded = json.loads(text)
    return loaded if isinstance(loaded, dict) else {}


def _facts(
    value: Any, definitions: dict[str, Any], found: dict[str, None], depth: int
) -> None:
    """Add the key of each Fn::Equals that `value` depends on to `found`."""
    if depth > MAX_DEPTH or not isinstance(value, dict) or len(value) != 1:
        return
    name, arguments = next(iter(value.items()))
    if name == "Fn::Equals":
        if _literal_equals(arguments) is None:
            found.setdefault(json.dumps(arguments, sort_keys=True))
    elif name == "Condition" and isinstance(arguments, str):
        _facts(definitions.get(arguments), definitions, found, depth + 1)
    elif name in ("Fn::Not", "Fn::And", "Fn::Or") and isinstance(arguments, list):
        for item in arguments:
            _facts(item, definitions, found, depth + 1)


def _value(
    value: Any, definitions: dict[str, Any], facts: dict[str, bool], depth: int
) -> bool | None:
    """Evaluate a condition function, or return None where it is not understood."""
    if depth > MAX_DEPTH or not isinstance(value, dict) or len(value) != 1:
        return None
    name, arguments = next(iter(value.items()))
    if name == "Fn::Equals":
        literal = _literal_equals(arguments)
        if literal is not None:
            return literal
        return facts.get(json.dumps(arguments, sort_keys=True))
    if name == "Condition" and isinstance(arguments, str):
        return _value(definitions.get(arguments), definitions, facts, depth + 1)
    if not isinstance(arguments, list):
        return None
    items = [_value(item, definitions, facts, depth + 1) for item in arguments]
    if None in items:
        return None
    if name == "Fn::Not" and len(items) == 1:
        return not items[0]
    if name == "Fn::And" and items:
        return all(items)
    if name == "Fn::Or" and items:
        return any(items)
    return None


def _literal_equals(arguments: Any) -> bool | None:
    """Return the result of an Fn::Equals of two literals, or None otherwise."""
    if not isinstance(arguments, list) or len(arguments) != 2:
        return None
    if any(isinstance(item, dict | list) for item in arguments):
        return None
    return str(arguments[0]) == str(arguments[1])
