from __future__ import annotations

import pickle
from typing import Any

from mfa_guard.engine.policy_sets import (
    MAX_SET_CONDITIONS,
    PolicySet,
    assignment_note,
    build_policy_sets,
    describe_assignments,
)
from mfa_guard.loaders.build import build_document
from mfa_guard.loaders.cloudformation import load_cloudformation_yaml
from mfa_guard.model import (
    DiagnosticKind,
    FnIfAssignment,
    PolicyDocument,
    PolicyKind,
    Principal,
    PrincipalKind,
    SourceSpan,
)
from mfa_guard.records import replace

SPAN = SourceSpan.point("main.tf", 1, 1)
CHANGE_PASSWORD = "arn:aws:iam::aws:policy/IAMUserChangePassword"


def document(name: str, kind: PolicyKind = PolicyKind.IDENTITY) -> PolicyDocument:
    value = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    built, _ = build_document(value, path="main.tf", name=name, kind=kind)
    assert built is not None
    return built


def user(address: str, **fields: Any) -> Principal:
    return Principal(PrincipalKind.USER, address, SPAN, **fields)


def group(address: str, **fields: Any) -> Principal:
    return Principal(PrincipalKind.GROUP, address, SPAN, **fields)


def test_no_principals_means_no_sets():
    own = document("own")
    index = build_policy_sets([own])
    assert index.user_sets == []
    assert index.containing(own) == ()


def test_user_set_includes_group_policies():
    own, shared = document("own"), document("shared")
    index = build_policy_sets(
        [own, shared],
        [
            user("aws_iam_user.alice", name="alice", policies=("own",), groups=("g",)),
            group("g", name="engineers", policies=("shared",)),
        ],
    )
    members = index.user_sets[0].members
    assert [(m.document.name, m.via) for m in members] == [
        ("own", "attached to user alice"),
        ("shared", "through group engineers"),
    ]


def test_document_maps_to_each_user_set():
    shared = document("shared")
    index = build_policy_sets(
        [shared],
        [
            user("a", name="alice", groups=("g",)),
            user("b", name="bob", groups=("g",)),
            group("g", policies=("shared",)),
        ],
    )
    sets = index.containing(shared)
    assert [s.principal.label for s in sets if s.principal] == ["alice", "bob"]


def test_group_without_users_is_a_set():
    shared = document("shared")
    index = build_policy_sets([shared], [group("g", name="ops", policies=("shared",))])
    sets = index.containing(shared)
    assert len(sets) == 1
    assert sets[0].principal is not None
    assert sets[0].principal.label == "ops"
    assert sets[0].user is None


def test_bundled_managed_policy_is_a_member():
    index = build_policy_sets([], [user("a", managed_policy_arns=(CHANGE_PASSWORD,))])
    policy_set = index.user_sets[0]
    assert [m.document.path for m in policy_set.members] == [CHANGE_PASSWORD]
    assert policy_set.partial is False


def test_unknown_managed_policy_partial():
    arn = "arn:aws:iam::123456789012:policy/corp-mfa"
    index = build_policy_sets([], [user("a", name="erin", managed_policy_arns=(arn,))])
    policy_set = index.user_sets[0]
    assert policy_set.partial is True
    assert policy_set.missing == (
        f"{arn}, attached to user erin, is neither defined here nor a bundled AWS"
        " managed policy",
    )


def test_unresolved_principal_partial():
    index = build_policy_sets([], [user("a", unresolved=("group ops is unknown",))])
    assert index.user_sets[0].missing == ("group ops is unknown",)


def test_trust_policy_is_not_a_member():
    trust = document("trust", PolicyKind.TRUST)
    index = build_policy_sets([trust], [user("a", policies=("trust",))])
    assert index.user_sets[0].members == ()


# Sets split by CloudFormation condition values


def variant(name: str, *assignments: FnIfAssignment) -> PolicyDocument:
    """Build a variant of policy `name` for the Fn::If `assignments`."""
    return replace(document(name), variant_assignments=assignments)


def member_names(policy_set: PolicySet) -> list[tuple[str, FnIfAssignment]]:
    return [
        (m.document.name, m.document.variant_assignments) for m in policy_set.members
    ]


STRICT = (("Strict", True),)
RELAXED = (("Strict", False),)


def test_variants_split_user_set():
    plain = document("plain")
    strict, relaxed = variant("mfa", STRICT), variant("mfa", RELAXED)
    index = build_policy_sets(
        [plain, strict, relaxed],
        [user("a", name="alice", policies=("plain", "mfa"))],
    )
    first, second = index.user_sets
    assert first.assignment == STRICT
    assert member_names(first) == [("plain", ()), ("mfa", (STRICT,))]
    assert second.assignment == RELAXED
    assert member_names(second) == [("plain", ()), ("mfa", (RELAXED,))]


def test_same_condition_two_policies():
    deny_strict, deny_relaxed = variant("deny", STRICT), variant("deny", RELAXED)
    allow_strict = variant("allow", STRICT)
    index = build_policy_sets(
        [deny_strict, deny_relaxed, allow_strict],
        [
            user("a", name="alice", groups=("g",)),
            group("g", policies=("deny", "allow")),
        ],
    )
    first, second = index.user_sets
    assert member_names(first) == [("deny", (STRICT,)), ("allow", (STRICT,))]
    assert member_names(second) == [("deny", (RELAXED,))]


