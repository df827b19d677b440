"""Resolve what a Terraform policy attachment refers to.

A `policy_arn` is a reference to an `aws_iam_policy` of the module (which
tfparse evaluates to that block's own id), a literal ARN, or the `arn` of a
`data "aws_iam_policy"` lookup. An ARN that names a policy of the module by
its name is matched to it. Any other ARN is a policy the module does not
define, such as an AWS managed policy.
"""

from __future__ import annotations

import re
from typing import Any

from mfa_guard.iam.managed import aws_managed_arn, policy_name_of_arn
from mfa_guard.loaders.terraform_collect import TerraformLoadResult
from mfa_guard.loaders.terraform_expressions import is_unknown
from mfa_guard.loaders.terraform_module import ModuleIndex
from mfa_guard.records import field, record

POLICY = "aws_iam_policy"

# The attribute names that follow a resource address in a reference.
_REFERENCE_ATTRIBUTES = re.compile(r"\.(?:name|arn|id|unique_id)$")
# Reference prefixes that name no resource.
_NOT_RESOURCES = ("var.", "local.", "each.", "count.", "path.", "terraform.", "self.")


@record(frozen=False)
class PolicyTarget:
    """The documents of the module, or the ARN, that a `policy_arn` names.

    `problem` is the reason the value could not be resolved.
    """

    addresses: list[str] = field(default_factory=list)
    arn: str | None = None
    problem: str | None = None


def reference_address(value: Any) -> str | None:
    """Return the resource address of a reference tfparse left unevaluated.

    tfparse returns `{"__attribute__": "aws_iam_user.x.name", ...}` for such
    a reference, which gives `aws_iam_user.x`. A reference to a variable, a
    local value or another non-resource name gives None.
    """
    if not isinstance(value, dict):
        return None
    text = value.get("__attribute__")
    if not isinstance(text, str) or text.startswith(_NOT_RESOURCES):
        return None
    return _REFERENCE_ATTRIBUTES.sub("", text.strip())


def value_text(value: Any) -> str | None:
    """Return a reference's address or a literal text, or None for an unknown value."""
    address = reference_address(value)
    if address is not None:
        return address
    if isinstance(value, str) and not is_unknown(value):
        return value
    return None


class PolicyTargets:
    """The policies of one module, by tfparse id, by name and by ARN lookup."""

    def __init__(self, index: ModuleIndex, result: TerraformLoadResult) -> None:
        self.result = result
        self.prefix = index.prefix
        self.by_id: dict[str, str] = {}
        self.by_name: dict[str, str] = {}
        self.looked_up_arns: dict[str, str] = {}

        for entry in index.entries(POLICY, "resource"):
            if isinstance(entry.values.get("id"), str):
                self.by_id[entry.values["id"]] = entry.address
            name = entry.values.get("name")
            if isinstance(name, str):
                self.by_name[name] = entry.address

        for entry in index.entries(POLICY, "data"):
            arn = entry.values.get("arn")
            if isinstance(arn, str) and isinstance(entry.values.get("id"), str):
                self.looked_up_arns[entry.values["id"]] = arn

    def documents_of(self, address: str) -> list[str]:
        """Return the names of the documents built from the policy of `address`.

        A resource whose policy is an `aws_iam_policy_document` data source
        gives the data source's document, which is named after the data source.
        """
        names = {document.name for document in self.result.documents}
        found = [address] if address in names else []
        for data_address, owners in self.result.policy_references.items():
            if address in owners and data_address in names:
                found.append(data_address)
        return found

    def resolve(self, value: Any) -> PolicyTarget:
        address = reference_address(value)
        if address is not None and address.startswith(f"{POLICY}."):
            return PolicyTarget(addresses=[self.prefix + address])
        if not isinstance(value, str) or is_unknown(value):
            described = address or "a value"
            return PolicyTarget(problem=f"is {described}, which could not be resolved")
        if value in self.by_id:
            return PolicyTarget(addresses=[self.by_id[value]])
        return self._resolve_arn(self.looked_up_arns.get(value, value))

    def _resolve_arn(self, arn: str) -> PolicyTarget:
        managed = aws_managed_arn(arn)
        if managed is not None:
            return PolicyTarget(arn=managed)
        name = policy_name_of_arn(arn)
        if name is not None and name in self.by_name:
            return PolicyTarget(addresses=[self.by_name[name]])
        if not arn.startswith("arn:"):
            return PolicyTarget(problem=f"is {arn!r}, which is not an ARN")
        return PolicyTarget(arn=arn)
