"""Evaluate the `for_each` or `count` of a block that tfparse expanded to nothing.

A block with no instance is either empty, which Terraform allows, or was
dropped by tfparse (see `terraform_dropped`). The fallback evaluator
distinguishes the two where it can compute the value, and the message
gives the value or names the expression that could not be evaluated.
"""

from __future__ import annotations

from typing import Any

from mfa_guard.loaders.positions import Unresolved
from mfa_guard.loaders.terraform_blocks import Attribute, Block
from mfa_guard.loaders.terraform_expressions import UNKNOWN, describe
from mfa_guard.loaders.terraform_values import ValueResolver
from mfa_guard.model import Diagnostic, DiagnosticKind, SourceSpan

# The meta-arguments that expand a block into instances, each with the known
# causes of tfparse 0.6.22 dropping the block.
_EXPANSIONS = {
    "for_each": (
        "its for_each is not a map or a set of strings, or depends on a value"
        " known only after apply, such as a variable without a value or an"
        " attribute of a data source"
    ),
    "count": "its count is negative",
}


def unexpanded_diagnostic(
    block: Block, subject: str, resolver: ValueResolver
) -> Diagnostic | None:
    """Return the diagnostic of a block without instances, or None if it is empty.

    `subject` starts the message and names what was not checked.
    """
    for name, causes in _EXPANSIONS.items():
        attribute = block.attributes.get(name)
        if attribute is None:
            continue
        value = _value(attribute, resolver)
        if _is_empty(value, name):
            return None

        message = (
            f"{subject}: the Terraform evaluator (tfparse) returned no instance of"
            f" the block. tfparse drops a block without an error when {causes};"
            f" {_detail(attribute, name, value)}"
        )
        span = SourceSpan(block.source.path, *attribute.span)
        return Diagnostic(DiagnosticKind.UNRESOLVED, span, message)
    return None


def _value(attribute: Attribute, resolver: ValueResolver) -> Any:
    """Evaluate a `for_each` or `count` with the fallback evaluator.

    A `for` expression is computed, its `if` filter included, over the
    collections the evaluator can compute, so one that keeps no element is
    empty.
    """
    return resolver.resolve(attribute, UNKNOWN)


def _is_empty(value: Any, name: str) -> bool:
    if name == "count":
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        return number and value == 0
    return isinstance(value, (dict, list)) and not value


def _detail(attribute: Attribute, name: str, value: Any) -> str:
    if _is_unresolved(value):
        written = attribute.name
        if attribute.expression is not None:
            written = describe(attribute.expression, attribute.source)
        return f"here {written} could not be evaluated"
    return f"here the {name} is {_described(value)}"


def _is_unresolved(value: Any) -> bool:
    if isinstance(value, Unresolved) or value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(_is_unresolved(item) for item in value.values())
    if isinstance(value, list):
        return any(_is_unresolved(item) for item in value)
    return False


def _described(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the bool {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, dict):
        return f"a map of {len(value)} elements"
    if isinstance(value, list):
        return f"a list of {len(value)} elements"
    return type(value).__name__
