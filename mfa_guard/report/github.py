"""GitHub Actions workflow commands: one annotation per finding."""

from __future__ import annotations

from collections.abc import Sequence

from mfa_guard.model import Finding, Severity

_COMMANDS = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "notice",
}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_finding(finding: Finding) -> str:
    properties = ",".join(
        [
            f"file={_escape_property(finding.path)}",
            f"line={finding.line}",
            f"col={finding.column}",
            f"endLine={finding.end_line}",
            f"endColumn={finding.end_column}",
            f"title={_escape_property(f'{finding.rule_id} {finding.rule_name}')}",
        ]
    )
    message = finding.message + (f"\nFix: {finding.fix}" if finding.fix else "")
    return f"::{_COMMANDS[finding.severity]} {properties}::{_escape_data(message)}"


def render(findings: Sequence[Finding]) -> str:
    return "".join(format_finding(finding) + "\n" for finding in findings)
