"""Find the files that would crash or hang tfparse, before it runs.

tfparse 0.6.22 is a Go extension: a Go panic ends the whole Python process,
and an endless loop inside it cannot be interrupted. Each trigger below was
found by running tfparse on mutated configurations in subprocesses. All of
them are configurations Terraform rejects or cannot load, so the loader
reports the file and leaves it out of the evaluation:

- a variable `type` that is not a type constraint (a nil pointer panic,
  see `terraform_types`);
- a `dynamic` block whose `for_each` is a string, number or bool
  ("value is not a collection" panic);
- a `count` or `for_each` that refers to its own block, directly or through
  other blocks' `count` or `for_each` (memory grows past 1 GB, then a panic);
- a module that calls one of its callers, or itself (endless recursion);
- a `file()` or `templatefile()` of a named pipe or a device (endless read).

On a resource, data source or module, such a `for_each` makes tfparse
drop the block without an error, and Terraform rejects it. Only that block
is lost, so the file stays in the evaluation and the block is reported at
its `for_each` (see `Guards.blocks`). So is a `count` that Terraform
rejects, such as null, a bool or 1.5, which tfparse reads as one instance.

Values nested deeper than the loader's own recursion allows are left out
the same way (see `hcl_source.MAX_SYNTAX_DEPTH`), and so are files whose
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
from mfa_guard.loaders.terraform_blocks import Block
from mfa_guard.loaders.terraform_expressions import (
    UNKNOWN,
    Definition,
    Evaluator,
    ModuleScope,
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

_SCALAR_NAMES = {bool: "bool", int: "number", float: "number", str: "string"}

Problem = tuple[Pos, str]


@record(frozen=False)
class Guards:
    """The findings of the checks that run before tfparse.

    `files` maps each file tfparse must not read, by its name relative to
    the root module, to the position and message of the reason. `blocks`
    reports the blocks of the other files that Terraform rejects and
    tfparse drops, each at its `for_each`.
    """

    files: dict[str, Problem] = field(default_factory=dict)
    blocks: list[Diagnostic] = field(default_factory=list)


def find_unsafe_files(
    tree: ModuleTree, var_definitions: dict[str, Definition]
) -> Guards:
    """Find the files tfparse must not read, and the blocks it will drop.

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

    for module in tree.files():
        overrides = var_definitions if module.relative == "." else {}
        kept = [
            block
            for name, blocks in module.blocks.items()
            if name not in unsafe
            for block in blocks
        ]
        evaluator = Evaluator(_static_scope(module, overrides, kept))
        # A caller may set a child module's variables to other values than
        # their defaults, and tfparse uses those. A block is reported only
        # when its `for_each` is scalar whatever the caller sets.
        block_evaluator = evaluator
        if module.relative != ".":
            block_evaluator = Evaluator(_static_scope(module, {}, kept, defaults=False))
        context = PrimitiveContext.of_blocks(kept)
        bases = [tree.root, module.directory]
        for name, blocks in module.blocks.items():
            if name in unsafe:
                continue
            invalid: list[Diagnostic] = []
            problem = _first_problem(
                blocks, (evaluator, block_evaluator), context, bases, invalid
            )
            if problem is not None:
                unsafe[name] = problem
            else:
                guards.blocks.extend(invalid)
    return guards


def _first_problem(
    blocks: list[Block],
    evaluators: tuple[Evaluator, Evaluator],
    context: PrimitiveContext,
    bases: list[Path],
    invalid: list[Diagnostic],
) -> Problem | None:
    """Return the first reason to leave the file of `blocks` out, if any.

    Adds each block that tfparse will drop to `invalid` as it goes. The
    second of `evaluators` decides that, and the first everything else.
    """
    evaluator, block_evaluator = evaluators
    invalid_types = invalid_type_constraints(blocks)
    if invalid_types:
        return invalid_types[0]
    edges = reference_graph(blocks)
    for block in blocks:
        problem = (
            _scalar_for_each(_dynamic_blocks(block), evaluator, context)
            or self_reference(block, edges)
            or special_file(block, evaluator, bases)
        )
        if problem is not None:
            return problem
        found = _scalar_for_each(_counted(block), block_evaluator, context)
        found = found or _invalid_count(_counted(block), block_evaluator)
        if found is not None:
            pos, message = found
            span = SourceSpan(block.source.path, *pos)
            invalid.append(Diagnostic(DiagnosticKind.PARSE_ERROR, span, message))
    return None


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
) -> Problem | None:
    """Find a `for_each` of one of `owners` whose value is a string, number or bool.

    In a `dynamic` block, tfparse panics on it, so the file is left out. On
    a resource, data source or module, tfparse silently drops the block, so
    only its policy goes unchecked.
    """
    for owner in owners:
        attribute = owner.attributes.get("for_each")
        if attribute is None or attribute.expression is None:
            continue
        value = evaluator.evaluate(attribute.expression, attribute.source)
        kind = _SCALAR_NAMES.get(type(value))
        if kind is None or isinstance(value, Unresolved):
            kind = primitive_kind(attribute.expression, attribute.source, context)
        if kind is None:
            continue
        labels = " ".join(f'"{label}"' for label in owner.labels)
        lost = (
            "file was left out" if owner.type == "dynamic" else "block was not checked"
        )
        message = (
            f"invalid for_each in {owner.type} {labels}: a {kind} is not a "
            f"collection; Terraform rejects this, so the {lost}"
        )
        return attribute.span, message
    return None


def _invalid_count(owners: list[Block], evaluator: Evaluator) -> Problem | None:
    """Find a `count` of one of `owners` that Terraform rejects but tfparse reads as 1.

    Terraform converts `count` to a whole number, so "2" and 2.0 are
    valid, while null, a bool, 1.5 and "abc" are not. tfparse keeps one
    instance of such a block, so its policy is still checked.
    """
    for owner in owners:
        attribute = owner.attributes.get("count")
        if attribute is None or attribute.expression is None:
            continue
        reason = _count_problem(
            evaluator.evaluate(attribute.expression, attribute.source)
        )
        if reason is None:
            continue
        labels = " ".join(f'"{label}"' for label in owner.labels)
        message = (
            f"invalid count in {owner.type} {labels}: {reason}; Terraform rejects"
            " this, and the block was checked as a single instance"
        )
        return attribute.span, message
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
    if isinstance(number, float) and not number.is_integer():
        text = f'"{value}"' if isinstance(value, str) else str(value)
        return f"{text} is not a whole number"
    return None


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
