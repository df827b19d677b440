"""Suppressions and baselines."""

import datetime
import json

from mfa_guard.config import Config, IgnoreEntry
from mfa_guard.gate import exclude_patterns
from mfa_guard.model import Finding, Severity
from mfa_guard.suppress import apply_suppressions, read_inline
from tests.policies import DENY_WITHOUT_PASSWORD_CHANGE as POLICY

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  ForceMfa:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          {comment}
          - Sid: DenyAllExceptListedIfNoMFA
            Effect: Deny
            NotAction: [iam:CreateVirtualMFADevice, iam:EnableMFADevice, iam:GetUser, iam:ListMFADevices, iam:ListVirtualMFADevices, iam:ResyncMFADevice]
            Resource: "*"
            Condition:
              BoolIfExists:
                aws:MultiFactorAuthPresent: "false"
"""


def make_finding(
    path="p.json", line=4, rule_id="MFA001", rule_name="password-change-blocked"
):
    return Finding(path, line, 5, line, 6, rule_id, rule_name, Severity.ERROR, "denied")


def test_read_inline_comment_forms():
    text = "a: 1  # mfa-guard: ignore[MFA001, access-key-bypass] accepted risk\n// mfa-guard: ignore[MFA002]\n"
    found = read_inline("x.tf", text)
    assert [(s.span.line, s.span.column, s.rules, s.reason) for s in found] == [
        (1, 7, ("MFA001", "access-key-bypass"), "accepted risk"),
        (2, 1, ("MFA002",), ""),
    ]


def test_inline_suppression_on_line_above(tmp_path, run_scan):
    path = tmp_path / "stack.yaml"
    path.write_text(
        TEMPLATE.format(
            comment="# mfa-guard: ignore[password-change-blocked] passwords come from the service desk"
        )
    )
    result = run_scan(path)
    assert result.findings == []
    assert result.data["summary"]["suppressed"] == 1
    assert result.code == 0


def test_inline_suppression_by_id(tmp_path, run_scan):
    path = tmp_path / "stack.yaml"
    path.write_text(
        TEMPLATE.format(
            comment="# mfa-guard: ignore[MFA001] service desk sets passwords"
        )
    )
    assert run_scan(path).findings == []


def test_suppression_without_reason_reported(tmp_path, run_scan):
    path = tmp_path / "stack.yaml"
    path.write_text(
        TEMPLATE.format(comment="# mfa-guard: ignore[password-change-blocked]")
    )
    result = run_scan(path)
    assert result.located() == [("suppression-without-reason", 9, 11)]
    assert result.code == 0


def test_unused_and_unknown_suppressions_reported(tmp_path, run_scan):
    path = tmp_path / "stack.yaml"
    path.write_text(
        TEMPLATE.format(
            comment="# mfa-guard: ignore[access-key-bypass, no-such-rule] old"
        )
    )
    result = run_scan(path)
    assert ("unused-suppression", 9, 11) in result.located()
    assert ("password-change-blocked", 10, 13) in result.located()
    assert "no-such-rule" in next(
        f["message"] for f in result.findings if f["rule_name"] == "unused-suppression"
    )


def test_config_ignore_for_json(tmp_path, run_scan):
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "p.json").write_text(POLICY)
    config = tmp_path / "c.yaml"
    config.write_text(
        "ignore:\n  - paths: ['legacy/*.json']\n    rules: [password-change-blocked]\n    reason: closing in Q1\n"
    )
    result = run_scan("--config", config, tmp_path / "legacy")
    assert result.findings == []
    assert result.data["summary"]["suppressed"] == 1


def test_expired_ignore_returns_finding():
    entry = IgnoreEntry(("*.json",), ("MFA001",), "old", datetime.date(2020, 1, 1), 3)
    result = apply_suppressions(
        [make_finding()], [], [entry], {"MFA001"}, today=datetime.date(2026, 1, 1)
    )
    assert [f.rule_id for f in result.findings] == ["MFA001"]
    assert result.suppressed == 0


def test_ignore_without_reason_and_unused_reported():
    entry = IgnoreEntry(("other/*.json",), (), "", None, 7)
    result = apply_suppressions(
        [make_finding()], [], [entry], {"MFA001"}, config_path="c.yaml"
    )
    kinds = sorted(problem.kind.value for problem in result.problems)
    assert kinds == ["suppression-without-reason", "unused-suppression"]
    assert all((p.span.path, p.span.line) == ("c.yaml", 7) for p in result.problems)


def test_exclude_patterns_anchored(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = Config(
        path=tmp_path / "repo" / ".mfa-guard.yaml", exclude=("legacy/*", "*.yaml")
    )
    assert exclude_patterns(config, ["build/*.json"]) == [
        "*.yaml",
        f"{tmp_path}/repo/legacy/*",
        "build/*.json",
        f"{tmp_path}/build/*.json",
    ]


def test_exclude_patterns_without_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = Config(exclude=("legacy/*",))
    assert exclude_patterns(config, []) == ["legacy/*"]


def test_ignore_relative_to_config_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path / "..")
    entry = IgnoreEntry(("legacy/*.json",), (), "closing", None, 2)
    inside = make_finding(path=str(tmp_path / "legacy" / "p.json"))
    outside = make_finding(path=str(tmp_path / "other" / "legacy" / "p.json"))
    result = apply_suppressions(
        [inside, outside],
        [],
        [entry],
        {"MFA001"},
        config_path=str(tmp_path / ".mfa-guard.yaml"),
    )
    assert result.findings == [outside]
    assert result.suppressed == 1
    assert result.problems == []


def test_baseline_survives_inserted_line(tmp_path, run_scan):
    policy = tmp_path / "p.json"
    policy.write_text(POLICY)
    baseline = tmp_path / "baseline.json"
    first = run_scan("--write-baseline", baseline, policy)
    assert first.located() == [("password-change-blocked", 4, 5)]
    # The findings are recorded, so the run that accepts them passes.
    assert first.code == 0
    assert (
        json.loads(baseline.read_text())["findings"][0]["rule"]
        == "password-change-blocked"
    )

    policy.write_text(
        POLICY.replace(
            '  "Version": "2012-10-17",\n',
            '  "Version": "2012-10-17",\n  "Id": "force-mfa",\n',
        )
    )
    shifted = run_scan("--baseline", baseline, policy)
    assert shifted.findings == []
    assert shifted.data["summary"]["baselined"] == 1
    assert shifted.code == 0


def test_baseline_reports_new_finding(tmp_path, run_scan):
    policy = tmp_path / "p.json"
    policy.write_text(POLICY)
    baseline = tmp_path / "baseline.json"
    run_scan("--write-baseline", baseline, policy)
    policy.write_text(POLICY.replace('"BoolIfExists"', '"Bool"'))
    result = run_scan("--baseline", baseline, policy)
    assert ("access-key-bypass", 9, 21) in result.located()


def test_invalid_baseline_exits_2(tmp_path, capsys):
    from mfa_guard.cli import main

    bad = tmp_path / "b.json"
    bad.write_text("{}")
    assert main(["scan", "--baseline", str(bad), str(tmp_path)]) == 2
    assert "invalid baseline" in capsys.readouterr().err


def test_deeply_nested_baseline_exits_2(tmp_path, capsys):
    from mfa_guard.cli import main

    deep = tmp_path / "b.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    assert main(["scan", "--baseline", str(deep), str(tmp_path)]) == 2
    assert f"could not read the baseline {deep}" in capsys.readouterr().err


def test_baseline_folder_missing(tmp_path, capsys):
    from mfa_guard.cli import main

    target = tmp_path / "missing" / "baseline.json"
    assert main(["scan", "--write-baseline", str(target), str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"mfa-guard: error: --write-baseline: folder not found: {target.parent}\n"
    )


def test_baseline_missing_names_write_option(tmp_path, capsys):
    from mfa_guard.cli import main

    missing = tmp_path / "baseline.json"
    assert main(["scan", "--baseline", str(missing), str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"mfa-guard: error: baseline not found: {missing};"
        f" write one with --write-baseline {missing}\n"
    )
