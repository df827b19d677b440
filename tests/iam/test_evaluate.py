from __future__ import annotations

import copy
from typing import Any

import pytest

from mfa_guard.iam.evaluate import (
    Decision,
    DecisionKind,
    Match,
    Request,
    evaluate,
    match_statement,
)
from mfa_guard.iam.scenarios import Scenario, mfa_device_arn, own_user_arn
from mfa_guard.loaders.positions import Unresolved
from mfa_guard.model import PolicyDocument, PolicyKind
from mfa_guard.records import replace
from tests.iam.policies import (
    ALLOW_ALL,
    AWS_SELF_MANAGE,
    ENROLLMENT_ACTIONS,
    load_policy,
    scenario,
)

ALLOWED = DecisionKind.ALLOWED
EXPLICIT = DecisionKind.EXPLICIT_DENY
IMPLICIT = DecisionKind.IMPLICIT_DENY
DENY_SID = '"DenyAllExceptListedIfNoMFA"'


def aws_policy(**changes: Any) -> dict[str, Any]:
    """Return the AWS example with the MFA deny statement's elements replaced."""
    policy = copy.deepcopy(AWS_SELF_MANAGE)
    deny = policy["Statement"][-1]
    deny.update(changes)
    return policy


def statement_by_sid(policy: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(s for s in policy["Statement"] if s.get("Sid") == sid)


def decide(
    documents: list[PolicyDocument],
    action: str,
    name: str,
    resource: str | None = None,
    built: Scenario | None = None,
) -> Decision:
    built = built or scenario(name)
    target = own_user_arn(built) if resource is None else resource
    return evaluate(documents, Request(action, target, built))


def labels(decision: Decision) -> list[str]:
    return [match.statement.label for match in decision.deciding]


@pytest.fixture
def aws_documents() -> list[PolicyDocument]:
    return [load_policy(AWS_SELF_MANAGE), load_policy(ALLOW_ALL)]


def test_change_password_denied_without_mfa(
    aws_documents: list[PolicyDocument],
) -> None:
    decision = decide(aws_documents, "iam:ChangePassword", "console-without-mfa")

    assert decision.kind is EXPLICIT
    assert labels(decision) == [DENY_SID]
    assert decision.resource == "arn:aws:iam::123456789012:user/alice"
    assert decision.conditional_on == frozenset()


def test_change_password_reason_names_key(aws_documents: list[PolicyDocument]) -> None:
    decision = decide(aws_documents, "iam:ChangePassword", "console-without-mfa")

    assert decision.deciding[0].reason == (
        "NotAction does not list iam:ChangePassword; "
        'Resource "*" matches arn:aws:iam::123456789012:user/alice; '
        "BoolIfExists aws:MultiFactorAuthPresent = false holds because the key is "
        '"false"'
    )


def test_change_password_allowed_with_mfa() -> None:
    documents = [load_policy(AWS_SELF_MANAGE)]
    decision = decide(documents, "iam:ChangePassword", "console-with-mfa")

    assert decision.kind is ALLOWED
    assert labels(decision) == ['"AllowManageOwnPasswords"']


def test_change_password_exempted_allowed() -> None:
    policy = aws_policy(NotAction=[*ENROLLMENT_ACTIONS, "iam:ChangePassword"])
    decision = decide(
        [load_policy(policy)], "iam:ChangePassword", "console-without-mfa"
    )

    assert decision.kind is ALLOWED


@pytest.mark.parametrize("name", ["console-without-mfa", "access-key"])
def test_enable_mfa_own_user_allowed(name: str) -> None:
    decision = decide([load_policy(AWS_SELF_MANAGE)], "iam:EnableMFADevice", name)

    assert decision.kind is ALLOWED
    assert labels(decision) == ['"AllowManageOwnUserMFA"']


def test_enable_mfa_other_user_denied() -> None:
    other = "arn:aws:iam::123456789012:user/bob"
    decision = decide(
        [load_policy(AWS_SELF_MANAGE)], "iam:EnableMFADevice", "access-key", other
    )

    assert decision.kind is IMPLICIT


@pytest.mark.parametrize("name", ["console-without-mfa", "access-key"])
def test_deactivate_mfa_denied_without_mfa(name: str) -> None:
    decision = decide([load_policy(AWS_SELF_MANAGE)], "iam:DeactivateMFADevice", name)

    assert decision.kind is EXPLICIT


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("console-without-mfa", EXPLICIT),
        ("access-key", EXPLICIT),
        ("console-with-mfa", ALLOWED),
        ("session-with-mfa", ALLOWED),
        ("role-session-without-mfa", EXPLICIT),
    ],
)
def test_list_buckets_per_scenario(
    aws_documents: list[PolicyDocument], name: str, expected: DecisionKind
) -> None:
    decision = decide(aws_documents, "s3:ListAllMyBuckets", name, "*")

    assert decision.kind is expected


