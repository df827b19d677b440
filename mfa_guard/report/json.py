"""Machine-readable output; the schema is documented in docs/output.md."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from mfa_guard import __version__
from mfa_guard.model import Finding, Severity

SCHEMA_VERSION = 1


def finding_data(finding: Finding) -> dict[str, Any]:
    return {
        "path": finding.path,
        "line": finding.line,
        "column": finding.column,
        "end_line": finding.end_line,
        "end_column": finding.end_column,
        "rule_id": finding.rule_id,
        "rule_name": finding.rule_name,
        "severity": str(finding.severity),
        "message": finding.message,
        "fix": finding.fix,
        "policy": finding.policy,
    }


def render(
    findings: Sequence[Finding],
    files: int,
    policies: int,
    seconds: float,
    suppressed: int = 0,
    baselined: int = 0,
) -> str:
    counts = Counter(str(finding.severity) for finding in findings)
    data = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "mfa-guard", "version": __version__},
        "findings": [finding_data(finding) for finding in findings],
        "summary": {
            "files": files,
            "policies": policies,
            "findings": {str(severity): counts[str(severity)] for severity in Severity},
            "suppressed": suppressed,
            "baselined": baselined,
            "seconds": round(seconds, 3),
        },
    }
    return json.dumps(data, indent=2) + "\n"
