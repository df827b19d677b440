"""Baselines: accept the findings a repository has today, report only new ones.

A finding's fingerprint hashes its rule, file, message and the text of the
statement or condition it points at, with white space removed, and leaves out
the line number. A baseline therefore still matches a finding after
unrelated lines are inserted above it, and stops matching once the
statement itself changes.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from mfa_guard.errors import UsageError
from mfa_guard.model import Finding

BASELINE_VERSION = 1


class SourceCache:
    """The lines of each file a fingerprint needs, read once."""

    def __init__(self) -> None:
        self._lines: dict[str, list[str]] = {}

    def span_text(self, finding: Finding) -> str:
        if finding.path not in self._lines:
            try:
                text = Path(finding.path).read_text(
                    encoding="utf-8-sig", errors="replace"
                )
            except OSError:
                text = ""
            self._lines[finding.path] = text.splitlines()
        lines = self._lines[finding.path][finding.line - 1 : finding.end_line]
        return "".join("".join(line.split()) for line in lines)


def fingerprint(finding: Finding, sources: SourceCache) -> str:
    import hashlib

    parts = (
        finding.rule_id,
        Path(finding.path).as_posix(),
        finding.message,
        sources.span_text(finding),
    )
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:32]


def write_baseline(
    path: Path, findings: Sequence[Finding], sources: SourceCache
) -> None:
    entries = [
        {
            "rule": finding.rule_name,
            "path": Path(finding.path).as_posix(),
            "fingerprint": fingerprint(finding, sources),
        }
        for finding in findings
    ]
    data = {"version": BASELINE_VERSION, "tool": "mfa-guard", "findings": entries}
    try:
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    except OSError as error:
        raise UsageError(
            f"failed to write the baseline {path}: {error.strerror or error}"
        ) from None


def read_baseline(path: Path) -> Counter[str]:
    """Return how many findings of each fingerprint the baseline accepts."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        if isinstance(error, FileNotFoundError):
            raise UsageError(
                f"baseline not found: {path}; write one with --write-baseline {path}"
            ) from None
        raise UsageError(f"could not read the baseline {path}: {error}") from None
    if (
        not isinstance(data, dict)
        or data.get("version") != BASELINE_VERSION
        or not isinstance(data.get("findings"), list)
    ):
        raise UsageError(
            f"invalid baseline {path}: expected a file written by 'mfa-guard scan --write-baseline'"
        )
    return Counter(
        str(entry.get("fingerprint"))
        for entry in data["findings"]
        if isinstance(entry, dict)
    )


def filter_baselined(
    findings: Sequence[Finding], accepted: Counter[str], sources: SourceCache
) -> tuple[list[Finding], int]:
    """Drop findings the baseline accepts; return the rest and how many were dropped."""
    remaining = Counter(accepted)
    kept = []
    for finding in findings:
        key = fingerprint(finding, sources)
        if remaining[key] > 0:
            remaining[key] -= 1
            continue
        kept.append(finding)
    return kept, len(findings) - len(kept)
