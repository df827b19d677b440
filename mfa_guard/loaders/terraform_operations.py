"""Conditional expressions and logical operators for the fallback evaluator.

Template directives (`%{ if var.enabled }`) and conditional policy parts
(`var.strict ? "Bool" : "BoolIfExists"`) need these. Supported are
`a ? b : c`, `==`, `!=`, `&&`, `||`, `!`, the ordering of numbers (`<`,
`<=`, `>`, `>=`, as in `length(var.m) > 0 ? var.m : {}`), arithmetic on
numbers (`+`, `-`, `*`, `/`) and the negation of a number (`-1`).
Anything else, `%` included, whose sign rules this code does not check
against Terraform's, evaluates to an Unresolved marker.

tree-sitter-hcl does not wrap the operands of an operation: `var.x == "y"`
is a `binary_operation` whose children are `variable_expr`, `get_attr`,
`==` and `literal_value`. Named children up to the operator token make one
operand.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import add, ge, gt, le, lt, mul, sub, truediv
from typing import TYPE_CHECKING, Any

from mfa_guard.loaders.hcl_source import SourceFile
from mfa_guard.loaders.positions import Unresolved
from mfa_guard.loaders.terraform_scope import describe

if TYPE_CHECKING:
    from tree_sitter import Node

    from mfa_guard.loaders.terraform_expressions import Evaluator

_TRAVERSAL_STEPS = ("get_attr", "index", "splat")
_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": add,
    "-": sub,
    "*": mul,
    "/": truediv,
}
_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "<": lt,
    "<=": le,
    ">": gt,
    ">=": ge,
}


def evaluate_operation(evaluator: Evaluator, node: Node, source: SourceFile) -> Any:
    """Evaluate a `conditional` or `operation` node."""
    if node.type == "conditional":
        return _conditional(evaluator, node, source)

    operation = next((child for child in node.children if child.is_named), None)
    if operation is None:
        return _unresolved(node, source)
    operator, operands = _split(operation, source)
    values = [_operand(evaluator, operand, source, node) for operand in operands]

    if operation.type == "unary_operation" and len(values) == 1:
        if operator == "!":
            return _negate(values[0], node, source)
        if operator == "-" and _is_number(values[0]):
            return -values[0]
        return _unresolved(node, source)
    if operation.type != "binary_operation" or len(values) != 2:
        return _unresolved(node, source)
    return _binary(operator, values[0], values[1], node, source)


def _conditional(evaluator: Evaluator, node: Node, source: SourceFile) -> Any:
    parts = [child for child in node.children if child.type == "expression"]
    if len(parts) != 3:
        return _unresolved(node, source)
    condition = truth_value(evaluator.evaluate(parts[0], source))
    if condition is None:
        return _unresolved(node, source)
    return evaluator.evaluate(parts[1] if condition else parts[2], source)


def _split(operation: Node, source: SourceFile) -> tuple[str, list[list[Node]]]:
    """Return the operator and the node groups of the operands."""
    operator = ""
    operands: list[list[Node]] = [[]]
    for child in operation.children:
        if child.is_named:
            operands[-1].append(child)
            continue
        operator = source.node_text(child)
        if operands[-1]:
            operands.append([])
    return operator, [group for group in operands if group]


def _operand(
    evaluator: Evaluator, group: list[Node], source: SourceFile, whole: Node
) -> Any:
    if len(group) > 1 and all(step.type in _TRAVERSAL_STEPS for step in group[1:]):
        return evaluator.traverse(group, source, whole)
    if len(group) != 1:
        return _unresolved(whole, source)
    return evaluator.evaluate(group[0], source)


def _negate(value: Any, node: Node, source: SourceFile) -> Any:
    condition = truth_value(value)
    if condition is None:
        return _unresolved(node, source)
    return not condition


def _binary(
    operator: str, left: Any, right: Any, node: Node, source: SourceFile
) -> Any:
    if isinstance(left, Unresolved) or isinstance(right, Unresolved):
        return _unresolved(node, source)
    if operator == "==":
        return _equal(left, right)
    if operator == "!=":
        return not _equal(left, right)

    if operator in _ORDERINGS and _is_number(left) and _is_number(right):
        return _ORDERINGS[operator](left, right)
    if operator in _ARITHMETIC and _is_number(left) and _is_number(right):
        return _arithmetic(operator, left, right, node, source)

    first, second = truth_value(left), truth_value(right)
    if operator in ("&&", "||") and first is not None and second is not None:
        return (first and second) if operator == "&&" else (first or second)
    return _unresolved(node, source)


def _arithmetic(
    operator: str, left: float, right: float, node: Node, source: SourceFile
) -> Any:
    """Compute `left operator right`; a division by zero is left unresolved.

    Terraform's numbers are arbitrary-precision decimals, and `5 / 2` is 2.5.
    A whole result is kept as an int, so that `count = 3 - 1` is the number 2.
    """
    if operator == "/" and right == 0:
        return _unresolved(node, source)
    result = _ARITHMETIC[operator](left, right)
    if isinstance(result, float) and result.is_integer():
        return int(result)
    return result


def _equal(left: Any, right: Any) -> bool:
    """Compare as Terraform does: values of different types are never equal."""
    if isinstance(left, bool) != isinstance(right, bool):
        return False
    if isinstance(left, str) != isinstance(right, str):
        return False
    return bool(left == right)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def truth_value(value: Any) -> bool | None:
    """Return a condition's truth value, or None when it is no boolean.

    Terraform converts the strings "true" and "false" to booleans.
    """
    if isinstance(value, Unresolved):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    return None


def _unresolved(node: Node, source: SourceFile) -> Unresolved:
    return Unresolved(describe(node, source))
