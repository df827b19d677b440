"""Rules that need every policy reaching an IAM user, through `mfa-guard scan`.

The fixtures declare a group carrying AWS's documented self-service MFA
policy, two console users in the group (alice with the path /engineering/,
and bob), both required to set a new password at first sign-in, and carol,
a console user in no group.
"""

import shutil
import textwrap
from pathlib import Path

import pytest

from tests.policies import DENY_AND_ALLOW_APART, USER_IN_GROUP

FIXTURES = Path(__file__).parent / "fixtures" / "policy_sets"

LAYOUTS = {
    "terraform": [
        ("console-user-not-covered", "main.tf", 17, 1),
        ("user-path-not-matched", "main.tf", 55, 3),
        ("user-path-not-matched", "main.tf", 67, 3),
        ("password-change-blocked", "main.tf", 78, 3),
    ],
    "cloudformation": [
        ("user-path-not-matched", "users.yaml", 17, 17),
        ("user-path-not-matched", "users.yaml", 25, 17),
        ("password-change-blocked", "users.yaml", 33, 17),
        ("console-user-not-covered", "users.yaml", 68, 3),
    ],
}

# A group whose MFA deny exempts the password actions, while its Allow
# statements grant only the enrollment actions.
EXEMPTION_MODULE = """\
resource "aws_iam_group" "engineers" {
  name = "engineers"
}

resource "aws_iam_user" "dave" {
  name = "dave"
}

resource "aws_iam_user_group_membership" "dave" {
  user   = aws_iam_user.dave.name
  groups = [aws_iam_group.engineers.name]
}

resource "aws_iam_group_policy_attachment" "force_mfa" {
  group      = aws_iam_group.engineers.name
  policy_arn = aws_iam_policy.force_mfa.arn
}

resource "aws_iam_policy" "force_mfa" {
  name = "force-mfa"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "AllowManageOwnUserMFA"
        Effect   = "Allow"
        Action   = ["iam:EnableMFADevice", "iam:GetUser", "iam:ListMFADevices", "iam:ResyncMFADevice"]
        Resource = "arn:aws:iam::*:user/$${aws:username}"
      },
      {
        Sid      = "AllowManageOwnVirtualMFADevice"
        Effect   = "Allow"
        Action   = ["iam:CreateVirtualMFADevice", "iam:ListVirtualMFADevices"]
        Resource = "*"
      },
      {
        Sid    = "DenyAllExceptListedIfNoMFA"
        Effect = "Deny"
        NotAction = [
          "iam:ChangePassword",
          "iam:GetAccountPasswordPolicy",
          "iam:CreateVirtualMFADevice",
          "iam:EnableMFADevice",
          "iam:GetUser",
          "iam:ListMFADevices",
          "iam:ListVirtualMFADevices",
          "iam:ResyncMFADevice",
          "sts:GetSessionToken",
        ]
        Resource  = "*"
        Condition = { BoolIfExists = { "aws:MultiFactorAuthPresent" = "false" } }
      },
    ]
  })
}
"""

CHANGE_PASSWORD_ATTACHMENT = """
resource "aws_iam_group_policy_attachment" "change_password" {
  group      = aws_iam_group.engineers.name
  policy_arn = "arn:aws:iam::aws:policy/IAMUserChangePassword"
}
"""

UNKNOWN_ARN = "arn:aws:iam::123456789012:policy/corp-mfa"

# A console user whose only policy is one the engine does not know.
UNKNOWN_POLICY_USER = f"""
resource "aws_iam_user" "erin" {{
  name = "erin"
}}

resource "aws_iam_user_login_profile" "erin" {{
  user = aws_iam_user.erin.name
}}

resource "aws_iam_user_policy_attachment" "erin" {{
  user       = aws_iam_user.erin.name
  policy_arn = "{UNKNOWN_ARN}"
}}
"""


def copy_layout(tmp_path, name):
    root = tmp_path / name
    shutil.copytree(FIXTURES / name, root)
    return root


