"""Check the `count` and `for_each` of blocks against the values Terraform accepts.

Terraform requires the `for_each` of a resource, data source or module call
to be a map, an object or a set of strings. A string, number, bool or null
is rejected everywhere, and a list or tuple is rejected there but valid in
a `dynamic` block (`validateResource` in Terraform's
internal/terraform/eval_for_each.go). `count` is converted to a whole
number from 0 up to the largest 64-bit integer, so "2" and 2.0 are valid,
while null, a bool, a collection, 1.5, "abc", -1 and 1e400 are not
(`evaluateCountExpressionValue` in Terraform's
internal/terraform/eval_count.go). A block cannot have both.

tfparse 0.6.22, on such a block:

- drops it for a scalar `for_each`, a negative `count` and a number `count`
  too large for Terraform;
- expands a list `for_each` like a set: one instance for each element that
  is a string, number or bool, and none for an element that is null or a
  collection;
- keeps one instance for the other invalid `count` values.
"""

from __future__ import annotations

import math
from typing import Any

from mfa_guard.loaders.positions import Pos, Unresolved
from mfa_guard.loaders.terraform_blocks import Attribute, Block
from mfa_guard.loaders.terraform_collections import collection_kind
from mfa_guard.loaders.terraform_expressions import UNKNOWN, Evaluator, plain
from mfa_guard.loaders.terraform_primitives import PrimitiveContext, primitive_kind
from mfa_guard.loaders.terraform_scope import describe
from mfa_guard.records import record

# Largest `count` Terraform accepts: it converts the value to a Go int, which
# has 64 bits on 64-bit platforms.
# NOTE: a 32-bit build of Terraform has a smaller maximum, 2**31 - 1.
MAX_COUNT = 2**63 - 1


@record
class Rejection:
    """A `count` or `for_each` that Terraform rejects: where, and why.

    `settled` is False when the message cannot tell whether tfparse kept
    the block, so a report that tfparse dropped it still applies.
    """

    span: Pos
    message: str
    settled: bool = True


def rejected_expansion(
    block: Block, evaluator: Evaluator, context: PrimitiveContext
) -> Rejection | None:
    """Find a `count` or `for_each` of a resource, data source or module that Terraform rejects.

    `evaluator` must read no variable default, because a caller may set a
    variable to a valid value. A `.tfvars` value counts as set.
    """
    if block.type not in ("resource", "data", "module"):
        return None
    return (
        _both_expansions(block)
        or _scalar_block_for_each(block, evaluator, context)
        or _list_for_each(block, evaluator, context)
        or _invalid_count(block, evaluator, context)
    )


def scalar_for_each(
    owners: list[Block], evaluator: Evaluator, context: PrimitiveContext
) -> tuple[Attribute, str] | None:
    """Find a `for_each` of one of `owners` whose value is a string, number or bool.

    Returns the attribute and what is wrong, such as `dynamic "statement": a
    string is not a collection`. In a `dynamic` block, tfparse panics on
    such a value. On a resource, data source or module, tfparse silently
    drops the block.
    """
    for owner in owners:
        attribute = owner.attributes.get("for_each")
        if attribute is None:
            continue
        kind = _scalar_kind(expansion_value(attribute, evaluator))
        if kind is None and attribute.expression is not None:
            kind = primitive_kind(attribute.expression, attribute.source, context)
        if kind is None:
            continue
        found = f"{describe_block(owner)}: a {kind} is not a collection"
        return attribute, found
    return None


def _scalar_block_for_each(
    block: Block, evaluator: Evaluator, context: PrimitiveContext
) -> Rejection | None:
    scalar = scalar_for_each([block], evaluator, context)
    if scalar is None:
        return None
    attribute, found = scalar
    message = (
        f"invalid for_each in {found}; Terraform rejects this, so the block was"
        " not checked"
    )
    return Rejection(attribute.span, message)


def _both_expansions(block: Block) -> Rejection | None:
    attribute = block.attributes.get("for_each")
    if attribute is None or "count" not in block.attributes:
        return None
    message = (
        f"invalid {describe_block(block)}: count and for_each cannot both be set;"
        " Terraform rejects this"
    )
    return Rejection(attribute.span, message)