def test_list_buckets_implicit_without_grant() -> None:
    decision = decide(
        [load_policy(AWS_SELF_MANAGE)], "s3:ListAllMyBuckets", "console-with-mfa", "*"
    )

    assert decision.kind is IMPLICIT
    assert decision.deciding == ()


def test_create_virtual_device_any_name() -> None:
    built = scenario("console-without-mfa")
    device = mfa_device_arn(built, "my-phone")
    decision = decide(
        [load_policy(AWS_SELF_MANAGE)], "iam:CreateVirtualMFADevice", "", device, built
    )

    assert decision.kind is ALLOWED


def test_bool_instead_of_ifexists_bypass() -> None:
    policy = aws_policy(Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}})
    documents = [load_policy(policy), load_policy(ALLOW_ALL)]

    access_key = decide(documents, "s3:ListAllMyBuckets", "access-key", "*")
    console = decide(documents, "s3:ListAllMyBuckets", "console-without-mfa", "*")

    assert access_key.kind is ALLOWED
    assert labels(access_key) == ["#1"]
    assert console.kind is EXPLICIT


def test_null_true_console_bypass() -> None:
    policy = aws_policy(Condition={"Null": {"aws:MultiFactorAuthPresent": "true"}})
    documents = [load_policy(policy), load_policy(ALLOW_ALL)]

    console = decide(documents, "s3:ListAllMyBuckets", "console-without-mfa", "*")
    access_key = decide(documents, "s3:ListAllMyBuckets", "access-key", "*")

    assert console.kind is ALLOWED
    assert access_key.kind is EXPLICIT


def test_device_bound_to_username() -> None:
    policy = copy.deepcopy(AWS_SELF_MANAGE)
    statement = statement_by_sid(policy, "AllowManageOwnVirtualMFADevice")
    statement["Resource"] = "arn:aws:iam::*:mfa/${aws:username}"
    built = scenario("console-without-mfa")
    documents = [load_policy(policy)]

    phone = decide(
        documents, "iam:CreateVirtualMFADevice", "", mfa_device_arn(built), built
    )
    named = decide(
        documents,
        "iam:CreateVirtualMFADevice",
        "",
        mfa_device_arn(built, "alice"),
        built,
    )

    assert phone.kind is IMPLICIT
    assert named.kind is ALLOWED


def test_user_path_not_matched() -> None:
    built = scenario("console-without-mfa", user_path="/dev/")
    decision = decide(
        [load_policy(AWS_SELF_MANAGE)], "iam:EnableMFADevice", "", built=built
    )

    assert decision.resource == "arn:aws:iam::123456789012:user/dev/alice"
    assert decision.kind is IMPLICIT


def test_user_path_matched_by_star_path() -> None:
    policy = copy.deepcopy(AWS_SELF_MANAGE)
    statement = statement_by_sid(policy, "AllowManageOwnUserMFA")
    statement["Resource"] = [
        "arn:aws:iam::*:user/${aws:username}",
        "arn:aws:iam::*:user/*/${aws:username}",
    ]
    built = scenario("console-without-mfa", user_path="/dev/")
    decision = decide([load_policy(policy)], "iam:EnableMFADevice", "", built=built)

    assert decision.kind is ALLOWED


@pytest.mark.parametrize(
    "name", ["console-without-mfa", "access-key", "console-with-mfa"]
)
def test_get_session_token_never_denied(name: str) -> None:
    deny_all = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "sts:*", "Resource": "*"}],
    }
    decision = decide([load_policy(deny_all)], "STS:GetSessionToken", name, "*")

    assert decision.kind is ALLOWED
    assert decision.deciding == ()
    assert decision.notes == (
        "sts:GetSessionToken needs no permission and cannot be denied by policy",
    )


def test_list_virtual_devices_against_star() -> None:
    decision = decide(
        [load_policy(AWS_SELF_MANAGE)],
        "iam:ListVirtualMFADevices",
        "console-without-mfa",
    )

    assert decision.kind is ALLOWED
    assert decision.resource == "*"
    assert decision.notes == (
        'iam:ListVirtualMFADevices has no resource-level permissions, so it is authorised against "*"',
    )


def test_list_virtual_devices_own_user_grant_useless() -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "iam:ListVirtualMFADevices",
                "Resource": "arn:aws:iam::*:user/${aws:username}",
            }
        ],
    }
    decision = decide([load_policy(policy)], "iam:ListVirtualMFADevices", "access-key")

    assert decision.kind is IMPLICIT
    assert decision.resource == "*"


