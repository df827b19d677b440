"""Load IAM policies from Terraform plan or state JSON (`terraform show -json`).

Every value in a plan is resolved, so a plan is the way to check policies
that the static Terraform loader reports as unresolved. Policies are JSON
strings inside resource attributes. Their own text has no useful positions,
so every statement is located at the attribute in the plan file, and the
finding names the resource address.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from mfa_guard.loaders.base import LoadResult
from mfa_guard.loaders.build import build_document, looks_like_policy
from mfa_guard.loaders.jsonpos import parse_json
from mfa_guard.loaders.positions import Pos, key_position, position_of
from mfa_guard.model import Diagnostic, DiagnosticKind, PolicyKind, SourceSpan

# Resource type -> the attributes that hold a policy, and what kind of policy.
POLICY_ATTRIBUTES: dict[str, tuple[tuple[str, PolicyKind], ...]] = {
    "aws_iam_policy": (("policy", PolicyKind.IDENTITY),),
    "aws_iam_user_policy": (("policy", PolicyKind.IDENTITY),),
    "aws_iam_group_policy": (("policy", PolicyKind.IDENTITY),),
    "aws_iam_role_policy": (("policy", PolicyKind.IDENTITY),),
    "aws_iam_role": (("assume_role_policy", PolicyKind.TRUST),),
    "aws_organizations_policy": (("content", PolicyKind.SCP),),
}


def is_plan(value: Any) -> bool:
    """Return True for `terraform show -json` output of a plan or of state."""
    if not isinstance(value, dict) or "format_version" not in value:
        return False
    return any(key in value for key in ("resource_changes", "planned_values", "values"))


def _module_resources(module: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(module, dict):
        return
    for resource in _list(module.get("resources")):
        if isinstance(resource, dict):
            yield resource
    for child in _list(module.get("child_modules")):
        yield from _module_resources(child)


def _list(value: Any) -> list[Any]:
    """Return `value` when it is a list, else an empty list: plans can be damaged."""
    return value if isinstance(value, list) else []


def _resources(plan: dict[str, Any]) -> Iterator[tuple[str, str, Any, Any]]:
    """Yield (address, type, values, unknown markers) for each resource that will exist."""
    changes = plan.get("resource_changes")
    if isinstance(changes, list):
        for change in changes:
            if (
                not isinstance(change, dict)
                or change.get("mode", "managed") != "managed"
            ):
                continue
            body = change.get("change")
            if not isinstance(body, dict) or body.get("actions") == ["delete"]:
                continue
            yield (
                str(change.get("address")),
                str(change.get("type")),
                body.get("after"),
                body.get("after_unknown"),
            )
        return
    root = plan.get("planned_values") or plan.get("values")
    if not isinstance(root, dict):
        return
    for resource in _module_resources(root.get("root_module")):
        if resource.get("mode", "managed") == "managed":
            yield (
                str(resource.get("address")),
                str(resource.get("type")),
                resource.get("values"),
                None,
            )


def _kind(
    resource_type: str, values: dict[str, Any], default: PolicyKind
) -> PolicyKind | None:
    if resource_type == "aws_organizations_policy":
        policy_type = values.get("type") or "SERVICE_CONTROL_POLICY"
        return PolicyKind.SCP if policy_type == "SERVICE_CONTROL_POLICY" else None
    return default


def _span(path: str, pos: Pos) -> SourceSpan:
    return SourceSpan(path, *pos)


def _policies(
    values: dict[str, Any], resource_type: str
) -> Iterator[tuple[str, Any, PolicyKind]]:
    for attribute, default_kind in POLICY_ATTRIBUTES.get(resource_type, ()):
        kind = _kind(resource_type, values, default_kind)
        if kind is not None:
            yield attribute, values.get(attribute), kind
    if resource_type == "aws_iam_role":
        for index, inline in enumerate(_list(values.get("inline_policy"))):
            if isinstance(inline, dict):
                yield (
                    f"inline_policy[{index}].policy",
                    inline.get("policy"),
                    PolicyKind.IDENTITY,
                )


def load_plan(plan: dict[str, Any], path: str) -> LoadResult:
    """Load every policy attribute of the resources a plan (or state) describes."""
    result = LoadResult()
    fallback = position_of(plan) or (1, 1, 1, 1)
    for address, resource_type, values, unknown in _resources(plan):
        if not isinstance(values, dict):
            continue
        for attribute, text, kind in _policies(values, resource_type):
            pos = (
                key_position(values, attribute.split(".")[-1])
                or position_of(values)
                or fallback
            )
            name = f"{address}.{attribute}"
            if text is None:
                if isinstance(unknown, dict) and unknown.get(attribute):
                    message = f"policy {name} is known only after apply, so it was not checked"
                    result.diagnostics.append(
                        Diagnostic(DiagnosticKind.UNRESOLVED, _span(path, pos), message)
                    )
                continue
            _add_policy(result, text, path, address, kind, pos)
    return result


def _add_policy(
    result: LoadResult, text: Any, path: str, address: str, kind: PolicyKind, pos: Pos
) -> None:
    if not isinstance(text, str):
        return
    try:
        # The positioned parser checks the nesting depth, which json.loads
        # only meets with a RecursionError. Its positions are those of the
        # policy text, not of the plan file, so the plain value is used.
        parse_json(text)
        value = json.loads(text)
    except ValueError as error:
        message = f"policy of {address} is not valid JSON: {error}"
        result.diagnostics.append(
            Diagnostic(DiagnosticKind.PARSE_ERROR, _span(path, pos), message)
        )
        return
    if not looks_like_policy(value):
        return
    document, problems = build_document(
        value, path=path, name=address, kind=kind, fallback=pos
    )
    if document is not None:
        result.documents.append(document)
    result.diagnostics.extend(problems)
