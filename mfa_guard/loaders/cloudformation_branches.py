"""Unwrap the `Fn::If` calls of a CloudFormation property value into branches.

The policy loader and the principal loader both need the list items and
values that exist in some combination of conditions, with the condition
values that keep each one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Fn::If conditions beyond the third in one value are left unresolved, so at
# most 2**3 = 8 branches are built from it.
MAX_CONDITIONS = 3

NO_VALUE_NAME = "AWS::NoValue"

Branch = tuple[dict[str, bool], Any]


def intrinsic_name(value: Any) -> str | None:
    """Return the function name if `value` is an intrinsic function call."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    name = next(iter(value))
    if name == "Ref" or (isinstance(name, str) and name.startswith("Fn::")):
        return str(name)
    return None


def if_arguments(value: Any) -> tuple[str, Any, Any] | None:
    """Return (condition, value if true, value if false) for a valid `Fn::If`."""
    if intrinsic_name(value) != "Fn::If":
        return None
    arguments = value["Fn::If"]
    if not isinstance(arguments, list) or len(arguments) != 3:
        return None
    condition, when_true, when_false = arguments
    if not isinstance(condition, str):
        return None
    return condition, when_true, when_false


def resource_condition(resource: Any) -> str | None:
    """Return the name in a resource's `Condition` attribute, or None."""
    if not isinstance(resource, dict):
        return None
    condition = resource.get("Condition")
    return condition if isinstance(condition, str) else None


def is_no_value(value: Any) -> bool:
    return intrinsic_name(value) == "Ref" and value["Ref"] == NO_VALUE_NAME


def branches(value: Any, fixed: Mapping[str, bool]) -> list[Branch]:
    """Unwrap an `Fn::If` around `value`, returning each branch with its conditions.

    Only the outer Fn::If calls are unwrapped, which is enough to find the list
    items and policies that exist in some variant. An Fn::If beyond MAX_CONDITIONS is
    returned as it is and resolves to an Unresolved value later.
    """
    arguments = if_arguments(value)
    if arguments is None:
        return [(dict(fixed), value)]
    condition, when_true, when_false = arguments
    if condition in fixed:
        chosen = when_true if fixed[condition] else when_false
        return branches(chosen, fixed)
    if len(fixed) >= MAX_CONDITIONS:
        return [(dict(fixed), value)]
    true_branches = branches(when_true, {**fixed, condition: True})
    false_branches = branches(when_false, {**fixed, condition: False})
    return true_branches + false_branches


def branch_items(value: Any, fixed: Mapping[str, bool]) -> list[Branch]:
    """Return each item of a list value with the condition values that keep it.

    An `Fn::If` may choose the whole list or one item, and `Ref AWS::NoValue`
    in a branch removes what it stands for. A value that is not a list counts
    as a list of one item.
    """
    found = []
    for list_fixed, chosen in branches(value, fixed):
        if chosen is None or is_no_value(chosen):
            continue
        items = chosen if isinstance(chosen, list) else [chosen]
        for item in items:
            for item_fixed, entry in branches(item, list_fixed):
                if not is_no_value(entry):
                    found.append((item_fixed, entry))
    return found
