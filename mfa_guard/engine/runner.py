"""Run rules over policy documents and loader diagnostics, producing findings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mfa_guard.engine.checks import Hit, run_condition_differs, run_denies
from mfa_guard.engine.context import RunContext
from mfa_guard.engine.predicates import PREDICATES, is_mfa_test
from mfa_guard.engine.rules import Rule
from mfa_guard.engine.selectors import select_statements
from mfa_guard.model import (
    Diagnostic,
    DiagnosticKind,
    Finding,
    PolicyDocument,
    SourceSpan,
    Statement,
)


def _has_mfa_test(document: PolicyDocument) -> bool:
    return any(
        is_mfa_test(entry)
        for statement in document.statements
        for entry in statement.conditions
    )


def _location(
    rule: Rule, document: PolicyDocument, statement: Statement
) -> tuple[SourceSpan, dict[str, str]]:
    if rule.location == "document":
        return document.span, {}
    if rule.location.startswith("condition:"):
        key = rule.location.split(":", 1)[1].lower()
        entries = [entry for entry in statement.conditions if entry.key.lower() == key]
        entries.sort(key=lambda entry: not is_mfa_test(entry))
        if entries:
            entry = entries[0]
            return entry.span, {"operator": entry.operator, "key": entry.key}
    return statement.span, {}


def _finding(rule: Rule, hit: Hit, extra: dict[str, str]) -> Finding:
    fields = {
        name: ""
        for name in (
            "action",
            "actions",
            "conditional",
            "detail",
            "operator",
            "key",
            "policy",
            "resource",
            "scenario",
            "statement",
            "who",
        )
    }
    fields.update(extra)
    fields.update(hit.fields)
    span = hit.span
    return Finding(
        path=span.path,
        line=span.line,
        column=span.column,
        end_line=span.end_line,
        end_column=span.end_column,
        rule_id=rule.id,
        rule_name=rule.name,
        severity=rule.severity,
        message=rule.message.format_map(fields),
        fix=rule.fix.format_map(fields) if rule.fix else None,
        policy=fields["policy"],
    )


class Analyzer:
    """The rules of one run. Call `analyze` once per file or Terraform module."""

    def __init__(
        self, rules: Sequence[Rule], context: RunContext | None = None
    ) -> None:
        self.rules = list(rules)
        self.context = context or RunContext()
        self.statement_rules = [
            rule for rule in self.rules if "diagnostic" not in rule.check
        ]
        self.diagnostic_rules = {
            rule.check["diagnostic"]: rule
            for rule in self.rules
            if "diagnostic" in rule.check
        }

    def analyze(
        self,
        documents: Iterable[PolicyDocument],
        diagnostics: Iterable[Diagnostic] = (),
    ) -> list[Finding]:
        findings: set[Finding] = set()
        all_diagnostics = list(diagnostics)
        for document in documents:
            findings.update(self._analyze_document(document))
            if document.unresolved:
                message = f"policy {document.label} depends on values that could not be resolved: {', '.join(document.unresolved)}; the resolvable parts were checked"
                all_diagnostics.append(
                    Diagnostic(DiagnosticKind.UNRESOLVED, document.span, message)
                )
        for diagnostic in all_diagnostics:
            rule = self.diagnostic_rules.get(diagnostic.kind.value)
            if rule is not None:
                hit = Hit(diagnostic.span, {"detail": diagnostic.message})
                findings.add(_finding(rule, hit, {}))
        return sorted(findings)

    def _analyze_document(self, document: PolicyDocument) -> list[Finding]:
        findings = []
        mfa_enforcing = _has_mfa_test(document)
        for rule in self.statement_rules:
            if "mfa-deny" in rule.where and not mfa_enforcing:
                continue
            for statement in select_statements(rule.select, document):
                if not all(
                    PREDICATES[name](statement, document, self.context)
                    for name in rule.where
                ):
                    continue
                span, extra = _location(rule, document, statement)
                extra["statement"] = statement.label
                extra["policy"] = document.label
                for hit in self._run_check(rule, document, statement, span):
                    findings.append(_finding(rule, hit, extra))
        return findings

    def _run_check(
        self,
        rule: Rule,
        document: PolicyDocument,
        statement: Statement,
        span: SourceSpan,
    ) -> list[Hit]:
        name, body = next(iter(rule.check.items()))
        if name == "denies":
            return run_denies(body, document, statement, self.context)
        return run_condition_differs(body, document, statement, self.context, span)
