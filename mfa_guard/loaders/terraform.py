"""Load the IAM policies of a Terraform module directory.

Values come from tfparse, which evaluates the module statically (locals,
variable defaults, `jsonencode`, heredocs, `file()`, references between
blocks) without running Terraform. Positions and syntax errors come from
tree-sitter-hcl. Both are imported only when a directory mentions an IAM
resource, so a scan without Terraform does not pay for them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mfa_guard.loaders.base import LoadResult
from mfa_guard.loaders.hcl_source import (
    SourceFile,
    find_syntax_error,
    make_parser,
    parse_hcl,
    read_source,
)
from mfa_guard.loaders.jsonpos import JsonError, parse_json
from mfa_guard.loaders.positions import Pos
from mfa_guard.loaders.terraform_blocks import Block, hcl_blocks, json_blocks
from mfa_guard.loaders.terraform_collect import PolicyCollector, TerraformLoadResult
from mfa_guard.loaders.terraform_evaluate import Evaluation, evaluate_module
from mfa_guard.loaders.terraform_module import ModuleIndex
from mfa_guard.loaders.terraform_types import invalid_type_constraints
from mfa_guard.model import Diagnostic, DiagnosticKind, SourceSpan

__all__ = ["IAM_MARKERS", "TerraformLoadResult", "load_terraform_module"]

logger = logging.getLogger(__name__)

# Text that every file with an IAM resource or policy document contains.
IAM_MARKERS = ("aws_iam_", "aws_organizations_policy")


def load_terraform_module(directory: Path, files: Sequence[Path]) -> LoadResult:
    """Load the policies of the Terraform module in `directory`.

    The whole directory is evaluated and reported, whichever `files` the
    caller selected, because one file uses the locals and variables of
    another. Callers filter the result by path. Display paths are
    `directory / name`, in the caller's form. Errors become PARSE_ERROR
    diagnostics; this function does not raise.
    """
    try:
        return _load_module(directory)
    except Exception as error:  # one broken module must not stop the scan
        logger.debug("loading Terraform module %s failed", directory, exc_info=True)
        path = str(files[0]) if files else str(directory)
        message = f"failed to load Terraform module {directory}: {error}"
        diagnostic = Diagnostic(
            DiagnosticKind.PARSE_ERROR, SourceSpan.point(path, 1, 1), message
        )
        return TerraformLoadResult(diagnostics=[diagnostic])


def _load_module(directory: Path) -> TerraformLoadResult:
    sources, result = _read_sources(directory)
    if not any(marker in s.text for s in sources for marker in IAM_MARKERS):
        return _irrelevant(directory)

    found, json_roots = _check_syntax(sources)
    blocks_by_file = {s.name: _read_blocks(s, json_roots) for s in sources}
    unsafe = _check_types(blocks_by_file)
    evaluation = evaluate_module(directory, set(found), set(unsafe))
    broken = {**unsafe, **_syntax_errors(found, evaluation)}
    accepted = sorted(found.keys() - broken.keys())
    if accepted:
        logger.debug("HCL accepts files tree-sitter rejects: %s", accepted)

    paths = {source.name: source.path for source in sources}
    for name, (pos, message) in sorted(broken.items()):
        span = SourceSpan(paths.get(name, str(directory / name)), *pos)
        result.diagnostics.append(Diagnostic(DiagnosticKind.PARSE_ERROR, span, message))
    if evaluation.error is not None:
        span = SourceSpan.point(sources[0].path, 1, 1)
        message = f"Terraform evaluation of {directory} failed: {evaluation.error}"
        result.diagnostics.append(Diagnostic(DiagnosticKind.PARSE_ERROR, span, message))

    blocks = []
    for name, file_blocks in blocks_by_file.items():
        if name not in broken:
            blocks.extend(file_blocks)
    index = ModuleIndex(evaluation.blocks, blocks)
    if not result.diagnostics and not _declares_iam(index):
        return _irrelevant(directory)

    PolicyCollector(index, directory, result).collect()
    result.documents.sort(key=lambda d: (d.path, d.span.line, d.span.column, d.name))
    result.diagnostics.sort(key=lambda d: (d.span, d.message))
    return result


def _irrelevant(directory: Path) -> TerraformLoadResult:
    note = f"{directory}: no IAM resources or aws_iam_policy_document data sources"
    return TerraformLoadResult(relevant=False, note=note)


def _read_sources(directory: Path) -> tuple[list[SourceFile], TerraformLoadResult]:
    sources = []
    result = TerraformLoadResult()
    for path in sorted(directory.iterdir()):
        name = path.name
        if not name.endswith((".tf", ".tf.json")) or not path.is_file():
            continue
        try:
            sources.append(read_source(path, name))
        except OSError as error:
            message = f"failed to read {path}: {error.strerror or error}"
            span = SourceSpan.point(str(path), 1, 1)
            result.diagnostics.append(
                Diagnostic(DiagnosticKind.PARSE_ERROR, span, message)
            )
    return sources, result


def _check_syntax(
    sources: list[SourceFile],
) -> tuple[dict[str, tuple[Pos, str]], dict[str, Any]]:
    """Parse every file and return the syntax errors and the parsed `.tf.json` files."""
    broken: dict[str, tuple[Pos, str]] = {}
    json_roots: dict[str, Any] = {}
    parser = None
    for source in sources:
        if source.is_json:
            try:
                json_roots[source.name] = parse_json(source.text).value
            except JsonError as error:
                pos = (error.line, error.column, error.line, error.column)
                broken[source.name] = (pos, f"invalid JSON syntax: {error.message}")
            continue

        parser = parser or make_parser()
        parse_hcl(source, parser)
        syntax_error = find_syntax_error(source)
        if syntax_error is not None:
            pos, message = syntax_error
            broken[source.name] = (pos, f"invalid HCL syntax: {message}")
    return broken, json_roots


def _read_blocks(source: SourceFile, json_roots: dict[str, Any]) -> list[Block]:
    if source.is_json:
        return json_blocks(source, json_roots.get(source.name))
    return hcl_blocks(source)


def _check_types(blocks_by_file: dict[str, list[Block]]) -> dict[str, tuple[Pos, str]]:
    """Return the first invalid variable type constraint of each file."""
    problems = {}
    for name, blocks in blocks_by_file.items():
        invalid = invalid_type_constraints(blocks)
        if invalid:
            problems[name] = invalid[0]
    return problems


def _syntax_errors(
    found: dict[str, tuple[Pos, str]], evaluation: Evaluation
) -> dict[str, tuple[Pos, str]]:
    """Return the syntax errors to report, preferring HCL's message to tree-sitter's.

    A file tree-sitter rejected counts as broken only when HCL rejected it
    too or evaluation never got to check it.
    """
    if evaluation.error is not None:
        broken = dict(found)
    else:
        broken = {name: found[name] for name in evaluation.excluded if name in found}
    for name, (pos, message) in evaluation.syntax_errors.items():
        syntax = "JSON" if name.endswith(".json") else "HCL"
        broken[name] = (pos, f"invalid {syntax} syntax: {message}")
    return broken


def _declares_iam(index: ModuleIndex) -> bool:
    return any(
        type_name.startswith("aws_iam_") or type_name == "aws_organizations_policy"
        for type_name in index.block_types()
    )
