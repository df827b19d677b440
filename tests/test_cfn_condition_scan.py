"""CloudFormation conditions in policy sets, through `mfa-guard scan`.

Covers `Fn::Equals` on one parameter, a resource's own `Condition`, and
`Fn::If` around the groups or policies linked to a principal.
"""

from pathlib import Path

# The MFA deny of AWS's self-service policy, which exempts the password and
# enrollment actions.
DENY = """\
          - Sid: DenyAllExceptListedIfNoMFA
            Effect: Deny
            NotAction: [iam:ChangePassword, iam:GetAccountPasswordPolicy, iam:CreateVirtualMFADevice, iam:EnableMFADevice, iam:GetUser, iam:ListMFADevices, iam:ListVirtualMFADevices, iam:ResyncMFADevice, sts:GetSessionToken]
            Resource: "*"
            Condition:
              BoolIfExists:
                aws:MultiFactorAuthPresent: "false"
"""

# An Allow of every action that DENY exempts, except sts:GetSessionToken.
SELF_SERVICE = """\
          - Sid: SelfService
            Effect: Allow
            Action: [iam:ChangePassword, iam:GetAccountPasswordPolicy, iam:CreateVirtualMFADevice, iam:EnableMFADevice, iam:GetUser, iam:ListMFADevices, iam:ListVirtualMFADevices, iam:ResyncMFADevice]
            Resource: "*"
"""

# Dave is in Engineers. Templates built on it add policies to the group.
DAVE_IN_ENGINEERS = """\
AWSTemplateFormatVersion: "2010-09-09"
Conditions:
  IsProd: !Equals [!Ref "AWS::AccountId", "111111111111"]
Resources:
  Engineers:
    Type: AWS::IAM::Group
  Dave:
    Type: AWS::IAM::User
    Properties:
      UserName: dave
      Groups: [!Ref Engineers]
"""


def scan_template(tmp_path, run_scan, text):
    (tmp_path / "users.yaml").write_text(text)
    return run_scan(tmp_path, "--no-cache", "--fail-on", "info")


def located(result, root):
    return [
        (
            f["rule_name"],
            Path(f["path"]).relative_to(root).as_posix(),
            f["line"],
            f["column"],
        )
        for f in result.findings
    ]


# Fn::Equals on one parameter

# ForceMfa denies without MFA only where Env is prod, and SelfService allows
# the exempted actions everywhere except where Env is dev. No stack has Env
# both prod and dev, so the deny always comes with the Allow.
ONE_PARAMETER = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Env:
    Type: String
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Equals [!Ref Env, dev]
Resources:
  Engineers:
    Type: AWS::IAM::Group
  Dave:
    Type: AWS::IAM::User
    Properties:
      UserName: dave
      Groups: [!Ref Engineers]
  ForceMfa:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Groups: [!Ref Engineers]
      PolicyDocument:
        Version: "2012-10-17"
        Statement: !If
          - IsProd
          - - Sid: DenyAllExceptListedIfNoMFA
              Effect: Deny
              NotAction: [iam:ChangePassword, iam:GetAccountPasswordPolicy, iam:CreateVirtualMFADevice, iam:EnableMFADevice, iam:GetUser, iam:ListMFADevices, iam:ListVirtualMFADevices, iam:ResyncMFADevice, sts:GetSessionToken]
              Resource: "*"
              Condition:
                BoolIfExists:
                  aws:MultiFactorAuthPresent: "false"
          - - Sid: ReadReports
              Effect: Allow
              Action: s3:GetObject
              Resource: "*"
  SelfService:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Groups: [!Ref Engineers]
      PolicyDocument: !If
        - IsDev
        - !Ref AWS::NoValue
        - Version: "2012-10-17"
          Statement:
            - Sid: SelfService
              Effect: Allow
              Action: [iam:ChangePassword, iam:GetAccountPasswordPolicy, iam:CreateVirtualMFADevice, iam:EnableMFADevice, iam:GetUser, iam:ListMFADevices, iam:ListVirtualMFADevices, iam:ResyncMFADevice]
              Resource: "*"
