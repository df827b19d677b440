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

A CloudFormation policy with `Fn::If` is loaded as one document per
combination of its conditions. A deployed stack gives each condition one
value in every resource. So a principal whose members depend on conditions
gets one set per combination of them, with only the variants built for it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

from mfa_guard.cfn_conditions import possible
from mfa_guard.iam.managed import managed_policy
from mfa_guard.model import (
    Diagnostic,
    DiagnosticKind,
    FnIfAssignment,
    PasswordPolicy,
    PolicyDocument,
    PolicyKind,
    Principal,
    PrincipalKind,
)
from mfa_guard.records import field, record, replace

ROOT_PATH = "/"

# A principal whose members depend on more Fn::If conditions than this gets
# one set with every variant in it, so at most 2**6 = 64 sets are built for
# one principal.
MAX_SET_CONDITIONS = 6


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
    attached ARN that is neither in the module nor bundled. `assignment`
    gives the CloudFormation condition values the set was built for, and is
    () when no member depends on a condition.
    """

    principal: Principal | None
    members: tuple[SetMember, ...]
    missing: tuple[str, ...] = ()
    password_policy: PasswordPolicy | None = None
    assignment: FnIfAssignment = ()

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
    """The policy sets of one file or module, and the sets each document is in.

    `diagnostics` notes each user whose sets mix Fn::If variants, because
    the variants depend on more than MAX_SET_CONDITIONS conditions.
    """

    user_sets: list[PolicySet] = field(default_factory=list)
    by_document: dict[int, list[PolicySet]] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

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
        self.diagnostics: list[Diagnostic] = []
        self.password_policy = password_policy

    def own_members(
        self, principal: Principal, via: str
    ) -> tuple[list[SetMember], list[str]]:
        """Return the policies attached to `principal` itself and what is unknown.

        Every Fn::If variant of a policy is a member here, and
        `principal_sets` splits them by condition values.
        """
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

    def principal_sets(self, principal: Principal) -> list[PolicySet]:
        """Build the sets of `principal`, one per combination of Fn::If conditions.

        A principal whose members depend on no condition gets one set. Past
        MAX_SET_CONDITIONS conditions it gets one set with every variant.
        """
        every_variant = self.principal_set(principal)
        names = _condition_names(every_variant.members)
        if not names:
            return [every_variant]
        if len(names) > MAX_SET_CONDITIONS:
            message = (
                f"the policies of {describe_principal(principal)} depend on"
                f" {len(names)} CloudFormation conditions ({', '.join(names)}), more"
                f" than {MAX_SET_CONDITIONS}, so the Fn::If variants of each policy"
                " were checked together, as if all were attached at once"
            )
            self.diagnostics.append(
                Diagnostic(DiagnosticKind.UNRESOLVED, principal.span, message)
            )
            return [every_variant]

        # NOTE: a variant the loader could not build is missing from the sets
        # of its combinations, as if it were AWS::NoValue, and those sets are
        # not marked partial. The loader reports the variant as unresolved.
        sets = []
        for values in itertools.product((True, False), repeat=len(names)):
            assignment = tuple(zip(names, values, strict=True))
            if not possible(dict(assignment), principal.conditions):
                continue
            members = tuple(
                member
                for member in every_variant.members
                if built_for(member.document, assignment)
            )
            sets.append(replace(every_variant, members=members, assignment=assignment))
        # Conditions that contradict each other in every combination.
        return sets or [every_variant]


def _condition_names(members: Iterable[SetMember]) -> list[str]:
    """Return the Fn::If conditions that decide any member, in order of use."""
    return condition_names(member.document for member in members)


def condition_names(documents: Iterable[PolicyDocument]) -> list[str]:
    """Return the Fn::If conditions that decide any of `documents`, in order of use."""
    names: dict[str, None] = {}
    for document in documents:
        for assignment in document.variant_assignments:
            names.update(dict.fromkeys(name for name, _ in assignment))
    return list(names)


def built_for(document: PolicyDocument, assignment: FnIfAssignment) -> bool:
    """Return True when `document` is the variant built for the `assignment` values."""
    if not document.variant_assignments:
        return True
    values = dict(assignment)
    return any(
        all(values.get(name) == value for name, value in built)
        for built in document.variant_assignments
    )


def describe_assignment(assignment: FnIfAssignment) -> str:
    """Name condition values as the CloudFormation loader names a variant."""
    parts = [f"{name}={'true' if value else 'false'}" for name, value in assignment]
    return "Fn::If " + ", ".join(parts)


def describe_assignments(sets: Sequence[PolicySet]) -> str:
    """Describe the condition values that `sets` of one principal were built for.

    Returns "" when the sets depend on no condition or cover every
    combination. A condition is left out when flipping its value in each of
    the sets gives another of the sets, because its value does not matter.
    """
    assignments = [policy_set.assignment for policy_set in sets]
    if not all(assignments):
        return ""
    names = [name for name, _ in assignments[0]]
    chosen = [tuple(value for _, value in assignment) for assignment in assignments]
    present = set(chosen)
    relevant = [
        position
        for position in range(len(names))
        if any(_flipped(values, position) not in present for values in present)
    ]
    if not relevant:
        return ""

    essential = dict.fromkeys(
        tuple((names[position], values[position]) for position in relevant)
        for values in chosen
    )
    return " or ".join(describe_assignment(assignment) for assignment in essential)


def _flipped(values: tuple[bool, ...], position: int) -> tuple[bool, ...]:
    return (*values[:position], not values[position], *values[position + 1 :])


def assignment_note(sets: Sequence[PolicySet]) -> str:
    """Return " (Fn::If ...)" naming the condition values of `sets`, or "".

    Sets of several principals whose values differ are described per
    principal, as in " (user alice: Fn::If A=true; user bob: Fn::If A=false)".
    """
    groups: dict[int, list[PolicySet]] = {}
    for policy_set in sets:
        groups.setdefault(id(policy_set.principal), []).append(policy_set)

    notes: dict[str, str] = {}
    for group in groups.values():
        text = describe_assignments(group)
        principal = group[0].principal
        if text and principal is not None:
            notes[describe_principal(principal)] = text
    if not notes:
        return ""

    texts = set(notes.values())
    if len(texts) == 1 and len(notes) == len(groups):
        return f" ({texts.pop()})"
    return " (" + "; ".join(f"{name}: {text}" for name, text in notes.items()) + ")"


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
        if principal.kind is not PrincipalKind.USER:
            continue
        for policy_set in builder.principal_sets(principal):
            index.user_sets.append(policy_set)
            for document in policy_set.documents:
                index.by_document.setdefault(id(document), []).append(policy_set)

    users_reached = set(index.by_document)
    for principal in principals:
        if principal.kind is PrincipalKind.USER:
            continue
        for policy_set in builder.principal_sets(principal):
            for document in policy_set.documents:
                if id(document) not in users_reached:
                    index.by_document.setdefault(id(document), []).append(policy_set)
    index.diagnostics = list(dict.fromkeys(builder.diagnostics))
    return index
