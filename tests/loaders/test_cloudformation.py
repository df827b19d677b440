from __future__ import annotations

from pathlib import Path

import pytest

from mfa_guard.loaders.base import LoadResult
from mfa_guard.loaders.cloudformation import (
    is_template,
    load_cloudformation_yaml,
    load_template,
    looks_like_cloudformation,
)
from mfa_guard.loaders.jsonpos import parse_json
from mfa_guard.model import DiagnosticKind, PolicyDocument, PolicyKind

FIXTURES = Path(__file__).parent.parent / "fixtures" / "cloudformation"

SELF_SERVICE_EXEMPTIONS = (
    "iam:CreateVirtualMFADevice",
    "iam:EnableMFADevice",
    "iam:GetUser",
    "iam:ListMFADevices",
    "iam:ListVirtualMFADevices",
    "iam:ResyncMFADevice",
    "sts:GetSessionToken",
)

HEADER = 'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n'


def load_fixture(name: str) -> LoadResult:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return load_cloudformation_yaml(text, name)


def load_resources(resources: str) -> LoadResult:
    """Load a template made of HEADER and `resources`, which starts on line 3."""
    return load_cloudformation_yaml(HEADER + resources, "template.yaml")


def document_named(result: LoadResult, name: str) -> PolicyDocument:
    matches = [document for document in result.documents if document.name == name]
    assert len(matches) == 1, [document.name for document in result.documents]
    return matches[0]


# Detection


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('AWSTemplateFormatVersion: "2010-09-09"\n', True),
        ("Resources:\n  B:\n    Type: AWS::S3::Bucket\n", True),
        ("apiVersion: v1\nkind: ConfigMap\n", False),
        ("", False),
    ],
)
def test_looks_like_cloudformation(text: str, expected: bool) -> None:
    assert looks_like_cloudformation(text) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"AWSTemplateFormatVersion": "2010-09-09"}, True),
        ({"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}, True),
        ({"Resources": {"B": {"Type": "Custom::Thing"}}}, False),
        ({"Resources": ["AWS::S3::Bucket"]}, False),
        ({"Statement": []}, False),
        (["AWSTemplateFormatVersion"], False),
        (None, False),
    ],
)
def test_is_template(value: object, expected: bool) -> None:
    assert is_template(value) is expected


# The AWS self-service MFA policy


def test_yaml_mfa_policy_document() -> None:
    result = load_fixture("mfa_self_manage.yaml")

    assert result.relevant is True
    assert result.diagnostics == []
    document = document_named(result, "MfaPolicy")
    assert document.kind is PolicyKind.IDENTITY
    assert document.version == "2012-10-17"
    assert document.variant is None
    assert document.unresolved == ()
    assert (document.span.line, document.span.column) == (9, 9)


def test_yaml_mfa_deny_span() -> None:
    document = document_named(load_fixture("mfa_self_manage.yaml"), "MfaPolicy")
    deny = document.statements[3]

    assert deny.sid == "DenyAllExceptListedIfNoMFA"
    assert deny.effect == "Deny"
    assert deny.not_actions == SELF_SERVICE_EXEMPTIONS
    assert deny.resources == ("*",)
    assert (deny.span.line, deny.span.column) == (29, 13)
    assert (deny.span.end_line, deny.span.end_column) == (42, 50)


def test_yaml_mfa_condition_span() -> None:
    document = document_named(load_fixture("mfa_self_manage.yaml"), "MfaPolicy")
    condition = document.statements[3].conditions[0]

    assert condition.operator == "BoolIfExists"
    assert condition.key == "aws:MultiFactorAuthPresent"
    assert condition.values == ("false",)
    assert (condition.span.line, condition.span.column) == (41, 15)
    assert (condition.key_span.line, condition.key_span.column) == (42, 17)


def test_yaml_sub_pseudo_parameters() -> None:
    document = document_named(load_fixture("mfa_self_manage.yaml"), "MfaPolicy")

    assert document.statements[1].resources == ("arn:aws:iam::*:mfa/*",)
    assert document.statements[1].span.line == 17


def test_yaml_sub_escaped_username() -> None:
    document = document_named(load_fixture("mfa_self_manage.yaml"), "MfaPolicy")

    assert document.statements[2].resources == ("arn:aws:iam::*:user/${aws:username}",)