"""


def test_one_parameter_values_exclusive(tmp_path, run_scan):
    result = scan_template(tmp_path, run_scan, ONE_PARAMETER)
    assert result.findings == []
    assert result.code == 0


def test_two_parameters_may_both_match(tmp_path, run_scan):
    # IsDev on another parameter may hold together with IsProd.
    text = ONE_PARAMETER.replace(
        "  IsDev: !Equals [!Ref Env, dev]",
        "  IsDev: !Equals [!Ref Stage, dev]",
    ).replace("Parameters:\n", "Parameters:\n  Stage:\n    Type: String\n")
    result = scan_template(tmp_path, run_scan, text)
    assert located(result, tmp_path) == [
        ("exemption-not-allowed", "users.yaml", 26, 15)
    ]
    assert (
        "policies of user dave (Fn::If IsProd=true, IsDev=true)"
        in (result.findings[0]["message"])
    )


# The deny uses Bool, which access keys bypass, only where Env is qa. With
# AllowedValues [prod, dev], no stack has Env qa.
NOT_ALLOWED_VALUE = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Env:
    Type: String
    AllowedValues: [prod, dev]
Conditions:
  IsQa: !Equals [qa, !Ref Env]
Resources:
  ForceMfa:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: DenyWithoutMfa
            Effect: Deny
            NotAction: [iam:ChangePassword, iam:GetAccountPasswordPolicy, iam:CreateVirtualMFADevice, iam:EnableMFADevice, iam:GetUser, iam:ListMFADevices, iam:ListVirtualMFADevices, iam:ResyncMFADevice, sts:GetSessionToken]
            Resource: "*"
            Condition: !If
              - IsQa
              - Bool:
                  aws:MultiFactorAuthPresent: "false"
              - BoolIfExists:
                  aws:MultiFactorAuthPresent: "false"
"""


def test_value_outside_allowed_values(tmp_path, run_scan):
    result = scan_template(tmp_path, run_scan, NOT_ALLOWED_VALUE)
    assert result.findings == []


def test_value_without_allowed_values(tmp_path, run_scan):
    text = NOT_ALLOWED_VALUE.replace("    AllowedValues: [prod, dev]\n", "")
    result = scan_template(tmp_path, run_scan, text)
    assert located(result, tmp_path) == [("access-key-bypass", "users.yaml", 20, 17)]
    assert result.findings[0]["policy"] == "ForceMfa (Fn::If IsQa=true)"


# A resource's own Condition

# SelfService exists only where IsProd is true, so elsewhere nothing allows
# what ForceMfa exempts.
CONDITIONAL_ALLOW = (
    DAVE_IN_ENGINEERS
    + """\
  ForceMfa:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Groups: [!Ref Engineers]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
"""
    + DENY
    + """\
  SelfService:
    Type: AWS::IAM::ManagedPolicy
    Condition: IsProd
    Properties:
      Groups: [!Ref Engineers]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
"""
    + SELF_SERVICE
)


def test_conditional_policy_left_out(tmp_path, run_scan):
    result = scan_template(tmp_path, run_scan, CONDITIONAL_ALLOW)
    assert located(result, tmp_path) == [
        ("exemption-not-allowed", "users.yaml", 19, 13)
    ]
    assert result.findings[0]["policy"] == "ForceMfa"
    assert (
        "policies of user dave (Fn::If IsProd=false) grants"
        in (result.findings[0]["message"])
    )


# ForceMfa exists only where IsProd is true, so its IsProd=false branch,
# which lacks the Allow, is never deployed.
CONDITION_AND_FN_IF = (
    DAVE_IN_ENGINEERS
    + """\
  ForceMfa:
    Type: AWS::IAM::ManagedPolicy
    Condition: IsProd
    Properties:
      Groups: [!Ref Engineers]
      PolicyDocument:
        Version: "2012-10-17"
        Statement: !If
          - IsProd
          - - Sid: DenyAllExceptListedIfNoMFA
              Effect: Deny
              NotAction: [iam:ChangePassword, iam:GetAccountPasswordPolicy, iam:CreateVirtualMFADevice, iam:EnableMFADevice, iam:GetUser, iam:ListMFADevices, iam:ListVirtualMFADevices, iam:ResyncMFADevice, sts:GetSessionToken]
              Resource: "*"
              Condition:
                BoolIfExists:
                  aws:MultiFactorAuthPresent: "false"
            - Sid: SelfService
              Effect: Allow
              Action: [iam:ChangePassword, iam:GetAccountPasswordPolicy, iam:CreateVirtualMFADevice, iam:EnableMFADevice, iam:GetUser, iam:ListMFADevices, iam:ListVirtualMFADevices, iam:ResyncMFADevice]
              Resource: "*"
          - - Sid: DenyAllExceptListedIfNoMFA
              Effect: Deny
              NotAction: [iam:ChangePassword, iam:GetAccountPasswordPolicy, iam:CreateVirtualMFADevice, iam:EnableMFADevice, iam:GetUser, iam:ListMFADevices, iam:ListVirtualMFADevices, iam:ResyncMFADevice, sts:GetSessionToken]
              Resource: "*"
              Condition:
                BoolIfExists:
                  aws:MultiFactorAuthPresent: "false"
            - Sid: ReadReports
              Effect: Allow
              Action: s3:GetObject
              Resource: "*"
"""
)


