from __future__ import annotations

from typing import Any

from mfa_guard.engine.policy_sets import build_policy_sets
from mfa_guard.loaders.build import build_document
from mfa_guard.model import (
    PolicyDocument,
    PolicyKind,
    Principal,
    PrincipalKind,
    SourceSpan,
)

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