def _list_for_each(
    block: Block, evaluator: Evaluator, context: PrimitiveContext
) -> Rejection | None:
    """Report a `for_each` whose value is a list or a tuple whatever sets its variables."""
    attribute = block.attributes.get("for_each")
    if attribute is None:
        return None
    if collection_kind(attribute, context, evaluator.scope.variables) != "list":
        return None

    message = (
        f"invalid for_each in {describe_block(block)}: a list is not a map or a set"
        " of strings (toset() converts a list of strings); Terraform rejects this"
    )
    value = expansion_value(attribute, evaluator)
    outcome = _list_outcome(value)
    if outcome is None:
        return Rejection(attribute.span, message, settled=False)
    return Rejection(attribute.span, f"{message}, {outcome}")


def _list_outcome(value: Any) -> str | None:
    """Say what tfparse does with a block whose `for_each` is the list `value`, if known."""
    if not isinstance(value, list):
        return None
    kinds = [_scalar_kind(item) for item in value]
    if value and all(kinds):
        return "and the block was checked once for each element"
    if all(item is None or isinstance(item, list | dict) for item in value):
        return "so the block was not checked"
    return None


def _invalid_count(
    block: Block, evaluator: Evaluator, context: PrimitiveContext
) -> Rejection | None:
    attribute = block.attributes.get("count")
    if attribute is None:
        return None
    value = expansion_value(attribute, evaluator)
    reason = _count_problem(value, attribute, evaluator, context)
    if reason is None:
        return None

    outcome = "the block was checked as a single instance"
    if _is_dropped_count(value):
        outcome = "the block was not checked"
    message = (
        f"invalid count in {describe_block(block)}: {reason}; Terraform rejects"
        f" this, and {outcome}"
    )
    return Rejection(attribute.span, message)


def _count_problem(
    value: Any, attribute: Attribute, evaluator: Evaluator, context: PrimitiveContext
) -> str | None:
    """Describe why `value` is not a valid `count`, or return None if it is or may be."""
    if value is None:
        return "the value is null"
    if isinstance(value, bool):
        return "a bool is not a number"
    if isinstance(value, list | dict | Unresolved) or value is UNKNOWN:
        return _count_type_problem(value, attribute, evaluator, context)
    if not isinstance(value, str | int | float):
        return None

    number: int | float
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return f'the string "{value}" is not a number'
    else:
        number = value
    text = f'"{value}"' if isinstance(value, str) else _number_text(value, attribute)
    if number < 0:
        return f"{text} is negative"
    if number > MAX_COUNT:
        return f"{text} is larger than the maximum, {MAX_COUNT}"
    if isinstance(number, float) and not number.is_integer():
        return f"{text} is not a whole number"
    return None


def _count_type_problem(
    value: Any, attribute: Attribute, evaluator: Evaluator, context: PrimitiveContext
) -> str | None:
    """Name the type of a `count` that is not a number, from its value or its syntax."""
    kind = collection_kind(attribute, context, evaluator.scope.variables)
    if kind is None and isinstance(value, list):
        kind = "list"
    if kind is None and isinstance(value, dict):
        kind = "map"
    expression = attribute.expression
    if (
        kind is None
        and expression is not None
        and primitive_kind(expression, attribute.source, context) == "bool"
    ):
        kind = "bool"
    if kind is None:
        return None
    return f"a {kind} is not a number"


def _number_text(value: int | float, attribute: Attribute) -> str:
    """Format a number for a message, as written when it is too large for a float."""
    if math.isfinite(value):
        return str(value)
    if attribute.expression is not None:
        return describe(attribute.expression, attribute.source)
    return "the number"


def _is_dropped_count(value: Any) -> bool:
    """Return True for a number `count` that tfparse drops the block for."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    return value < 0 or value > MAX_COUNT


def expansion_value(attribute: Attribute, evaluator: Evaluator) -> Any:
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


def describe_block(block: Block) -> str:
    """Name a block as written, such as `resource "aws_iam_policy" "p"` or "the locals block"."""
    if not block.labels:
        return f"the {block.type} block"
    labels = " ".join(f'"{label}"' for label in block.labels)
    return f"{block.type} {labels}"
