"""Policy sets: the policies that apply to one principal.

For an IAM user the set is the user's inline and attached policies, plus the
inline and attached policies of every group the user is a member of, as the
IAM evaluation logic collects them
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
Attached AWS managed policies that mfa-guard bundles are part of the set.
Any other policy the Terraform module or CloudFormation template does not
define makes the set partial, and `missing` lists what is unknown.

A document that reaches no user is checked in the set of each group or role
it is attached to, and a document attached to nothing known (a standalone
JSON file, for example) is a set of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mfa_guard.iam.managed import managed_policy
from mfa_guard.model import (
    PasswordPolicy,
    PolicyDocument,
    PolicyKind,
    Principal,
    PrincipalKind,
)
from mfa_guard.records import field, record

ROOT_PATH = "/"


@record
class SetMember:
    """A document of a policy set and how it reaches the principal.

    `via` reads like "attached to user alice" or "through group engineers".
    """

    document: PolicyDocument
    via: str


@record
class PolicySet:
    """The policies that apply to one principal, or one document on its own.

    `principal` is None for a document that is attached to nothing known.
    `missing` lists what may belong to the set but is unknown, such as an
    attached ARN that is neither in the module nor bundled.
    """

    principal: Principal | None
    members: tuple[SetMember, ...]
    missing: tuple[str, ...] = ()
    password_policy: PasswordPolicy | None = None

    @property
    def documents(self) -> list[PolicyDocument]:
        return [member.document for member in self.members]

    @property
    def user(self) -> Principal | None:
        """Return the set's principal when it is an IAM user."""
        if self.principal is not None and self.principal.kind is PrincipalKind.USER:
            return self.principal
        return None

    @property
    def partial(self) -> bool:
        return bool(self.missing)


@record(frozen=False)
class SetIndex:
    """The policy sets of one file or module, and the sets each document is in."""

    user_sets: list[PolicySet] = field(default_factory=list)
    by_document: dict[int, list[PolicySet]] = field(default_factory=dict)

    def containing(self, document: PolicyDocument) -> tuple[PolicySet, ...]:
        """Return the sets that contain `document`, or () when none does."""
        return tuple(self.by_document.get(id(document), ()))


def describe_principal(principal: Principal) -> str:
    """Name a principal with its kind, such as "group engineers"."""
    return f"{principal.kind.value} {principal.label}"


class _Builder:
    def __init__(
        self,
        documents: Sequence[PolicyDocument],
        principals: Sequence[Principal],
        password_policy: PasswordPolicy | None,
    ) -> None:
        self.by_name: dict[str, list[PolicyDocument]] = {}
        for document in documents:
            if document.kind is PolicyKind.IDENTITY:
                self.by_name.setdefault(document.name, []).append(document)
        self.principals = {principal.address: principal for principal in principals}
        self.password_policy = password_policy

    def own_members(
        self, principal: Principal, via: str
    ) -> tuple[list[SetMember], list[str]]:
        """Return the policies attached to `principal` itself and what is unknown."""
        # NOTE: every Fn::If variant of a CloudFormation policy becomes a
        # member, although a deployed stack has only one of them.
        members = [
            SetMember(document, via)
            for name in principal.policies
            for document in self.by_name.get(name, [])
        ]
        missing = list(principal.unresolved)
        for arn in principal.managed_policy_arns:
            document = managed_policy(arn)
            if document is None:
                missing.append(
                    f"{arn}, {via}, is neither defined here nor a bundled AWS"
                    " managed policy"
                )
            else:
                members.append(SetMember(document, via))
        return members, missing

    def principal_set(self, principal: Principal) -> PolicySet:
        via = f"attached to {describe_principal(principal)}"
        members, missing = self.own_members(principal, via)
        for address in principal.groups:
            group = self.principals.get(address)
            if group is None:
                missing.append(f"group {address} is not declared here")
                continue
            through = f"through {describe_principal(group)}"
            group_members, group_missing = self.own_members(group, through)
            members.extend(group_members)
            missing.extend(group_missing)
        unique = tuple({id(m.document): m for m in members}.values())
        return PolicySet(
            principal, unique, tuple(dict.fromkeys(missing)), self.password_policy
        )


def build_policy_sets(
    documents: Sequence[PolicyDocument],
    principals: Iterable[Principal] = (),
    password_policy: PasswordPolicy | None = None,
) -> SetIndex:
    """Build the policy set of every user, and map each document to its sets."""
    principals = list(principals)
    index = SetIndex()
    if not principals:
        return index

    builder = _Builder(documents, principals, password_policy)
    for principal in principals:
        if principal.kind is PrincipalKind.USER:
            policy_set = builder.principal_set(principal)
            index.user_sets.append(policy_set)
            for document in policy_set.documents:
                index.by_document.setdefault(id(document), []).append(policy_set)

    for principal in principals:
        if principal.kind is PrincipalKind.USER:
            continue
        policy_set = builder.principal_set(principal)
        for document in policy_set.documents:
            sets = index.by_document.setdefault(id(document), [])
            if all(existing.user is None for existing in sets):
                sets.append(policy_set)
    return index
