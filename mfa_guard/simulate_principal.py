"""Find the IAM user that `mfa-guard simulate --principal` names, with its policy set."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mfa_guard.engine.policy_sets import PolicySet, build_policy_sets
from mfa_guard.errors import UsageError
from mfa_guard.loaders.base import LoadResult
from mfa_guard.model import Principal, PrincipalKind
from mfa_guard.records import record, replace


@record
class PrincipalSet:
    """The user a simulation is for, and every policy that reaches the user.

    A policy with `Fn::If` is in `policy_set` once per variant.
    """

    user: Principal
    policy_set: PolicySet


def _matches(principal: Principal, text: str) -> bool:
    return text in (principal.address, principal.name)


def find_principal_set(
    units: Sequence[tuple[str, LoadResult]], text: str
) -> PrincipalSet:
    """Return the policy set of the IAM user whose address, logical id or name is `text`.

    A match by Terraform address or CloudFormation logical id wins over a
    match by IAM name. Raises UsageError when no user matches, when the
    match is a group or a role, or when several users match.
    """
    found: list[tuple[Principal, LoadResult]] = []
    for _, unit in units:
        found.extend((p, unit) for p in unit.principals if _matches(p, text))
    by_address = [(p, unit) for p, unit in found if p.address == text]
    found = by_address or found

    if not found:
        raise UsageError(
            f"principal {text!r} not found: expected the Terraform address"
            " (aws_iam_user.NAME), CloudFormation logical id or IAM name of a user"
            " declared in the scanned paths"
        )
    if len(found) > 1:
        places = ", ".join(f"{p.address} in {p.span.path}" for p, _ in found)
        raise UsageError(
            f"principal {text!r} is ambiguous: it matches {places}; name one by"
            " its address or scan fewer paths"
        )

    principal, unit = found[0]
    if principal.kind is not PrincipalKind.USER:
        raise UsageError(
            f"principal {text!r} is an IAM {principal.kind.value}; --principal takes an IAM user"
        )
    index = build_policy_sets(unit.documents, unit.principals, unit.password_policy)
    sets = [
        policy_set for policy_set in index.user_sets if policy_set.user is principal
    ]
    if not sets:
        raise AssertionError(f"no policy set was built for {principal.address}")
    # One set per combination of Fn::If conditions: `simulate` chooses the
    # variants itself, so it gets all of them.
    members = {id(member.document): member for s in sets for member in s.members}
    every_variant = replace(sets[0], members=tuple(members.values()), assignment=())
    return PrincipalSet(principal, every_variant)


def principal_data(found: PrincipalSet, arn: str) -> dict[str, Any]:
    """Describe the user and the policies that reach it, for the JSON output."""
    user = found.user
    return {
        "address": user.address,
        "name": user.name,
        "path": user.path,
        "arn": arn,
        "file": user.span.path,
        "line": user.span.line,
        "policies": [
            {
                "policy": member.document.label,
                "path": member.document.path,
                "via": member.via,
            }
            for member in found.policy_set.members
        ],
        "missing": list(found.policy_set.missing),
    }
