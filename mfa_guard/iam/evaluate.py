"""Decide whether a request is allowed, explicitly denied or implicitly denied.

The decision follows the IAM policy evaluation logic
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
a matching Deny wins over everything, and otherwise a matching Allow is
needed. When service control policies are among the documents, an SCP must
allow the request too. Two service-side rules are applied before any policy
is read: `sts:GetSessionToken` needs no permission and cannot be denied, and
an action without resource-level permissions is authorised against "*".

NOTE: since 2023-04-21 (AWS security bulletin AWS-2023-001) IAM rejects
EnableMFADevice and DeactivateMFADevice over a long-term access key when the
user already has an MFA device. That rule is not modelled, because the
access-key scenario models a user without a device.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence

from mfa_guard.iam.actions import action_matches, get_catalogue
from mfa_guard.iam.arns import compile_arn_pattern, localize_pattern
from mfa_guard.iam.conditions import (
    ConditionOutcome,
    Tri,
    evaluate_conditions,
    tri_and,
    tri_not,
    tri_or,
)
from mfa_guard.iam.scenarios import Scenario
from mfa_guard.iam.variables import resolve
from mfa_guard.loaders.positions import Unresolved
from mfa_guard.model import PolicyDocument, PolicyKind, Statement
from mfa_guard.records import record, replace

GET_SESSION_TOKEN = "sts:GetSessionToken"
PERMISSION_KINDS = frozenset({PolicyKind.IDENTITY, PolicyKind.SCP})

_GET_SESSION_TOKEN_NOTE = (
    "sts:GetSessionToken needs no permission and cannot be denied by policy"
)


@record
class Request:
    action: str
    resource: str
    scenario: Scenario


class Match(enum.Enum):
    NO = "no"
    YES = "yes"
    MAYBE = "maybe"


@record
class StatementMatch:
    """Whether one statement applies to a request, and a sentence saying why."""

    document: PolicyDocument
    statement: Statement
    match: Match
    unknown_keys: frozenset[str]
    reason: str
    # The values a loader could not resolve that made the match MAYBE; rules
    # leave such matches to the unresolved-policy report instead of guessing.
    unresolved: frozenset[str] = frozenset()


class DecisionKind(enum.Enum):
    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicitly denied"
    IMPLICIT_DENY = "implicitly denied"


@record
class Decision:
    """The outcome of a request and the statements behind it.

    `deciding` contains the matching Deny statements for an explicit deny, the
    matching Allow statements when allowed, and nothing for an implicit deny.
    `conditional_on` names the unknown keys that could change the decision,
    and `possible` contains the statements that match only for some values of
    those keys. `resource` is the resource the request was evaluated against.
    """

    kind: DecisionKind
    deciding: tuple[StatementMatch, ...]
    conditional_on: frozenset[str]
    notes: tuple[str, ...]
    resource: str
    possible: tuple[StatementMatch, ...] = ()


_MATCH_OF = {Tri.TRUE: Match.YES, Tri.FALSE: Match.NO, Tri.UNKNOWN: Match.MAYBE}
_NO_KEYS: frozenset[str] = frozenset()


def match_statement(
    statement: Statement, document: PolicyDocument, request: Request
) -> StatementMatch:
    """Match one statement against a request.

    A statement matches when its action, resource and condition all match.
    Principal and NotPrincipal are ignored, because in identity policies and
    SCPs the caller is the principal the policy is attached to.
    NOTE: resource and trust policies, which `evaluate` reads only on request,
    are not checked against the caller either.
    """
    action = _match_action(statement, request.action)
    if action.value is Tri.FALSE:
        return _statement_match(document, statement, Tri.FALSE, [action])

    resource = _match_resource(statement, document.version, request)
    if resource.value is Tri.FALSE:
        return _statement_match(document, statement, Tri.FALSE, [action, resource])

    conditions = evaluate_conditions(statement, request.scenario, document.version)
    outcomes = [action, resource, conditions]
    value = tri_and(outcome.value for outcome in outcomes)
    return _statement_match(document, statement, value, outcomes)


def _statement_match(
    document: PolicyDocument,
    statement: Statement,
    value: Tri,
    outcomes: Sequence[ConditionOutcome],
) -> StatementMatch:
    reason = "; ".join(outcome.explanation for outcome in outcomes)
    unknown: frozenset[str] = _NO_KEYS
    unresolved: frozenset[str] = _NO_KEYS
    if value is Tri.UNKNOWN:
        unknown = frozenset().union(*(outcome.unknown_keys for outcome in outcomes))
        unresolved = unknown & _unresolved_texts(statement)
    match = _MATCH_OF[value]
    return StatementMatch(document, statement, match, unknown, reason, unresolved)


def _unresolved_texts(statement: Statement) -> frozenset[str]:
    elements = (
        statement.actions,
        statement.not_actions,
        statement.resources,
        statement.not_resources,
    )
    texts = {
        str(item)
        for element in elements
        for item in element or ()
        if isinstance(item, Unresolved)
    }
    for entry in statement.conditions:
        texts.update(str(v) for v in entry.raw_values if isinstance(v, Unresolved))
    return frozenset(texts)


def _match_action(statement: Statement, action: str) -> ConditionOutcome:
    """Match the Action element, or the NotAction element when Action is absent.

    An unresolved entry might name the action, so it makes the result
    UNKNOWN unless another entry decides it.
    """
    if statement.actions is not None:
        element, patterns = "Action", statement.actions
    elif statement.not_actions is not None:
        element, patterns = "NotAction", statement.not_actions
    else:
        return ConditionOutcome(Tri.FALSE, frozenset(), "the statement has no Action")

    unresolved = _NO_KEYS
    if any(isinstance(p, Unresolved) for p in patterns):
        unresolved = frozenset(str(p) for p in patterns if isinstance(p, Unresolved))
    listed = next(
        (
            p
            for p in patterns
            if not isinstance(p, Unresolved) and action_matches(p, action)
        ),
        None,
    )
    if listed is None and unresolved:
        texts = ", ".join(sorted(unresolved))
        explanation = (
            f"{element} may list {action} through the unresolved value {texts}"
        )
        return ConditionOutcome(Tri.UNKNOWN, unresolved, explanation)

    if listed is None:
        value = Tri.FALSE
        explanation = f"{element} does not list {action}"
    elif listed.lower() == action.lower():
        value = Tri.TRUE
        explanation = f"{element} lists {action}"
    else:
        value = Tri.TRUE
        explanation = f'{element} "{listed}" matches {action}'

    if element == "NotAction":
        value = tri_not(value)
    return ConditionOutcome(value, frozenset(), explanation)


@record
class _ResourceEntry:
    pattern: str
    value: Tri
    unknown_keys: frozenset[str] = frozenset()
    missing_keys: frozenset[str] = frozenset()


def _match_resource(
    statement: Statement, version: str | None, request: Request
) -> ConditionOutcome:
    """Match the Resource element, or NotResource when Resource is absent.

    An entry with a variable that has no value matches nothing, so in
    NotResource it stops excluding anything.
    """
    if statement.resources is not None:
        element, patterns = "Resource", statement.resources
    elif statement.not_resources is not None:
        element, patterns = "NotResource", statement.not_resources
    else:
        explanation = (
            "the statement has no Resource, so it is read as covering every resource"
        )
        return ConditionOutcome(Tri.TRUE, frozenset(), explanation)

    entries = [_match_resource_entry(pattern, version, request) for pattern in patterns]
    listed = tri_or(entry.value for entry in entries)
    value = listed if element == "Resource" else tri_not(listed)
    target = request.resource

    if listed is Tri.UNKNOWN:
        unknown = frozenset().union(*(entry.unknown_keys for entry in entries))
        pattern = next(e.pattern for e in entries if e.value is Tri.UNKNOWN)
        keys = ", ".join(sorted(unknown))
        explanation = f'{element} "{pattern}" may match {target}, depending on {keys}'
        return ConditionOutcome(value, unknown, explanation)

    if listed is Tri.TRUE:
        pattern = next(e.pattern for e in entries if e.value is Tri.TRUE)
        verb = "matches" if element == "Resource" else "excludes"
        explanation = f'{element} "{pattern}" {verb} {target}'
        if pattern == "*" and target == "*":
            explanation = f'{element} "*" {verb}'
        return ConditionOutcome(value, frozenset(), explanation)

    if element == "Resource":
        explanation = f"no Resource entry matches {target}"
    else:
        explanation = f"NotResource does not list {target}"
    for entry in entries:
        if entry.missing_keys:
            keys = ", ".join(sorted(entry.missing_keys))
            explanation += (
                f' ({keys} has no value, so "{entry.pattern}" matches nothing)'
            )
    return ConditionOutcome(value, frozenset(), explanation)


def _match_resource_entry(
    pattern: str, version: str | None, request: Request
) -> _ResourceEntry:
    if isinstance(pattern, Unresolved):
        return _ResourceEntry(
            pattern, Tri.UNKNOWN, unknown_keys=frozenset({str(pattern)})
        )

    text = localize_pattern(pattern, request.scenario.account)
    resolution = resolve(text, request.scenario, version)
    if resolution.missing_keys:
        return _ResourceEntry(pattern, Tri.FALSE, missing_keys=resolution.missing_keys)
    if resolution.parts is None:
        return _ResourceEntry(
            pattern, Tri.UNKNOWN, unknown_keys=resolution.unknown_keys
        )

    regex = compile_arn_pattern(resolution.parts)
    matched = regex.fullmatch(request.resource) is not None
    return _ResourceEntry(pattern, Tri.TRUE if matched else Tri.FALSE)


def evaluate(
    documents: Sequence[PolicyDocument],
    request: Request,
    *,
    kinds: Collection[PolicyKind] = PERMISSION_KINDS,
) -> Decision:
    """Decide a request against the documents whose kind is in `kinds`.

    By default only identity policies and SCPs are read. Trust policies define
    who may assume a role, not what a caller may do.
    """
    if request.action.lower() == GET_SESSION_TOKEN.lower():
        return Decision(
            kind=DecisionKind.ALLOWED,
            deciding=(),
            conditional_on=frozenset(),
            notes=(_GET_SESSION_TOKEN_NOTE,),
            resource=request.resource,
        )

    resource, notes = _authorised_resource(request)
    effective = replace(request, resource=resource)
    selected = [document for document in documents if document.kind in kinds]
    matches = [
        match_statement(statement, document, effective)
        for document in selected
        for statement in document.statements
    ]
    return _decide(matches, selected, resource, notes)


def _authorised_resource(request: Request) -> tuple[str, list[str]]:
    """Return the resource IAM authorises the action against, with notes."""
    catalogue = get_catalogue()
    has_types = catalogue.has_resource_types(request.action)
    if has_types is None:
        note = f"{request.action} is not in the IAM action catalogue, so it was evaluated as given"
        return request.resource, [note]
    if has_types:
        return request.resource, []

    name = catalogue.canonical(request.action) or request.action
    note = f'{name} has no resource-level permissions, so it is authorised against "*"'
    return "*", [note]


def _decide(
    matches: Sequence[StatementMatch],
    documents: Sequence[PolicyDocument],
    resource: str,
    notes: list[str],
) -> Decision:
    denies = [m for m in matches if m.statement.effect == "Deny"]
    allows = [m for m in matches if m.statement.effect == "Allow"]
    matched_denies = tuple(m for m in denies if m.match is Match.YES)
    maybe_denies = tuple(m for m in denies if m.match is Match.MAYBE)
    maybe_allows = tuple(m for m in allows if m.match is Match.MAYBE)

    if matched_denies:
        return Decision(
            DecisionKind.EXPLICIT_DENY,
            matched_denies,
            frozenset(),
            tuple(notes),
            resource,
        )

    granted, missing_layers = _granting_allows(allows, documents)
    if granted and not missing_layers:
        return Decision(
            kind=DecisionKind.ALLOWED,
            deciding=granted,
            conditional_on=_keys(maybe_denies),
            notes=tuple(notes + _scp_only_note(documents)),
            resource=resource,
            possible=maybe_denies,
        )

    notes.extend(missing_layers)
    possible = maybe_denies + maybe_allows
    return Decision(
        kind=DecisionKind.IMPLICIT_DENY,
        deciding=(),
        conditional_on=_keys(possible),
        notes=tuple(notes),
        resource=resource,
        possible=possible,
    )


def _granting_allows(
    allows: Sequence[StatementMatch], documents: Sequence[PolicyDocument]
) -> tuple[tuple[StatementMatch, ...], list[str]]:
    """Return the matching Allows and a note for each layer that grants nothing.

    Identity policies and SCPs are separate layers: when both are present,
    each needs a matching Allow.
    """
    granted = tuple(m for m in allows if m.match is Match.YES)
    kinds = {document.kind for document in documents}
    scp_allows = [m for m in granted if m.document.kind is PolicyKind.SCP]
    other_allows = [m for m in granted if m.document.kind is not PolicyKind.SCP]

    missing = []
    if PolicyKind.SCP in kinds and not scp_allows and granted:
        missing.append("no service control policy allows the request")
    if kinds - {PolicyKind.SCP} and not other_allows and granted:
        missing.append("no identity policy allows the request")
    return granted, missing


def _scp_only_note(documents: Sequence[PolicyDocument]) -> list[str]:
    if any(document.kind is not PolicyKind.SCP for document in documents):
        return []
    return [
        "no identity policy was evaluated, so this only means that the service "
        "control policies permit the request"
    ]


def _keys(matches: Sequence[StatementMatch]) -> frozenset[str]:
    return frozenset().union(*(m.unknown_keys for m in matches))
