"""Suppressions: inline comments and configuration ignores.

An inline comment `# mfa-guard: ignore[RULE, ...] reason` (or `//` in HCL)
names rules by name or id. It suppresses their findings that start on the
comment's line or on the next line, so it works at the end of a line or on
the line above. JSON cannot carry comments, so the configuration file
has path- and rule-based ignores, optionally with an expiry date. A
suppression without a reason, or one that suppresses nothing, is reported.
"""

from __future__ import annotations

import datetime
import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mfa_guard.config import IgnoreEntry
from mfa_guard.model import Diagnostic, DiagnosticKind, Finding, SourceSpan

COMMENT_SUFFIXES = (".tf", ".hcl", ".yaml", ".yml", ".template")
MARKER = "mfa-guard:"
_COMMENT = re.compile(
    r"(?:#|//)\s*mfa-guard:\s*ignore\[(?P<rules>[^\]]*)\](?P<reason>[^\n]*)"
)


@dataclass
class InlineSuppression:
    span: SourceSpan
    rules: tuple[str, ...]
    reason: str
    used: bool = False

    def covers(self, finding: Finding) -> bool:
        if finding.path != self.span.path or finding.line not in (
            self.span.line,
            self.span.line + 1,
        ):
            return False
        return finding.rule_id in self.rules or finding.rule_name in self.rules


@dataclass
class SuppressionResult:
    findings: list[Finding] = field(default_factory=list)
    suppressed: int = 0
    problems: list[Diagnostic] = field(default_factory=list)


def read_inline(path: str, text: str) -> list[InlineSuppression]:
    """Find the suppression comments in the text of a YAML or HCL file."""
    if MARKER not in text:
        return []
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _COMMENT.search(line)
        if match is None:
            continue
        rules = tuple(
            name.strip() for name in match.group("rules").split(",") if name.strip()
        )
        column = match.start() + 1
        span = SourceSpan(path, number, column, number, len(line) + 1)
        found.append(InlineSuppression(span, rules, match.group("reason").strip()))
    return found


def comment_files(findings: Iterable[Finding], read: Iterable[str]) -> list[str]:
    """List the files whose comments can suppress: those with findings and those the scan read."""
    paths: set[str] = {finding.path for finding in findings}
    for name in read:
        path = Path(name)
        if path.is_dir():
            paths.update(
                str(child)
                for child in sorted(path.iterdir())
                if child.suffix in (".tf", ".hcl")
            )
        else:
            paths.add(name)
    return sorted(path for path in paths if path.lower().endswith(COMMENT_SUFFIXES))


def _ignore_matches(entry: IgnoreEntry, finding: Finding) -> bool:
    path = Path(finding.path).as_posix()
    if not any(
        fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(Path(path).name, pattern)
        for pattern in entry.paths
    ):
        return False
    return (
        not entry.rules
        or finding.rule_id in entry.rules
        or finding.rule_name in entry.rules
    )


def _problem(kind: DiagnosticKind, span: SourceSpan, message: str) -> Diagnostic:
    return Diagnostic(kind, span, message)


def apply_suppressions(
    findings: Sequence[Finding],
    inline: Sequence[InlineSuppression],
    ignores: Sequence[IgnoreEntry],
    known_rules: set[str],
    config_path: str | None = None,
    today: datetime.date | None = None,
) -> SuppressionResult:
    """Drop suppressed findings and report suppressions that lack a reason or suppress nothing."""
    today = today or datetime.date.today()
    active = [entry for entry in ignores if entry.until is None or entry.until >= today]
    used_ignores: set[int] = set()
    result = SuppressionResult()
    for finding in findings:
        suppression = next((item for item in inline if item.covers(finding)), None)
        if suppression is not None:
            suppression.used = True
            result.suppressed += 1
            continue
        entry = next((item for item in active if _ignore_matches(item, finding)), None)
        if entry is not None:
            used_ignores.add(id(entry))
            result.suppressed += 1
            continue
        result.findings.append(finding)

    for item in inline:
        unknown = [name for name in item.rules if name not in known_rules]
        if not item.reason:
            message = f"suppression of {', '.join(item.rules) or 'no rule'} gives no reason; add one after the closing bracket"
            result.problems.append(
                _problem(DiagnosticKind.SUPPRESSION_WITHOUT_REASON, item.span, message)
            )
        if unknown:
            message = f"suppression names no known rule: {', '.join(unknown)}; run 'mfa-guard rules' for the list"
            result.problems.append(
                _problem(DiagnosticKind.UNUSED_SUPPRESSION, item.span, message)
            )
        elif not item.used:
            message = f"suppression of {', '.join(item.rules)} matches no finding on this line or the next; remove it"
            result.problems.append(
                _problem(DiagnosticKind.UNUSED_SUPPRESSION, item.span, message)
            )

    config = config_path or ".mfa-guard.yaml"
    for entry in ignores:
        span = SourceSpan(config, entry.line, 1, entry.line, 1)
        if not entry.reason:
            message = f"ignore of {', '.join(entry.paths)} gives no reason; add a 'reason' key"
            result.problems.append(
                _problem(DiagnosticKind.SUPPRESSION_WITHOUT_REASON, span, message)
            )
        if entry in active and id(entry) not in used_ignores:
            message = (
                f"ignore of {', '.join(entry.paths)} matches no finding; remove it"
            )
            result.problems.append(
                _problem(DiagnosticKind.UNUSED_SUPPRESSION, span, message)
            )
    return result