def write_module(tmp_path, text):
    (tmp_path / "main.tf").write_text(textwrap.dedent(text))
    return tmp_path


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


def finding(result, rule_name):
    matches = [f for f in result.findings if f["rule_name"] == rule_name]
    assert len(matches) == 1, [f["rule_name"] for f in result.findings]
    return matches[0]


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_layout_findings(tmp_path, run_scan, layout):
    root = copy_layout(tmp_path, layout)
    result = run_scan(root, "--no-cache")
    assert located(result, root) == LAYOUTS[layout]
    assert result.code == 1


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_password_change_names_group_users(tmp_path, run_scan, layout):
    root = copy_layout(tmp_path, layout)
    message = finding(run_scan(root, "--no-cache"), "password-change-blocked")[
        "message"
    ]
    assert message.endswith(
        "; affected users: alice (must set a new password at the next sign-in),"
        " bob (must set a new password at the next sign-in)"
    )


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_path_finding_names_user(tmp_path, run_scan, layout):
    root = copy_layout(tmp_path, layout)
    result = run_scan(root, "--no-cache")
    messages = [f["message"] for f in result.findings if f["rule_id"] == "MFA006"]
    assert len(messages) == 2
    for message in messages:
        assert "alice has the path /engineering/" in message
        assert "arn:aws:iam::123456789012:user/engineering/alice" in message


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_uncovered_console_user_named(tmp_path, run_scan, layout):
    root = copy_layout(tmp_path, layout)
    found = finding(run_scan(root, "--no-cache"), "console-user-not-covered")
    assert found["message"].startswith("IAM user carol has a console password")
    assert found["severity"] == "warning"


def test_password_expiry_names_user(tmp_path, run_scan):
    root = copy_layout(tmp_path, "terraform")
    policy = """
resource "aws_iam_account_password_policy" "strict" {
  max_password_age = 90
}
"""
    (root / "account.tf").write_text(policy)
    text = (root / "main.tf").read_text()
    text = text.replace(
        "user                    = aws_iam_user.bob.name\n  password_reset_required = true",
        "user                    = aws_iam_user.bob.name\n  password_reset_required = false",
    )
    (root / "main.tf").write_text(text)
    message = finding(run_scan(root, "--no-cache"), "password-change-blocked")[
        "message"
    ]
    assert message.endswith(
        "; affected users: alice (must set a new password at the next sign-in),"
        " bob (password expires after 90 days)"
    )


def test_exemption_without_allow_reported(tmp_path, run_scan):
    root = write_module(tmp_path, EXEMPTION_MODULE)
    result = run_scan(root, "--no-cache")
    assert located(result, root) == [("exemption-not-allowed", "main.tf", 36, 7)]
    message = result.findings[0]["message"]
    assert message == (
        'statement "DenyAllExceptListedIfNoMFA" exempts iam:ChangePassword,'
        " iam:GetAccountPasswordPolicy for an IAM user signed in to the console"
        " without MFA, but no Allow in the policies of user dave grants the"
        " exempted requests, so they are still implicitly denied"
    )


def test_change_password_policy_clears_exemption(tmp_path, run_scan):
    root = write_module(tmp_path, EXEMPTION_MODULE + CHANGE_PASSWORD_ATTACHMENT)
    result = run_scan(root, "--no-cache")
    assert result.findings == []
    assert result.code == 0


def test_unknown_policy_marks_partial_set(tmp_path, run_scan):
    text = EXEMPTION_MODULE.replace(
        "groups = [aws_iam_group.engineers.name]",
        "groups = [aws_iam_group.engineers.name]\n}\n\n"
        'resource "aws_iam_user_group_membership" "erin" {\n'
        "  user   = aws_iam_user.erin.name\n"
        "  groups = [aws_iam_group.engineers.name]",
    )
    root = write_module(tmp_path, text + UNKNOWN_POLICY_USER)
    message = finding(run_scan(root, "--no-cache"), "exemption-not-allowed")["message"]
    assert "the policies of users dave and erin" in message
    assert message.endswith(
        f" (based on a partial policy set: {UNKNOWN_ARN}, attached to user erin,"
        " is neither defined here nor a bundled AWS managed policy)"
    )