def test_deny_scoped_to_user_misses_star_actions() -> None:
    policy = aws_policy(Resource="arn:aws:iam::*:user/${aws:username}")
    documents = [load_policy(policy), load_policy(ALLOW_ALL)]

    decision = decide(documents, "iam:GetAccountSummary", "console-without-mfa")

    assert decision.kind is ALLOWED


@pytest.mark.parametrize("action", ["IAM:changepassword", "iam:CHANGEPASSWORD"])
def test_request_action_any_case(
    aws_documents: list[PolicyDocument], action: str
) -> None:
    decision = decide(aws_documents, action, "console-without-mfa")

    assert decision.kind is EXPLICIT


@pytest.mark.parametrize(
    "exemption", ["IAM:changepassword", "iam:Change*", "iam:???ngePassword", "iam:*"]
)
def test_exemption_any_spelling(exemption: str) -> None:
    policy = aws_policy(NotAction=[*ENROLLMENT_ACTIONS, exemption])
    decision = decide(
        [load_policy(policy)], "iam:ChangePassword", "console-without-mfa"
    )

    assert decision.kind is ALLOWED


@pytest.mark.parametrize("version", [None, "2008-10-17"])
def test_variables_literal_without_version(version: str | None) -> None:
    policy = copy.deepcopy(AWS_SELF_MANAGE)
    if version is None:
        del policy["Version"]
    else:
        policy["Version"] = version
    documents = [load_policy(policy)]

    decision = decide(documents, "iam:EnableMFADevice", "console-without-mfa")
    literal = decide(
        documents,
        "iam:EnableMFADevice",
        "console-without-mfa",
        "arn:aws:iam::123456789012:user/${aws:username}",
    )

    assert decision.kind is IMPLICIT
    assert literal.kind is ALLOWED


def test_role_session_username_no_value() -> None:
    decision = decide(
        [load_policy(AWS_SELF_MANAGE)],
        "iam:EnableMFADevice",
        "role-session-without-mfa",
        "arn:aws:iam::123456789012:user/alice",
    )

    assert decision.kind is IMPLICIT


def test_not_resource_missing_variable_stops_excluding() -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Action": "iam:*",
                "NotResource": "arn:aws:iam::*:user/${aws:username}",
            }
        ],
    }
    documents = [load_policy(policy), load_policy(ALLOW_ALL)]
    own_user = "arn:aws:iam::123456789012:user/alice"

    user = decide(documents, "iam:GetUser", "access-key", own_user)
    role = decide(documents, "iam:GetUser", "role-session-without-mfa", own_user)

    assert user.kind is ALLOWED
    assert role.kind is EXPLICIT
    assert role.deciding[0].reason == (
        'Action "iam:*" matches iam:GetUser; NotResource does not list '
        "arn:aws:iam::123456789012:user/alice (aws:username has no value, so "
        '"arn:aws:iam::*:user/${aws:username}" matches nothing); no Condition'
    )


def tagged_deny(**condition: Any) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyUnlessTeam",
                "Effect": "Deny",
                "Action": "s3:*",
                "Resource": "*",
                "Condition": condition,
            }
        ],
    }


def test_unknown_key_maybe_match() -> None:
    document = load_policy(tagged_deny(StringEquals={"aws:PrincipalTag/team": "ops"}))
    request = Request("s3:GetObject", "arn:aws:s3:::b/k", scenario("access-key"))

    result = match_statement(document.statements[0], document, request)

    assert result.match is Match.MAYBE
    assert result.unknown_keys == frozenset({"aws:PrincipalTag/team"})


def test_maybe_deny_conditions_allow() -> None:
    deny = load_policy(tagged_deny(StringEquals={"aws:PrincipalTag/team": "ops"}))
    decision = decide([deny, load_policy(ALLOW_ALL)], "s3:GetObject", "access-key", "*")

    assert decision.kind is ALLOWED
    assert decision.conditional_on == frozenset({"aws:PrincipalTag/team"})
    assert [m.statement.label for m in decision.possible] == ['"DenyUnlessTeam"']


def test_maybe_allow_conditions_implicit_deny() -> None:
    allow = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:*",
                "Resource": "*",
                "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
            }
        ],
    }
    decision = decide([load_policy(allow)], "s3:GetObject", "access-key", "*")

    assert decision.kind is IMPLICIT
    assert decision.conditional_on == frozenset({"aws:SourceIp"})


def test_known_key_override_decides() -> None:
    deny = load_policy(tagged_deny(StringEquals={"aws:PrincipalTag/team": "ops"}))
    built = scenario("access-key").with_overrides({"aws:PrincipalTag/team": "ops"})
    decision = decide([deny, load_policy(ALLOW_ALL)], "s3:GetObject", "", "*", built)

    assert decision.kind is EXPLICIT
    assert decision.conditional_on == frozenset()


