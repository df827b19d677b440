"""End-to-end scans of Terraform configurations: rule, file, line and column."""

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "terraform"


def located(run, rule):
    """Return (file name relative to the fixtures, line, column) of each finding of a rule."""
    return [
        (
            Path(f["path"]).resolve().relative_to(FIXTURES.resolve()).as_posix(),
            f["line"],
            f["column"],
        )
        for f in run.findings
        if f["rule_name"] == rule
    ]


def policies(run, rule):
    return [f["policy"] for f in run.findings if f["rule_name"] == rule]


def write_tree(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


NOT_ACTIONS_POLICIES = {
    "document": (
        'variable "exempt_actions" {\n'
        "  type = list(string)\n"
        "}\n"
        'data "aws_iam_policy_document" "require_mfa" {\n'
        "  statement {\n"
        '    sid         = "DenyAllExceptListedIfNoMFA"\n'
        '    effect      = "Deny"\n'
        "    not_actions = var.exempt_actions\n"
        '    resources   = ["*"]\n'
        "    condition {\n"
        '      test     = "BoolIfExists"\n'
        '      variable = "aws:MultiFactorAuthPresent"\n'
        '      values   = ["false"]\n'
        "    }\n"
        "  }\n"
        "}\n"
        'resource "aws_iam_policy" "require_mfa" {\n'
        "  policy = data.aws_iam_policy_document.require_mfa.json\n"
        "}\n",
        (4, 1),
    ),
    "jsonencode": (
        'variable "exempt_actions" {\n'
        "  type = list(string)\n"
        "}\n"
        'resource "aws_iam_policy" "require_mfa" {\n'
        "  policy = jsonencode({\n"
        '    Version = "2012-10-17"\n'
        "    Statement = [{\n"
        '      Sid       = "DenyAllExceptListedIfNoMFA"\n'
        '      Effect    = "Deny"\n'
        "      NotAction = var.exempt_actions\n"
        '      Resource  = "*"\n'
        '      Condition = { BoolIfExists = { "aws:MultiFactorAuthPresent" = "false" } }\n'
        "    }]\n"
        "  })\n"
        "}\n",
        (5, 23),
    ),
}


def test_templatefile_change_password_blocked(run_scan):
    run = run_scan(FIXTURES / "templatefile")

    assert located(run, "password-change-blocked") == [
        ("templatefile/policies/require_mfa.json.tpl", 19, 5)
    ]
    assert policies(run, "password-change-blocked") == ["aws_iam_policy.require_mfa"]
    assert located(run, "parse-error") == []
    assert located(run, "unresolved-policy") == []


def test_override_fix_and_mistake(run_scan):
    run = run_scan(FIXTURES / "override")

    assert located(run, "password-change-blocked") == [("override/broken.tf", 22, 20)]
    assert policies(run, "password-change-blocked") == [
        "data.aws_iam_policy_document.broken"
    ]
    assert located(run, "unresolved-policy") == []


def test_module_instance_findings(run_scan):
    run = run_scan(FIXTURES / "modules")

    assert located(run, "password-change-blocked") == [
        ("modules/modules/require_mfa/main.tf", 6, 18)
    ]
    assert policies(run, "password-change-blocked") == [
        "module.developers.aws_iam_group_policy.require_mfa"
    ]


def test_remote_modules_reported_once(run_scan):
    run = run_scan(FIXTURES / "modules")

    assert located(run, "unresolved-policy") == [
        ("modules/live/main.tf", 20, 1),
        ("modules/live/main.tf", 25, 1),
    ]


def test_child_directory_alone_uses_defaults(run_scan):
    run = run_scan(FIXTURES / "modules" / "modules" / "require_mfa")

    assert located(run, "password-change-blocked") == []
    assert run.code == 0


def test_tfvars_findings(run_scan):
    run = run_scan(FIXTURES / "tfvars")

    assert located(run, "password-change-blocked") == [
        ("tfvars/main.tf", 29, 18),
        ("tfvars/terraform.tfvars", 8, 5),
    ]
    assert located(run, "parse-error") == []


def test_legacy_syntax_findings(run_scan):
    run = run_scan(FIXTURES / "legacy")

    assert located(run, "password-change-blocked") == [
        ("legacy/main.tf", 17, 3),
        ("legacy/main.tf", 32, 3),
        ("legacy/policy.json", 4, 5),
    ]
    assert located(run, "parse-error") == []


@pytest.mark.parametrize("form", sorted(NOT_ACTIONS_POLICIES))
def test_unknown_not_actions_only_unresolved(run_scan, tmp_path, form):
    text, position = NOT_ACTIONS_POLICIES[form]
    write_tree(tmp_path, {"main.tf": text})
    run = run_scan(tmp_path)

    assert [f["rule_name"] for f in run.findings] == ["unresolved-policy"]
    assert (run.findings[0]["line"], run.findings[0]["column"]) == position
    assert "var.exempt_actions (no default)" in run.findings[0]["message"]


def test_child_module_without_input_only_unresolved(run_scan, tmp_path):
    text, _ = NOT_ACTIONS_POLICIES["jsonencode"]
    write_tree(
        tmp_path,
        {
            "live/main.tf": 'module "mfa" {\n  source = "../mfa"\n}\n',
            "mfa/main.tf": text,
        },
    )
    run = run_scan(tmp_path / "live")

    assert [f["rule_name"] for f in run.findings] == ["unresolved-policy"]
    assert run.findings[0]["path"] == str(tmp_path / "mfa" / "main.tf")
    assert "module.mfa.aws_iam_policy.require_mfa" in run.findings[0]["message"]


BOOL_DENY = (
    'resource "aws_iam_policy" "deny" {\n'
    '  policy = jsonencode({ Statement = [{ Effect = "Deny", Action = "ec2:*",'
    ' Resource = "*", Condition = { Bool = { "aws:MultiFactorAuthPresent" = "false" } } }] })\n'
    "}\n"
)


def test_excluded_file_of_module_not_reported(run_scan, tmp_path):
    write_tree(
        tmp_path,
        {
            "iam/main.tf": BOOL_DENY,
            "iam/legacy.tf": BOOL_DENY.replace('"deny"', '"old"'),
        },
    )
    every = run_scan(tmp_path)
    excluded = run_scan("--exclude", "legacy.tf", tmp_path)

    assert sorted(Path(f["path"]).name for f in every.findings) == [
        "legacy.tf",
        "main.tf",
    ]
    assert [
        (f["rule_name"], Path(f["path"]).name, f["line"], f["column"])
        for f in excluded.findings
    ] == [("access-key-bypass", "main.tf", 2, 105)]


@pytest.mark.parametrize("key", ["(each.value.test)", '"${each.value.test}"'])
def test_operator_from_for_each(run_scan, tmp_path, key):
    # The fallback evaluator cannot compute the operator, so it takes the
    # one tfparse rendered, at the position of the key as written.
    write_tree(
        tmp_path,
        {
            "main.tf": 'resource "aws_iam_policy" "deny" {\n'
            '  for_each = { a = { test = "Bool" } }\n'
            '  policy = jsonencode({ Statement = [{ Effect = "Deny", Action = "ec2:*",'
            f' Resource = "*", Condition = {{ {key} = {{'
            ' "aws:MultiFactorAuthPresent" = "false" } } }] })\n'
            "}\n"
        },
    )
    run = run_scan(tmp_path)

    assert [(f["rule_name"], f["line"], f["column"]) for f in run.findings] == [
        ("access-key-bypass", 3, 105)
    ]


GROUP_MODULE = {
    "modules/group/main.tf": (
        'variable "members" {\n'
        "  type    = list(string)\n"
        "  default = []\n"
        "}\n"
        'data "aws_caller_identity" "current" {}\n'
        'data "aws_partition" "current" {}\n'
        "locals {\n"
        '  own_user = "arn:${data.aws_partition.current.partition}:iam::'
        '${data.aws_caller_identity.current.account_id}:user/$${aws:username}"\n'
        "}\n"
        'resource "aws_iam_group" "this" {\n'
        '  name = "people"\n'
        "}\n"
        'resource "aws_iam_group_membership" "this" {\n'
        '  name  = "people"\n'
        "  group = aws_iam_group.this.name\n"
        "  users = var.members\n"
        "}\n"
        'resource "aws_iam_group_policy" "mfa" {\n'
        "  group  = aws_iam_group.this.name\n"
        "  policy = jsonencode({\n"
        '    Version = "2012-10-17"\n'
        "    Statement = [\n"
        "      {\n"
        '        Effect   = "Allow"\n'
        '        Action   = ["iam:ChangePassword", "iam:GetUser"]\n'
        "        Resource = local.own_user\n"
        "      },\n"
        "      {\n"
        '        Effect    = "Deny"\n'
        '        NotAction = ["iam:ChangePassword", "iam:GetUser", "sts:GetSessionToken"]\n'
        '        Resource  = "*"\n'
        "        Condition = {\n"
        '          BoolIfExists = { "aws:MultiFactorAuthPresent" = "false" }\n'
        "        }\n"
        "      },\n"
        "    ]\n"
        "  })\n"
        "}\n"
    ),
    "main.tf": (
        'resource "aws_iam_user" "alice" {\n'
        '  name = "alice"\n'
        "}\n"
        'resource "aws_iam_user_login_profile" "alice" {\n'
        "  user = aws_iam_user.alice.name\n"
        "}\n"
        'module "people" {\n'
        '  source  = "./modules/group"\n'
        "  members = [aws_iam_user.alice.name]\n"
        "}\n"
    ),
}


def test_membership_in_child_module(run_scan, tmp_path):
    write_tree(tmp_path, GROUP_MODULE)
    run = run_scan(tmp_path)
    names = [f["rule_name"] for f in run.findings]

    # The child module's group, with its MFA deny, reaches the root's user,
    # and the account data sources stand for the caller's own account.
    assert "console-user-not-covered" not in names
    assert "unresolved-policy" not in names


def test_account_data_allow_checked(run_scan, tmp_path):
    files = dict(GROUP_MODULE)
    files["modules/group/main.tf"] = files["modules/group/main.tf"].replace(
        '["iam:ChangePassword", "iam:GetUser"]', '["iam:GetUser"]'
    )
    write_tree(tmp_path, files)
    run = run_scan(tmp_path)
    found = [
        (Path(f["path"]).name, f["line"], f["column"], f["policy"])
        for f in run.findings
        if f["rule_name"] == "exemption-not-allowed"
    ]

    # The Allow on the own-user ARN is evaluated, so the exemption of
    # iam:ChangePassword without an Allow is reported for the user.
    assert found == [
        ("main.tf", 28, 7, "aws_iam_group_policy.mfa"),
        ("main.tf", 28, 7, "module.people.aws_iam_group_policy.mfa"),
    ]
