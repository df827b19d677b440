"""Resource `Condition` attributes and `Fn::If` links in the CloudFormation loader."""

from __future__ import annotations

from mfa_guard.loaders.cloudformation import load_cloudformation_yaml
from mfa_guard.model import DiagnosticKind

HEADER = """\
AWSTemplateFormatVersion: "2010-09-09"
Conditions:
  IsProd: !Equals [!Ref "AWS::AccountId", "111111111111"]
  InEu: !Equals [!Ref "AWS::Region", "eu-west-1"]
Resources:
"""

# Line 6 is the first line after HEADER.
POLICY = """\
  ForceMfa:
    Type: AWS::IAM::ManagedPolicy
    Condition: IsProd
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: !If [IsProd, InProd, Elsewhere]
            Effect: Allow
            Action: !If [InEu, s3:GetObject, s3:PutObject]
            Resource: "*"
"""


def load(resources):
    return load_cloudformation_yaml(HEADER + resources, "template.yaml")


def test_condition_fixes_variant():
    result = load(
        POLICY.replace("!If [InEu, s3:GetObject, s3:PutObject]", "s3:GetObject")
    )
    document = result.documents[0]
    assert len(result.documents) == 1
    assert document.variant is None
    assert document.variant_assignments == ((("IsProd", True),),)


def test_condition_drops_false_branch():
    result = load(POLICY)
    sids = [document.statements[0].sid for document in result.documents]
    assert sids == ["InProd", "InProd"]


def test_condition_left_out_of_label():
    result = load(POLICY)
    variants = [document.variant for document in result.documents]
    assert variants == ["Fn::If InEu=true", "Fn::If InEu=false"]
    assert result.documents[0].variant_assignments == (
        (("IsProd", True), ("InEu", True)),
    )


def test_condition_keeps_fn_if_budget():
    # The resource's own condition does not count towards the three Fn::If
    # conditions resolved in one policy.
    text = POLICY.replace(
        '            Resource: "*"\n',
        "            Resource: !If [HasA, a, !If [HasB, b, c]]\n",
    )
    result = load(text.replace("Resources:\n", ""))
    assert len(result.documents) == 6
    assert result.documents[0].unresolved == ()


def test_undefined_resource_condition():
    result = load(POLICY.replace("Condition: IsProd", "Condition: IsStaging"))
    errors = [d for d in result.diagnostics if d.kind is DiagnosticKind.PARSE_ERROR]
    assert [(d.span.line, d.span.column) for d in errors] == [(8, 5)]
    assert errors[0].message == (
        "resource ForceMfa has Condition 'IsStaging', which the template's"
        " Conditions section does not define; CloudFormation rejects this template"
    )


def test_impossible_condition_builds_nothing():
    text = POLICY.replace("Condition: IsProd", "Condition: Never")
    result = load_cloudformation_yaml(
        HEADER.replace("Resources:\n", "  Never: !Equals [a, b]\nResources:\n") + text,
        "template.yaml",
    )
    assert result.documents == []


USERS = """\
  Admins:
    Type: AWS::IAM::Group
    Condition: IsProd
  Engineers:
    Type: AWS::IAM::Group
  Dave:
    Type: AWS::IAM::User
    Properties:
      Groups: !If [IsProd, [!Ref Admins, !Ref Engineers], [!Ref Engineers]]
      ManagedPolicyArns:
        - !If [InEu, arn:aws:iam::aws:policy/IAMUserChangePassword, !Ref AWS::NoValue]
"""


def principals(result):
    return {principal.address: principal for principal in result.principals}


def test_groups_fn_if_links():
    dave = principals(load(USERS))["Dave"]
    assert dave.groups == ("Admins", "Engineers")
    assert dave.unresolved == ()


def test_groups_fn_if_link_conditions():
    dave = principals(load(USERS))["Dave"]
    assert dave.link_conditions == (
        (
            "arn:aws:iam::aws:policy/IAMUserChangePassword",
            ((("InEu", True),),),
        ),
        ("Admins", ((("IsProd", True),),)),
    )


def test_group_condition_is_exists_when():
    found = principals(load(USERS))
    assert found["Admins"].exists_when == (("IsProd", True),)
    assert found["Engineers"].exists_when == ()
