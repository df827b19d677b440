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
