from __future__ import annotations

import textwrap
from pathlib import Path

from mfa_guard.loaders.terraform import load_terraform_module
from mfa_guard.model import PrincipalKind

FIXTURES = Path(__file__).parent.parent / "fixtures" / "policy_sets"

POLICY = """
resource "aws_iam_policy" "force_mfa" {
  name = "force-mfa"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "iam:GetUser", Resource = "*" }]
  })
}
"""


def load(tmp_path, text):
    (tmp_path / "main.tf").write_text(textwrap.dedent(text))
    result = load_terraform_module(tmp_path, [tmp_path / "main.tf"])
    return {principal.address: principal for principal in result.principals}, result


def test_fixture_declares_users_and_group():
    result = load_terraform_module(FIXTURES / "terraform", [])
    addresses = [(p.kind, p.address) for p in result.principals]
    assert addresses == [
        (PrincipalKind.USER, "aws_iam_user.alice"),
        (PrincipalKind.USER, "aws_iam_user.bob"),
        (PrincipalKind.USER, "aws_iam_user.carol"),
        (PrincipalKind.GROUP, "aws_iam_group.engineers"),
    ]


def test_fixture_user_fields():
    result = load_terraform_module(FIXTURES / "terraform", [])
    alice = result.principals[0]
    assert alice.name == "alice"
    assert alice.path == "/engineering/"
    assert alice.groups == ("aws_iam_group.engineers",)
    assert (alice.span.line, alice.span.column) == (8, 1)
    assert alice.login_profile is not None
    assert alice.login_profile.password_reset_required is True
    assert (alice.login_profile.span.line, alice.login_profile.span.column) == (27, 1)
    assert alice.unresolved == ()


def test_fixture_group_policy_is_data_source():
    result = load_terraform_module(FIXTURES / "terraform", [])
    group = result.principals[3]
    assert group.policies == ("data.aws_iam_policy_document.force_mfa",)


def test_user_without_path_is_root(tmp_path):
    principals, _ = load(tmp_path, 'resource "aws_iam_user" "bob" { name = "bob" }\n')
    assert principals["aws_iam_user.bob"].path == "/"


def test_attachment_by_reference(tmp_path):
    principals, _ = load(
        tmp_path,
        POLICY
        + """
        resource "aws_iam_user" "bob" { name = "bob" }
        resource "aws_iam_user_policy_attachment" "bob" {
          user       = aws_iam_user.bob.name
          policy_arn = aws_iam_policy.force_mfa.arn
        }
        """,
    )
    assert principals["aws_iam_user.bob"].policies == ("aws_iam_policy.force_mfa",)


def test_attachment_by_module_policy_arn(tmp_path):
    principals, _ = load(
        tmp_path,
        POLICY
        + """
        resource "aws_iam_group" "ops" { name = "ops" }
        resource "aws_iam_group_policy_attachment" "ops" {
          group      = "ops"
          policy_arn = "arn:aws:iam::123456789012:policy/force-mfa"
        }
        """,
    )
    group = principals["aws_iam_group.ops"]
    assert group.policies == ("aws_iam_policy.force_mfa",)
    assert group.managed_policy_arns == ()


def test_attachment_of_aws_managed_policy(tmp_path):
    principals, _ = load(
        tmp_path,
        """
        resource "aws_iam_user" "bob" { name = "bob" }
        resource "aws_iam_user_policy_attachment" "bob" {
          user       = "bob"
          policy_arn = "arn:aws-us-gov:iam::aws:policy/IAMUserChangePassword"
        }
        """,
    )
    arns = principals["aws_iam_user.bob"].managed_policy_arns
    assert arns == ("arn:aws:iam::aws:policy/IAMUserChangePassword",)


def test_shared_attachment_lists(tmp_path):
    principals, _ = load(
        tmp_path,
        POLICY
        + """
        resource "aws_iam_user" "bob" { name = "bob" }
        resource "aws_iam_group" "ops" { name = "ops" }
        resource "aws_iam_policy_attachment" "shared" {
          name       = "shared"
          users      = [aws_iam_user.bob.id]
          groups     = [aws_iam_group.ops.name]
          policy_arn = aws_iam_policy.force_mfa.arn
        }
        """,
    )
    assert principals["aws_iam_user.bob"].policies == ("aws_iam_policy.force_mfa",)
    assert principals["aws_iam_group.ops"].policies == ("aws_iam_policy.force_mfa",)


def test_user_group_membership(tmp_path):
    principals, _ = load(
        tmp_path,
        """
        resource "aws_iam_user" "bob" { name = "bob" }
        resource "aws_iam_group" "ops" { name = "ops" }
        resource "aws_iam_user_group_membership" "bob" {
          user   = aws_iam_user.bob.name
          groups = [aws_iam_group.ops.name, "elsewhere"]
        }
        """,
    )
    bob = principals["aws_iam_user.bob"]
    assert bob.groups == ("aws_iam_group.ops",)
    assert bob.unresolved == ("group elsewhere is not declared in this module",)