def test_unknown_policy_may_cover_console_user(tmp_path, run_scan):
    root = write_module(tmp_path, UNKNOWN_POLICY_USER)
    result = run_scan(root, "--no-cache", "--fail-on", "info")
    assert located(result, root) == [("unresolved-policy", "main.tf", 2, 1)]
    assert result.findings[0]["message"] == (
        "console-user-not-covered was not checked for user erin, because its"
        f" policy set may be incomplete: {UNKNOWN_ARN}, attached to user erin, is"
        " neither defined here nor a bundled AWS managed policy"
    )
    assert result.findings[0]["severity"] == "info"


def test_known_policy_leaves_user_uncovered(tmp_path, run_scan):
    text = UNKNOWN_POLICY_USER.replace(
        UNKNOWN_ARN, "arn:aws:iam::aws:policy/ReadOnlyAccess"
    )
    root = write_module(tmp_path, text)
    result = run_scan(root, "--no-cache")
    assert located(result, root) == [("console-user-not-covered", "main.tf", 2, 1)]
    assert result.findings[0]["message"].endswith(
        "; policies that reach the user: AWS managed policy ReadOnlyAccess (v87)"
        " attached to user erin"
    )


# CloudFormation policies with Fn::If on the same condition. A deployed stack
# has one value of each condition, so only variants built for the same value
# are evaluated together.

# The MFA deny exempts the password actions, and only the IsProd=false
# branch of SelfService allows them.
LOCKOUT_IN_PROD = (
    USER_IN_GROUP
    + """\
  ForceMfa:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Groups: [!Ref Engineers]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: !If [IsProd, AllowMfaInProd, AllowManageOwnUserMFA]
            Effect: Allow
            Action: [iam:CreateVirtualMFADevice, iam:EnableMFADevice, iam:GetUser, iam:ListMFADevices, iam:ListVirtualMFADevices, iam:ResyncMFADevice]
            Resource: "*"
          - Sid: DenyAllExceptListedIfNoMFA
            Effect: Deny
            NotAction:
              - iam:ChangePassword
              - iam:GetAccountPasswordPolicy
              - iam:CreateVirtualMFADevice
              - iam:EnableMFADevice
              - iam:GetUser
              - iam:ListMFADevices
              - iam:ListVirtualMFADevices
              - iam:ResyncMFADevice
              - sts:GetSessionToken
            Resource: "*"
            Condition:
              BoolIfExists:
                aws:MultiFactorAuthPresent: "false"
  SelfService:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Groups: [!Ref Engineers]
      PolicyDocument:
        Version: "2012-10-17"
        Statement: !If
          - IsProd
          - - Sid: ReadReports
              Effect: Allow
              Action: s3:GetObject
              Resource: "*"
          - - Sid: ChangeOwnPassword
              Effect: Allow
              Action: [iam:ChangePassword, iam:GetAccountPasswordPolicy]
              Resource: "*"
"""
)

# A console user whose only MFA deny exists when UseMfa is true. The Sid of
# the deny depends on IsProd, so the user has four policy sets, and the two
# with UseMfa=false lack the deny.
DENY_ONLY_WITH_MFA = """\
AWSTemplateFormatVersion: "2010-09-09"
Conditions:
  UseMfa: !Equals [!Ref "AWS::Region", "eu-west-1"]
  IsProd: !Equals [!Ref "AWS::AccountId", "111111111111"]
Resources:
  Erin:
    Type: AWS::IAM::User
    Properties:
      UserName: erin
      LoginProfile:
        Password: "{{resolve:secretsmanager:erin-initial-password}}"
      ManagedPolicyArns: [!Ref ForceMfa]
      Policies:
        - PolicyName: read
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: s3:GetObject
                Resource: "*"
  ForceMfa:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument: !If
        - UseMfa
        - Version: "2012-10-17"
          Statement:
            - Sid: AllowSelfService
              Effect: Allow
              Action: [iam:ChangePassword, iam:GetAccountPasswordPolicy, iam:CreateVirtualMFADevice, iam:EnableMFADevice, iam:GetUser, iam:ListMFADevices, iam:ListVirtualMFADevices, iam:ResyncMFADevice]
              Resource: "*"
            - Sid: !If [IsProd, DenyInProdWithoutMFA, DenyWithoutMFA]
              Effect: Deny
              NotAction: [iam:ChangePassword, iam:GetAccountPasswordPolicy, iam:CreateVirtualMFADevice, iam:EnableMFADevice, iam:GetUser, iam:ListMFADevices, iam:ListVirtualMFADevices, iam:ResyncMFADevice, sts:GetSessionToken]
              Resource: "*"
              Condition:
                BoolIfExists:
                  aws:MultiFactorAuthPresent: "false"
        - !Ref AWS::NoValue
"""


