"""Validation helpers shared by the rule file parser and the check vocabulary.

Every error is a RuleError that names the file, the key (a dotted path such
as `check.denies.requests[0].action`) and what was expected.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

MESSAGE_FIELDS = frozenset(
    {
        "action",
        "actions",
        "affected",
        "conditional",
        "detail",
        "operator",
        "key",
        "partial",
        "patterns",
        "policy",
        "resource",
        "resources",
        "scenario",
        "set",
        "statement",
        "users",
        "who",
    }
)


class RuleError(ValueError):
    """An invalid rule file, naming the file, the key and what was expected."""

    def __init__(self, path: Path | str, key: str, expected: str) -> None:
        super().__init__(f"{path}: invalid rule: key '{key}': {expected}")
        self.path = str(path)
        self.key = key


def require(
    data: Mapping[str, Any], key: str, kind: type, path: Path, prefix: str = ""
) -> Any:
    """Return `data[key]`, or raise RuleError when it is missing or not a `kind`."""
    if key not in data:
        raise RuleError(path, prefix + key, f"missing; expected a {kind.__name__}")

    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise RuleError(
            path,
            prefix + key,
            f"expected a {kind.__name__}, found {type(value).__name__}",
        )
    return value


def optional(
    data: Mapping[str, Any], key: str, kind: type, path: Path, prefix: str = ""
) -> Any:
    """Return `data[key]`, None when it is missing or null, or raise for a wrong type."""
    if key not in data or data[key] is None:
        return None
    return require(data, key, kind, path, prefix)


def check_unknown(
    data: Mapping[str, Any], allowed: set[str], path: Path, prefix: str = ""
) -> None:
    """Raise RuleError for the first key of `data` that is not in `allowed`."""
    for key in data:
        if key in allowed:
            continue
        if not allowed:
            raise RuleError(path, prefix + str(key), "unknown key; expected no keys")
        expected = ", ".join(sorted(allowed))
        raise RuleError(
            path, prefix + str(key), f"unknown key; expected one of {expected}"
        )


def require_mapping(value: Any, path: Path, key: str, expected: str) -> dict[str, Any]:
    """Return `value` when it is a mapping, or raise RuleError with `expected`."""
    if not isinstance(value, dict):
        raise RuleError(path, key, expected)
    return value


def string_list(value: Any, path: Path, key: str, expected: str) -> list[str]:
    """Return `value` when it is a non-empty list of strings, or raise RuleError."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RuleError(path, key, expected)
    if not value:
        raise RuleError(path, key, f"{expected}, not an empty list")
    return value


def check_template(template: str, path: Path, key: str) -> None:
    """Reject placeholders outside MESSAGE_FIELDS, including attribute or index access."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise RuleError(path, key, f"invalid template: {error}") from None

    for _, field_name, conversion, format_spec in parsed:
        if field_name is None:
            continue
        if field_name not in MESSAGE_FIELDS or conversion or format_spec:
            allowed = ", ".join("{" + name + "}" for name in sorted(MESSAGE_FIELDS))
            raise RuleError(
                path,
                key,
                f"invalid placeholder {{{field_name}}}; expected one of {allowed}",
            )
