"""Convert unit reports to and from the JSON text of a result cache entry.

An entry is a JSON array of the report's fields in a fixed order, because
a warm-cache scan decodes one entry per unit, and entries like those of
bench/generate.py's tree decoded about a fifth faster as arrays than as
objects. The layout, with `span` standing for
`[path, line, column, end line, end column]`:

- report: `[name, read, note, documents, unresolved, findings, complete,
  comments]`, where `unresolved` is a list of `[path, message]` and
  `comments` maps a path to a list of suppressions;
- finding: `[span, rule id, rule name, severity, message, fix, policy,
  autofix]`, where `severity` is the number of `Severity` and `autofix`
  is null or `[kind, statement span, element, old, new, description]`;
- suppression: `[line, column, end line, end column, rules, reason]`.

Every value is checked for its type when read, so an entry in another
layout raises ValueError, KeyError or TypeError instead of producing a
wrong report. Change `CACHE_FORMAT` in `mfa_guard.cache` when the layout
changes.
"""

from __future__ import annotations

import json
from typing import Any

from mfa_guard.model import Autofix, Finding, Severity, SourceSpan
from mfa_guard.parallel import UnitReport
from mfa_guard.suppress import InlineSuppression


def encode_entry(report: UnitReport) -> str:
    """Return the report as one line of ASCII JSON text."""
    return json.dumps(encode_report(report), separators=(",", ":"))


def decode_entry(text: str) -> UnitReport:
    """Rebuild a report from `encode_entry`'s text, or raise ValueError, KeyError or TypeError."""
    return decode_report(_typed(json.loads(text), list))


def encode_report(report: UnitReport) -> list[Any]:
    return [
        report.name,
        report.read,
        report.note,
        report.documents,
        [list(item) for item in report.unresolved],
        [_encode_finding(finding) for finding in report.findings],
        report.complete,
        {
            path: [_encode_suppression(item) for item in items]
            for path, items in report.comments.items()
        },
    ]


def decode_report(data: list[Any]) -> UnitReport:
    """Rebuild a report from `encode_report`'s output, or raise ValueError, KeyError or TypeError."""
    name, read, note, documents, unresolved, findings, complete, comments = data
    return UnitReport(
        name=_typed(name, str),
        read=_typed(read, bool),
        note=_typed(note, str),
        documents=_typed(documents, int),
        unresolved=[
            (_typed(path, str), _typed(message, str)) for path, message in unresolved
        ],
        findings=[_decode_finding(item) for item in _typed(findings, list)],
        complete=_typed(complete, bool),
        comments={
            _typed(path, str): [_decode_suppression(path, item) for item in items]
            for path, items in _typed(comments, dict).items()
        },
    )


def _encode_span(span: SourceSpan) -> list[Any]:
    return [span.path, span.line, span.column, span.end_line, span.end_column]


def _decode_span(data: list[Any]) -> SourceSpan:
    path, line, column, end_line, end_column = data
    return SourceSpan(
        _typed(path, str),
        _typed(line, int),
        _typed(column, int),
        _typed(end_line, int),
        _typed(end_column, int),
    )


def _encode_finding(finding: Finding) -> list[Any]:
    autofix = finding.autofix
    span = [
        finding.path,
        finding.line,
        finding.column,
        finding.end_line,
        finding.end_column,
    ]
    return [
        span,
        finding.rule_id,
        finding.rule_name,
        int(finding.severity),
        finding.message,
        finding.fix,
        finding.policy,
        None if autofix is None else _encode_autofix(autofix),
    ]


def _decode_finding(data: list[Any]) -> Finding:
    span, rule_id, rule_name, severity, message, fix, policy, autofix = data
    where = _decode_span(span)
    return Finding(
        where.path,
        where.line,
        where.column,
        where.end_line,
        where.end_column,
        _typed(rule_id, str),
        _typed(rule_name, str),
        Severity(_typed(severity, int)),
        _typed(message, str),
        fix=None if fix is None else _typed(fix, str),
        policy=_typed(policy, str),
        autofix=None if autofix is None else _decode_autofix(autofix),
    )


def _encode_autofix(autofix: Autofix) -> list[Any]:
    return [
        autofix.kind,
        _encode_span(autofix.statement),
        autofix.element,
        autofix.old,
        list(autofix.new),
        autofix.description,
    ]


def _decode_autofix(data: list[Any]) -> Autofix:
    kind, statement, element, old, new, description = data
    return Autofix(
        kind=_typed(kind, str),
        statement=_decode_span(statement),
        element=_typed(element, str),
        old=_typed(old, str),
        new=tuple(_typed(item, str) for item in new),
        description=_typed(description, str),
    )


def _encode_suppression(item: InlineSuppression) -> list[Any]:
    span = item.span
    rules = list(item.rules)
    return [span.line, span.column, span.end_line, span.end_column, rules, item.reason]


def _decode_suppression(path: str, data: list[Any]) -> InlineSuppression:
    line, column, end_line, end_column, rules, reason = data
    span = _decode_span([path, line, column, end_line, end_column])
    names = tuple(_typed(name, str) for name in _typed(rules, list))
    return InlineSuppression(span, names, _typed(reason, str))


def _typed(value: Any, expected: type[Any]) -> Any:
    if not isinstance(value, expected):
        raise TypeError(f"expected {expected.__name__}, got {type(value).__name__}")
    return value
