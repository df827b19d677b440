from __future__ import annotations

from pathlib import Path

from mfa_guard.loaders.cloudformation import load_cloudformation_yaml
from mfa_guard.model import PrincipalKind

FIXTURES = Path(__file__).parent.parent / "fixtures" / "policy_sets"

HEADER = 'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n'

MANAGED_POLICY = """\
  ForceMfa:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      ManagedPolicyName: force-mfa
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: iam:GetUser
            Resource: "*"
"""


def load(resources):
    """Load HEADER followed by `resources`, whose first line is line 3."""
    result = load_cloudformation_yaml(HEADER + resources, "template.yaml")
    return {principal.address: principal for principal in result.principals}, result


def test_fixture_principals():
    path = FIXTURES / "cloudformation" / "users.yaml"
    result = load_cloudformation_yaml(path.read_text(), "users.yaml")
    addresses = [(p.kind, p.address) for p in result.principals]
    assert addresses == [
        (PrincipalKind.GROUP, "Engineers"),
        (PrincipalKind.USER, "Alice"),
        (PrincipalKind.USER, "Bob"),
        (PrincipalKind.USER, "Carol"),
    ]


def test_fixture_user_fields():
    path = FIXTURES / "cloudformation" / "users.yaml"
    result = load_cloudformation_yaml(path.read_text(), "users.yaml")
    alice = result.principals[1]
    assert alice.name == "alice"
    assert alice.path == "/engineering/"
    assert alice.groups == ("Engineers",)
    assert (alice.span.line, alice.span.column) == (47, 3)
    assert alice.login_profile is not None
    assert alice.login_profile.password_reset_required is True


def test_fixture_group_addition():
    path = FIXTURES / "cloudformation" / "users.yaml"
    result = load_cloudformation_yaml(path.read_text(), "users.yaml")
    bob = result.principals[2]
    assert bob.groups == ("Engineers",)


def test_fixture_group_inline_policy():
    path = FIXTURES / "cloudformation" / "users.yaml"
    result = load_cloudformation_yaml(path.read_text(), "users.yaml")
    assert result.principals[0].policies == ("Engineers.Policies[0]",)


def test_template_with_only_users_is_relevant():
    principals, result = load(
        """\
  Carol:
    Type: AWS::IAM::User
    Properties:
      LoginProfile:
        Password: initial
"""
    )
    assert result.relevant is True
    carol = principals["Carol"]
    assert carol.name is None
    assert carol.label == "Carol"
    assert carol.login_profile is not None
    assert carol.login_profile.password_reset_required is False


def test_managed_policy_by_ref():
    principals, _ = load(
        MANAGED_POLICY
        + """\
  Bob:
    Type: AWS::IAM::User
    Properties:
      ManagedPolicyArns: [!Ref ForceMfa]
"""
    )
    assert principals["Bob"].policies == ("ForceMfa",)


def test_managed_policy_targets():
    principals, _ = load(
        """\
  Ops:
    Type: AWS::IAM::Group
    Properties:
      GroupName: ops
"""
        + MANAGED_POLICY
        + """\
      Groups: [ops]
"""
    )
    assert principals["Ops"].policies == ("ForceMfa",)


def test_managed_policy_by_literal_arn():
    principals, _ = load(
        MANAGED_POLICY
        + """\
  Bob:
    Type: AWS::IAM::User
    Properties:
      ManagedPolicyArns:
        - !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/force-mfa
        - !Sub arn:${AWS::Partition}:iam::aws:policy/IAMUserChangePassword
        - arn:aws:iam::123456789012:policy/elsewhere
"""
    )
    bob = principals["Bob"]
    assert bob.policies == ("ForceMfa",)
    assert bob.managed_policy_arns == (
        "arn:aws:iam::aws:policy/IAMUserChangePassword",
        "arn:aws:iam::123456789012:policy/elsewhere",
    )


def test_policy_users_by_name():
    principals, _ = load(
        """\
  Bob:
    Type: AWS::IAM::User
    Properties:
      UserName: bob
  Read:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: read
      Users: [bob]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: s3:Get*
            Resource: "*"
"""
    )
    assert principals["Bob"].policies == ("Read",)


def test_group_not_declared():
    principals, _ = load(
        """\
  Bob:
    Type: AWS::IAM::User
    Properties:
      Groups: [admins]
"""
    )
    bob = principals["Bob"]
    assert bob.groups == ()
    assert bob.unresolved == ("group admins is not declared in this template",)


def test_unresolved_path():
    principals, _ = load(
        """\
  Bob:
    Type: AWS::IAM::User
    Properties:
      Path: !Ref UserPath
"""
    )
    bob = principals["Bob"]
    assert bob.path is None
    assert bob.unresolved == ("the Path of Bob could not be resolved",)


def test_role_policies():
    principals, _ = load(
        """\
  Ci:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: ec2.amazonaws.com}
            Action: sts:AssumeRole
      ManagedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]
"""
    )
    role = principals["Ci"]
    assert role.kind is PrincipalKind.ROLE
    assert role.policies == ()
    assert role.managed_policy_arns == ("arn:aws:iam::aws:policy/ReadOnlyAccess",)


def test_unresolved_group():
    principals, _ = load(
        """\
  Bob:
    Type: AWS::IAM::User
    Properties:
      Groups: [!Ref GroupParameter]
"""
    )
    bob = principals["Bob"]
    assert bob.groups == ()
    assert bob.unresolved == ("a group of Bob could not be resolved",)
