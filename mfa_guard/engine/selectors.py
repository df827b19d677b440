"""JSONPath selectors over a normalised view of each policy document.

Rule authors write selectors such as `$.Statement[?(@.Effect == 'Deny')]`
against the IAM JSON shape. The view always has `Statement` as a list and
every list element (`Action`, `Resource`, condition values) as a list, so a
selector never misses a single-object statement. Each selector is compiled
once per run.

The selectors of the shipped rules only pick statements by `Effect`. Those
are evaluated on the statements directly, without importing jsonpath-ng
or building the JSON view, which saves a one-file scan most of its
selector cost. The tests compare both ways on generated documents.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from mfa_guard.model import PolicyDocument, Statement

EFFECT_FILTER = re.compile(
    r"\$\.Statement\[\?\(\s*@\.Effect\s*==\s*(?:'(?P<single>[A-Za-z]*)'|\"(?P<double>[A-Za-z]*)\")\s*\)\]"
)


def effect_filter(expression: str) -> str | None:
    """Return the effect `expression` filters on, when it is the form `$.Statement[?(@.Effect == 'Deny')]`."""
    match = EFFECT_FILTER.fullmatch(expression.strip())
    if match is None:
        return None
    return (
        match.group("single")
        if match.group("single") is not None
        else match.group("double")
    )


@cache
def compile_selector(expression: str) -> Any:
    """Compile a JSONPath expression (with filters), or raise ValueError."""
    from jsonpath_ng.ext import parser

    try:
        return parser.parse(expression)
    except Exception as error:
        # jsonpath-ng raises its own lexer and parser errors, and also plain
        # exceptions from the lexer's tables on some inputs.
        raise ValueError(str(error)) from None


def statement_view(statement: Statement) -> dict[str, Any]:
    view: dict[str, Any] = {"Effect": statement.effect}
    if statement.sid is not None:
        view["Sid"] = statement.sid
    elements = (
        ("Action", statement.actions),
        ("NotAction", statement.not_actions),
        ("Resource", statement.resources),
        ("NotResource", statement.not_resources),
    )
    for name, values in elements:
        if values is not None:
            view[name] = list(values)
    if statement.conditions:
        condition: dict[str, dict[str, list[str]]] = {}
        for entry in statement.conditions:
            condition.setdefault(entry.operator, {})[entry.key] = list(entry.values)
        view["Condition"] = condition
    return view


def document_view(
    document: PolicyDocument,
) -> tuple[dict[str, Any], dict[int, Statement]]:
    """Return the JSON view of `document` and a map from each statement view's id to its Statement."""
    statements = []
    owners: dict[int, Statement] = {}
    for statement in document.statements:
        view = statement_view(statement)
        owners[id(view)] = statement
        statements.append(view)
    document_data: dict[str, Any] = {
        "Kind": document.kind.value,
        "Statement": statements,
    }
    if document.version is not None:
        document_data["Version"] = document.version
    return document_data, owners


def select_statements(
    expression: str | None,
    document: PolicyDocument,
    view: Callable[[], tuple[dict[str, Any], dict[int, Statement]]] | None = None,
) -> list[Statement]:
    """Return the statements of `document` that `expression` selects, in order.

    Without an expression every statement is selected. A match inside a
    statement (say `$.Statement[*].Condition`) selects that statement.
    `view` returns the result of `document_view(document)`, when the caller
    keeps one; it is called only for selectors that need the JSON view.
    """
    if expression is None:
        return list(document.statements)
    effect = effect_filter(expression)
    if effect is not None:
        return [s for s in document.statements if s.effect == effect]
    return select_with_jsonpath(
        expression, view() if view is not None else document_view(document)
    )


def select_with_jsonpath(
    expression: str, view: tuple[dict[str, Any], dict[int, Statement]]
) -> list[Statement]:
    """Return the statements `expression` selects in `view`, evaluated by jsonpath-ng."""
    data, owners = view
    selected: dict[int, Statement] = {}
    for match in compile_selector(expression).find(data):
        context = match
        while context is not None and id(context.value) not in owners:
            context = context.context
        if context is not None:
            statement = owners[id(context.value)]
            selected[statement.index] = statement
    return [selected[index] for index in sorted(selected)]
