# Console users of the platform team. New users must set their own password at
# first sign-in, and everyone is forced onto MFA through the "engineers" group.

resource "aws_iam_group" "engineers" {
  name = "engineers"
}

resource "aws_iam_user" "alice" {
  name = "alice"
}

resource "aws_iam_user_login_profile" "alice" {
  user                    = aws_iam_user.alice.name
  password_reset_required = true
}

resource "aws_iam_group_membership" "engineers" {
  name  = "engineers"
  group = aws_iam_group.engineers.name
  users = [aws_iam_user.alice.name]
}

data "aws_iam_policy_document" "force_mfa" {
  statement {
    sid       = "AllowManageOwnPasswords"
    effect    = "Allow"
    actions   = ["iam:ChangePassword", "iam:GetUser"]
    resources = ["arn:aws:iam::*:user/$${aws:username}"]
  }

  statement {
    sid    = "AllowManageOwnUserMFA"
    effect = "Allow"
    actions = [
      "iam:CreateVirtualMFADevice",
      "iam:EnableMFADevice",
      "iam:ListMFADevices",
      "iam:ResyncMFADevice",
    ]
    resources = [
      "arn:aws:iam::*:mfa/*",
      "arn:aws:iam::*:user/$${aws:username}",
    ]
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