def test_inline_user_policy(tmp_path):
    principals, _ = load(
        tmp_path,
        """
        resource "aws_iam_user" "bob" { name = "bob" }
        resource "aws_iam_user_policy" "bob" {
          user   = aws_iam_user.bob.name
          policy = jsonencode({
            Version   = "2012-10-17"
            Statement = [{ Effect = "Allow", Action = "s3:*", Resource = "*" }]
          })
        }
        """,
    )
    assert principals["aws_iam_user.bob"].policies == ("aws_iam_user_policy.bob",)


def test_role_inline_policy_block(tmp_path):
    principals, _ = load(
        tmp_path,
        """
        resource "aws_iam_role" "ci" {
          name               = "ci"
          assume_role_policy = jsonencode({
            Version   = "2012-10-17"
            Statement = [{
              Effect    = "Allow"
              Action    = "sts:AssumeRole"
              Principal = { Service = "ec2.amazonaws.com" }
            }]
          })
          inline_policy {
            name   = "read"
            policy = jsonencode({
              Version   = "2012-10-17"
              Statement = [{ Effect = "Allow", Action = "s3:Get*", Resource = "*" }]
            })
          }
        }
        """,
    )
    role = principals["aws_iam_role.ci"]
    assert role.kind is PrincipalKind.ROLE
    assert role.policies == ("aws_iam_role.ci.inline_policy[0]",)


def test_login_profile_of_undeclared_user(tmp_path):
    principals, _ = load(
        tmp_path,
        """
        resource "aws_iam_user_login_profile" "dave" {
          user = "dave"
        }
        """,
    )
    dave = principals["aws_iam_user_login_profile.dave"]
    assert dave.name == "dave"
    assert dave.login_profile is not None
    assert dave.login_profile.password_reset_required is False
    assert dave.unresolved == (
        "user dave is not declared in this module, so its groups and policies"
        " may be incomplete",
    )


def test_unresolved_reset_flag(tmp_path):
    principals, _ = load(
        tmp_path,
        """
        variable "reset" {}
        resource "aws_iam_user" "bob" { name = "bob" }
        resource "aws_iam_user_login_profile" "bob" {
          user                    = aws_iam_user.bob.name
          password_reset_required = var.reset
        }
        """,
    )
    profile = principals["aws_iam_user.bob"].login_profile
    assert profile is not None
    assert profile.password_reset_required is None


def test_unresolved_user_name(tmp_path):
    principals, _ = load(
        tmp_path,
        """
        variable "name" {}
        resource "aws_iam_user" "bob" { name = var.name }
        """,
    )
    bob = principals["aws_iam_user.bob"]
    assert bob.name is None
    assert bob.label == "aws_iam_user.bob"
    assert bob.unresolved == ("the name of aws_iam_user.bob could not be resolved",)


def test_account_password_policy(tmp_path):
    _, result = load(
        tmp_path,
        """
        resource "aws_iam_account_password_policy" "strict" {
          max_password_age = 90
          hard_expiry      = true
        }
        """,
    )
    policy = result.password_policy
    assert policy is not None
    assert policy.max_password_age == 90
    assert policy.hard_expiry is True
    assert policy.passwords_expire is True
    assert (policy.span.line, policy.span.column) == (2, 1)


def test_unresolved_group_of_user(tmp_path):
    principals, _ = load(
        tmp_path,
        """
        variable "group" {}
        resource "aws_iam_user" "bob" { name = "bob" }
        resource "aws_iam_user_group_membership" "bob" {
          user   = aws_iam_user.bob.name
          groups = [var.group]
        }
        """,
    )
    bob = principals["aws_iam_user.bob"]
    assert bob.groups == ()
    assert bob.unresolved == ("a group of aws_iam_user.bob could not be resolved",)


def write_module(directory, text):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "main.tf").write_text(textwrap.dedent(text))


TEAM_MODULE = """
resource "aws_iam_group" "team" {
  name = "ops"
}
"""


def test_group_of_child_module(tmp_path):
    write_module(tmp_path / "team", TEAM_MODULE)
    principals, _ = load(
        tmp_path,
        """
        resource "aws_iam_user" "alice" {
          name = "alice"
        }
        resource "aws_iam_user_group_membership" "alice" {
          user   = aws_iam_user.alice.name
          groups = ["ops"]
        }
        module "team" {
          source = "./team"
        }
        """,
    )
    alice = principals["aws_iam_user.alice"]
    assert alice.groups == ("module.team.aws_iam_group.team",)
    assert alice.unresolved == ()


def test_group_name_in_two_modules(tmp_path):
    # Two instances may create the group in two accounts, so the name
    # alone does not tell which one the user joins.
    write_module(tmp_path / "team", TEAM_MODULE)
    principals, _ = load(
        tmp_path,
        """
        resource "aws_iam_user" "alice" {
          name = "alice"
        }
        resource "aws_iam_user_group_membership" "alice" {
          user   = aws_iam_user.alice.name
          groups = ["ops"]
        }
        module "team_a" {
          source = "./team"
        }
        module "team_b" {
          source = "./team"
        }
        """,
    )
    alice = principals["aws_iam_user.alice"]
    assert alice.groups == ()
    assert alice.unresolved == ("group ops is not declared in this module",)
