"""The `--fix` and `--diff` steps of `mfa-guard scan`, after the findings are gated."""

from __future__ import annotations

from collections.abc import Callable

from mfa_guard.fix.plan import plan_fixes
from mfa_guard.fix.source import FixError
from mfa_guard.records import field, record
from mfa_guard.scan import ScanResult


@record(frozen=False)
class FixOutcome:
    """The result of a fix run: the findings that remain, the diff and notes for the user.

    `diff` is empty unless the run printed a diff instead of writing.
    `messages` are one-line notes for standard error.
    """

    result: ScanResult
    diff: str = ""
    messages: list[str] = field(default_factory=list)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def run_fixes(
    result: ScanResult, write: bool, rescan: Callable[[], ScanResult]
) -> FixOutcome:
    """Fix the findings of `result` that have a safe fix.

    With `write`, the fixed files are written and `rescan` runs the scan
    again, so the findings that remain are those the files now contain.
    Without it, nothing is written and the diff is returned. The findings
    that remain are then the ones the fixes do not cover.
    """
    plan = plan_fixes(result.findings)
    outcome = FixOutcome(result)
    for skipped in plan.skipped:
        finding = skipped.finding
        outcome.messages.append(
            f"{finding.path}:{finding.line}:{finding.column}: {finding.rule_id} "
            f"not fixed: {skipped.reason}"
        )

    changed = [item for item in plan.files if item.changed]
    if not write:
        # NOTE: without a second scan, a finding that fixing would resolve
        # or reveal (such as an exemption that still lacks an Allow) is not
        # re-checked, so it counts as it did before the fixes.
        outcome.diff = "".join(item.unified_diff() for item in changed)
        fixed = {finding for item in changed for finding in item.findings}
        result.findings = [item for item in result.findings if item not in fixed]
        outcome.messages.append(
            f"would fix {_plural(len(fixed), 'finding')} in "
            f"{_plural(len(changed), 'file')}"
        )
        return outcome

    findings = 0
    files = 0
    for item in changed:
        try:
            item.write()
        except (FixError, OSError) as error:
            outcome.messages.append(f"{item.path}: not fixed: {error}")
            continue
        findings += len(item.findings)
        files += 1
    outcome.messages.append(
        f"fixed {_plural(findings, 'finding')} in {_plural(files, 'file')}"
    )
    if files:
        outcome.result = rescan()
    return outcome
