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

On a resource, data source or module, a scalar `for_each` makes tfparse
drop the block without an error, and Terraform rejects it. The block is
reported at its `for_each` (see `Guards.blocks`). So is a `count` that
Terraform rejects, such as null, a bool, 1.5 or -1, and a block with both
`count` and `for_each`.

Files with values nested deeper than the loader's own recursion allows
are left out too (see `hcl_source.MAX_SYNTAX_DEPTH`), and so are files whose
brackets nest deeper than tfparse's parser can recurse, balanced or not
(see `hcl_source.MAX_BRACKET_DEPTH`).

NOTE: a `for_each` is caught when the fallback evaluator computes it or
its type is plain from the syntax (see `terraform_primitives`), and a file
name when the evaluator computes it. `for_each = try(var.x, 1)`, with
`var.x` undeclared, still crashes tfparse. A scalar `for_each` that this
check misses, on an IAM resource or data source or on a call of a module
with IAM resources, is still dropped by tfparse, and `terraform_dropped`
reports it at the `for_each` as not checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mfa_guard.loaders.hcl_source import find_deep_brackets, find_deep_nesting
from mfa_guard.loaders.positions import Pos, Unresolved
from mfa_guard.loaders.terraform_blocks import Attribute, Block
from mfa_guard.loaders.terraform_expressions import (
    UNKNOWN,
    Definition,
    Evaluator,
    ModuleScope,
    plain,
)
from mfa_guard.loaders.terraform_primitives import PrimitiveContext, primitive_kind
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
    block blanked out, lines kept, for tfparse to read instead. `hidden`
    contains the spans of the blanked blocks.
    """

    files: dict[str, Problem] = field(default_factory=dict)
    blocks: list[Diagnostic] = field(default_factory=list)
    rewritten: dict[str, str] = field(default_factory=dict)
    hidden: list[SourceSpan] = field(default_factory=list)

    def reported(self, diagnostic: Diagnostic) -> bool:
        """Return True when a guard reported the block `diagnostic` is about."""
        span = diagnostic.span
        if any(span == item.span for item in self.blocks):
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
            invalid: list[Diagnostic] = []
            hidden: list[Block] = []
            problem = _first_problem(blocks, checks, (invalid, hidden))
            if problem is not None:
                unsafe[name] = problem
                continue
            guards.blocks.extend(invalid)
            if hidden:
                guards.rewritten[name] = _blank_blocks(hidden)
                guards.hidden.extend(
                    SourceSpan(block.source.path, *block.span) for block in hidden
                )
    return guards


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
    value = _expansion_value(attribute, caller)
    return Unresolved("(unknown argument)") if value is UNKNOWN else value


def _first_problem(
    blocks: list[Block],
    checks: _Checks,
    found: tuple[list[Diagnostic], list[Block]],
) -> Problem | None:
    """Return the first reason to leave the file of `blocks` out, if any.

    Adds, as it goes, each block Terraform rejects to the diagnostics of
    `found`, and each block that would crash tfparse to its blocks too.
    """
    invalid, hidden = found
    invalid_types = invalid_type_constraints(blocks)
    if invalid_types:
        return invalid_types[0]
    edges = reference_graph(blocks)
    for block in blocks:
        problem = self_reference(block, edges)
        if problem is not None:
            return problem
        crash = _crash(block, checks)
        if crash is not None:
            hidden.append(block)
            invalid.append(crash)
            continue
        counted = _counted(block)
        rejected = (
            _both_expansions(counted)
            or _dropped_for_each(counted, checks)
            or _invalid_count(counted, checks.block_evaluator)
        )
        if rejected is not None:
            span = SourceSpan(block.source.path, *rejected[0])
            invalid.append(Diagnostic(DiagnosticKind.PARSE_ERROR, span, rejected[1]))
    return None


def _crash(block: Block, checks: _Checks) -> Diagnostic | None:
    """Report `block` if tfparse would crash on it with the values of any call.

    A scalar `for_each` that comes from a variable's value, not from the
    module's own text, is reported as not checked (info), because another
    value of the variable may be valid.
    """
    lost = f"so {_describe(block)} was not checked"
    dynamic = _dynamic_blocks(block)
    for evaluator in checks.crash_evaluators:
        scalar = _scalar_for_each(dynamic, evaluator, checks.context)
        if scalar is not None:
            attribute, found = scalar
            span = SourceSpan(block.source.path, *attribute.span)
            if _scalar_for_each(dynamic, checks.block_evaluator, checks.context):
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


def _blank_blocks(blocks: list[Block]) -> str:
    """Return the text of the blocks' file with each block replaced by spaces.

    Line breaks stay, so tfparse reports the other blocks at their lines.
    """
    source = blocks[0].source
    characters = list(source.text)
    for block in blocks:
        line, column, end_line, end_column = block.span
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


def _scalar_for_each(
    owners: list[Block], evaluator: Evaluator, context: PrimitiveContext
) -> tuple[Attribute, str] | None:
    """Find a `for_each` of one of `owners` whose value is a string, number or bool.

    Returns the attribute and what is wrong, such as `dynamic "statement": a
    string is not a collection`. In a `dynamic`
    block, tfparse panics on such a value. On a resource, data source or
    module, tfparse silently drops the block.
    """
    for owner in owners:
        attribute = owner.attributes.get("for_each")
        if attribute is None:
            continue
        kind = _scalar_kind(_expansion_value(attribute, evaluator))
        if kind is None and attribute.expression is not None:
            kind = primitive_kind(attribute.expression, attribute.source, context)
        if kind is None:
            continue
        found = f"{_describe(owner)}: a {kind} is not a collection"
        return attribute, found
    return None


def _dropped_for_each(owners: list[Block], checks: _Checks) -> Problem | None:
    """Find a scalar `for_each` of a resource, data source or module, which tfparse drops."""
    scalar = _scalar_for_each(owners, checks.block_evaluator, checks.context)
    if scalar is None:
        return None
    attribute, found = scalar
    message = (
        f"invalid for_each in {found}; Terraform rejects this, so the block was"
        " not checked"
    )
    return attribute.span, message


def _both_expansions(owners: list[Block]) -> Problem | None:
    """Find a block of `owners` with both `count` and `for_each`, which Terraform rejects."""
    for owner in owners:
        attribute = owner.attributes.get("for_each")
        if attribute is None or "count" not in owner.attributes:
            continue
        message = (
            f"invalid {_describe(owner)}: count and for_each cannot both be set;"
            " Terraform rejects this"
        )
        return attribute.span, message
    return None


def _invalid_count(owners: list[Block], evaluator: Evaluator) -> Problem | None:
    """Find a `count` of one of `owners` that Terraform rejects.

    Terraform converts `count` to a whole number of 0 or more, so "2" and
    2.0 are valid, while null, a bool, 1.5, "abc" and -1 are not. tfparse
    drops a block with a negative count and keeps one instance of the
    others, so their policy is still checked.
    """
    for owner in owners:
        attribute = owner.attributes.get("count")
        if attribute is None:
            continue
        value = _expansion_value(attribute, evaluator)
        reason = _count_problem(value)
        if reason is None:
            continue
        outcome = "the block was checked as a single instance"
        if _is_negative(value):
            outcome = "the block was not checked"
        message = (
            f"invalid count in {_describe(owner)}: {reason}; Terraform rejects"
            f" this, and {outcome}"
        )
        return attribute.span, message
    return None


def _expansion_value(attribute: Attribute, evaluator: Evaluator) -> Any:
    """Return the value of a `for_each` or `count`, or UNKNOWN.

    In JSON syntax a string is a template, which this check does not
    evaluate when it has an interpolation or a directive.
    """
    if attribute.expression is not None:
        return evaluator.evaluate(attribute.expression, attribute.source)
    value = attribute.json_value
    if isinstance(value, str) and ("${" in value or "%{" in value):
        return UNKNOWN
    return plain(value)


def _scalar_kind(value: Any) -> str | None:
    """Name the type of a string, number or bool, or return None for anything else."""
    if isinstance(value, Unresolved) or value is UNKNOWN:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def _count_problem(value: Any) -> str | None:
    """Describe why `value` is not a valid `count`, or return None if it is or may be."""
    if value is None:
        return "the value is null"
    if isinstance(value, bool):
        return "a bool is not a number"
    if isinstance(value, Unresolved) or not isinstance(value, str | int | float):
        return None
    number: int | float
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return f'the string "{value}" is not a number'
    else:
        number = value
    text = f'"{value}"' if isinstance(value, str) else str(value)
    if isinstance(number, float) and not number.is_integer():
        return f"{text} is not a whole number"
    if number < 0:
        return f"{text} is negative"
    return None


def _is_negative(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value < 0


def _describe(block: Block) -> str:
    """Name a block as written, such as `resource "aws_iam_policy" "p"` or "the locals block"."""
    if not block.labels:
        return f"the {block.type} block"
    labels = " ".join(f'"{label}"' for label in block.labels)
    return f"{block.type} {labels}"


def _counted(block: Block) -> list[Block]:
    """Return the block itself if it may have `for_each`: a resource, data source or module."""
    return [block] if block.type in ("resource", "data", "module") else []


def _dynamic_blocks(block: Block) -> list[Block]:
    """Return the `dynamic` blocks in a block, except inside another's `content`."""
    found = []
    for child in block.blocks:
        if child.type == "dynamic":
            found.append(child)
        else:
            found.extend(_dynamic_blocks(child))
    return found
