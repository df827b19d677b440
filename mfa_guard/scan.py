"""The scan pipeline: discover files, load them, analyze, collect findings."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mfa_guard.discover import EXCLUDED, discover
from mfa_guard.loaders.base import DEFAULT_MAX_BYTES, LoadResult
from mfa_guard.log import get_logger
from mfa_guard.model import (
    Diagnostic,
    DiagnosticKind,
    Finding,
    PolicyDocument,
    SourceSpan,
)
from mfa_guard.records import field, record

if TYPE_CHECKING:
    from mfa_guard.cache import ResultCache
    from mfa_guard.engine.runner import Analyzer
    from mfa_guard.parallel import Unit
    from mfa_guard.prefetch import Prefetch
    from mfa_guard.suppress import InlineSuppression

logger = get_logger(__name__)


@record(frozen=False)
class ScanResult:
    """The findings of a scan, and the files it read and skipped.

    `comments` maps every file of the units the scan read that can contain
    suppression comments to the suppressions it contains.
    """

    findings: list[Finding] = field(default_factory=list)
    files_read: list[str] = field(default_factory=list)
    documents: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unresolved: list[tuple[str, str]] = field(default_factory=list)
    suppressed: int = 0
    baselined: int = 0
    seconds: float = 0.0
    comments: dict[str, list[InlineSuppression]] = field(default_factory=dict)


def _internal_error(path: str, error: Exception) -> LoadResult:
    logger.debug("loader failed on %s", path, exc_info=True)
    message = f"could not be read because of an internal error ({type(error).__name__}: {error}); please report this file"
    diagnostic = Diagnostic(
        DiagnosticKind.PARSE_ERROR, SourceSpan(path, 1, 1, 1, 1), message
    )
    return LoadResult(diagnostics=[diagnostic])


def _deduplicate(findings: set[Finding]) -> list[Finding]:
    """Drop repeats of one finding reached through two loaders.

    A JSON file that Terraform reads with `file()` is also scanned on its own,
    so the same statement is reported twice, once naming the Terraform
    resource. The named report is kept. When a rule reports the statement
    with a different message in the two, the file's own report is dropped
    too, because the Terraform report is built from the module's users and
    groups.
    """
    named = {
        (finding.path, finding.line, finding.column, finding.rule_id)
        for finding in findings
        if finding.policy != finding.path
    }
    kept: dict[tuple[object, ...], Finding] = {}
    # Sorting by the whole finding after the named-first flag keeps the choice
    # among equal candidates independent of set order (PYTHONHASHSEED).
    for finding in sorted(findings, key=lambda item: (item.policy == item.path, item)):
        place = (finding.path, finding.line, finding.column, finding.rule_id)
        if finding.policy == finding.path and place in named:
            continue
        key = (
            finding.path,
            finding.line,
            finding.column,
            finding.rule_id,
            finding.message,
        )
        kept.setdefault(key, finding)
    return sorted(kept.values())


def load_paths(
    paths: Sequence[str],
    excludes: Sequence[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
    debug: bool = False,
) -> tuple[list[tuple[str, LoadResult]], ScanResult]:
    """Discover and load every file under `paths`, returning each unit's result."""
    result = ScanResult()
    discovery = discover(paths, excludes)
    result.skipped.extend(discovery.skipped)
    result.missing.extend(discovery.missing)
    from mfa_guard.parallel import make_units

    loaded = []
    for load_unit in make_units(discovery.paths, max_bytes):
        name = load_unit.name
        try:
            unit = _load_contained(load_unit, debug)
        except Exception as error:
            if debug:
                raise
            unit = _internal_error(name, error)
        if unit.relevant or unit.diagnostics:
            result.files_read.append(name)
        else:
            result.skipped.append((name, unit.note or "no IAM policies"))
        loaded.append((name, unit))
    return loaded, result


def _load_contained(unit: Unit, debug: bool) -> LoadResult:
    """Load `unit`; a Terraform module loads in a forked process where possible.

    A Go panic in tfparse ends the process it runs in, so a module that
    crashes it is reported as not checked, as a scan reports it, instead
    of ending `simulate`.
    """
    if unit.terraform:
        from mfa_guard.prefetch import load_in_child

        result = load_in_child(unit, debug)
        if isinstance(result, LoadResult):
            return result
        if result is not None:
            from mfa_guard.parallel import failed_unit_diagnostic

            return LoadResult(diagnostics=[failed_unit_diagnostic(unit, result[1])])
    return unit.load()


def _unresolved_parts(unit: LoadResult) -> list[tuple[str, str]]:
    parts = [
        (diagnostic.span.path, diagnostic.message)
        for diagnostic in unit.diagnostics
        if diagnostic.kind is DiagnosticKind.UNRESOLVED
    ]
    for document in unit.documents:
        parts.extend(
            (document.path, f"{document.label}: {item}") for item in document.unresolved
        )
    return parts


def scan(
    paths: Sequence[str],
    analyzer: Analyzer,
    excludes: Sequence[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
    debug: bool = False,
    jobs: int = 1,
    cache: ResultCache | None = None,
    prefetch: Prefetch | None = None,
    timeout: float | None = None,
) -> ScanResult:
    """Discover, load and analyze every file under `paths`.

    `jobs` is the number of worker processes (1 runs every unit in this
    process), `cache` reuses the reports of unchanged units and `prefetch`
    supplies units already loaded by forked processes. None of them
    changes the result. `timeout` is the most seconds one unit may take in
    a worker process before it is reported as not checked.
    """
    # Imported here because mfa_guard.parallel imports this module.
    from mfa_guard.parallel import analyze_units, make_units

    started = time.perf_counter()
    result = ScanResult()
    discovery = discover(paths, excludes)
    result.skipped.extend(discovery.skipped)
    result.missing.extend(discovery.missing)
    units = make_units(discovery.paths, max_bytes)
    findings: set[Finding] = set()
    reports = analyze_units(
        units, analyzer, jobs, cache, debug, timeout=timeout, prefetch=prefetch
    )
    for report in reports:
        if report.read:
            result.files_read.append(report.name)
            result.comments.update(report.comments)
        else:
            result.skipped.append((report.name, report.note))
        result.documents += report.documents
        result.unresolved.extend(report.unresolved)
        findings.update(report.findings)
    result.findings = _deduplicate(_without_excluded(findings, discovery.skipped))
    result.seconds = time.perf_counter() - started
    return result


def _without_excluded(
    findings: set[Finding], skipped: Sequence[tuple[str, str]]
) -> set[Finding]:
    """Drop the findings in excluded files.

    A Terraform module is evaluated with all its files, so an excluded
    file of a module that is scanned can still produce findings.
    """
    excluded = {_path_key(path) for path, reason in skipped if reason == EXCLUDED}
    if not excluded:
        return findings
    return {finding for finding in findings if _path_key(finding.path) not in excluded}


def _path_key(path: str) -> str:
    return os.path.normcase(os.path.normpath(path))


def collect_documents(
    paths: Sequence[str], debug: bool = False
) -> tuple[list[PolicyDocument], list[Diagnostic], ScanResult]:
    """Load every policy document under `paths`, for `simulate`."""
    loaded, result = load_paths(paths, debug=debug)
    documents = [document for _, unit in loaded for document in unit.documents]
    diagnostics = [diagnostic for _, unit in loaded for diagnostic in unit.diagnostics]
    result.documents = len(documents)
    return documents, diagnostics, result
