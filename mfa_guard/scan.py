"""The scan pipeline: discover files, load them, analyze, collect findings."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from mfa_guard.discover import discover, is_terraform
from mfa_guard.engine.runner import Analyzer
from mfa_guard.loaders.base import LoadResult
from mfa_guard.loaders.dispatch import DEFAULT_MAX_BYTES, load_file
from mfa_guard.model import (
    Diagnostic,
    DiagnosticKind,
    Finding,
    PolicyDocument,
    SourceSpan,
)

logger = logging.getLogger(__name__)


@dataclass
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    files_read: list[str] = field(default_factory=list)
    documents: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unresolved: list[tuple[str, str]] = field(default_factory=list)
    suppressed: int = 0
    baselined: int = 0
    seconds: float = 0.0


def _internal_error(path: str, error: Exception) -> LoadResult:
    logger.debug("loader failed on %s", path, exc_info=True)
    message = f"could not be read because of an internal error ({type(error).__name__}: {error}); please report this file"
    diagnostic = Diagnostic(
        DiagnosticKind.PARSE_ERROR, SourceSpan(path, 1, 1, 1, 1), message
    )
    return LoadResult(diagnostics=[diagnostic])


def _load_units(
    files: Sequence[Path], max_bytes: int
) -> list[tuple[str, Callable[[], LoadResult]]]:
    """Group Terraform files by module directory; every other file is its own unit."""
    from mfa_guard.loaders.terraform import load_terraform_module

    units: list[tuple[str, Callable[[], LoadResult]]] = []
    modules: dict[Path, list[Path]] = defaultdict(list)
    for path in files:
        if is_terraform(path):
            modules[path.parent].append(path)
        else:
            units.append((str(path), partial(load_file, path, max_bytes)))
    for directory, members in modules.items():
        units.append(
            (str(directory), partial(load_terraform_module, directory, members))
        )
    return units


def _deduplicate(findings: set[Finding]) -> list[Finding]:
    """Drop repeats of one finding reached through two loaders.

    A JSON file that Terraform reads with `file()` is also scanned on its own,
    so the same statement is reported twice, once naming the Terraform
    resource. The named report is kept.
    """
    kept: dict[tuple[object, ...], Finding] = {}
    for finding in sorted(findings, key=lambda item: item.policy == item.path):
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
    loaded = []
    for name, load in _load_units(discovery.files, max_bytes):
        try:
            unit = load()
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
) -> ScanResult:
    started = time.perf_counter()
    loaded, result = load_paths(paths, excludes, max_bytes, debug)
    findings: set[Finding] = set()
    for _, unit in loaded:
        result.documents += len(unit.documents)
        result.unresolved.extend(_unresolved_parts(unit))
        findings.update(analyzer.analyze(unit.documents, unit.diagnostics))
    result.findings = _deduplicate(findings)
    result.seconds = time.perf_counter() - started
    return result


def collect_documents(
    paths: Sequence[str], debug: bool = False
) -> tuple[list[PolicyDocument], list[Diagnostic], ScanResult]:
    """Load every policy document under `paths`, for `simulate`."""
    loaded, result = load_paths(paths, debug=debug)
    documents = [document for _, unit in loaded for document in unit.documents]
    diagnostics = [diagnostic for _, unit in loaded for diagnostic in unit.diagnostics]
    result.documents = len(documents)
    return documents, diagnostics, result
