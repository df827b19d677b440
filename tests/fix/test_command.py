"""`mfa-guard scan --fix` and `--diff` on every input format, through the CLI.

Each fixture in fixtures/ writes the same policy in one format. It has an
Allow pinned to `mfa/<user name>` (mfa-device-name-pinned) and Allows for
the self-service actions. Its MFA deny leaves iam:ChangePassword and two
enrollment actions out of NotAction (password-change-blocked,
mfa-enrollment-blocked) and tests Bool (access-key-bypass). expected/
contains the exact diff of each fix.
"""

import codecs
import difflib
import json
import shutil
from pathlib import Path

import pytest

from mfa_guard.cli import main

HERE = Path(__file__).parent
FIXTURES = sorted(path.name for path in (HERE / "fixtures").iterdir())
FIXED_RULES = {
    "password-change-blocked",
    "mfa-enrollment-blocked",
    "access-key-bypass",
    "mfa-device-name-pinned",
}

DENY_ALL = """\
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "DenyAllIfNoMFA",
      "Effect": "Deny",
      "Action": "*",
      "Resource": "*",
      "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    }
  ]
}
"""


class Run:
    def __init__(self, code, out, err):
        self.code = code
        self.out = out
        self.err = err


@pytest.fixture
def run(capsys, monkeypatch, tmp_path):
    """Run `mfa-guard scan` in tmp_path, without the result cache."""
    monkeypatch.chdir(tmp_path)

    def scan(*arguments):
        code = main(["scan", "--no-cache", *arguments])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return scan


def copy_fixture(tmp_path, name):
    target = tmp_path / name
    shutil.copy(HERE / "fixtures" / name, target)
    return target


def expected_diff(name):
    return (HERE / "expected" / f"{name}.diff").read_text()


def diff_of(before, after, name):
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), name, name
    )
    return "".join(lines)


def finding_rules(run, *paths):
    result = run("--format", "json", *paths)
    return [finding["rule_name"] for finding in json.loads(result.out)["findings"]]


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_reports_fixable_rules(run, tmp_path, name):
    copy_fixture(tmp_path, name)
    reported = finding_rules(run, name)
    for rule in sorted(FIXED_RULES):
        assert reported.count(rule) == 1, rule


@pytest.mark.parametrize("name", FIXTURES)
def test_diff_prints_expected_change(run, tmp_path, name):
    path = copy_fixture(tmp_path, name)
    before = path.read_bytes()
    result = run("--diff", name)
    assert result.out == expected_diff(name)
    assert result.code == 0
    assert "would fix 4 findings in 1 file" in result.err
    assert path.read_bytes() == before
    assert [item.name for item in tmp_path.iterdir()] == [name]


@pytest.mark.parametrize("name", FIXTURES)
def test_fix_writes_expected_change(run, tmp_path, name):
    path = copy_fixture(tmp_path, name)
    before = path.read_text()
    result = run("--fix", name)
    assert diff_of(before, path.read_text(), name) == expected_diff(name)
    assert result.code == 0
    assert "fixed 4 findings in 1 file" in result.err
    assert [item.name for item in tmp_path.iterdir()] == [name]


@pytest.mark.parametrize("name", FIXTURES)
def test_fixed_file_scans_clean(run, tmp_path, name):
    copy_fixture(tmp_path, name)
    run("--fix", name)
    remaining = finding_rules(run, name)
    assert FIXED_RULES.isdisjoint(remaining)


@pytest.mark.parametrize("name", FIXTURES)
def test_second_fix_changes_nothing(run, tmp_path, name):
    path = copy_fixture(tmp_path, name)
    run("--fix", name)
    first = path.read_bytes()
    result = run("--fix", name)
    assert path.read_bytes() == first
    assert result.code == 0
    assert "fixed 0 findings in 0 files" in result.err
    assert run("--diff", name).out == ""


@pytest.mark.parametrize("name", FIXTURES)
def test_crlf_and_bom_kept(run, tmp_path, name):
    source = (HERE / "fixtures" / name).read_text()
    path = tmp_path / name
    path.write_bytes(codecs.BOM_UTF8 + source.replace("\n", "\r\n").encode())
    result = run("--fix", name)
    data = path.read_bytes()
    assert result.code == 0
    assert data.startswith(codecs.BOM_UTF8)
    assert data.count(b"\n") == data.count(b"\r\n")
    fixed = data[len(codecs.BOM_UTF8) :].decode().replace("\r\n", "\n")
    assert diff_of(source, fixed, name) == expected_diff(name)


def test_utf16_json_kept(run, tmp_path):
    source = (HERE / "fixtures" / "policy.json").read_text()
    path = tmp_path / "policy.json"
    path.write_bytes(source.encode("utf-16"))
    result = run("--fix", "policy.json")
    data = path.read_bytes()
    assert result.code == 0
    assert data.startswith(codecs.BOM_UTF16_LE)
    fixed = data.decode("utf-16")
    assert diff_of(source, fixed, "policy.json") == expected_diff("policy.json")


def test_deny_on_all_actions_left_alone(run, tmp_path):
    path = tmp_path / "deny_all.json"
    path.write_text(DENY_ALL)
    result = run("--fix", "deny_all.json")
    assert path.read_text() == DENY_ALL
    assert result.code == 1
    assert "fixed 0 findings in 0 files" in result.err
    assert finding_rules(run, "deny_all.json") == [
        "password-change-blocked",
        "mfa-enrollment-blocked",
    ]


def test_diff_exit_code_counts_remaining(run, tmp_path):
    copy_fixture(tmp_path, "policy.json")
    (tmp_path / "deny_all.json").write_text(DENY_ALL)
    result = run("--diff", ".")
    assert result.out == expected_diff("policy.json")
    assert "would fix 4 findings in 1 file" in result.err
    assert result.code == 1


def test_diff_report_goes_to_output(run, tmp_path):
    copy_fixture(tmp_path, "policy.json")
    (tmp_path / "deny_all.json").write_text(DENY_ALL)
    result = run("--diff", "--format", "json", "--output", "report.json", ".")
    report = json.loads((tmp_path / "report.json").read_text())
    remaining = [
        (finding["path"], finding["rule_name"])
        for finding in report["findings"]
        if finding["rule_name"] in FIXED_RULES
    ]
    assert result.out == expected_diff("policy.json")
    assert remaining == [
        ("deny_all.json", "password-change-blocked"),
        ("deny_all.json", "mfa-enrollment-blocked"),
    ]
    assert result.code == 1


def test_suppressed_finding_not_fixed(run, tmp_path):
    source = (HERE / "fixtures" / "block_list.yaml").read_text()
    suppressed = source.replace(
        "              Bool:\n",
        "              # mfa-guard: ignore[access-key-bypass] CI users sign with keys\n"
        "              Bool:\n",
    )
    assert suppressed != source
    path = tmp_path / "block_list.yaml"
    path.write_text(suppressed)
    result = run("--fix", "block_list.yaml")
    assert "              Bool:\n" in path.read_text()
    assert "fixed 3 findings in 1 file" in result.err
    assert result.code == 0
