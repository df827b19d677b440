"""`mfa-guard scan`: rules other than the headline, bad input and exit codes."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mfa_guard.cli import main

FIXTURES = Path(__file__).parent / "fixtures"

DENY_ALL = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Deny",
      "Action": "*",
      "Resource": "*",
      "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    }
  ]
}
"""

EXEMPT = '["iam:ChangePassword", "iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser", "iam:ListMFADevices", "iam:ListVirtualMFADevices", "iam:ResyncMFADevice"]'


def deny_with(condition):
    return f"""{{
  "Version": "2012-10-17",
  "Statement": [
    {{
      "Sid": "DenyWithoutMFA",
      "Effect": "Deny",
      "NotAction": {EXEMPT},
      "Resource": "*",
      "Condition": {{
        {condition}
      }}
    }}
  ]
}}
"""


def write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_deny_all_blocks_enrollment(tmp_path, run_scan):
    path = write(tmp_path, "deny_all.json", DENY_ALL)
    result = run_scan(path)
    assert result.located() == [
        ("password-change-blocked", 4, 5),
        ("mfa-enrollment-blocked", 4, 5),
    ]
    message = result.findings[1]["message"]
    for action in (
        "iam:CreateVirtualMFADevice",
        "iam:EnableMFADevice",
        "iam:ListMFADevices",
        "iam:GetUser",
        "iam:ListVirtualMFADevices",
    ):
        assert action in message


def test_bool_reports_access_key_bypass_at_condition(tmp_path, run_scan):
    path = write(
        tmp_path,
        "bool.json",
        deny_with('"Bool": {"aws:MultiFactorAuthPresent": "false"}'),
    )
    result = run_scan(path)
    assert result.located() == [("access-key-bypass", 10, 9)]
    assert "BoolIfExists" in result.findings[0]["fix"]


def test_bool_json_boolean_value(tmp_path, run_scan):
    path = write(
        tmp_path,
        "bool.json",
        deny_with('"Bool": {"aws:MultiFactorAuthPresent": false}'),
    )
    assert run_scan(path).located() == [("access-key-bypass", 10, 9)]


def test_null_reports_console_bypass(tmp_path, run_scan):
    path = write(
        tmp_path,
        "null.json",
        deny_with('"Null": {"aws:MultiFactorAuthPresent": "true"}'),
    )
    assert run_scan(path).located() == [("console-bypass-null", 10, 9)]


def test_correct_policy_reports_nothing(tmp_path, run_scan):
    path = write(
        tmp_path,
        "ok.json",
        deny_with('"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}'),
    )
    result = run_scan(path)
    assert result.findings == []
    assert result.code == 0


def test_policy_without_mfa_condition_ignored(tmp_path, run_scan):
    path = write(
        tmp_path,
        "plain.json",
        deny_with('"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}'),
    )
    result = run_scan(path)
    assert result.findings == []
    assert result.data["summary"]["policies"] == 1


def test_broken_json_reports_parse_error_and_scan_continues(tmp_path, run_scan):
    write(
        tmp_path,
        "a_broken.json",
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Effect": "Deny" "Action": "*"}\n  ]\n}\n',
    )
    write(tmp_path, "b_deny_all.json", DENY_ALL)
    result = run_scan(tmp_path)
    assert ("parse-error", 4, 23) in result.located()
    assert ("mfa-enrollment-blocked", 4, 5) in result.located()


def test_broken_yaml_template_reports_parse_error(tmp_path, run_scan):
    write(
        tmp_path,
        "stack.yaml",
        'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  Policy:\n    Type: AWS::IAM::ManagedPolicy\n    Properties: [unclosed\n',
    )
    result = run_scan(tmp_path)
    assert [name for name, _, _ in result.located()] == ["parse-error"]
    assert result.findings[0]["line"] >= 5


def test_broken_terraform_reports_parse_error(tmp_path, run_scan):
    write(
        tmp_path,
        "mod/main.tf",
        'resource "aws_iam_policy" "p" {\n  name = "p"\n  policy = jsonencode({\n    Version = "2012-10-17"\n  }\n',
    )
    result = run_scan(tmp_path)
    assert [name for name, _, _ in result.located()] == ["parse-error"]


def test_helm_template_skipped_quietly(tmp_path, run_scan):
    write(
        tmp_path,
        "chart/templates/deploy.yaml",
        "metadata:\n  name: {{ .Release.Name }}\n  labels: {{- toYaml . }}\n",
    )
    result = run_scan(tmp_path)
    assert result.findings == []
    assert result.code == 0


