"""Find the IAM users, groups and roles of a CloudFormation template.

Reads `AWS::IAM::User` (`UserName`, `Path`, `Groups`, `ManagedPolicyArns`,
inline `Policies`, `LoginProfile`), `AWS::IAM::Group`, `AWS::IAM::Role`,
`AWS::IAM::UserToGroupAddition`, and the `Users`, `Groups` and `Roles` of
`AWS::IAM::ManagedPolicy` and `AWS::IAM::Policy` (and the `UserName`,
`GroupName` or `RoleName` of the single-principal policy types). A principal
is named by `Ref` or `Fn::GetAtt` of its logical id, by a `Fn::Sub` of
either, or by its literal IAM name. A managed policy ARN is `Ref` of an
`AWS::IAM::ManagedPolicy`, or a literal ARN of a policy the template does
not define.

A principal with a `Condition` attribute gets it as `exists_when`. A link
(a group membership or an attached policy) that an `Fn::If` branch or a
conditional `AWS::IAM::UserToGroupAddition` creates gets the condition
values that create it in `link_conditions`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from mfa_guard.cfn_conditions import simplify
from mfa_guard.iam.managed import aws_managed_arn, policy_name_of_arn
from mfa_guard.loaders.cloudformation_branches import branch_items, resource_condition
from mfa_guard.loaders.positions import Pos, Unresolved, key_position
from mfa_guard.loaders.principal_draft import PrincipalDraft
from mfa_guard.model import (
    FnIfAssignment,
    LoginProfile,
    PolicyDocument,
    Principal,
    PrincipalKind,
    SourceSpan,
)
from mfa_guard.records import replace

Resolve = Callable[[Any], Any]

PRINCIPAL_TYPES = {
    "AWS::IAM::User": (PrincipalKind.USER, "UserName"),
    "AWS::IAM::Group": (PrincipalKind.GROUP, "GroupName"),
    "AWS::IAM::Role": (PrincipalKind.ROLE, "RoleName"),
}
# Policy resource type -> (property, principal kind) pairs naming what it is attached to.
_POLICY_TARGETS = {
    "AWS::IAM::ManagedPolicy": (
        ("Users", PrincipalKind.USER),
        ("Groups", PrincipalKind.GROUP),
        ("Roles", PrincipalKind.ROLE),
    ),
    "AWS::IAM::Policy": (
        ("Users", PrincipalKind.USER),
        ("Groups", PrincipalKind.GROUP),
        ("Roles", PrincipalKind.ROLE),
    ),
    "AWS::IAM::UserPolicy": (("UserName", PrincipalKind.USER),),
    "AWS::IAM::GroupPolicy": (("GroupName", PrincipalKind.GROUP),),
    "AWS::IAM::RolePolicy": (("RoleName", PrincipalKind.ROLE),),
}
_MANAGED_POLICY = "AWS::IAM::ManagedPolicy"
_SUB_REFERENCE = re.compile(r"^\$\{([A-Za-z0-9]+)(?:\.[A-Za-z]+)?\}$")


def _referenced_id(value: Any) -> str | None:
    """Return the logical id that `Ref`, `Fn::GetAtt` or a plain `Fn::Sub` names."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    function, argument = next(iter(value.items()))
    if function == "Ref" and isinstance(argument, str):
        return argument
    if function == "Fn::GetAtt":
        if isinstance(argument, list) and argument and isinstance(argument[0], str):
            return argument[0]
        if isinstance(argument, str):
            return argument.split(".", 1)[0]
    if function == "Fn::Sub" and isinstance(argument, str):
        match = _SUB_REFERENCE.match(argument)
        return match.group(1) if match else None
    return None


