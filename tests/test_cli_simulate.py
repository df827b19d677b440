"""`mfa-guard simulate` on the documented self-service MFA policy."""

import json
from pathlib import Path

import pytest

from mfa_guard.cli import main

EXAMPLE = Path(__file__).parent.parent / "examples" / "json" / "force_mfa.json"


def simulate(capsys, *arguments):
    code = main(["simulate", str(EXAMPLE), "--format", "json", *arguments])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out else None, captured.err


def test_change_password_denied_without_mfa(capsys):
    code, data, _ = simulate(
        capsys, "--action", "iam:ChangePassword", "--scenario", "console-without-mfa"
    )
    assert code == 0
    assert data["decision"] == "explicitly denied"
    assert data["resource"] == "arn:aws:iam::123456789012:user/alice"
    deciding = data["deciding"]
    assert [(d["statement"], d["line"], d["column"]) for d in deciding] == [
        ("DenyAllExceptListedIfNoMFA", 39, 5)
    ]
    assert deciding[0]["path"] == str(EXAMPLE)


def test_change_password_allowed_with_mfa(capsys):
    _, data, _ = simulate(
        capsys, "--action", "iam:ChangePassword", "--scenario", "console-with-mfa"
    )
    assert data["decision"] == "allowed"
    assert [d["statement"] for d in data["deciding"]] == ["AllowManageOwnPasswords"]


def test_enrollment_allowed_without_mfa(capsys):
    _, data, _ = simulate(
        capsys, "--action", "iam:EnableMFADevice", "--scenario", "access-key"
    )
    assert data["decision"] == "allowed"


def test_unlisted_action_implicitly_denied_with_mfa(capsys):
    _, data, _ = simulate(
        capsys, "--action", "s3:ListAllMyBuckets", "--scenario", "console-with-mfa"
    )
    assert data["decision"] == "implicitly denied"
    assert data["deciding"] == []


def test_context_overrides(capsys):
    _, data, _ = simulate(
        capsys,
        "--action",
        "iam:ChangePassword",
        "--context",
        "aws:MultiFactorAuthPresent=true",
    )
    assert data["decision"] == "allowed"


def test_context_key_absent(capsys):
    _, data, _ = simulate(
        capsys,
        "--action",
        "s3:ListAllMyBuckets",
        "--context",
        "aws:MultiFactorAuthPresent=absent",
    )
    assert data["decision"] == "explicitly denied"


def test_text_output_names_statement_and_line(capsys):
    code = main(
        [
            "simulate",
            str(EXAMPLE),
            "--action",
            "iam:ChangePassword",
            "--scenario",
            "console-without-mfa",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "decision: explicitly denied" in out
    assert f'Deny statement "DenyAllExceptListedIfNoMFA" at {EXAMPLE}:39:5' in out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--action", "iam:ChangePassword"], "needs --scenario"),
        (
            ["--action", "iam:ChangePassword", "--scenario", "console"],
            "unknown scenario 'console'",
        ),
        (
            ["--action", "ChangePassword", "--scenario", "access-key"],
            "invalid --action",
        ),
        (
            ["--action", "iam:ChangePassword", "--context", "novalue"],
            "invalid --context 'novalue'",
        ),
    ],
)
def test_usage_errors(capsys, arguments, message):
    code = main(["simulate", str(EXAMPLE), *arguments])
    assert code == 2
    assert message in capsys.readouterr().err


# A policy file that stops being valid JSON on line 2, column 17.
BROKEN_POLICY = '{"Version": "2012-10-17",\n  "Statement": [}\n'


def test_unevaluated_policy_noted(tmp_path, capsys):
    (tmp_path / "good.json").write_text(EXAMPLE.read_text())
    (tmp_path / "broken.json").write_text(BROKEN_POLICY)

    request = ["--action", "iam:GetUser", "--scenario", "console-with-mfa"]
    code = main(["simulate", str(tmp_path), "--format", "json", *request])

    notes = json.loads(capsys.readouterr().out)["notes"]
    assert code == 0
    assert [note.split(": ", 2)[:2] for note in notes] == [
        ["not evaluated", f"{tmp_path / 'broken.json'}:2:17"]
    ]


def test_only_unevaluated_policy_named(tmp_path, capsys):
    (tmp_path / "broken.json").write_text(BROKEN_POLICY)

    request = ["--action", "iam:GetUser", "--scenario", "console-with-mfa"]
    code = main(["simulate", str(tmp_path), *request])

    error = capsys.readouterr().err
    assert code == 2
    assert f"no IAM policy found in {tmp_path}; not evaluated: " in error
    assert f"{tmp_path / 'broken.json'}:2:17: " in error


def test_configured_scenario_settings(tmp_path, capsys, monkeypatch):
    # simulate reads the scenario settings that a scan in this folder reads.
    (tmp_path / ".mfa-guard.yaml").write_text(
        'scenarios:\n  account: "999988887777"\n  user-name: bob\n  user-path: /ops/\n'
    )
    monkeypatch.chdir(tmp_path)
    code, data, _ = simulate(
        capsys, "--action", "iam:ChangePassword", "--scenario", "console-without-mfa"
    )
    assert code == 0
    assert data["resource"] == "arn:aws:iam::999988887777:user/ops/bob"