def test_variant_of_several_assignments():
    both = (("A", True), ("B", True)), (("A", True), ("B", False))
    shared = variant("p", *both)
    other = variant("p", (("A", False), ("B", True)))
    index = build_policy_sets([shared, other], [user("a", policies=("p",))])
    assert [s.assignment for s in index.user_sets] == [
        (("A", True), ("B", True)),
        (("A", True), ("B", False)),
        (("A", False), ("B", True)),
        (("A", False), ("B", False)),
    ]
    assert [len(s.members) for s in index.user_sets] == [1, 1, 1, 0]
    assert index.containing(shared) == tuple(index.user_sets[:2])
    assert index.containing(other) == (index.user_sets[2],)


def test_containing_maps_variant_to_its_sets():
    plain = document("plain")
    strict, relaxed = variant("mfa", STRICT), variant("mfa", RELAXED)
    index = build_policy_sets(
        [plain, strict, relaxed], [user("a", policies=("plain", "mfa"))]
    )
    first, second = index.user_sets
    assert index.containing(plain) == (first, second)
    assert index.containing(strict) == (first,)
    assert index.containing(relaxed) == (second,)


def test_group_set_split_by_condition():
    strict, relaxed = variant("mfa", STRICT), variant("mfa", RELAXED)
    index = build_policy_sets([strict, relaxed], [group("g", policies=("mfa",))])
    (strict_set,) = index.containing(strict)
    (relaxed_set,) = index.containing(relaxed)
    assert strict_set.assignment == STRICT
    assert relaxed_set.assignment == RELAXED
    assert index.user_sets == []


def test_condition_limit_keeps_every_variant():
    names = [f"C{number}" for number in range(MAX_SET_CONDITIONS + 1)]
    documents = [variant(f"p{name}", ((name, True),)) for name in names]
    documents += [variant(f"p{name}", ((name, False),)) for name in names]
    index = build_policy_sets(
        documents, [user("a", policies=tuple(f"p{name}" for name in names))]
    )
    (policy_set,) = index.user_sets
    assert policy_set.assignment == ()
    assert len(policy_set.members) == 2 * len(names)
    (diagnostic,) = index.diagnostics
    assert diagnostic.kind is DiagnosticKind.UNRESOLVED
    assert diagnostic.message == (
        "the policies of user a depend on 7 CloudFormation conditions (C0, C1, C2,"
        " C3, C4, C5, C6), more than 6, so the Fn::If variants of each policy were"
        " checked together, as if all were attached at once"
    )


def test_describe_assignments_drops_free_condition():
    index = build_policy_sets(
        [variant("p", (("A", True),)), variant("q", (("B", True),))],
        [user("a", policies=("p", "q"))],
    )
    sets = index.user_sets
    assert describe_assignments(sets[:2]) == "Fn::If A=true"
    assert describe_assignments(sets[::2]) == "Fn::If B=true"
    assert describe_assignments(sets) == ""
    assert describe_assignments([sets[0], sets[3]]) == (
        "Fn::If A=true, B=true or Fn::If A=false, B=false"
    )


def test_describe_assignments_without_conditions():
    index = build_policy_sets([document("p")], [user("a", policies=("p",))])
    assert describe_assignments(index.user_sets) == ""


def test_assignment_note_per_user():
    strict, relaxed = variant("mfa", STRICT), variant("mfa", RELAXED)
    index = build_policy_sets(
        [strict, relaxed],
        [
            user("a", name="alice", policies=("mfa",)),
            user("b", name="bob", policies=("mfa",)),
        ],
    )
    alice_strict, alice_relaxed, bob_strict, bob_relaxed = index.user_sets
    assert assignment_note([alice_strict, bob_strict]) == " (Fn::If Strict=true)"
    assert assignment_note([alice_strict, bob_relaxed]) == (
        " (user alice: Fn::If Strict=true; user bob: Fn::If Strict=false)"
    )
    assert assignment_note([alice_strict, bob_strict, bob_relaxed]) == (
        " (user alice: Fn::If Strict=true)"
    )
    assert assignment_note([alice_strict, alice_relaxed]) == ""


TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Alice:
    Type: AWS::IAM::User
    Properties:
      Policies:
        - PolicyName: mfa
          PolicyDocument:
            Statement:
              - Effect: Deny
                Action: "*"
                Resource: "*"
                Condition: !If
                  - Strict
                  - {Bool: {aws:MultiFactorAuthPresent: "false"}}
                  - !Ref AWS::NoValue
        - PolicyName: read
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: !If [Strict, s3:GetObject, "s3:*"]
                Resource: "*"
"""


def test_loaded_template_sets():
    result = load_cloudformation_yaml(TEMPLATE, "users.yaml")
    strict_mfa, relaxed_mfa, strict_read, relaxed_read = result.documents
    index = build_policy_sets(result.documents, result.principals)
    first, second = index.user_sets
    assert [m.document for m in first.members] == [strict_mfa, strict_read]
    assert [m.document for m in second.members] == [relaxed_mfa, relaxed_read]
    assert strict_read.variant_assignments == (STRICT,)


def test_variant_assignments_survive_pickle():
    result = load_cloudformation_yaml(TEMPLATE, "users.yaml")
    copied = pickle.loads(pickle.dumps(result))
    assert copied.documents == result.documents
    assert copied.documents[1].variant_assignments == (RELAXED,)
