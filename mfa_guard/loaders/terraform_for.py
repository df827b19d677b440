"""Compute `for` expressions in the fallback evaluator.

`[for v in c : v.x if v.on]` and `{for k, v in c : k => v}` are computed
over the collections the evaluator can compute, so that a `for_each` such
as `{for k, v in local.m : k => v if v.enabled}` can be shown to give no
instance. A result of more than MAX_ITEMS items, or a loop past the
evaluator's MAX_ITERATIONS, is Unresolved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mfa_guard.loaders.hcl_source import SourceFile
from mfa_guard.loaders.positions import Unresolved
from mfa_guard.loaders.terraform_blocks import unwrap
from mfa_guard.loaders.terraform_operations import truth_value
from mfa_guard.loaders.terraform_scope import MAX_ITEMS, contains_unresolved, describe

if TYPE_CHECKING:
    from tree_sitter import Node

    from mfa_guard.loaders.terraform_expressions import Evaluator

_FOR_FORMS = ("for_tuple_expr", "for_object_expr")


def evaluate_for(evaluator: Evaluator, node: Node, source: SourceFile) -> Any:
    """Evaluate a `for_expr` node into a list or, for `{for ...}`, a dict.

    Returns Unresolved when the collection, a condition, a key or a value
    is unknown. It does so too where Terraform rejects the expression: for a
    condition that is no boolean, a key that is no string, number or bool,
    and a repeated key without the grouping `...`.
    """
    form = next((child for child in node.children if child.type in _FOR_FORMS), None)
    intro = None
    if form is not None:
        intro = next((c for c in form.children if c.type == "for_intro"), None)
    if form is None or intro is None:
        return _unresolved(node, source)

    names = [source.node_text(c) for c in intro.children if c.type == "identifier"]
    collections = [c for c in intro.children if c.type == "expression"]
    if len(names) not in (1, 2) or len(collections) != 1:
        return _unresolved(node, source)
    pairs = _iteration(evaluator, collections[0], source)
    if pairs is None:
        return _unresolved(node, source)

    rows = _for_rows(evaluator, form, names, pairs, source)
    if rows is None or contains_unresolved(rows):
        return _unresolved(node, source)
    if form.type == "for_tuple_expr":
        return [row[0] for row in rows]
    grouping = any(child.type == "ellipsis" for child in form.children)
    result = _for_object(rows, grouping)
    return _unresolved(node, source) if result is None else result


def _iteration(
    evaluator: Evaluator, collection: Node, source: SourceFile
) -> list[tuple[Any, Any]] | None:
    """Return the (key, value) pairs a `for` iterates over, or None if unknown.

    A map is iterated in the lexical order of its keys, a list by index, and
    a set (here only a `toset(...)` call) with each element as key and value.
    A list with an Unresolved item is unknown, because `concat` with an
    unknown list puts one marker where any number of items may be.
    NOTE: a variable whose type is a set evaluates to a list, so its two
    iteration variables get the index instead of the element as key.
    """
    value = evaluator.evaluate(collection, source)
    if not isinstance(value, dict | list) or isinstance(value, Unresolved):
        return None
    # Checked before the pairs are built, so that a spent budget ends each
    # further loop at once.
    if len(value) > MAX_ITEMS or not evaluator.spend_iterations(len(value)):
        return None
    if isinstance(value, dict):
        return [(key, value[key]) for key in sorted(value)]
    if any(isinstance(item, Unresolved) for item in value):
        return None
    if _is_call(collection, "toset", source):
        return [(item, item) for item in value]
    return list(enumerate(value))


def _for_rows(
    evaluator: Evaluator,
    form: Node,
    names: list[str],
    pairs: list[tuple[Any, Any]],
    source: SourceFile,
) -> list[list[Any]] | None:
    """Evaluate the result expressions for each pair that passes the `if` filter.

    Returns None when a condition is unknown or no boolean.
    """
    results = [c for c in form.children if c.type == "expression"]
    condition = None
    for child in form.children:
        if child.type == "for_cond":
            condition = next(
                (c for c in child.children if c.type == "expression"), None
            )

    saved = dict(evaluator.bound)
    rows = []
    try:
        for key, value in pairs:
            if len(names) == 1:
                evaluator.bound[names[0]] = value
            else:
                evaluator.bound.update({names[0]: key, names[1]: value})
            if condition is not None:
                keep = truth_value(evaluator.evaluate(condition, source))
                if keep is None:
                    return None
                if not keep:
                    continue
            rows.append([evaluator.evaluate(result, source) for result in results])
    finally:
        evaluator.bound = saved
    return rows


def _for_object(rows: list[list[Any]], grouping: bool) -> dict[str, Any] | None:
    """Build the object of `{for ... : key => value}`, grouping values under `...`."""
    result: dict[str, Any] = {}
    for row in rows:
        if len(row) != 2:
            return None
        key = _object_key(row[0])
        if key is None:
            return None
        if grouping:
            result.setdefault(key, []).append(row[1])
        elif key in result:
            return None
        else:
            result[key] = row[1]
    return result


def _object_key(value: Any) -> str | None:
    """Convert a `for` key to the string Terraform uses, or None if it has none."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    return None


def _is_call(node: Node, name: str, source: SourceFile) -> bool:
    core = unwrap(node)
    return core.type == "function_call" and source.node_text(core.children[0]) == name


def _unresolved(node: Node, source: SourceFile) -> Unresolved:
    return Unresolved(describe(node, source))
