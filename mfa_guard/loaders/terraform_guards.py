"""Find the files and blocks that would crash or hang tfparse, before it runs.

tfparse 0.6.22 is a Go extension: a Go panic ends the whole Python process,
and an endless loop inside it cannot be interrupted. Each trigger below was
found by running tfparse on mutated configurations in subprocesses. All of
them are configurations Terraform rejects or cannot load. For these, the
loader reports the file and leaves it out of the evaluation:

- a variable `type` that is not a type constraint (a nil pointer panic,
  see `terraform_types`);
- a `count` or `for_each` that refers to its own block, directly or through
  other blocks' `count` or `for_each` (memory grows past 1 GB, then a panic);
- a module that calls one of its callers, or itself (endless recursion).

For these, it reports the top-level block and blanks it out of the text
tfparse reads, so the file's other blocks are still checked:

- a `dynamic` block whose `for_each` is a string, number or bool
  ("value is not a collection" panic). In a child module it is evaluated
  with each call's arguments, as tfparse evaluates it;
- a `file()` or `templatefile()` of a named pipe or a device (endless read).
  In a `locals` block only that local value is blanked out, so tfparse
  still evaluates the others.

A `count` or `for_each` of a resource, data source or module that Terraform
rejects, such as a scalar or a list `for_each` or a `count` of null, a
bool, a list, 1.5 or -1, is reported at that argument (see
`terraform_meta_arguments` for what tfparse does with each).

Files with values nested deeper than the loader's own recursion allows
are left out too (see `hcl_source.MAX_SYNTAX_DEPTH`), and so are files whose
brackets nest deeper than tfparse's parser can recurse, balanced or not
(see `hcl_source.MAX_BRACKET_DEPTH`).

NOTE: a `for_each` is caught when the fallback evaluator computes it or
its type is plain from the syntax (see `terraform_primitives` and
`terraform_collections`), and a file name when the evaluator computes it.
`for_each = element([1], 0)` in a `dynamic` block still crashes tfparse.
A scalar `for_each` that this
check misses, on an IAM resource or data source or on a call of a module
with IAM resources, is still dropped by tfparse, and `terraform_dropped`
reports it at the `for_each` as not checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mfa_guard.loaders.hcl_source import (
    SourceFile,
    find_deep_brackets,
    find_deep_nesting,
)
from mfa_guard.loaders.positions import Pos, Unresolved
from mfa_guard.loaders.terraform_blocks import Attribute, Block
from mfa_guard.loaders.terraform_expressions import (
    UNKNOWN,
    Definition,
    Evaluator,
    ModuleScope,
)
from mfa_guard.loaders.terraform_meta_arguments import (
    describe_block,
    expansion_value,
    rejected_expansion,
    scalar_for_each,
)
from mfa_guard.loaders.terraform_primitives import PrimitiveContext
from mfa_guard.loaders.terraform_references import (
    reference_graph,
    self_reference,
    special_file,
)
from mfa_guard.loaders.terraform_sources import ModuleFiles
from mfa_guard.loaders.terraform_tree import ModuleTree
from mfa_guard.loaders.terraform_types import invalid_type_constraints
from mfa_guard.model import Diagnostic, DiagnosticKind, SourceSpan
from mfa_guard.records import field, record

Problem = tuple[Pos, str]


@record(frozen=False)
class Guards:
    """The findings of the checks that run before tfparse.

    `files` maps each file tfparse must not read, by its name relative to
    the root module, to the position and message of the reason. `blocks`
    reports the blocks of the other files that Terraform rejects, that
    tfparse drops or that would crash it. `rewritten` maps the name of each
    file with a block that would crash tfparse to the file's text with that
    block, or that local value, blanked out, lines kept, for tfparse to read
    instead. `hidden` contains the spans of the blanked text. `unsettled`
    contains the spans of the `blocks` diagnostics that cannot tell whether
    tfparse kept the block.
    """

    files: dict[str, Problem] = field(default_factory=dict)
    blocks: list[Diagnostic] = field(default_factory=list)
    rewritten: dict[str, str] = field(default_factory=dict)
    hidden: list[SourceSpan] = field(default_factory=list)
    unsettled: list[SourceSpan] = field(default_factory=list)

    def reported(self, diagnostic: Diagnostic) -> bool:
        """Return True when a guard reported the block `diagnostic` is about.

        A guard diagnostic that cannot tell whether tfparse kept the block
        does not count, so the report that tfparse dropped it is kept.
        """
        span = diagnostic.span
        if span not in self.unsettled and any(
            span == item.span for item in self.blocks
        ):
            return True
        return any(
            span.path == block.path and block.line <= span.line <= block.end_line
            for block in self.hidden
        )


def find_unsafe_files(
    tree: ModuleTree, var_definitions: dict[str, Definition]
) -> Guards:
    """Find the files tfparse must not read, and the blocks Terraform rejects.

    `var_definitions` are the root module's variables set by `.tfvars` files.
    """
    guards = Guards()
    unsafe = guards.files
    for call in tree.cycles:
        message = (
            f'module "{call.name}" calls "{call.source}", which is already among '
            "its callers; Terraform cannot load a module cycle, so this file was left out"
        )
        unsafe.setdefault(call.block.source.name, (call.block.span, message))

    for module in tree.files():
        for source in module.sources:
            found = find_deep_brackets(source) or find_deep_nesting(source)
            if found is not None:
                pos, message = found
                unsafe[source.name] = (pos, f"{message}; the file was left out")

    usable = {
        module.relative: [
            block
            for name, blocks in module.blocks.items()
            if name not in unsafe
            for block in blocks
        ]
        for module in tree.files()
    }
    overrides = {
        module.relative: var_definitions if module.relative == "." else {}
        for module in tree.files()
    }
    defaults = {
        module.relative: Evaluator(
            _static_scope(module, overrides[module.relative], usable[module.relative])
        )
        for module in tree.files()
    }
    for module in tree.files():
        blocks_used = usable[module.relative]
        checks = _Checks(
            _crash_evaluators(tree, module, blocks_used, defaults),
            # A caller, or `-var` for a root module, may set a variable to
            # another value than its default, and a folder scanned as a root
            # module may be another module's child. So a block is reported
            # as invalid only when it is invalid whatever sets a variable
            # without a `.tfvars` value.
            Evaluator(
                _static_scope(
                    module, overrides[module.relative], blocks_used, defaults=False
                )
            ),
            PrimitiveContext.of_blocks(blocks_used),
            [tree.root, module.directory],
        )
        for name, blocks in module.blocks.items():
            if name in unsafe:
                continue
            findings = _FileFindings()
            problem = _first_problem(blocks, checks, findings)
            if problem is not None:
                unsafe[name] = problem
                continue
            guards.blocks.extend(findings.invalid)
            guards.unsettled.extend(findings.unsettled)
            if findings.hidden:
                source = blocks[0].source
                guards.rewritten[name] = _blank_spans(source, findings.hidden)
                guards.hidden.extend(
                    SourceSpan(source.path, *span) for span in findings.hidden
                )
    return guards


@record(frozen=False)
class _FileFindings:
    """The findings of one file's checks, short of leaving the file out.

    `invalid` contains the diagnostics of the blocks Terraform rejects or
    that would crash tfparse, `hidden` the spans of the text to blank out
    for tfparse, and `unsettled` the spans of the diagnostics that cannot
    tell whether tfparse kept the block.
    """

    invalid: list[Diagnostic] = field(default_factory=list)
    hidden: list[Pos] = field(default_factory=list)
    unsettled: list[SourceSpan] = field(default_factory=list)


@record(frozen=False)
class _Checks:
    """The evaluators, type context and folders that one module's checks use.

    `crash_evaluators` give the values tfparse will use: one per call of a
    child module, with the caller's arguments, or one with the defaults.
    `block_evaluator` reads no variable default, and `bases` are the
    directories relative file names are looked up in.
    """

    crash_evaluators: list[Evaluator]
    block_evaluator: Evaluator
    context: PrimitiveContext
    bases: list[Path]


# Arguments of a module call that are not input variables of the module.
_META_ARGUMENTS = frozenset(
    {"source", "version", "count", "for_each", "providers", "depends_on"}
)


def _crash_evaluators(
    tree: ModuleTree,
    module: ModuleFiles,
    blocks: list[Block],
    defaults: dict[str, Evaluator],
) -> list[Evaluator]:
    """Return one evaluator per call of `module`, with the caller's arguments.

    The root module, or a module no call reaches, gets its defaults alone.
    An argument is evaluated in the caller's module, from its defaults.
    """
    calls = tree.callers_of(module.relative) if module.relative != "." else []
    evaluators = []
    for call in calls:
        caller = defaults.get(call.caller)
        if caller is None:
            continue
        arguments = {
            # No attribute: the child's evaluator must not evaluate the
            # caller's expression in the child's scope.
            name: Definition(_argument_value(attribute, caller), None)
            for name, attribute in call.block.attributes.items()
            if name not in _META_ARGUMENTS
        }
        evaluators.append(Evaluator(_static_scope(module, arguments, blocks)))
    return evaluators or [defaults[module.relative]]


def _argument_value(attribute: Attribute, caller: Evaluator) -> Any:
    value = expansion_value(attribute, caller)
    return Unresolved("(unknown argument)") if value is UNKNOWN else value


def _first_problem(
    blocks: list[Block], checks: _Checks, found: _FileFindings
) -> Problem | None:
    """Return the first reason to leave the file of `blocks` out, if any.

    Adds, as it goes, each block Terraform rejects or that would crash
    tfparse to `found`, with the text to blank out of the latter.
    """
    invalid_types = invalid_type_constraints(blocks)
    if invalid_types:
        return invalid_types[0]
    edges = reference_graph(blocks)
    for block in blocks:
        problem = self_reference(block, edges)
        if problem is not None:
            return problem
        crashes = _crashes(block, checks)
        if crashes:
            for diagnostic, hidden in crashes:
                found.invalid.append(diagnostic)
                found.hidden.append(hidden)
            continue
        rejected = rejected_expansion(block, checks.block_evaluator, checks.context)
        if rejected is not None:
            span = SourceSpan(block.source.path, *rejected.span)
            found.invalid.append(
                Diagnostic(DiagnosticKind.PARSE_ERROR, span, rejected.message)
            )
            if not rejected.settled:
                found.unsettled.append(span)
    return None


def _crashes(block: Block, checks: _Checks) -> list[tuple[Diagnostic, Pos]]:
    """Report each part of `block` that tfparse would crash or hang on, with its span.

    In a `locals` block, each local value that reads a pipe or a device is
    reported and blanked out on its own, so tfparse still evaluates the
    others. Any other block is blanked out whole.
    """
    if block.type == "locals":
        return _local_crashes(block, checks)
    crash = _crash(block, checks)
    return [] if crash is None else [(crash, block.span)]


def _local_crashes(block: Block, checks: _Checks) -> list[tuple[Diagnostic, Pos]]:
    crashes = []
    for name, attribute in block.attributes.items():
        # `special_file` reads the attributes of a block, so each local
        # value is checked in a block of its own.
        local = Block(block.type, (), attribute.span, block.source, {name: attribute})
        for evaluator in checks.crash_evaluators:
            special = special_file(local, evaluator, checks.bases)
            if special is None:
                continue
            pos, reason = special
            span = SourceSpan(block.source.path, *pos)
            message = f"{reason}, so local.{name} was not evaluated"
            diagnostic = Diagnostic(DiagnosticKind.PARSE_ERROR, span, message)
            crashes.append((diagnostic, attribute.span))
            break
    return crashes


def _crash(block: Block, checks: _Checks) -> Diagnostic | None:
    """Report `block` if tfparse would crash on it with the values of any call.

    A scalar `for_each` that comes from a variable's value, not from the
    module's own text, is reported as not checked (info), because another
    value of the variable may be valid.
    """
    lost = f"so {describe_block(block)} was not checked"
    dynamic = _dynamic_blocks(block)
    for evaluator in checks.crash_evaluators:
        scalar = scalar_for_each(dynamic, evaluator, checks.context)
        if scalar is not None:
            attribute, found = scalar
            span = SourceSpan(block.source.path, *attribute.span)
            if scalar_for_each(dynamic, checks.block_evaluator, checks.context):
                message = f"invalid for_each in {found}; Terraform rejects this, {lost}"
                return Diagnostic(DiagnosticKind.PARSE_ERROR, span, message)
            message = (
                f"the for_each of {found}; with the values its variables get here, the"
                f" Terraform evaluator (tfparse) would crash on it, {lost}"
            )
            return Diagnostic(DiagnosticKind.UNRESOLVED, span, message)
        special = special_file(block, evaluator, checks.bases)
        if special is not None:
            pos, reason = special
            span = SourceSpan(block.source.path, *pos)
            return Diagnostic(DiagnosticKind.PARSE_ERROR, span, f"{reason}, {lost}")
    return None


def _blank_spans(source: SourceFile, spans: list[Pos]) -> str:
    """Return the text of `source` with each of `spans` replaced by spaces.

    Line breaks stay, so tfparse reports the other blocks at their lines.
    """
    characters = list(source.text)
    for span in spans:
        line, column, end_line, end_column = span
        start = source.line_starts[line - 1] + column - 1
        end = source.line_starts[end_line - 1] + end_column - 1
        for index in range(start, min(end, len(characters))):
            if characters[index] not in "\r\n":
                characters[index] = " "
    return "".join(characters)


def _static_scope(
    module: ModuleFiles,
    overrides: dict[str, Definition],
    blocks: list[Block],
    defaults: bool = True,
) -> ModuleScope:
    """Build a scope from the source alone: defaults, `.tfvars` values and locals.

    Without `defaults`, every variable is unknown unless `overrides` sets it.
    """
    scope = ModuleScope(path_module=module.relative)
    for block in blocks:
        if block.type == "variable" and block.labels:
            default = block.attributes.get("default") if defaults else None
            scope.variables[block.labels[0]] = Definition(
                UNKNOWN, default, default is not None
            )
        elif block.type == "locals":
            for name, attribute in block.attributes.items():
                scope.locals[name] = Definition(UNKNOWN, attribute)
    for name, definition in overrides.items():
        if name in scope.variables:
            scope.variables[name] = definition
    return scope


def _dynamic_blocks(block: Block) -> list[Block]:
    """Return the `dynamic` blocks in a block, except inside another's `content`."""
    found = []
    for child in block.blocks:
        if child.type == "dynamic":
            found.append(child)
        else:
            found.extend(_dynamic_blocks(child))
    return found