def test_condition_rules_out_branch(tmp_path, run_scan):
    result = scan_template(tmp_path, run_scan, CONDITION_AND_FN_IF)
    assert result.findings == []
    assert result.code == 0


def test_fn_if_alone_keeps_branch(tmp_path, run_scan):
    text = CONDITION_AND_FN_IF.replace("    Condition: IsProd\n", "")
    result = scan_template(tmp_path, run_scan, text)
    assert located(result, tmp_path) == [
        ("exemption-not-allowed", "users.yaml", 31, 15)
    ]
    assert result.findings[0]["policy"] == "ForceMfa (Fn::If IsProd=false)"


# A lone policy whose deny uses Bool. Some stacks create it, so it is checked.
LONE_CONDITIONAL_POLICY = """\
AWSTemplateFormatVersion: "2010-09-09"
Conditions:
  IsProd: !Equals [!Ref "AWS::AccountId", "111111111111"]
Resources:
  ForceMfa:
    Type: AWS::IAM::ManagedPolicy
    Condition: IsProd
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: DenyWithoutMfa
            Effect: Deny
            NotAction: [iam:ChangePassword, iam:GetAccountPasswordPolicy, iam:CreateVirtualMFADevice, iam:EnableMFADevice, iam:GetUser, iam:ListMFADevices, iam:ListVirtualMFADevices, iam:ResyncMFADevice, sts:GetSessionToken]
            Resource: "*"
            Condition:
              Bool:
                aws:MultiFactorAuthPresent: "false"
"""


def test_lone_conditional_policy_checked(tmp_path, run_scan):
    result = scan_template(tmp_path, run_scan, LONE_CONDITIONAL_POLICY)
    assert located(result, tmp_path) == [("access-key-bypass", "users.yaml", 17, 15)]
    assert result.findings[0]["policy"] == "ForceMfa"


# Dave has a console password, and Engineers carries the MFA deny. The
# membership comes from a UserToGroupAddition created only where IsProd is true.
CONDITIONAL_MEMBERSHIP = (
    """\
AWSTemplateFormatVersion: "2010-09-09"
Conditions:
  IsProd: !Equals [!Ref "AWS::AccountId", "111111111111"]
Resources:
  Engineers:
    Type: AWS::IAM::Group
    Properties:
      ManagedPolicyArns: [!Ref ForceMfa]
  Dave:
    Type: AWS::IAM::User
    Properties:
      UserName: dave
      LoginProfile:
        Password: "{{resolve:secretsmanager:dave-initial-password}}"
  DaveInEngineers:
    Type: AWS::IAM::UserToGroupAddition
    Condition: IsProd
    Properties:
      GroupName: !Ref Engineers
      Users: [!Ref Dave]
  ForceMfa:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
"""
    + SELF_SERVICE
    + DENY
)

UNCOVERED_WHEN_NOT_PROD = (
    "IAM user dave has a console password, but no policy that reaches it"
    " directly or through its groups denies requests without MFA, so the user"
    " can sign in and use its permissions without MFA; with Fn::If"
    " IsProd=false, no policy reaches the user"
)


def assert_uncovered_when_not_prod(result, tmp_path, line):
    """Check that the only finding is dave's, at `line` of users.yaml, for IsProd=false."""
    assert located(result, tmp_path) == [
        ("console-user-not-covered", "users.yaml", line, 3)
    ]
    assert result.findings[0]["message"] == UNCOVERED_WHEN_NOT_PROD


def test_conditional_membership(tmp_path, run_scan):
    result = scan_template(tmp_path, run_scan, CONDITIONAL_MEMBERSHIP)
    assert_uncovered_when_not_prod(result, tmp_path, 9)


