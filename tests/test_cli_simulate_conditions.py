"""`mfa-guard simulate --condition`: the Fn::If branch of each CloudFormation policy."""

import json

import pytest

from mfa_guard.cli import main
from tests.policies import DENY_AND_ALLOW_APART, USER_IN_GROUP


@pytest.fixture
def template(tmp_path):
    path = tmp_path / "users.yaml"
    path.write_text(DENY_AND_ALLOW_APART)
    return path


def simulate(capsys, path, *arguments):
    code = main(
        [
            "simulate",
            str(path),
            "--format",
            "json",
            "--action",
            "iam:ChangePassword",
            "--scenario",
            "console-without-mfa",
            *arguments,
        ]
    )
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out else None, captured.err


def test_conditions_default_to_true(capsys, template):
    code, data, _ = simulate(capsys, template, "--principal", "dave")

    assert code == 0
    assert data["decision"] == "implicitly denied"
    policies = [item["policy"] for item in data["principal"]["policies"]]
    assert policies == ["ForceMfa (Fn::If IsProd=true)"]
    assert data["notes"] == [
        "evaluated with Fn::If IsProd=true; IsProd not set with --condition,"
        " so taken as true"
    ]


def test_condition_chooses_branch(capsys, template):
    code, data, _ = simulate(
        capsys, template, "--principal", "dave", "--condition", "IsProd=false"
    )

    assert code == 0
    assert data["decision"] == "allowed"
    policies = [item["policy"] for item in data["principal"]["policies"]]
    assert policies == [
        "ForceMfa (Fn::If IsProd=false)",
        "ChangePassword (Fn::If IsProd=false)",
    ]
    deciding = data["deciding"]
    assert [(d["statement"], d["line"], d["column"]) for d in deciding] == [
        ("ChangeOwnPassword", 51, 15)
    ]
    assert data["notes"] == ["evaluated with Fn::If IsProd=false"]


def test_condition_without_principal(capsys, template):
    code, data, _ = simulate(capsys, template, "--condition", "isprod=FALSE")

    assert code == 0
    assert data["notes"][0] == (
        "evaluated with Fn::If IsProd=true; IsProd not set with --condition,"
        " so taken as true"
    )
    assert data["notes"][1] == (
        "--condition isprod: no policy here depends on this condition"
    )
    assert data["decision"] == "implicitly denied"


def test_condition_value_case_ignored(capsys, template):
    _, data, _ = simulate(capsys, template, "--condition", "IsProd=FALSE")

    assert data["decision"] == "allowed"


@pytest.mark.parametrize("value", ["IsProd", "IsProd=maybe", "=true"])
def test_invalid_condition(capsys, template, value):
    code, data, err = simulate(capsys, template, "--condition", value)

    assert code == 2
    assert data is None
    assert err == (
        f"mfa-guard: error: invalid --condition {value!r}: expected NAME=true or"
        " NAME=false, such as IsProduction=false\n"
    )


def test_condition_given_twice(capsys, template):
    code, _, err = simulate(
        capsys, template, "--condition", "IsProd=false", "--condition", "IsProd=true"
    )

    assert code == 2
    assert err == "mfa-guard: error: --condition IsProd is given both true and false\n"


# NotProd is the negation of IsProd, so no stack has both true. The MFA deny
# exists where IsProd is true, and the Allow of iam:ChangePassword where
# NotProd is true.
EXCLUSIVE = (
    USER_IN_GROUP.replace(
        "Resources:\n", "  NotProd: !Not [Condition: IsProd]\nResources:\n"
    )
    + """\
  ForceMfa:
    Type: AWS::IAM::ManagedPolicy
    Condition: IsProd
    Properties:
      Groups: [!Ref Engineers]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: DenyAllExceptListedIfNoMFA
            Effect: Deny
            NotAction: [iam:ChangePassword, iam:GetAccountPasswordPolicy, iam:CreateVirtualMFADevice, iam:EnableMFADevice, iam:GetUser, iam:ListMFADevices, iam:ListVirtualMFADevices, iam:ResyncMFADevice, sts:GetSessionToken]
            Resource: "*"
            Condition:
              BoolIfExists:
                aws:MultiFactorAuthPresent: "false"
  ChangePassword:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Groups: [!Ref Engineers]
      PolicyDocument: !If
        - NotProd
        - Version: "2012-10-17"
          Statement:
            - Sid: ChangeOwnPassword
              Effect: Allow
              Action: [iam:ChangePassword, iam:GetAccountPasswordPolicy]
              Resource: "*"
        - !Ref AWS::NoValue
"""
)