def test_json_mfa_policy_spans() -> None:
    text = (FIXTURES / "mfa_self_manage.json").read_text(encoding="utf-8")
    result = load_template(parse_json(text).value, "mfa_self_manage.json")

    document = document_named(result, "MfaPolicy")
    deny = document.statements[1]
    condition = deny.conditions[0]
    assert deny.not_actions == SELF_SERVICE_EXEMPTIONS
    assert (deny.span.line, deny.span.column) == (16, 13)
    assert (condition.span.line, condition.span.column) == (30, 17)
    assert (condition.key_span.line, condition.key_span.column) == (30, 34)
    assert condition.values == ("false",)
    assert condition.raw_values == (False,)


# Where policies are found


def test_inline_policy_names() -> None:
    result = load_fixture("inline_policies.yaml")

    names = [document.name for document in result.documents]
    assert names == [
        "DevUser.Policies[0]",
        "Admins.Policies[0]",
        "Admins.Policies[1]",
        "CiRole.Policies[0]",
        "CiRole.AssumeRolePolicyDocument",
        "OrgMfa",
        "OrgQuoted",
    ]
    assert result.diagnostics == []


def test_user_inline_policy() -> None:
    document = document_named(
        load_fixture("inline_policies.yaml"), "DevUser.Policies[0]"
    )
    statement = document.statements[0]

    assert document.kind is PolicyKind.IDENTITY
    assert statement.not_actions == ("iam:ChangePassword",)
    assert (statement.span.line, statement.span.column) == (11, 17)
    assert (statement.conditions[0].span.line, statement.conditions[0].span.column) == (
        15,
        19,
    )


def test_group_single_statement() -> None:
    document = document_named(
        load_fixture("inline_policies.yaml"), "Admins.Policies[0]"
    )

    assert document.statements[0].actions == ("s3:*",)
    assert (document.statements[0].span.line, document.statements[0].span.column) == (
        22,
        24,
    )


def test_role_policy_kinds() -> None:
    result = load_fixture("inline_policies.yaml")

    trust = document_named(result, "CiRole.AssumeRolePolicyDocument")
    inline = document_named(result, "CiRole.Policies[0]")
    assert trust.kind is PolicyKind.TRUST
    assert trust.statements[0].has_principal is True
    assert inline.kind is PolicyKind.IDENTITY


def test_scp_from_literal_block() -> None:
    document = document_named(load_fixture("inline_policies.yaml"), "OrgMfa")
    statement = document.statements[0]
    condition = statement.conditions[0]

    assert document.kind is PolicyKind.SCP
    assert statement.actions == ("iam:DeleteVirtualMFADevice",)
    assert (document.span.line, document.span.column) == (52, 9)
    assert (statement.span.line, statement.span.column) == (55, 13)
    assert (condition.span.line, condition.span.column) == (59, 29)


def test_scp_from_quoted_string() -> None:
    document = document_named(load_fixture("inline_policies.yaml"), "OrgQuoted")
    statement = document.statements[0]

    assert document.kind is PolicyKind.SCP
    assert statement.actions == ("s3:DeleteBucket",)
    assert (statement.span.line, statement.span.column) == (68, 7)


def test_sam_inline_policies_only() -> None:
    result = load_fixture("sam_function.yaml")

    names = [document.name for document in result.documents]
    assert names == ["Handler.Policies[2]", "Worker.Policies"]
    handler = document_named(result, "Handler.Policies[2]")
    assert handler.statements[0].actions == ("sqs:SendMessage",)
    assert (handler.statements[0].span.line, handler.statements[0].span.column) == (
        15,
        15,
    )


def test_sam_managed_policies_not_relevant() -> None:
    result = load_resources(
        "  F:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Policies: [AWSLambdaBasicExecutionRole, {S3ReadPolicy: {BucketName: b}}]\n"
    )

    assert result.documents == []
    assert result.relevant is False


@pytest.mark.parametrize(
    "resource_type",
    [
        "AWS::IAM::Policy",
        "AWS::IAM::UserPolicy",
        "AWS::IAM::GroupPolicy",
        "AWS::IAM::RolePolicy",
    ],
)
def test_policy_resource_types(resource_type: str) -> None:
    result = load_resources(
        "  P:\n"
        f"    Type: {resource_type}\n"
        "    Properties:\n"
        "      PolicyDocument: {Statement: {Effect: Deny, Action: '*', Resource: '*'}}\n"
    )

    assert document_named(result, "P").kind is PolicyKind.IDENTITY


