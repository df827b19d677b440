# Console users of the platform team. New users must set their own password at
# first sign-in, and MFA is enforced through the "engineers" group with the
# policy AWS documents for self-managed credentials.

resource "aws_iam_group" "engineers" {
  name = "engineers"
}

resource "aws_iam_user" "alice" {
  name = "alice"
}

# Contractors are kept under their own IAM path.
resource "aws_iam_user" "bob" {
  name = "bob"
  path = "/contractors/"
}

# Created during an incident and never added to the engineers group.
resource "aws_iam_user" "ops_admin" {
  name = "ops-admin"
}

resource "aws_iam_user_login_profile" "alice" {
  user                    = aws_iam_user.alice.name
  password_reset_required = true
}

resource "aws_iam_user_login_profile" "bob" {
  user                    = aws_iam_user.bob.name
  password_reset_required = true
}

resource "aws_iam_user_login_profile" "ops_admin" {
  user = aws_iam_user.ops_admin.name
}

resource "aws_iam_user_policy_attachment" "ops_admin" {
  user       = aws_iam_user.ops_admin.name
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}

resource "aws_iam_group_membership" "engineers" {
  name  = "engineers"
  group = aws_iam_group.engineers.name
  users = [aws_iam_user.alice.name, aws_iam_user.bob.name]
}

data "aws_iam_policy_document" "force_mfa" {
  statement {
    sid       = "AllowViewAccountInfo"
    effect    = "Allow"
    actions   = ["iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"]
    resources = ["*"]
  }

  statement {
    sid       = "AllowManageOwnPasswords"
    effect    = "Allow"
    actions   = ["iam:ChangePassword", "iam:GetUser"]
    resources = ["arn:aws:iam::*:user/$${aws:username}"]
  }

  statement {
    sid       = "AllowManageOwnVirtualMFADevice"
    effect    = "Allow"
    actions   = ["iam:CreateVirtualMFADevice"]
    resources = ["arn:aws:iam::*:mfa/*"]
  }

  statement {
    sid    = "AllowManageOwnUserMFA"
    effect = "Allow"
    actions = [
      "iam:DeactivateMFADevice",
      "iam:EnableMFADevice",
      "iam:ListMFADevices",
      "iam:ResyncMFADevice",
    ]
    resources = ["arn:aws:iam::*:user/$${aws:username}"]
  }

  statement {
    sid         = "DenyAllExceptListedIfNoMFA"
    effect      = "Deny"
    not_actions = local.mfa_exempt_actions
    resources   = ["*"]

    condition {
      test     = "BoolIfExists"
      variable = "aws:MultiFactorAuthPresent"
      values   = ["false"]
    }
  }
}

resource "aws_iam_group_policy" "force_mfa" {
  name   = "force-mfa"
  group  = aws_iam_group.engineers.name
  policy = data.aws_iam_policy_document.force_mfa.json
}
