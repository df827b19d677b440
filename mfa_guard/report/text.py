"""Human-readable output: one `path:line:column:` line a finding, then its fix."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from mfa_guard.model import Finding, Severity

_COLOURS = {
    Severity.ERROR: "\033[31m",
    Severity.WARNING: "\033[33m",
    Severity.INFO: "\033[36m",
}
_BOLD = "\033[1m"
_RESET = "\033[0m"


def format_finding(finding: Finding, colour: bool = False) -> str:
    location = f"{finding.path}:{finding.line}:{finding.column}:"
    severity = f"[{finding.severity}]"
    if colour:
        location = f"{_BOLD}{location}{_RESET}"
        severity = f"{_COLOURS[finding.severity]}{severity}{_RESET}"
    text = f"{location} {finding.rule_id} {severity} {finding.rule_name}: {finding.message}"
    if finding.policy and finding.policy != finding.path:
        text += f" (in {finding.policy})"
    if finding.fix:
        text += f"\n    fix: {finding.fix}"
    return text


def format_summary(
    findings: Sequence[Finding],
    files: int,
    policies: int,
    seconds: float,
    suppressed: int = 0,
    baselined: int = 0,
) -> str:
    counts = Counter(finding.severity for finding in findings)
    parts = [
        f"{counts[severity]} {severity}" for severity in sorted(Severity, reverse=True)
    ]
    summary = (
        f"{_count(len(findings), 'finding', 'findings')} ({', '.join(parts)})"
        f" in {_count(files, 'file', 'files')}"
        f" with {_count(policies, 'policy', 'policies')}"
    )
    if suppressed:
        summary += f", {suppressed} suppressed"
    if baselined:
        summary += f", {baselined} in the baseline"
    return f"{summary}, {seconds:.2f} s"


def _count(number: int, singular: str, plural: str) -> str:
    return f"{number} {singular if number == 1 else plural}"


def render(
    findings: Sequence[Finding],
    files: int,
    policies: int,
    seconds: float,
    colour: bool = False,
    suppressed: int = 0,
    baselined: int = 0,
) -> str:
    lines = [format_finding(finding, colour) for finding in findings]
    lines.append(
        format_summary(findings, files, policies, seconds, suppressed, baselined)
    )
    return "\n".join(lines) + "\n"