def test_verbose_lists_skipped_files(tmp_path, capsys):
    write(tmp_path, "package.json", '{"name": "web"}')
    code = main(["scan", "--verbose", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 0
    assert (
        f"skipped: {tmp_path / 'package.json'}: JSON without IAM policies"
        in captured.err
    )


@pytest.mark.parametrize(
    ("fail_on", "code"), [("error", 0), ("warning", 0), ("info", 1), ("never", 0)]
)
def test_fail_on_threshold(tmp_path, capsys, fail_on, code):
    # A policy built from an unresolved value is an info finding only.
    write(
        tmp_path,
        "ok.json",
        deny_with('"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}'),
    )
    write(
        tmp_path,
        "mod/main.tf",
        'variable "policy" {}\nresource "aws_iam_policy" "p" {\n  policy = var.policy\n}\n',
    )
    assert main(["scan", "--fail-on", fail_on, str(tmp_path)]) == code
    capsys.readouterr()


def test_text_output_format(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    path = write(tmp_path, "deny_all.json", DENY_ALL)
    assert main(["scan", "--disable", "mfa-enrollment-blocked", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(
        f"{path}:4:5: MFA001 [error] password-change-blocked: an IAM user"
    )
    assert lines[1].startswith("    fix: exempt")
    assert lines[-1].startswith(
        "1 finding (1 error, 0 warning, 0 info) in 1 file with 1 policy"
    )


def test_disable_unknown_rule_is_usage_error(tmp_path, capsys):
    assert main(["scan", "--disable", "no-such-rule", str(tmp_path)]) == 2
    assert "no rule has this name or id" in capsys.readouterr().err


def test_missing_path_is_usage_error(tmp_path, capsys):
    assert main(["scan", str(tmp_path / "nope")]) == 2
    assert "path not found" in capsys.readouterr().err


def test_no_command_is_usage_error(capsys):
    assert main([]) == 2


def test_internal_error_exit_code(tmp_path, capsys, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("mfa_guard.scan.scan", explode)
    assert main(["scan", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: boom" in err
    assert "Traceback" not in err


def test_json_output_schema(tmp_path, capsys):
    path = write(tmp_path, "deny_all.json", DENY_ALL)
    main(["scan", "--format", "json", str(path)])
    data = json.loads(capsys.readouterr().out)
    assert data["schema_version"] == 1
    assert set(data["findings"][0]) == {
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "rule_id",
        "rule_name",
        "severity",
        "message",
        "fix",
        "policy",
    }
    assert data["summary"]["findings"] == {"info": 0, "warning": 0, "error": 2}


def test_file_function_policy_reported_once(tmp_path, run_scan):
    write(tmp_path, "policies/force_mfa.json", DENY_ALL)
    write(
        tmp_path,
        "main.tf",
        'resource "aws_iam_policy" "force_mfa" {\n  policy = file("${path.module}/policies/force_mfa.json")\n}\n',
    )
    result = run_scan(tmp_path)
    assert result.located() == [
        ("password-change-blocked", 4, 5),
        ("mfa-enrollment-blocked", 4, 5),
    ]
    assert {f["path"] for f in result.findings} == {
        str(tmp_path / "policies" / "force_mfa.json")
    }
    assert {f["policy"] for f in result.findings} == {"aws_iam_policy.force_mfa"}


def test_verbose_lists_unresolved_parts(tmp_path, capsys):
    write(
        tmp_path,
        "mod/main.tf",
        'variable "policy" {}\nresource "aws_iam_policy" "p" {\n  policy = var.policy\n}\n',
    )
    main(["scan", "--verbose", str(tmp_path)])
    err = capsys.readouterr().err
    assert f"read: {tmp_path / 'mod'}" in err
    assert f"unresolved: {tmp_path / 'mod' / 'main.tf'}: " in err


def test_lone_surrogate_printed_escaped(tmp_path, capsys):
    path = write(
        tmp_path,
        "p.json",
        DENY_ALL.replace('"Effect": "Deny"', '"Sid": "x\\ud800", "Effect": "Deny"'),
    )
    assert main(["scan", "--disable", "mfa-enrollment-blocked", str(path)]) == 1
    assert 'statement "x\\ud800"' in capsys.readouterr().out


def test_unresolved_not_action_not_reported_as_lockout(run_scan):
    # NotAction comes from a parameter without a default, and one entry from
    # Fn::Select: either may exempt iam:ChangePassword, so only the unresolved
    # policy is reported.
    path = FIXTURES / "scan" / "unresolved_not_action.yaml"
    result = run_scan(path)
    assert result.located() == [("unresolved-policy", 10, 9)]
    assert result.code == 0


def test_closed_pipe_ends_quietly():
    # The reader exits before mfa-guard writes, as `| head` does after it
    # has read enough.
    completed = subprocess.run(
        [
            "bash",
            "-c",
            f"{sys.executable} -m mfa_guard rules | true; echo ${{PIPESTATUS[0]}}",
        ],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
        timeout=120,
        check=False,
    )
    assert completed.stdout == "0\n"
    assert completed.stderr == ""


def test_command_flushes_output_before_exit():
    # `python -m mfa_guard` ends with os._exit, which skips the flush that
    # an interpreter shutdown would do.
    completed = subprocess.run(
        [sys.executable, "-m", "mfa_guard", "scan", "examples", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
        timeout=120,
        check=False,
    )
    report = json.loads(completed.stdout)
    assert completed.returncode == 1
    assert len(report["findings"]) == 9
    assert completed.stderr == ""


def test_paths_after_options_scanned(tmp_path, capsys):
    first = tmp_path / "first.json"
    second = tmp_path / "second.json"
    for path in (first, second):
        path.write_text('{"Version": "2012-10-17", "Statement": []}')

    code = main(["scan", str(first), "--no-cache", "--format", "json", str(second)])

    assert code == 0
    assert json.loads(capsys.readouterr().out)["summary"]["files"] == 2


def test_unknown_option_after_paths_rejected(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["scan", str(tmp_path), "--bogus", str(tmp_path)])

    assert stopped.value.code == 2
    assert "mfa-guard scan: error: unrecognized arguments: --bogus" in (
        capsys.readouterr().err
    )