def write_template(tmp_path, text):
    (tmp_path / "users.yaml").write_text(text)
    return tmp_path


def test_fn_if_lockout_names_branch(tmp_path, run_scan):
    root = write_template(tmp_path, LOCKOUT_IN_PROD)
    result = run_scan(root, "--no-cache")
    assert located(result, root) == [("exemption-not-allowed", "users.yaml", 25, 13)]
    found = result.findings[0]
    assert found["policy"] == "ForceMfa (Fn::If IsProd=true)"
    assert found["message"] == (
        'statement "DenyAllExceptListedIfNoMFA" exempts iam:ChangePassword,'
        " iam:GetAccountPasswordPolicy for an IAM user signed in to the console"
        " without MFA, but no Allow in the policies of user dave"
        " (Fn::If IsProd=true) grants the exempted requests, so they are still"
        " implicitly denied"
    )


def test_fn_if_branches_never_mixed(tmp_path, run_scan):
    root = write_template(tmp_path, DENY_AND_ALLOW_APART)
    result = run_scan(root, "--no-cache", "--fail-on", "info")
    assert result.findings == []
    assert result.code == 0


def test_fn_if_user_finding_merged(tmp_path, run_scan):
    root = write_template(tmp_path, DENY_ONLY_WITH_MFA)
    result = run_scan(root, "--no-cache")
    assert located(result, root) == [("console-user-not-covered", "users.yaml", 6, 3)]
    assert result.findings[0]["message"] == (
        "IAM user erin has a console password, but no policy that reaches it"
        " directly or through its groups denies requests without MFA, so the"
        " user can sign in and use its permissions without MFA; with Fn::If"
        " UseMfa=false, policies that reach the user: Erin.Policies[0] attached"
        " to user erin"
    )


# NotProd is defined as the negation of IsProd, so the s3:GetObject branch,
# which needs both false, is never deployed, and neither is its lockout.
NEGATED_CONDITIONS = USER_IN_GROUP.replace(
    "Resources:\n", "  NotProd: !Not [Condition: IsProd]\nResources:\n"
) + (
    """\
  ForceMfa:
    Type: AWS::IAM::ManagedPolicy
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
          - Sid: SelfService
            Effect: Allow
            Action: !If
              - IsProd
              - [iam:ChangePassword, iam:GetAccountPasswordPolicy]
              - !If [NotProd, [iam:ChangePassword, iam:GetAccountPasswordPolicy], s3:GetObject]
            Resource: "*"
"""
)


def test_impossible_condition_values_not_checked(tmp_path, run_scan):
    # The enrollment actions lack an Allow in every branch, which is still
    # reported; the password actions lack one only in the impossible branch.
    root = write_template(tmp_path, NEGATED_CONDITIONS)
    result = run_scan(root, "--no-cache")
    assert located(result, root) == [("exemption-not-allowed", "users.yaml", 22, 13)]
    message = result.findings[0]["message"]
    assert message.startswith(
        'statement "DenyAllExceptListedIfNoMFA" exempts iam:CreateVirtualMFADevice,'
    )
    assert "IsProd=false, NotProd=false" not in message
