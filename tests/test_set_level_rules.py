"""Rules that look at every policy of a user: a deny in one policy covers another."""

# A user with AWS's MFA deny in one policy, and in another policy a deny
# that tests MFA for "true" (line 33) and a deny narrowed to IAM (line 40).
TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Alice:
    Type: AWS::IAM::User
    Properties:
      UserName: alice
      ManagedPolicyArns: [!Ref ForceMfa, !Ref Extra]
  ForceMfa:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: DenyAllExceptListedIfNoMFA
            Effect: Deny
            NotAction:
              - iam:ChangePassword
              - iam:CreateVirtualMFADevice
              - iam:EnableMFADevice
              - iam:GetUser
              - iam:ListMFADevices
              - sts:GetSessionToken
            Resource: "*"
            Condition:
              BoolIfExists:
                aws:MultiFactorAuthPresent: "false"
  Extra:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: DenyTerminateWithMfa
            Effect: Deny
            Action: ec2:TerminateInstances
            Resource: "*"
            Condition:
              Bool:
                aws:MultiFactorAuthPresent: "true"
          - Sid: DenyIamIfNoMfa
            Effect: Deny
            NotAction: [iam:ChangePassword, sts:GetSessionToken]
            Resource: "arn:aws:iam::*:*"
            Condition:
              BoolIfExists:
                aws:MultiFactorAuthPresent: "false"
"""

CHECKED = ("mfa-deny-inverted", "mfa-deny-resource-limited")


def checked(run):
    return [finding for finding in run.located() if finding[0] in CHECKED]


def test_other_policy_of_user_covers(tmp_path, run_scan):
    (tmp_path / "stack.yaml").write_text(TEMPLATE)
    assert checked(run_scan(tmp_path)) == []


def test_narrow_deny_without_full_deny(tmp_path, run_scan):
    # Extra's own deny on IAM is an MFA deny, so the inverted deny passes.
    text = TEMPLATE.replace("[!Ref ForceMfa, !Ref Extra]", "[!Ref Extra]")
    (tmp_path / "stack.yaml").write_text(text)
    assert checked(run_scan(tmp_path)) == [("mfa-deny-resource-limited", 43, 13)]


def test_inverted_deny_without_mfa_deny(tmp_path, run_scan):
    text = TEMPLATE.replace("[!Ref ForceMfa, !Ref Extra]", "[!Ref Extra]")
    text = text[: text.index("          - Sid: DenyIamIfNoMfa")]
    (tmp_path / "stack.yaml").write_text(text)
    assert checked(run_scan(tmp_path)) == [("mfa-deny-inverted", 38, 15)]
