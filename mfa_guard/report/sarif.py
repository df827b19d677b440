"""SARIF 2.1.0 output for code-scanning dashboards.

Rule metadata comes from the same rule files as `explain` and docs/rules.md.
Results carry a partial fingerprint built from the rule, the file and the
statement's text, so a dashboard keeps tracking a finding when lines shift.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from mfa_guard import __version__
from mfa_guard.engine.docs import render_rule
from mfa_guard.engine.rules import Rule
from mfa_guard.model import Finding, Severity

if TYPE_CHECKING:
    from mfa_guard.fix import Replacement

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
# NOTE: relative to the repository root, because the project has no
# published documentation site yet; code-scanning tools show `help` instead.
RULES_DOC = "docs/rules.md"

_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
# The base that relative artifact URIs are resolved against: the folder the
# scan ran in, given as run.originalUriBaseIds.
SOURCE_ROOT = "%SRCROOT%"


def artifact_location(path: str) -> dict[str, str]:
    """Return a SARIF artifactLocation for a finding's path.

    An absolute path becomes a `file://` URI. A relative one stays relative,
    percent-encoded, and names SOURCE_ROOT as its base.
    """
    if os.path.isabs(path):
        return {"uri": Path(path).as_uri()}
    relative = path.replace("\\", "/")
    return {"uri": quote(relative, safe="/"), "uriBaseId": SOURCE_ROOT}


def rule_anchor(rule: Rule) -> str:
    return f"{RULES_DOC}#{rule.id.lower()}-{rule.name}"


def _rule_data(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.docs.rationale},
        "help": {"text": rule.docs.fix, "markdown": render_rule(rule, heading="##")},
        "helpUri": rule_anchor(rule),
        "defaultConfiguration": {"level": _LEVELS[rule.severity]},
        "properties": {"tags": ["security", "iam", "mfa"], "pack": rule.pack},
    }


def fingerprint(finding: Finding, context_text: str = "") -> str:
    """Hash what identifies a finding apart from its line: rule, file, policy, message and source text."""
    parts = (
        finding.rule_id,
        finding.path,
        finding.policy,
        finding.message,
        context_text,
    )
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:32]


def _fix(finding: Finding, replacements: Sequence[Replacement]) -> dict[str, Any]:
    """Return a SARIF fix: the replacements `mfa-guard scan --fix` makes for `finding`."""
    description = finding.autofix.description if finding.autofix else ""
    return {
        "description": {"text": description},
        "artifactChanges": [
            {
                "artifactLocation": artifact_location(finding.path),
                "replacements": [
                    {
                        "deletedRegion": {
                            "startLine": item.line,
                            "startColumn": item.column,
                            "endLine": item.end_line,
                            "endColumn": item.end_column,
                        },
                        "insertedContent": {"text": item.text},
                    }
                    for item in replacements
                ],
            }
        ],
    }


def _result(
    finding: Finding,
    rule_index: dict[str, int],
    fingerprints: dict[Finding, str],
    fixes: dict[Finding, list[Replacement]],
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "level": _LEVELS[finding.severity],
        "message": {
            "text": finding.message + (f". Fix: {finding.fix}" if finding.fix else "")
        },
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": artifact_location(finding.path),
                    "region": {
                        "startLine": finding.line,
                        "startColumn": finding.column,
                        "endLine": finding.end_line,
                        "endColumn": max(finding.end_column, 1),
                    },
                }
            }
        ],
        "partialFingerprints": {
            "mfaGuardFinding/v1": fingerprints.get(finding) or fingerprint(finding)
        },
    }
    if finding.rule_id in rule_index:
        result["ruleIndex"] = rule_index[finding.rule_id]
    if finding.policy:
        result["properties"] = {"policy": finding.policy}
    if finding in fixes:
        result["fixes"] = [_fix(finding, fixes[finding])]
    return result


def render(
    findings: Sequence[Finding],
    rules: Sequence[Rule],
    fingerprints: dict[Finding, str] | None = None,
) -> str:
    from mfa_guard.fix import finding_replacements

    ordered = sorted(rules, key=lambda rule: rule.id)
    rule_index = {rule.id: index for index, rule in enumerate(ordered)}
    # The fixer reads the files again and leaves out a fix that no longer applies.
    fixes = finding_replacements(findings)
    run = {
        "tool": {
            "driver": {
                "name": "mfa-guard",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule_data(rule) for rule in ordered],
            }
        },
        "originalUriBaseIds": {SOURCE_ROOT: {"uri": Path.cwd().as_uri() + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": [
            _result(finding, rule_index, fingerprints or {}, fixes)
            for finding in findings
        ],
    }
    document = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2) + "\n"
