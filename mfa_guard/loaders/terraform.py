"""Load the IAM policies of a Terraform module directory.

Values come from tfparse, which evaluates the module statically (locals,
variable defaults, `.tfvars` files, `jsonencode`, heredocs, `file()`,
local child modules, references between blocks) without running Terraform.
Positions and syntax errors come from tree-sitter-hcl. Both are imported
only when a directory mentions an IAM resource or calls a module, so a scan
without Terraform does not pay for them.

Policies of a local child module are reported with the module address
(`module.iam.aws_iam_policy.p`), evaluated with the arguments the caller
passes, and located in the child's files. The child directory is also
loaded as a module of its own when the scan reaches it, with its defaults.
Both copies are kept: the caller's shows what the caller deploys, the
child's what a caller that passes nothing gets, and a finding both report
identically is reported once by the scan. `TerraformLoadResult.local_modules`
names the child directories, for a caller that wants to drop their own copy.
Modules from a registry or a git repository are not downloaded: each such
module block is reported as unresolved. So is each IAM block that tfparse
returned no instance of while its `for_each` or `count` is not known to be
empty (see `terraform_dropped`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from pathlib import Path

from mfa_guard.loaders.base import LoadResult
from mfa_guard.loaders.positions import Pos
from mfa_guard.loaders.terraform_calls import call_diagnostics
from mfa_guard.loaders.terraform_collect import PolicyCollector, TerraformLoadResult
from mfa_guard.loaders.terraform_dropped import dropped_blocks
from mfa_guard.loaders.terraform_evaluate import Evaluation, evaluate_module
from mfa_guard.loaders.terraform_files import repository_roots
from mfa_guard.loaders.terraform_guards import find_unsafe_files
from mfa_guard.loaders.terraform_instances import ModuleInstance, module_instances
from mfa_guard.loaders.terraform_principals import collect_principals
from mfa_guard.loaders.terraform_sources import (
    IAM_MARKERS,
    ModuleFiles,
    display_directory,
    parse_module_files,
    read_module_files,
)
from mfa_guard.loaders.terraform_tfvars import VarFiles, read_var_files
from mfa_guard.loaders.terraform_tree import ModuleTree, discover_modules
from mfa_guard.log import get_logger
from mfa_guard.model import Diagnostic, DiagnosticKind, SourceSpan

__all__ = ["IAM_MARKERS", "TerraformLoadResult", "load_terraform_module"]

logger = get_logger(__name__)

# A module block, whose child module may declare IAM resources.
_MODULE_BLOCK = re.compile(r'(^|\n)\s*module\s+"|"module"\s*:')


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
        if isinstance(error, RecursionError):
            # tfparse's output for a heredoc with deeply nested JSON, for
            # one, is too deep for Python's JSON decoder.
            message = (
                f"Terraform module {directory} has values nested too deeply"
                " to evaluate, so the module was left out"
            )
        diagnostic = Diagnostic(
            DiagnosticKind.PARSE_ERROR, SourceSpan.point(path, 1, 1), message
        )
        return TerraformLoadResult(diagnostics=[diagnostic])


def _load_module(directory: Path) -> TerraformLoadResult:
    root = read_module_files(directory, parse=False)
    result = TerraformLoadResult(diagnostics=list(root.problems))
    calls_modules = any(_MODULE_BLOCK.search(s.text) for s in root.sources)
    if not root.mentions_iam() and not calls_modules:
        return _irrelevant(directory)
    parse_module_files(root)

    tree = discover_modules(root)
    # A registry or git module is never read, so its source is all there is
    # to go by: one named like "terraform-aws-modules/iam/aws" counts as IAM.
    remote_iam = any("iam" in (call.source or "").lower() for call in tree.calls)
    if not any(module.mentions_iam() for module in tree.files()) and not remote_iam:
        return _irrelevant(directory)

    var_files = read_var_files(directory)
    result.diagnostics.extend(var_files.problems)
    guards = find_unsafe_files(tree, var_files.definitions)
    unsafe = guards.files
    result.diagnostics.extend(guards.blocks)
    left_out = _child_problems(tree, unsafe)
    evaluation = evaluate_module(
        directory,
        set(root.syntax_errors),
        {*unsafe, *left_out, *_rejected_files(tree)},
        var_files.names,
        [relative for relative in tree.modules if relative != "."],
        guards.rewritten,
    )
    _report_root_problems(root, var_files, unsafe, evaluation, result)
    result.diagnostics.extend(call_diagnostics(tree, left_out))

    blocks = [
        block
        for module in tree.files()
        for name, file_blocks in module.blocks.items()
        if name not in evaluation.excluded
        for block in file_blocks
    ]
    instances = module_instances(evaluation.blocks, blocks, tree, var_files.definitions)
    if evaluation.error is None:
        # A block with a scalar `for_each`, or hidden from tfparse, is
        # reported already.
        result.diagnostics.extend(
            diagnostic
            for diagnostic in dropped_blocks(
                evaluation.blocks, tree, instances, evaluation.excluded
            )
            if not guards.reported(diagnostic)
        )
    if not result.diagnostics and not _declares_iam(instances):
        return _irrelevant(directory)

    # Most modules read no file, so the folders are resolved on first use.
    allowed = functools.cache(
        lambda: repository_roots(directory, [m.directory for m in tree.files()])
    )
    for instance in instances:
        PolicyCollector(instance, directory, allowed, result).collect()
    collect_principals([instance.index for instance in instances], result)
    result.local_modules = [
        str(display_directory(directory, relative))
        for relative in tree.modules
        if relative != "."
    ]
    result.documents.sort(key=lambda d: (d.path, d.span.line, d.span.column, d.name))
    result.diagnostics.sort(key=lambda d: (d.span, d.message))
    return result


def _irrelevant(directory: Path) -> TerraformLoadResult:
    note = f"{directory}: no IAM resources or aws_iam_policy_document data sources"
    return TerraformLoadResult(relevant=False, note=note)


def _rejected_files(tree: ModuleTree) -> set[str]:
    return {name for module in tree.files() for name in module.rejected}


def _child_problems(
    tree: ModuleTree, unsafe: dict[str, tuple[Pos, str]]
) -> dict[str, str]:
    """Map each file of a child module left out of the evaluation to the reason.

    tfparse drops a whole child module silently when one of its files has a
    syntax error, so such a file is left out like an unsafe one.
    """
    reasons = {}
    for module in tree.files():
        if module.relative == ".":
            continue
        for name, (_, message) in module.syntax_errors.items():
            reasons[name] = message
        for name in module.blocks:
            if name in unsafe:
                reasons[name] = unsafe[name][1]
    return reasons


def _report_root_problems(
    root: ModuleFiles,
    var_files: VarFiles,
    unsafe: dict[str, tuple[Pos, str]],
    evaluation: Evaluation,
    result: TerraformLoadResult,
) -> None:
    """Report the syntax errors and unsafe files of the root module's directory."""
    broken = {name: unsafe[name] for name in root.blocks if name in unsafe}
    broken.update(var_files.broken)
    broken.update(_syntax_errors(root.syntax_errors, evaluation))
    accepted = sorted(root.syntax_errors.keys() - broken.keys())
    for name in accepted:
        # The positioned JSON parser rejects only invalid JSON and nesting
        # beyond its depth limit, and the file's blocks are lost either way.
        if name.endswith(".json"):
            broken[name] = root.syntax_errors[name]
        else:
            # The blocks after the error are not in the syntax tree, so their
            # policies would go unchecked. Report the file instead of passing it.
            pos, message = root.syntax_errors[name]
            broken[name] = (
                pos,
                f"mfa-guard cannot read this file from here ({message}), so its"
                " blocks after this point were not checked, although Terraform's"
                " parser accepts the file",
            )
    if accepted:
        logger.debug(
            "HCL accepts files tree-sitter or JSON parsing rejects: %s", accepted
        )

    paths = {source.name: source.path for source in root.sources}
    for name, (pos, message) in sorted(broken.items()):
        span = SourceSpan(paths.get(name, str(root.directory / name)), *pos)
        result.diagnostics.append(Diagnostic(DiagnosticKind.PARSE_ERROR, span, message))
    if evaluation.error is not None:
        first = root.sources[0].path if root.sources else str(root.directory)
        span = SourceSpan.point(first, 1, 1)
        message = f"Terraform evaluation of {root.directory} failed: {evaluation.error}"
        result.diagnostics.append(Diagnostic(DiagnosticKind.PARSE_ERROR, span, message))


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


def _declares_iam(instances: list[ModuleInstance]) -> bool:
    return any(
        type_name.startswith("aws_iam_") or type_name == "aws_organizations_policy"
        for instance in instances
        for type_name in instance.index.block_types()
    )
