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
import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mfa_guard.discover import file_patterns, path_matcher
from mfa_guard.model import Diagnostic, DiagnosticKind, Finding, SourceSpan
from mfa_guard.records import field, record

if TYPE_CHECKING:
    from mfa_guard.config import IgnoreEntry

COMMENT_SUFFIXES = (".tf", ".hcl", ".yaml", ".yml", ".template")
# The files of a Terraform module directory whose comments are read.
MODULE_COMMENT_SUFFIXES = (".tf", ".hcl")
MARKER = "mfa-guard:"
_COMMENT = re.compile(
    r"(?:#|//)\s*mfa-guard:\s*ignore\[(?P<rules>[^\]]*)\](?P<reason>[^\n]*)"
)


@record(frozen=False)
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


@record(frozen=False)
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


def read_file_suppressions(path: str) -> list[InlineSuppression]:
    """Read the suppression comments of one file; a file that cannot be read has none.

    The file is decoded as UTF-8 with a byte-order mark removed and invalid
    bytes replaced. Only regular files are opened, because opening a named
    pipe blocks until a writer appears.
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return []
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError:
        return []
    # The marker is ASCII, so it is in the bytes exactly when it is in the text.
    if MARKER.encode() not in data:
        return []
    return read_inline(path, data.decode("utf-8-sig", errors="replace"))


def read_unit_comments(
    name: str, terraform: bool
) -> dict[str, list[InlineSuppression]]:
    """Map each file of a scanned unit that can contain suppression comments to its suppressions.

    A unit is one file, or a Terraform module directory whose `.tf` and
    `.hcl` files count.
    """
    if terraform:
        try:
            paths = [
                str(child)
                for child in Path(name).iterdir()
                if child.suffix in MODULE_COMMENT_SUFFIXES
            ]
        except OSError:
            paths = []
    else:
        paths = [name]
    return {
        path: read_file_suppressions(path)
        for path in sorted(paths)
        if path.lower().endswith(COMMENT_SUFFIXES)
    }


def gather_inline(
    findings: Iterable[Finding], comments: Mapping[str, list[InlineSuppression]]
) -> list[InlineSuppression]:
    """Return the inline suppressions that apply to a scan, ordered by path and line.

    `comments` maps every file of the units the scan read to its
    suppressions. A file with findings that is not in it is read here.
    """
    paths = set(comments)
    paths.update(
        finding.path
        for finding in findings
        if finding.path.lower().endswith(COMMENT_SUFFIXES)
    )
    inline: list[InlineSuppression] = []
    for path in sorted(paths):
        found = comments.get(path)
        inline.extend(read_file_suppressions(path) if found is None else found)
    return inline


def _ignore_matcher(
    entry: IgnoreEntry, config_folder: str | None
) -> Callable[[str], bool]:
    """Build a test of whether a path matches the `paths` globs of an ignore entry.

    The globs match the path relative to `config_folder`, and a glob without
    a slash matches the file name. Without a configuration file, the globs
    match the path as given.
    """
    patterns = list(entry.paths)
    if config_folder is not None:
        patterns = file_patterns(entry.paths, config_folder)
    return path_matcher(patterns) or (lambda path: False)


def _ignore_covers_rule(entry: IgnoreEntry, finding: Finding) -> bool:
    return (
        not entry.rules
        or finding.rule_id in entry.rules
        or finding.rule_name in entry.rules
    )


def _matching_ignore(
    finding: Finding, ignores: Sequence[tuple[IgnoreEntry, Callable[[str], bool]]]
) -> IgnoreEntry | None:
    # In the form `str(Path(...))` produces, as discovered paths have it.
    path = str(Path(finding.path))
    for entry, matches in ignores:
        if matches(path) and _ignore_covers_rule(entry, finding):
            return entry
    return None


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
    """Drop suppressed findings and report suppressions that lack a reason or suppress nothing.

    `config_path` is the configuration file that contains `ignores`. Their
    globs match paths relative to its folder, and it names the file in
    problems with them.
    """
    today = today or datetime.date.today()
    active = [entry for entry in ignores if entry.until is None or entry.until >= today]
    config_folder = None
    if config_path is not None:
        config_folder = os.path.dirname(os.path.abspath(config_path))
    matchers = [(entry, _ignore_matcher(entry, config_folder)) for entry in active]
    used_ignores: set[int] = set()
    result = SuppressionResult()
    for finding in findings:
        suppression = next((item for item in inline if item.covers(finding)), None)
        if suppression is not None:
            suppression.used = True
            result.suppressed += 1
            continue
        entry = _matching_ignore(finding, matchers)
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