def test_yes_deny_ignores_maybe() -> None:
    documents = [
        load_policy(tagged_deny(StringEquals={"aws:PrincipalTag/team": "ops"})),
        load_policy(AWS_SELF_MANAGE),
    ]
    decision = decide(documents, "s3:GetObject", "access-key", "*")

    assert decision.kind is EXPLICIT
    assert labels(decision) == [DENY_SID]
    assert decision.conditional_on == frozenset()


def test_unresolved_action_maybe() -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Deny", "NotAction": ["iam:GetUser"], "Resource": "*"}
        ],
    }
    document = load_policy(policy)
    statement = document.statements[0]
    unresolved = Unresolved("var.exempt_actions (no default)")
    changed = replace(statement, not_actions=("iam:GetUser", unresolved))
    request = Request("iam:ChangePassword", "*", scenario("access-key"))

    result = match_statement(changed, document, request)

    assert result.match is Match.MAYBE
    assert result.unknown_keys == frozenset({"var.exempt_actions (no default)"})


def test_account_placeholder_own_account() -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "iam:EnableMFADevice",
                "Resource": "arn:aws:iam::${AWS::AccountId}:user/${aws:username}",
            }
        ],
    }
    decision = decide([load_policy(policy)], "iam:EnableMFADevice", "access-key")

    assert decision.kind is ALLOWED


def test_unknown_action_note() -> None:
    decision = decide([load_policy(ALLOW_ALL)], "iam:ChangePasword", "access-key", "*")

    assert decision.kind is ALLOWED
    assert decision.notes == (
        "iam:ChangePasword is not in the IAM action catalogue, so it was evaluated as given",
    )


def test_trust_policy_skipped() -> None:
    trust = load_policy(ALLOW_ALL, kind=PolicyKind.TRUST)

    default = decide([trust], "s3:GetObject", "access-key", "*")
    included = evaluate(
        [trust],
        Request("s3:GetObject", "*", scenario("access-key")),
        kinds={PolicyKind.TRUST},
    )

    assert default.kind is IMPLICIT
    assert included.kind is ALLOWED


def test_principal_ignored_in_identity() -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
                "Action": "s3:*",
                "Resource": "*",
            }
        ],
    }
    decision = decide([load_policy(policy)], "s3:GetObject", "access-key", "*")

    assert decision.kind is ALLOWED


def test_no_documents_implicit_deny() -> None:
    decision = decide([], "s3:GetObject", "access-key", "*")

    assert decision.kind is IMPLICIT
    assert decision.deciding == ()
    assert decision.notes == ()


def test_scp_deny_explicit() -> None:
    scp = load_policy(aws_policy(), kind=PolicyKind.SCP)
    decision = decide(
        [scp, load_policy(ALLOW_ALL)], "s3:ListAllMyBuckets", "access-key", "*"
    )

    assert decision.kind is EXPLICIT


def test_scp_without_allow_denies() -> None:
    scp = load_policy(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}],
        },
        kind=PolicyKind.SCP,
    )
    decision = decide(
        [scp, load_policy(ALLOW_ALL)], "s3:GetObject", "console-with-mfa", "*"
    )

    assert decision.kind is IMPLICIT
    assert decision.notes == ("no service control policy allows the request",)


def test_scp_and_identity_allow() -> None:
    scp = load_policy(ALLOW_ALL, kind=PolicyKind.SCP)
    decision = decide(
        [scp, load_policy(ALLOW_ALL)], "s3:GetObject", "console-with-mfa", "*"
    )

    assert decision.kind is ALLOWED
    assert len(decision.deciding) == 2


def test_scp_only_allowed_with_note() -> None:
    scp = load_policy(ALLOW_ALL, kind=PolicyKind.SCP)
    decision = decide([scp], "s3:GetObject", "console-with-mfa", "*")

    assert decision.kind is ALLOWED
    assert decision.notes == (
        "no identity policy was evaluated, so this only means that the service "
        "control policies permit the request",
    )


def test_statement_without_resource_covers_all() -> None:
    document = load_policy(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*"}]}
    )
    request = Request("s3:GetObject", "arn:aws:s3:::b/k", scenario("access-key"))

    assert match_statement(document.statements[0], document, request).match is Match.YES


def test_action_mismatch_reason() -> None:
    document = load_policy(AWS_SELF_MANAGE)
    request = Request("iam:EnableMFADevice", "*", scenario("access-key"))

    result = match_statement(document.statements[-1], document, request)

    assert result.match is Match.NO
    assert result.reason == "NotAction lists iam:EnableMFADevice"