# Intrinsic functions


def test_fn_if_no_value_variants() -> None:
    result = load_fixture("intrinsics.yaml")

    variants = [document.variant for document in result.documents]
    assert variants == ["Fn::If IsProd=true", "Fn::If IsProd=false"]
    prod, other = result.documents
    assert [s.sid for s in prod.statements] == [
        "DenyWithoutMfadev",
        "ProdOnly",
        "Reports",
    ]
    assert [s.sid for s in other.statements] == ["DenyWithoutMfadev", "Reports"]
    assert (prod.statements[1].span.line, prod.statements[1].span.column) == (31, 15)


def test_ref_parameter_defaults() -> None:
    deny = load_fixture("intrinsics.yaml").documents[0].statements[0]

    assert deny.sid == "DenyWithoutMfadev"
    assert deny.not_actions == ("iam:ChangePassword", "iam:GetAccountPasswordPolicy")


def test_join_and_unresolved_values() -> None:
    document = load_fixture("intrinsics.yaml").documents[0]
    reports = document.statements[2]

    assert reports.resources == (
        "arn:aws:s3:::dev-reports/*",
        "Fn::GetAtt Bucket.Arn",
        "Ref BucketName (parameter without Default)",
    )
    assert document.unresolved == (
        "Fn::GetAtt Bucket.Arn",
        "Ref BucketName (parameter without Default)",
    )


def test_policies_item_fn_if() -> None:
    result = load_resources(
        "  U:\n"
        "    Type: AWS::IAM::User\n"
        "    Properties:\n"
        "      Policies:\n"
        "        - !If\n"
        "          - HasMfa\n"
        "          - PolicyName: mfa\n"
        "            PolicyDocument:\n"
        "              Statement: [{Effect: Deny, Action: '*', Resource: '*'}]\n"
        "          - !Ref AWS::NoValue\n"
    )

    assert len(result.documents) == 1
    document = result.documents[0]
    assert document.name == "U.Policies[0]"
    assert document.variant == "Fn::If HasMfa=true"
    assert (document.statements[0].span.line, document.statements[0].span.column) == (
        11,
        27,
    )


def test_fn_if_removes_condition() -> None:
    result = load_resources(
        "  P:\n"
        "    Type: AWS::IAM::Policy\n"
        "    Properties:\n"
        "      PolicyDocument:\n"
        "        Statement:\n"
        "          - Effect: Deny\n"
        "            Action: '*'\n"
        "            Resource: '*'\n"
        "            Condition: !If\n"
        "              - Strict\n"
        "              - {Bool: {aws:MultiFactorAuthPresent: 'false'}}\n"
        "              - !Ref AWS::NoValue\n"
    )

    strict, relaxed = result.documents
    assert strict.variant == "Fn::If Strict=true"
    assert strict.statements[0].conditions[0].operator == "Bool"
    assert relaxed.variant == "Fn::If Strict=false"
    assert relaxed.statements[0].conditions == ()


def test_fn_if_equal_branches_single() -> None:
    result = load_resources(
        "  P:\n"
        "    Type: AWS::IAM::Policy\n"
        "    Properties:\n"
        "      PolicyDocument:\n"
        "        Statement: [{Effect: Deny, Action: !If [C, '*', '*'], Resource: '*'}]\n"
    )

    assert len(result.documents) == 1
    assert result.documents[0].variant is None


def test_fn_if_variant_limit() -> None:
    result = load_resources(
        "  P:\n"
        "    Type: AWS::IAM::Policy\n"
        "    Properties:\n"
        "      PolicyDocument:\n"
        "        Statement:\n"
        "          - Effect: !If [A, Allow, Deny]\n"
        "            Action: !If [B, a, b]\n"
        "            Resource: !If [C, x, y]\n"
        "          - Effect: Deny\n"
        "            Action: c\n"
        "            Resource: !If [D, x, y]\n"
    )

    assert len(result.documents) == 8
    assert result.documents[0].variant == "Fn::If A=true, B=true, C=true"
    assert result.documents[0].unresolved == ("Fn::If D (more than 8 variants)",)


