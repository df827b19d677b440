"""Build PolicyDocument objects from parsed policy JSON of any source format.

Every loader ends here. JSON files, CloudFormation templates and Terraform
all produce an IAM-shaped value (`{"Version": ..., "Statement": ...}`),
positioned where the format allows. This module normalises it: a single
statement becomes a list, and so does a single action, while booleans and
numbers in conditions become the strings IAM compares.
"""

from __future__ import annotations

from typing import Any

from mfa_guard.iam.conditions import is_known_operator
from mfa_guard.loaders.positions import (
    Pos,
    Unresolved,
    item_position,
    key_position,
    position_of,
)
from mfa_guard.model import (
    ConditionEntry,
    Diagnostic,
    DiagnosticKind,
    PolicyDocument,
    PolicyKind,
    SourceSpan,
    Statement,
)
from mfa_guard.records import field, record

_LIST_ELEMENTS = ("Action", "NotAction", "Resource", "NotResource")


@record(frozen=False)
class _Context:
    path: str
    fallback: Pos
    problems: list[Diagnostic] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)

    def span(self, pos: Pos | None) -> SourceSpan:
        line, column, end_line, end_column = pos or self.fallback
        return SourceSpan(self.path, line, column, end_line, end_column)

    def problem(self, message: str, pos: Pos | None) -> None:
        diagnostic = Diagnostic(DiagnosticKind.PARSE_ERROR, self.span(pos), message)
        self.problems.append(diagnostic)


def looks_like_policy(value: Any) -> bool:
    """Return True for a mapping with a `Statement` element."""
    return isinstance(value, dict) and "Statement" in value


def build_document(
    value: Any,
    *,
    path: str,
    name: str = "",
    kind: PolicyKind = PolicyKind.IDENTITY,
    fallback: Pos = (1, 1, 1, 1),
    variant: str | None = None,
    unresolved: tuple[str, ...] = (),
) -> tuple[PolicyDocument | None, list[Diagnostic]]:
    """Build a document from an IAM-shaped value.

    Returns the document (None when `value` is not a policy at all) and the
    problems found, such as a statement without `Effect`. A statement with a
    problem is left out; the rest of the document is still built.
    `fallback` is the position used for values that carry none.
    """
    context = _Context(path, position_of(value) or fallback)
    context.unresolved.extend(unresolved)
    if not looks_like_policy(value):
        return None, []

    version = value.get("Version")
    if isinstance(version, Unresolved):
        context.unresolved.append(str(version))
    if version is not None and not isinstance(version, str):
        context.problem(
            f"invalid Version {version!r}: expected a string",
            key_position(value, "Version"),
        )
        version = str(version)

    raw_statements = value["Statement"]
    if isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
        positions: list[Pos | None] = [position_of(value["Statement"])]
    elif isinstance(raw_statements, list):
        positions = [
            item_position(raw_statements, i) for i in range(len(raw_statements))
        ]
    else:
        context.problem(
            "invalid Statement: expected an object or a list of objects",
            key_position(value, "Statement"),
        )
        raw_statements, positions = [], []

    statements = []
    for index, (raw, pos) in enumerate(zip(raw_statements, positions, strict=False)):
        statement = _build_statement(raw, index, pos or position_of(raw), context)
        if statement is not None:
            statements.append(statement)

    document = PolicyDocument(
        path=path,
        name=name,
        kind=kind,
        version=version,
        statements=tuple(statements),
        span=context.span(position_of(value)),
        variant=variant,
        unresolved=tuple(dict.fromkeys(context.unresolved)),
    )
    return document, context.problems


def _build_statement(
    raw: Any, index: int, pos: Pos | None, context: _Context
) -> Statement | None:
    if not isinstance(raw, dict):
        context.problem(f"invalid statement #{index + 1}: expected an object", pos)
        return None
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        if isinstance(effect, Unresolved):
            context.unresolved.append(str(effect))
        else:
            where = key_position(raw, "Effect") or pos
            context.problem(
                f'invalid Effect {effect!r} in statement #{index + 1}: expected "Allow" or "Deny"',
                where,
            )
        return None

    if not _valid_elements(raw, index, pos, context):
        return None

    elements: dict[str, tuple[str, ...] | None] = {}
    item_spans: list[tuple[str, tuple[SourceSpan, ...]]] = []
    for name in _LIST_ELEMENTS:
        items = _string_list(raw, name, context)
        if items is None:
            elements[name] = None
            continue
        elements[name] = tuple(text for text, _ in items)
        spans = tuple(context.span(where or pos) for _, where in items)
        item_spans.append((name, spans))
    sid = raw.get("Sid")
    return Statement(
        index=index,
        sid=sid if isinstance(sid, str) else None,
        effect=effect,
        actions=elements["Action"],
        not_actions=elements["NotAction"],
        resources=elements["Resource"],
        not_resources=elements["NotResource"],
        conditions=_conditions(raw, context, pos),
        span=context.span(pos),
        has_principal="Principal" in raw or "NotPrincipal" in raw,
        item_spans=tuple(item_spans),
    )


