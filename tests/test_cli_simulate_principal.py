"""`mfa-guard simulate --principal`: a request by one IAM user of a module or template."""

import json
from pathlib import Path

from mfa_guard.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "policy_sets"
TERRAFORM = FIXTURES / "terraform"
MAIN_TF = str(TERRAFORM / "main.tf")
SUPPORT = Path(__file__).parents[1] / "examples" / "terraform" / "support-users"

CHANGE_PASSWORD = """
resource "aws_iam_group_policy_attachment" "change_password" {
  group      = aws_iam_group.support.name
  policy_arn = "arn:aws:iam::aws:policy/IAMUserChangePassword"
}
"""


def simulate(capsys, path, *arguments, output="json"):
    code = main(["simulate", str(path), "--format", output, *arguments])
    captured = capsys.readouterr()
    if output == "json" and captured.out:
        return code, json.loads(captured.out), captured.err
    return code, captured.out, captured.err


def change_password(capsys, path, principal, output="json"):
    return simulate(
        capsys,
        path,
        "--principal",
        principal,
        "--action",
        "iam:ChangePassword",
        "--scenario",
        "console-without-mfa",
        output=output,
    )


def test_denied_through_group(capsys):
    code, data, _ = change_password(capsys, TERRAFORM, "aws_iam_user.alice")
    assert code == 0
    assert data["decision"] == "explicitly denied"
    deciding = data["deciding"]
    assert [(d["statement"], d["line"], d["column"]) for d in deciding] == [
        ("DenyAllExceptListedIfNoMFA", 78, 3)
    ]
    assert deciding[0]["path"] == MAIN_TF
    assert deciding[0]["via"] == "through group engineers"


def test_resource_is_users_own_arn_with_path(capsys):
    _, data, _ = change_password(capsys, TERRAFORM, "aws_iam_user.alice")
    assert data["resource"] == "arn:aws:iam::123456789012:user/engineering/alice"


def test_principal_lists_policies(capsys):
    _, data, _ = change_password(capsys, TERRAFORM, "aws_iam_user.alice")
    principal = data["principal"]
    assert principal["address"] == "aws_iam_user.alice"
    assert principal["name"] == "alice"
    assert principal["path"] == "/engineering/"
    assert (principal["file"], principal["line"]) == (MAIN_TF, 8)
    assert principal["policies"] == [
        {
            "policy": "data.aws_iam_policy_document.force_mfa",
            "path": MAIN_TF,
            "via": "through group engineers",
        }
    ]
    assert principal["missing"] == []


def test_principal_by_iam_name(capsys):
    _, data, _ = change_password(capsys, TERRAFORM, "bob")
    assert data["principal"]["address"] == "aws_iam_user.bob"
    assert data["resource"] == "arn:aws:iam::123456789012:user/bob"


def test_user_without_policies_implicitly_denied(capsys):
    _, data, _ = change_password(capsys, TERRAFORM, "aws_iam_user.carol")
    assert data["decision"] == "implicitly denied"
    assert data["principal"]["policies"] == []


def test_text_output_names_policies(capsys):
    code, text, _ = change_password(capsys, SUPPORT, "aws_iam_user.dana", "text")
    assert code == 0
    assert text.splitlines() == [
        "user:     dana (aws_iam_user.dana, arn:aws:iam::123456789012:user/dana)",
        "policies:",
        "  aws_iam_group_policy.force_mfa, through group support",
        "request:  iam:ChangePassword on arn:aws:iam::123456789012:user/dana",
        "scenario: console-without-mfa (an IAM user signed in to the console without MFA)",
        "decision: implicitly denied",
    ]


def test_managed_policy_reached_through_group(tmp_path, capsys):
    module = tmp_path / "support"
    module.mkdir()
    text = (SUPPORT / "main.tf").read_text() + CHANGE_PASSWORD
    (module / "main.tf").write_text(text)
    _, data, _ = change_password(capsys, module, "aws_iam_user.dana")
    assert data["decision"] == "allowed"
    deciding = data["deciding"]
    assert [d["policy"] for d in deciding] == [
        "AWS managed policy IAMUserChangePassword (v3)"
    ]
    assert deciding[0]["path"] == "arn:aws:iam::aws:policy/IAMUserChangePassword"
    assert deciding[0]["via"] == "through group support"


def test_unknown_principal_rejected(capsys):
    code, _, err = change_password(capsys, TERRAFORM, "aws_iam_user.zoe", "text")
    assert code == 2
    assert "principal 'aws_iam_user.zoe' not found" in err


def test_group_principal_rejected(capsys):
    code, _, err = change_password(capsys, TERRAFORM, "aws_iam_group.engineers", "text")
    assert code == 2
    assert "is an IAM group; --principal takes an IAM user" in err


def simulate_both_layouts(capsys, principal):
    arguments = [
        "simulate",
        str(TERRAFORM),
        str(FIXTURES / "cloudformation"),
        "--principal",
        principal,
        "--action",
        "iam:ChangePassword",
        "--scenario",
        "console-without-mfa",
    ]
    code = main(arguments)
    return code, capsys.readouterr().err


def test_name_in_two_layouts_rejected(capsys):
    code, err = simulate_both_layouts(capsys, "alice")
    assert code == 2
    assert "principal 'alice' is ambiguous" in err


def test_logical_id_picks_one_layout(capsys):
    code, err = simulate_both_layouts(capsys, "Alice")
    assert code == 0
    assert err == ""