def test_sub_json_policy_text() -> None:
    result = load_resources(
        "  P:\n"
        "    Type: AWS::IAM::Policy\n"
        "    Properties:\n"
        "      PolicyDocument: !Sub |\n"
        '        {"Statement": {"Effect": "Deny", "Action": "*",\n'
        '          "Resource": "arn:${AWS::Partition}:iam::${AWS::AccountId}:user/${!aws:username}"}}\n'
    )

    statement = document_named(result, "P").statements[0]
    assert statement.resources == ("arn:aws:iam::*:user/${aws:username}",)
    assert (statement.span.line, statement.span.column) == (6, 23)


def test_ssm_parameter_unresolved() -> None:
    text = (
        HEADER.replace("Resources:\n", "")
        + "Parameters:\n"
        + "  Actions:\n"
        + "    Type: AWS::SSM::Parameter::Value<String>\n"
        + "    Default: /mfa/actions\n"
        + "Resources:\n"
        + "  P:\n"
        + "    Type: AWS::IAM::Policy\n"
        + "    Properties:\n"
        + "      PolicyDocument: {Statement: {Effect: Deny, Action: !Ref Actions, Resource: '*'}}\n"
    )
    document = load_cloudformation_yaml(text, "template.yaml").documents[0]

    assert document.unresolved == ("Ref Actions (value read from SSM Parameter Store)",)


# Unresolved and invalid policies


def test_unresolved_document_diagnostic() -> None:
    result = load_resources(
        "  P:\n"
        "    Type: AWS::IAM::Policy\n"
        "    Properties:\n"
        "      PolicyDocument: !GetAtt Other.Document\n"
    )

    assert result.documents == []
    assert len(result.diagnostics) == 1
    diagnostic = result.diagnostics[0]
    assert diagnostic.kind is DiagnosticKind.UNRESOLVED
    assert (
        diagnostic.message
        == "policy P could not be resolved: Fn::GetAtt Other.Document"
    )
    assert (diagnostic.span.line, diagnostic.span.column) == (6, 23)


def test_unresolved_condition_drops_statement() -> None:
    result = load_resources(
        "  P:\n"
        "    Type: AWS::IAM::Policy\n"
        "    Properties:\n"
        "      PolicyDocument:\n"
        "        Statement:\n"
        "          - {Effect: Deny, Action: '*', Resource: '*', Condition: !ImportValue Shared}\n"
        "          - {Effect: Allow, Action: s3:GetObject, Resource: '*'}\n"
    )

    document = document_named(result, "P")
    assert [s.actions for s in document.statements] == [("s3:GetObject",)]
    assert document.unresolved == ("Fn::ImportValue Shared (statement #1 left out)",)
    assert result.diagnostics == []


def test_unresolved_statement_list() -> None:
    result = load_resources(
        "  P:\n"
        "    Type: AWS::IAM::Policy\n"
        "    Properties:\n"
        "      PolicyDocument:\n"
        "        Statement: !Ref Statements\n"
    )

    document = document_named(result, "P")
    assert document.statements == ()
    assert document.unresolved == ("Ref Statements (Statement)",)


def test_invalid_json_policy_position() -> None:
    result = load_resources(
        "  P:\n"
        "    Type: AWS::IAM::Policy\n"
        "    Properties:\n"
        "      PolicyDocument: |\n"
        '        {"Statement": [\n'
        '           {"Effect": "Deny" "Action": "*"}]}\n'
    )

    assert result.documents == []
    diagnostic = result.diagnostics[0]
    assert diagnostic.kind is DiagnosticKind.PARSE_ERROR
    assert (
        diagnostic.message
        == "invalid JSON in policy P: expected ',' or '}' in an object"
    )
    assert (diagnostic.span.line, diagnostic.span.column) == (8, 30)


def test_duplicate_in_json_policy() -> None:
    result = load_resources(
        "  P:\n"
        "    Type: AWS::IAM::Policy\n"
        "    Properties:\n"
        "      PolicyDocument: |\n"
        '        {"Statement": {"Effect": "Deny", "Effect": "Allow",\n'
        '                       "Action": "*", "Resource": "*"}}\n'
    )

    assert document_named(result, "P").statements[0].effect == "Allow"
    diagnostic = result.diagnostics[0]
    assert (diagnostic.span.line, diagnostic.span.column) == (7, 42)
    assert (
        diagnostic.message
        == "duplicate key 'Effect' (first at line 7): only the last value is used"
    )


