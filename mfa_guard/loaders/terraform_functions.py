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


def _tomap(mapping: Any) -> dict[str, Any]:
    if not isinstance(mapping, dict):
        raise ValueError(f"tomap expects a map, got {mapping!r}")
    return mapping


def _merge(*maps: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for item in maps:
        if not isinstance(item, dict):
            raise ValueError(f"merge expects objects, got {item!r}")
        result.update(item)
    return result


def _jsonencode(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _join(separator: Any, *lists: Any) -> str:
    items = _concat(*lists)
    if not isinstance(separator, str) or not all(isinstance(i, str) for i in items):
        raise ValueError(
            f"join expects a separator and lists of strings, got {items!r}"
        )
    text = separator.join(items)
    if any(isinstance(item, Unresolved) for item in items):
        return Unresolved(text)
    return text


def _format(spec: Any, *arguments: Any) -> str:
    """Apply the `%s`, `%d`, `%v` and `%%` verbs of Terraform's format().

    Any other verb, a flag or a width raises ValueError, so the call stays
    unresolved rather than get a guessed value.
    """
    if not isinstance(spec, str):
        raise ValueError(f"format expects a string, got {spec!r}")
    pieces = []
    remaining = list(arguments)
    index = 0
    while index < len(spec):
        char = spec[index]
        if char != "%":
            pieces.append(char)
            index += 1
            continue
        verb = spec[index + 1 : index + 2]
        index += 2
        if verb == "%":
            pieces.append("%")
            continue
        if verb not in ("s", "d", "v") or not remaining:
            raise ValueError(f"format verb %{verb} is not computed here")
        pieces.append(_format_value(verb, remaining.pop(0)))
    if remaining:
        raise ValueError("format has more arguments than verbs")
    return "".join(pieces)


def _format_value(verb: str, value: Any) -> str:
    if isinstance(value, bool):
        if verb == "d":
            raise ValueError("format %d expects a number")
        return "true" if value else "false"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return str(int(value))
    if isinstance(value, str) and verb != "d":
        return value
    raise ValueError(f"format %{verb} cannot show {value!r}")


def _split(separator: Any, text: Any) -> list[str]:
    if not isinstance(separator, str) or not isinstance(text, str) or not separator:
        raise ValueError(f"split expects two strings, got {separator!r} and {text!r}")
    return text.split(separator)


def _string_function(name: str, convert: Callable[[str], str]) -> Callable[..., str]:
    def apply(text: Any) -> str:
        if not isinstance(text, str):
            raise ValueError(f"{name} expects a string, got {text!r}")
        return convert(text)

    return apply


def _length(value: Any) -> int:
    if not isinstance(value, (str, list, dict)):
        raise ValueError(f"length expects a string, list or map, got {value!r}")
    return len(value)


def _keys(value: Any) -> list[str]:
    if not isinstance(value, dict):
        raise ValueError(f"keys expects a map, got {value!r}")
    return sorted(value)


def _values(value: Any) -> list[Any]:
    """Return the map's values in the lexical order of their keys, as Terraform does."""
    if not isinstance(value, dict):
        raise ValueError(f"values expects a map, got {value!r}")
    return [value[key] for key in sorted(value)]


def _lookup(mapping: Any, key: Any, *default: Any) -> Any:
    """Return the value of `key` in a map, else the default, as Terraform's lookup()."""
    if not isinstance(mapping, dict) or not isinstance(key, str) or len(default) > 1:
        raise ValueError(f"lookup expects a map, a key and a default, got {mapping!r}")
    if key in mapping:
        return mapping[key]
    if default:
        return default[0]
    raise ValueError(f"lookup: key {key!r} not found and no default given")


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "compact": _compact,
    "concat": _concat,
    "distinct": _distinct,
    "flatten": _flatten,
    "format": _format,
    "join": _join,
    "jsonencode": _jsonencode,
    "keys": _keys,
    "length": _length,
    "lookup": _lookup,
    "lower": _string_function("lower", str.lower),
    "merge": _merge,
    "split": _split,
    "tolist": _tolist,
    "tomap": _tomap,
    "toset": _toset,
    "upper": _string_function("upper", str.upper),
    "values": _values,
}