@pytest.fixture
def exclusive(tmp_path):
    path = tmp_path / "exclusive.yaml"
    path.write_text(EXCLUSIVE)
    return path


def test_default_skips_impossible_values(capsys, exclusive):
    code, data, _ = simulate(capsys, exclusive, "--principal", "dave")

    assert code == 0
    assert data["decision"] == "implicitly denied"
    policies = [item["policy"] for item in data["principal"]["policies"]]
    assert policies == ["ForceMfa"]
    assert data["notes"] == [
        "evaluated with Fn::If IsProd=true, NotProd=false; IsProd, NotProd not"
        " set with --condition; the template's Conditions rule out all true, so"
        " the first possible values were taken, trying true before false"
    ]


def test_default_keeps_given_value(capsys, exclusive):
    code, data, _ = simulate(capsys, exclusive, "--condition", "IsProd=false")

    assert code == 0
    assert data["decision"] == "allowed"
    assert [(d["statement"], d["line"], d["column"]) for d in data["deciding"]] == [
        ("ChangeOwnPassword", 38, 15)
    ]
    assert data["notes"] == [
        "evaluated with Fn::If IsProd=false, NotProd=true; NotProd not set with"
        " --condition, so taken as true"
    ]


def test_impossible_condition_values(capsys, exclusive):
    code, data, err = simulate(
        capsys, exclusive, "--condition", "IsProd=true", "--condition", "NotProd=true"
    )

    assert code == 2
    assert data is None
    assert err == (
        "mfa-guard: error: --condition IsProd=true, NotProd=true: the template's"
        " Conditions rule out these values together, so no stack has them;"
        " change one of them\n"
    )


# Dave exists only where IsProd is true, and is in Admins there, in
# Engineers elsewhere.
CONDITIONAL_USER = """\
AWSTemplateFormatVersion: "2010-09-09"
Conditions:
  IsProd: !Equals [!Ref "AWS::AccountId", "111111111111"]
  InEu: !Equals [!Ref "AWS::Region", "eu-west-1"]
Resources:
  Admins:
    Type: AWS::IAM::Group
  Engineers:
    Type: AWS::IAM::Group
  Dave:
    Type: AWS::IAM::User
    Condition: IsProd
    Properties:
      UserName: dave
      Groups: !If [InEu, [!Ref Admins], [!Ref Engineers]]
  ChangePassword:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Groups: [!Ref Admins]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: ChangeOwnPassword
            Effect: Allow
            Action: [iam:ChangePassword, iam:GetAccountPasswordPolicy]
            Resource: "*"
"""


@pytest.fixture
def conditional_user(tmp_path):
    path = tmp_path / "user.yaml"
    path.write_text(CONDITIONAL_USER)
    return path


def test_group_chosen_by_condition(capsys, conditional_user):
    code, data, _ = simulate(
        capsys, conditional_user, "--principal", "dave", "--condition", "InEu=false"
    )

    assert code == 0
    assert data["decision"] == "implicitly denied"
    assert data["principal"]["policies"] == []
    assert data["notes"] == [
        "evaluated with Fn::If IsProd=true, InEu=false; IsProd not set with"
        " --condition, so taken as true"
    ]


def test_group_default_condition(capsys, conditional_user):
    code, data, _ = simulate(capsys, conditional_user, "--principal", "dave")

    assert code == 0
    assert data["decision"] == "allowed"
    assert [(d["statement"], d["line"], d["column"]) for d in data["deciding"]] == [
        ("ChangeOwnPassword", 23, 13)
    ]


def test_condition_against_user_condition(capsys, conditional_user):
    code, _, err = simulate(
        capsys, conditional_user, "--principal", "dave", "--condition", "IsProd=false"
    )

    assert code == 2
    assert err == (
        "mfa-guard: error: --condition IsProd=false: user dave exists only when"
        " IsProd is true, because of its resource's Condition\n"
    )