class TemplatePrincipals:
    """Collect the principals of one template, given its documents."""

    def __init__(
        self,
        resources: Mapping[str, Any],
        documents: list[PolicyDocument],
        path: str,
        resolve: Resolve,
    ) -> None:
        self.resources = resources
        self.document_names = {document.name for document in documents}
        self.path = path
        self.resolve = resolve
        self.drafts: dict[str, PrincipalDraft] = {}
        # Principal address -> linked name -> the condition values of each
        # way the link is created, () for a way without conditions.
        self.links: dict[str, dict[str, list[FnIfAssignment]]] = {}

    def collect(self) -> list[Principal]:
        for logical_id, properties, resource_type in self._resources():
            if resource_type in PRINCIPAL_TYPES:
                self._declare(logical_id, properties, resource_type)
        for logical_id, properties, resource_type in self._resources():
            if resource_type in PRINCIPAL_TYPES:
                self._own_policies(self.drafts[logical_id], properties)
            elif resource_type == "AWS::IAM::UserToGroupAddition":
                self._group_addition(logical_id, properties)
            elif resource_type in _POLICY_TARGETS:
                self._policy_targets(logical_id, properties, resource_type)
        return [self._freeze(draft) for draft in self.drafts.values()]

    def _freeze(self, draft: PrincipalDraft) -> Principal:
        condition = resource_condition(self.resources.get(draft.address))
        exists_when = ((condition, True),) if condition is not None else ()
        link_conditions = []
        for name, ways in self.links.get(draft.address, {}).items():
            alternatives = simplify(ways)
            if alternatives:
                link_conditions.append((name, alternatives))
        return replace(
            draft.freeze(),
            exists_when=exists_when,
            link_conditions=tuple(link_conditions),
        )

    def _link(
        self, owner: PrincipalDraft, names: list[str], name: str, when: dict[str, bool]
    ) -> None:
        """Add `name` to one of `owner`'s lists, created under the `when` values."""
        names.append(name)
        ways = self.links.setdefault(owner.address, {}).setdefault(name, [])
        ways.append(tuple(when.items()))

    def _resources(self) -> Iterator[tuple[str, dict[str, Any], str]]:
        for logical_id, resource in self.resources.items():
            if not isinstance(resource, dict):
                continue
            resource_type = resource.get("Type")
            properties = resource.get("Properties", {})
            if isinstance(resource_type, str) and isinstance(properties, dict):
                yield logical_id, properties, resource_type

    def _span(self, pos: Pos | None) -> SourceSpan:
        return SourceSpan(self.path, *(pos or (1, 1, 1, 1)))

    def _text(self, value: Any) -> str | None:
        resolved = self.resolve(value)
        if isinstance(resolved, str) and not isinstance(resolved, Unresolved):
            return resolved
        return None

    # Principals and their own properties

    def _declare(
        self, logical_id: str, properties: dict[str, Any], resource_type: str
    ) -> None:
        kind, name_property = PRINCIPAL_TYPES[resource_type]
        span = self._span(key_position(self.resources, logical_id))
        draft = PrincipalDraft(kind, logical_id, span, None)
        if name_property in properties:
            draft.name = self._text(properties[name_property])
            if draft.name is None:
                draft.note(f"the {name_property} of {logical_id} could not be resolved")
        if "Path" in properties:
            draft.path = self._text(properties["Path"])
            if draft.path is None:
                draft.note(f"the Path of {logical_id} could not be resolved")
        if kind is PrincipalKind.USER and "LoginProfile" in properties:
            draft.login_profile = self._login_profile(properties)
        self.drafts[logical_id] = draft

    def _login_profile(self, properties: dict[str, Any]) -> LoginProfile | None:
        profile = self.resolve(properties["LoginProfile"])
        if profile is None or not isinstance(profile, dict):
            return None
        span = self._span(key_position(properties, "LoginProfile"))
        reset = profile.get("PasswordResetRequired", False)
        if isinstance(reset, str) and reset.lower() in ("true", "false"):
            reset = reset.lower() == "true"
        return LoginProfile(span, reset if isinstance(reset, bool) else None)

    def _own_policies(self, draft: PrincipalDraft, properties: dict[str, Any]) -> None:
        prefix = f"{draft.address}.Policies"
        draft.policies.extend(
            name
            for name in sorted(self.document_names)
            if name == prefix or name.startswith(prefix + "[")
        )
        arns = properties.get("ManagedPolicyArns")
        for when, value in branch_items(arns, {}):
            self._attach_arn(draft, value, when)
        if draft.kind is PrincipalKind.USER:
            for when, value in branch_items(properties.get("Groups"), {}):
                self._join(draft, value, when)

    # Relations declared by other resources

    def _group_addition(self, logical_id: str, properties: dict[str, Any]) -> None:
        condition = resource_condition(self.resources.get(logical_id))
        created = {condition: True} if condition is not None else {}
        groups = branch_items(properties.get("GroupName"), created)
        for group_when, group_value in groups:
            users = branch_items(properties.get("Users"), group_when)
            for when, user_value in users:
                user = self._find(PrincipalKind.USER, user_value)
                if user is not None:
                    self._join(user, group_value, when)

    def _policy_targets(
        self, logical_id: str, properties: dict[str, Any], resource_type: str
    ) -> None:
        # The policy's own Condition is in its documents' variant_assignments.
        for property_name, kind in _POLICY_TARGETS[resource_type]:
            for when, value in branch_items(properties.get(property_name), {}):
                owner = self._find(kind, value)
                if owner is None:
                    continue
                if logical_id in self.document_names:
                    self._link(owner, owner.policies, logical_id, when)
                else:
                    owner.note(f"the policy of {logical_id} could not be read")

    def _join(
        self, user: PrincipalDraft, group_value: Any, when: dict[str, bool]
    ) -> None:
        group = self._find(PrincipalKind.GROUP, group_value)
        if group is not None:
            self._link(user, user.groups, group.address, when)
            return
        name = self._text(group_value)
        if name is None:
            user.note(f"a group of {user.address} could not be resolved")
        else:
            user.note(f"group {name} is not declared in this template")

    def _attach_arn(
        self, owner: PrincipalDraft, value: Any, when: dict[str, bool]
    ) -> None:
        referenced = _referenced_id(value)
        resource = self.resources.get(referenced) if referenced else None
        if isinstance(resource, dict) and resource.get("Type") == _MANAGED_POLICY:
            if referenced in self.document_names:
                self._link(owner, owner.policies, referenced, when)
            else:
                owner.note(f"the policy of {referenced} could not be read")
            return

        arn = self._text(value)
        if arn is None:
            owner.note("a ManagedPolicyArns entry could not be resolved")
            return
        managed = aws_managed_arn(arn)
        if managed is not None:
            self._link(owner, owner.managed_policy_arns, managed, when)
            return
        by_name = self._managed_policy_named(policy_name_of_arn(arn))
        if by_name is not None:
            self._link(owner, owner.policies, by_name, when)
            return
        self._link(owner, owner.managed_policy_arns, arn, when)

    def _managed_policy_named(self, name: str | None) -> str | None:
        for logical_id, properties, resource_type in self._resources():
            if (
                resource_type != _MANAGED_POLICY
                or logical_id not in self.document_names
            ):
                continue
            if (
                name is not None
                and self._text(properties.get("ManagedPolicyName")) == name
            ):
                return logical_id
        return None

    def _find(self, kind: PrincipalKind, value: Any) -> PrincipalDraft | None:
        referenced = _referenced_id(value)
        if referenced is not None:
            draft = self.drafts.get(referenced)
            return draft if draft is not None and draft.kind is kind else None
        name = self._text(value)
        for draft in self.drafts.values():
            if draft.kind is kind and draft.name is not None and draft.name == name:
                return draft
        return None


def template_principals(
    template: Mapping[str, Any],
    documents: list[PolicyDocument],
    path: str,
    resolve: Resolve,
) -> list[Principal]:
    """Return the users, groups and roles of a parsed template.

    `documents` are the template's policy documents, named by logical id
    (`Alice.Policies[0]` for an inline policy). `resolve` resolves
    intrinsic functions in a property value.
    """
    resources = template.get("Resources")
    if not isinstance(resources, dict):
        return []
    return TemplatePrincipals(resources, documents, path, resolve).collect()