def test_policy_without_statement() -> None:
    result = load_resources(
        "  P:\n"
        "    Type: AWS::IAM::Policy\n"
        "    Properties:\n"
        "      PolicyDocument: {Version: '2012-10-17'}\n"
    )

    diagnostic = result.diagnostics[0]
    assert diagnostic.kind is DiagnosticKind.PARSE_ERROR
    assert diagnostic.message == "invalid policy P: expected an object with a Statement"
    assert (diagnostic.span.line, diagnostic.span.column) == (6, 23)


# Files that are not templates, and broken templates


def test_helm_template_skipped() -> None:
    result = load_fixture("helm_deployment.yaml")

    assert result.relevant is False
    assert result.diagnostics == []
    assert result.documents == []
    assert result.note is not None
    assert result.note.startswith("not a CloudFormation template: no AWSTemplate")


def test_invalid_yaml_with_escape_skipped() -> None:
    result = load_cloudformation_yaml('a: "x\\n"\nb: [\n', "broken.yaml")

    assert result.relevant is False
    assert result.note is not None
    assert result.note.startswith("not a CloudFormation template: invalid YAML")


def test_escaped_resource_type_read() -> None:
    text = (
        "Resources:\n"
        "  Deny:\n"
        '    Type: "AWS\\x3a:IAM::ManagedPolicy"\n'
        "    Properties:\n"
        "      PolicyDocument:\n"
        "        Version: '2012-10-17'\n"
        "        Statement:\n"
        "          - Effect: Deny\n"
        "            NotAction: iam:ChangePassword\n"
        "            Resource: '*'\n"
    )
    result = load_cloudformation_yaml(text, "escaped.yaml")

    assert len(result.documents) == 1
    assert result.documents[0].statements[0].span.line == 8


def test_plain_yaml_skipped() -> None:
    result = load_cloudformation_yaml("name: build\non: [push]\n", "ci.yaml")

    assert result.relevant is False
    assert result.note == (
        "not a CloudFormation template: no AWSTemplateFormatVersion and no AWS:: resource types"
    )


def test_template_without_policies() -> None:
    result = load_resources("  Bucket:\n    Type: AWS::S3::Bucket\n")

    assert result.relevant is False
    assert result.note == "CloudFormation template without IAM policies"


def test_broken_template_parse_error() -> None:
    result = load_fixture("broken.yaml")

    assert result.relevant is True
    assert result.documents == []
    assert len(result.diagnostics) == 1
    diagnostic = result.diagnostics[0]
    assert diagnostic.kind is DiagnosticKind.PARSE_ERROR
    assert (diagnostic.span.line, diagnostic.span.column) == (10, 21)
    assert diagnostic.message.startswith("invalid YAML: ")


def test_duplicate_effect_reported() -> None:
    result = load_fixture("duplicate_effect.yaml")

    document = document_named(result, "MfaPolicy")
    assert document.statements[0].effect == "Deny"
    assert len(result.diagnostics) == 1
    diagnostic = result.diagnostics[0]
    assert diagnostic.kind is DiagnosticKind.PARSE_ERROR
    assert (
        diagnostic.message
        == "duplicate key 'Effect' (first at line 8): only the last value is used"
    )
    assert (diagnostic.span.line, diagnostic.span.column) == (10, 13)


UNDEFINED_CONDITION = """\
  Policy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Statement:
          - Effect: Allow
            Action: !If [IsProd, "iam:ChangePassword", "s3:ListBucket"]
            Resource: "*"
"""


def test_undefined_condition_reported() -> None:
    result = load_resources(UNDEFINED_CONDITION)

    (diagnostic,) = result.diagnostics
    assert diagnostic.kind is DiagnosticKind.PARSE_ERROR
    assert (diagnostic.span.line, diagnostic.span.column) == (9, 21)
    assert diagnostic.message == (
        "Fn::If names condition 'IsProd', which the template's Conditions section"
        " does not define; CloudFormation rejects this template"
    )


def test_defined_condition_not_reported() -> None:
    conditions = 'Conditions:\n  IsProd: !Equals [!Ref "AWS::Region", "us-east-1"]\n'
    text = HEADER.replace("Resources:\n", conditions + "Resources:\n")
    result = load_cloudformation_yaml(text + UNDEFINED_CONDITION, "template.yaml")

    assert result.diagnostics == []
