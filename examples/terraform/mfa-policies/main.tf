# The self-service MFA policy with the first-sign-in exemption added.

resource "aws_iam_policy" "force_mfa" {
  name        = "force-mfa"
  description = "Deny everything but MFA enrollment and password changes until MFA is used"

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "AllowManageOwnPasswordsAndMFA"
        Effect   = "Allow"
        Action   = ["iam:ChangePassword", "iam:GetUser", "iam:EnableMFADevice", "iam:ListMFADevices", "iam:ResyncMFADevice"]
        Resource = "arn:aws:iam::*:user/$${aws:username}"
      },
      {
        Sid      = "AllowCreateVirtualMFADevice"
        Effect   = "Allow"
        Action   = "iam:CreateVirtualMFADevice"
        Resource = "arn:aws:iam::*:mfa/*"
      },
      {
        Sid      = "AllowViewAccountInfo"
        Effect   = "Allow"
        Action   = ["iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"]
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
        Resource = "*"
        Condition = {
          BoolIfExists = { "aws:MultiFactorAuthPresent" = "false" }
        }
      },
    ]
  })
}

resource "aws_iam_policy" "terminate_with_mfa" {
  name   = "terminate-with-mfa"
  policy = <<-EOF
    {
      "Version": "2012-10-17",
      "Statement": [
        {
          "Sid": "DenyTerminateWithoutMFA",
          "Effect": "Deny",
          "Action": ["ec2:StopInstances", "ec2:TerminateInstances"],
          "Resource": "*",
          "Condition": {"Null": {"aws:MultiFactorAuthPresent": "true"}}
        }
      ]
    }
  EOF
}
