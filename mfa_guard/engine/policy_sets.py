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

from mfa_guard.cfn_conditions import conjoin, matches_any, possible, simplify
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
from mfa_guard.records import field, record

ROOT_PATH = "/"

# A principal whose members depend on more Fn::If conditions than this gets
# one set with every variant in it, so at most 2**6 = 64 sets are built for
# one principal.
MAX_SET_CONDITIONS = 6


@record
class SetMember:
    """A document of a policy set and how it reaches the principal.

    `via` reads like "attached to user alice" or "through group engineers".
    `when` lists the CloudFormation condition values under which the
    document reaches the principal by some way, any one of them being
    enough, or is () when it always does (see `cfn_conditions.matches_any`).
    """

    document: PolicyDocument
    via: str
    when: tuple[FnIfAssignment, ...] = ()


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


@record
class _Path:
    """One way a document reaches a principal, and the condition values it needs.

    `when` lists combinations of CloudFormation condition values, any one of
    which creates every link on the way, as in `cfn_conditions.matches_any`.
    """

    document: PolicyDocument
    via: str
    when: tuple[FnIfAssignment, ...] = ()


@record
class _Missing:
    """Something that may belong to a set, and the condition values that link it."""

    text: str
    when: tuple[FnIfAssignment, ...] = ()


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

    def own_paths(
        self, principal: Principal, via: str, reach: tuple[FnIfAssignment, ...]
    ) -> tuple[list[_Path], list[_Missing]]:
        """Return the policies attached to `principal` itself and what is unknown.

        `reach` gives the condition values under which the principal is part
        of the set, such as those of a user's membership in a group. Every
        Fn::If variant of a policy is a path here, and `principal_sets`
        splits them by condition values.
        """
        links = dict(principal.link_conditions)
        paths = []
        for name in principal.policies:
            when = conjoin(reach, links.get(name, ()))
            if when is None:
                continue
            for document in self.by_name.get(name, []):
                paths.append(_Path(document, via, when))

        missing = [_Missing(text, reach) for text in principal.unresolved]
        for arn in principal.managed_policy_arns:
            when = conjoin(reach, links.get(arn, ()))
            if when is None:
                continue
            bundled = managed_policy(arn)
            if bundled is None:
                text = (
                    f"{arn}, {via}, is neither defined here nor a bundled AWS"
                    " managed policy"
                )
                missing.append(_Missing(text, when))
            else:
                paths.append(_Path(bundled, via, when))
        return paths, missing

    def principal_paths(
        self, principal: Principal
    ) -> tuple[list[_Path], list[_Missing]]:
        """Return every way a policy reaches `principal`, through its groups too."""
        via = f"attached to {describe_principal(principal)}"
        paths, missing = self.own_paths(principal, via, ())
        links = dict(principal.link_conditions)
        for address in principal.groups:
            group = self.principals.get(address)
            if group is None:
                missing.append(_Missing(f"group {address} is not declared here"))
                continue
            exists = (group.exists_when,) if group.exists_when else ()
            reach = conjoin(links.get(address, ()), exists)
            if reach is None:
                continue
            through = f"through {describe_principal(group)}"
            group_paths, group_missing = self.own_paths(group, through, reach)
            paths.extend(group_paths)
            missing.extend(group_missing)
        return paths, missing

    def make_set(
        self,
        principal: Principal,
        paths: Sequence[_Path],
        missing: Sequence[_Missing],
        ways: dict[int, tuple[FnIfAssignment, ...]],
        assignment: FnIfAssignment = (),
    ) -> PolicySet:
        """Build a set of `paths`, one member per document.

        `ways` maps each document to the alternatives of all its paths, the
        ones left out of this set included, so every set gives a member the
        same `when`.
        """
        members = {
            id(path.document): SetMember(
                path.document, path.via, ways[id(path.document)]
            )
            for path in paths
        }
        texts = tuple(dict.fromkeys(item.text for item in missing))
        return PolicySet(
            principal,
            tuple(members.values()),
            texts,
            self.password_policy,
            assignment,
        )

    def principal_sets(self, principal: Principal) -> list[PolicySet]:
        """Build the sets of `principal`, one per combination of conditions.

        The conditions are those of the Fn::If variants, the resource
        `Condition`s and the conditional links on the way to the principal.
        The principal's own `Condition` is true in every set and is left out
        of the set's `assignment`. A principal whose members depend on no
        condition gets one set. Past MAX_SET_CONDITIONS conditions it gets
        one set with every variant.
        """
        paths, missing = self.principal_paths(principal)
        ways = _ways(paths)
        every_variant = self.make_set(principal, paths, missing, ways)
        fixed = dict(principal.exists_when)
        names = [name for name in _path_condition_names(paths) if name not in fixed]
        if not names and not fixed:
            return [every_variant]
        if len(names) > MAX_SET_CONDITIONS:
            self.diagnostics.append(_too_many_conditions(principal, names))
            return [every_variant]

        # NOTE: a variant the loader could not build is missing from the sets
        # of its combinations, as if it were AWS::NoValue, and those sets are
        # not marked partial. The loader reports the variant as unresolved.
        sets = []
        for flags in itertools.product((True, False), repeat=len(names)):
            assignment = tuple(zip(names, flags, strict=True))
            values = {**fixed, **dict(assignment)}
            if not possible(values, principal.conditions):
                continue
            reaching = [path for path in paths if _reaches(path, values)]
            linked = [item for item in missing if matches_any(item.when, values)]
            policy_set = self.make_set(principal, reaching, linked, ways, assignment)
            sets.append(policy_set)
        # Conditions that contradict each other in every combination.
        return sets or [every_variant]


def _reaches(path: _Path, values: dict[str, bool]) -> bool:
    """Return True when the `values` create `path` and build its document."""
    if not matches_any(path.when, values):
        return False
    return built_for(path.document, tuple(values.items()))


def _ways(paths: Iterable[_Path]) -> dict[int, tuple[FnIfAssignment, ...]]:
    """Map each document to the alternatives of its paths, () when one needs none."""
    found: dict[int, list[FnIfAssignment]] = {}
    for path in paths:
        found.setdefault(id(path.document), []).extend(path.when or [()])
    return {key: simplify(alternatives) for key, alternatives in found.items()}


def _too_many_conditions(principal: Principal, names: list[str]) -> Diagnostic:
    message = (
        f"the policies of {describe_principal(principal)} depend on"
        f" {len(names)} CloudFormation conditions ({', '.join(names)}), more"
        f" than {MAX_SET_CONDITIONS}, so the Fn::If variants of each policy"
        " were checked together, as if all were attached at once"
    )
    return Diagnostic(DiagnosticKind.UNRESOLVED, principal.span, message)


def _path_condition_names(paths: Iterable[_Path]) -> list[str]:
    """Return the conditions that decide any path or its document, in order of use."""
    names: dict[str, None] = {}
    for path in paths:
        names.update(dict.fromkeys(condition_names([path.document])))
        for when in path.when:
            names.update(dict.fromkeys(name for name, _ in when))
    return list(names)


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
