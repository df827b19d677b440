"""The Terraform functions the fallback evaluator implements.

The evaluator only runs where tfparse returned no value. tfparse 0.6.22
evaluates `jsonencode(...)` with every reference inside it set to null as
soon as one reference is unknown, so these are the functions commonly used to
build action lists and policy objects. Each takes the evaluated arguments and
returns the result, or raises ValueError when the arguments do not fit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mfa_guard.loaders.positions import Unresolved


def _concat(*lists: Any) -> list[Any]:
    result: list[Any] = []
    for item in lists:
        if isinstance(item, Unresolved):
            result.append(item)
        elif isinstance(item, list):
            result.extend(item)
        else:
            raise ValueError(f"concat expects lists, got {item!r}")
    return result


def _flatten(items: Any) -> list[Any]:
    if not isinstance(items, list):
        raise ValueError(f"flatten expects a list, got {items!r}")
    result: list[Any] = []
    for item in items:
        if isinstance(item, list):
            result.extend(_flatten(item))
        else:
            result.append(item)
    return result


def _distinct(items: Any) -> list[Any]:
    if not isinstance(items, list):
        raise ValueError(f"distinct expects a list, got {items!r}")
    result: list[Any] = []
    for item in items:
        if item not in result:
            result.append(item)
    return result


def _compact(items: Any) -> list[Any]:
    if not isinstance(items, list):
        raise ValueError(f"compact expects a list, got {items!r}")
    return [item for item in items if item not in ("", None)]


def _toset(items: Any) -> list[Any]:
    """Return the distinct items; Terraform orders a set of strings by value."""
    result = _distinct(items)
    if all(isinstance(item, str) for item in result):
        result.sort()
    return result


def _tolist(items: Any) -> list[Any]:
    if not isinstance(items, list):
        raise ValueError(f"tolist expects a list, got {items!r}")
    return items


def _merge(*maps: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for item in maps:
        if not isinstance(item, dict):
            raise ValueError(f"merge expects objects, got {item!r}")
        result.update(item)
    return result


def _jsonencode(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "compact": _compact,
    "concat": _concat,
    "distinct": _distinct,
    "flatten": _flatten,
    "jsonencode": _jsonencode,
    "merge": _merge,
    "tolist": _tolist,
    "toset": _toset,
}
