# The support team's MFA policy exempts iam:ChangePassword so that new users
# can set their first password, but nothing grants it: the exemption alone
# leaves the password change implicitly denied. Attaching
# arn:aws:iam::aws:policy/IAMUserChangePassword to the group fixes it.

resource "aws_iam_group" "support" {
  name = "support"
}

resource "aws_iam_user" "dana" {
  name = "dana"
}

resource "aws_iam_user_login_profile" "dana" {
  user                    = aws_iam_user.dana.name
  password_reset_required = true
}

resource "aws_iam_user_group_membership" "dana" {
  user   = aws_iam_user.dana.name
  groups = [aws_iam_group.support.name]
}

resource "aws_iam_group_policy" "force_mfa" {
  name  = "force-mfa"
  group = aws_iam_group.support.name
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
