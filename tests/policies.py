"""Policy texts and action lists that several test modules share."""

# The actions a user without MFA needs to enroll a first MFA device.
ENROLLMENT = [
    "iam:CreateVirtualMFADevice",
    "iam:EnableMFADevice",
    "iam:GetUser",
    "iam:ListMFADevices",
    "iam:ListVirtualMFADevices",
    "iam:ResyncMFADevice",
]

# The actions a user needs to set a new password at the first sign-in.
FIRST_SIGN_IN = ["iam:ChangePassword", "iam:GetAccountPasswordPolicy"]

# An MFA deny that exempts enrollment but not iam:ChangePassword, so a scan
# reports password-change-blocked at line 4, column 5.
DENY_WITHOUT_PASSWORD_CHANGE = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "DenyAllExceptListedIfNoMFA",
      "Effect": "Deny",
      "NotAction": ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser", "iam:ListMFADevices", "iam:ListVirtualMFADevices", "iam:ResyncMFADevice"],
      "Resource": "*",
      "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    }
  ]
}
"""


# A CloudFormation user in a group. Templates built on it add policies to the group.
USER_IN_GROUP = """\
AWSTemplateFormatVersion: "2010-09-09"
Conditions:
  IsProd: !Equals [!Ref "AWS::AccountId", "111111111111"]
Resources:
  Engineers:
    Type: AWS::IAM::Group
    Properties:
      GroupName: engineers
  Dave:
    Type: AWS::IAM::User
    Properties:
      UserName: dave
      Groups: [!Ref Engineers]
"""

# The MFA deny exists only in the IsProd=true branch of ForceMfa, and the
# Allow for the password actions only in the IsProd=false branch of
# ChangePassword, so no stack deploys both.
DENY_AND_ALLOW_APART = (
    USER_IN_GROUP
    + """\
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
          - - Sid: ReadReports
              Effect: Allow
              Action: s3:GetObject
              Resource: "*"
  ChangePassword:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Groups: [!Ref Engineers]
      PolicyDocument: !If
        - IsProd
        - !Ref AWS::NoValue
        - Version: "2012-10-17"
          Statement:
            - Sid: ChangeOwnPassword
              Effect: Allow
              Action: [iam:ChangePassword, iam:GetAccountPasswordPolicy]
              Resource: "*"
"""
)
