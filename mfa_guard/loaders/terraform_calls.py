"""Report the module calls whose policies the loader could not check.

Each is an `unresolved-policy` diagnostic at the `module` block. It reports
a source in a registry or a git repository, which is never downloaded, and
a source that is not a literal string. It also reports a local source whose
directory does not exist, and a local module with a file that mentions IAM
but was left out of the evaluation. The
message names the module by its block label, not its address, so the same
call reported by the root module and by the child directory's own scan is
one finding.
"""

from __future__ import annotations

from mfa_guard.loaders.terraform_sources import IAM_MARKERS, display_directory
from mfa_guard.loaders.terraform_tree import ModuleCall, ModuleTree
from mfa_guard.model import Diagnostic, DiagnosticKind, SourceSpan


def call_diagnostics(tree: ModuleTree, left_out: dict[str, str]) -> list[Diagnostic]:
    """Return one diagnostic per module call that was not, or not fully, checked.

    `left_out` maps the root-relative name of each child module file left
    out of the evaluation to the reason.
    """
    diagnostics = []
    for call in tree.calls:
        message = _message(tree, call, left_out)
        if message is not None:
            block = call.block
            span = SourceSpan(block.source.path, *block.span)
            diagnostics.append(Diagnostic(DiagnosticKind.UNRESOLVED, span, message))
    return diagnostics


def _message(
    tree: ModuleTree, call: ModuleCall, left_out: dict[str, str]
) -> str | None:
    name = call.name
    if call.source is None:
        return f'policies of module "{name}" were not checked: its source is not a literal string'
    if not call.is_local:
        return f'policies of module "{name}" were not checked: its source "{call.source}" is not a local path, and modules are not downloaded'
    if any(missing is call for missing in tree.missing):
        directory = display_directory(tree.root, call.child or call.source)
        return f'policies of module "{name}" were not checked: its source directory {directory} was not found'

    module = tree.modules.get(call.child or "")
    if module is None:
        return None
    problems = [
        f"{source.path} ({left_out[source.name]})"
        for source in module.sources
        if source.name in left_out and any(m in source.text for m in IAM_MARKERS)
    ]
    if not problems:
        return None
    return f'policies of module "{name}" were checked without files that could not be evaluated: {"; ".join(problems)}'