def _valid_elements(
    raw: dict[str, Any], index: int, pos: Pos | None, context: _Context
) -> bool:
    """Report what IAM rejects: both or neither of Action and NotAction, or both Resource forms."""
    label = f"statement #{index + 1}"
    if "Action" in raw and "NotAction" in raw:
        context.problem(
            f"invalid {label}: it has both Action and NotAction, which IAM rejects", pos
        )
        return False
    if "Action" not in raw and "NotAction" not in raw:
        context.problem(
            f"invalid {label}: it has neither Action nor NotAction, which IAM rejects",
            pos,
        )
        return False
    if "Resource" in raw and "NotResource" in raw:
        context.problem(
            f"invalid {label}: it has both Resource and NotResource, which IAM rejects",
            pos,
        )
        return False
    return True


def _string_list(
    raw: dict[str, Any], name: str, context: _Context
) -> list[tuple[str, Pos | None]] | None:
    """Return the string entries of one element with the position of each.

    An entry without its own position (a single string, or a value built
    by evaluating Terraform) gets the position of the element's key.
    """
    if name not in raw:
        return None
    value = raw[name]
    items = value if isinstance(value, list) else [value]
    result = []
    for index, item in enumerate(items):
        if isinstance(item, Unresolved):
            context.unresolved.append(str(item))
        where = item_position(value, index) or key_position(raw, name)
        if isinstance(item, str):
            result.append((item, where))
            continue
        context.problem(f"invalid {name} entry {item!r}: expected a string", where)
    return result


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _conditions(
    raw: dict[str, Any], context: _Context, statement_pos: Pos | None
) -> tuple[ConditionEntry, ...]:
    block = raw.get("Condition")
    if block is None:
        return ()
    block_pos = key_position(raw, "Condition") or statement_pos
    if not isinstance(block, dict):
        context.problem("invalid Condition: expected an object of operators", block_pos)
        return ()
    entries = []
    for operator, tests in block.items():
        operator_pos = key_position(block, operator) or block_pos
        if isinstance(operator, Unresolved):
            context.unresolved.append(str(operator))
        elif not is_known_operator(str(operator)):
            context.problem(
                f"invalid condition operator {operator!r}, which IAM rejects",
                operator_pos,
            )
        if not isinstance(tests, dict):
            context.problem(
                f"invalid Condition operator {operator!r}: expected an object of keys",
                operator_pos,
            )
            continue
        for key, value in tests.items():
            key_pos = key_position(tests, key) or operator_pos
            if isinstance(key, Unresolved):
                context.unresolved.append(str(key))
            raw_values = tuple(value) if isinstance(value, list) else (value,)
            texts = []
            for item in raw_values:
                if isinstance(item, Unresolved):
                    context.unresolved.append(str(item))
                if isinstance(item, (dict, list)) or item is None:
                    context.problem(
                        f"invalid value {item!r} for condition key {key!r}", key_pos
                    )
                    continue
                texts.append(_scalar_text(item))
            entries.append(
                ConditionEntry(
                    operator=str(operator),
                    key=str(key),
                    values=tuple(texts),
                    raw_values=raw_values,
                    span=context.span(operator_pos),
                    key_span=context.span(key_pos),
                )
            )
    return tuple(entries)


def is_template(value: Any) -> bool:
    """Return True for a parsed CloudFormation template.

    A template has `AWSTemplateFormatVersion`, or `Resources` with at least
    one resource whose `Type` starts with "AWS::".
    """
    if not isinstance(value, dict):
        return False
    if "AWSTemplateFormatVersion" in value:
        return True
    resources = value.get("Resources")
    if not isinstance(resources, dict):
        return False
    for resource in resources.values():
        if not isinstance(resource, dict):
            continue
        resource_type = resource.get("Type")
        if isinstance(resource_type, str) and resource_type.startswith("AWS::"):
            return True
    return False