def test_conditional_group(tmp_path, run_scan):
    text = CONDITIONAL_MEMBERSHIP.replace(
        "  DaveInEngineers:\n    Type: AWS::IAM::UserToGroupAddition\n    Condition: IsProd\n",
        "  DaveInEngineers:\n    Type: AWS::IAM::UserToGroupAddition\n",
    ).replace(
        "  Engineers:\n    Type: AWS::IAM::Group\n",
        "  Engineers:\n    Type: AWS::IAM::Group\n    Condition: IsProd\n",
    )
    result = scan_template(tmp_path, run_scan, text)
    assert_uncovered_when_not_prod(result, tmp_path, 10)


def test_conditional_user_names_no_branch(tmp_path, run_scan):
    # Dave exists only where IsProd is true, and no group reaches him there.
    text = (
        CONDITIONAL_MEMBERSHIP.replace(
            "  Dave:\n    Type: AWS::IAM::User\n",
            "  Dave:\n    Type: AWS::IAM::User\n    Condition: IsProd\n",
        )
        .replace(
            "    Condition: IsProd\n    Properties:\n      GroupName",
            "    Condition: NotProd\n    Properties:\n      GroupName",
        )
        .replace("Resources:\n", "  NotProd: !Not [Condition: IsProd]\nResources:\n")
    )
    result = scan_template(tmp_path, run_scan, text)
    assert located(result, tmp_path) == [
        ("console-user-not-covered", "users.yaml", 10, 3)
    ]
    assert result.findings[0]["message"] == UNCOVERED_WHEN_NOT_PROD.replace(
        "; with Fn::If IsProd=false, no policy reaches the user",
        "; no policy reaches the user",
    )


# Fn::If around the links of a principal

# Dave is in Admins, which carries the MFA deny, where IsProd is true, and in
# Engineers, which carries nothing, elsewhere.
GROUPS_BY_CONDITION = (
    """\
AWSTemplateFormatVersion: "2010-09-09"
Conditions:
  IsProd: !Equals [!Ref "AWS::AccountId", "111111111111"]
Resources:
  Admins:
    Type: AWS::IAM::Group
    Properties:
      ManagedPolicyArns: [!Ref ForceMfa]
  Engineers:
    Type: AWS::IAM::Group
  Dave:
    Type: AWS::IAM::User
    Properties:
      UserName: dave
      LoginProfile:
        Password: "{{resolve:secretsmanager:dave-initial-password}}"
      Groups: !If [IsProd, [!Ref Admins], [!Ref Engineers]]
  ForceMfa:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
"""
    + SELF_SERVICE
    + DENY
)


def test_groups_fn_if_resolved(tmp_path, run_scan):
    result = scan_template(tmp_path, run_scan, GROUPS_BY_CONDITION)
    assert_uncovered_when_not_prod(result, tmp_path, 11)


def test_groups_fn_if_item(tmp_path, run_scan):
    text = GROUPS_BY_CONDITION.replace(
        "      Groups: !If [IsProd, [!Ref Admins], [!Ref Engineers]]",
        "      Groups:\n"
        "        - !Ref Engineers\n"
        "        - !If [IsProd, !Ref Admins, !Ref AWS::NoValue]",
    )
    result = scan_template(tmp_path, run_scan, text)
    assert_uncovered_when_not_prod(result, tmp_path, 11)


def test_managed_policy_arns_fn_if(tmp_path, run_scan):
    text = GROUPS_BY_CONDITION.replace(
        "      ManagedPolicyArns: [!Ref ForceMfa]",
        "      ManagedPolicyArns: !If [IsProd, [!Ref ForceMfa], !Ref AWS::NoValue]",
    ).replace(
        "      Groups: !If [IsProd, [!Ref Admins], [!Ref Engineers]]",
        "      Groups: [!Ref Admins]",
    )
    result = scan_template(tmp_path, run_scan, text)
    assert_uncovered_when_not_prod(result, tmp_path, 11)


def test_policy_users_fn_if(tmp_path, run_scan):
    text = (
        GROUPS_BY_CONDITION.replace(
            "      ManagedPolicyArns: [!Ref ForceMfa]\n", "      GroupName: admins\n"
        )
        .replace("      Groups: !If [IsProd, [!Ref Admins], [!Ref Engineers]]\n", "")
        .replace(
            "  ForceMfa:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n",
            "  ForceMfa:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n"
            "      Users: !If [IsProd, [!Ref Dave], !Ref AWS::NoValue]\n",
        )
    )
    result = scan_template(tmp_path, run_scan, text)
    assert_uncovered_when_not_prod(result, tmp_path, 11)
