import datetime

import pytest

from mfa_guard.cli import main
from mfa_guard.config import STARTER, ConfigError, find_config, load_config


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_starter_config_is_valid(tmp_path):
    config = load_config(write(tmp_path / ".mfa-guard.yaml", STARTER))
    assert config.fail_on == "error"
    assert config.max_file_size == 10485760
    assert config.scenarios["user-name"] == "alice"


def test_full_config_parsed(tmp_path):
    text = """\
fail-on: warning
disable: [MFA003]
severity:
  mfa-device-name-pinned: error
rule-dirs: [house]
exclude: ["legacy/*"]
ignore:
  - paths: ["policies/old/*.json"]
    rules: [password-change-blocked]
    reason: closed accounts
    until: 2027-03-31
scenarios:
  account: "210987654321"
"""
    config = load_config(write(tmp_path / ".mfa-guard.yaml", text))
    assert config.fail_on == "warning"
    assert config.disable == ("MFA003",)
    assert str(config.severity["mfa-device-name-pinned"]) == "error"
    assert config.rule_dirs == (tmp_path / "house",)
    assert config.ignore[0].until == datetime.date(2027, 3, 31)
    assert config.ignore[0].line == 8
    assert config.scenarios == {"account": "210987654321"}


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("fail-on: error\ndisbale: [MFA003]\n", 2, "key 'disbale': unknown key"),
        ("fail-on: sometimes\n", 1, "key 'fail-on': expected one of"),
        ("severity:\n  MFA001: fatal\n", 2, "key 'MFA001': invalid severity 'fatal'"),
        (
            "ignore:\n  - paths: [a.json]\n    until: next week\n",
            3,
            "key 'until': expected a date",
        ),
        ("scenarios:\n  acount: '1'\n", 2, "key 'acount': unknown key"),
        (
            "scenarios:\n  account: '12345'\n",
            2,
            "key 'account': expected a 12-digit account id, found '12345'",
        ),
        ("scenarios:\n  region: mars-1\n", 2, "expected a region name"),
        ("scenarios:\n  user-name: a b\n", 2, "expected an IAM user name"),
        ("scenarios:\n  user-name: Jürgen\n", 2, "expected an IAM user name"),
        ("scenarios:\n  user-path: eng\n", 2, "starts and ends with /"),
        ("max-file-size: big\n", 1, "key 'max-file-size': expected a positive number"),
        ("disable: MFA003\ndisable: MFA004\n", 2, "key 'disable' appears twice"),
        ("- a\n- b\n", 1, "expected a mapping"),
        ("fail-on: [error\n", 2, "invalid configuration"),
    ],
)
def test_invalid_config_names_file_line_key(tmp_path, text, line, fragment):
    path = write(tmp_path / ".mfa-guard.yaml", text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert fragment in str(caught.value)


def test_misspelled_key_exits_2(tmp_path, capsys):
    path = write(tmp_path / "config.yaml", "fail-on: error\nexlude: ['*.json']\n")
    assert main(["scan", "--config", str(path), str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:2: invalid configuration: key 'exlude': unknown key" in err


def test_config_found_at_repository_root(tmp_path, monkeypatch, capsys):
    write(tmp_path / ".mfa-guard.yaml", "fail-on: never\n")
    write(
        tmp_path / "deny.json",
        '{"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]}',
    )
    monkeypatch.chdir(tmp_path)
    assert main(["scan", "."]) == 0
    assert main(["scan", "--fail-on", "error", "."]) == 1
    capsys.readouterr()


@pytest.mark.parametrize("marker", ["folder", "file"])
def test_find_config_at_checkout_root(tmp_path, marker):
    config = write(tmp_path / ".mfa-guard.yaml", "fail-on: never\n")
    if marker == "folder":
        (tmp_path / ".git").mkdir()
    else:
        write(tmp_path / ".git", "gitdir: ../elsewhere/.git\n")
    nested = tmp_path / "infra" / "iam"
    nested.mkdir(parents=True)
    assert find_config(nested) == config


def test_find_config_nearest_checkout_wins(tmp_path):
    write(tmp_path / ".mfa-guard.yaml", "fail-on: never\n")
    (tmp_path / ".git").mkdir()
    inner = tmp_path / "vendor" / "module"
    (inner / ".git").mkdir(parents=True)
    assert find_config(inner) is None


def test_find_config_outside_checkout_uses_start(tmp_path):
    config = write(tmp_path / ".mfa-guard.yaml", "fail-on: never\n")
    assert find_config(tmp_path) == config


def test_find_config_outside_checkout_in_parent(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    config = write(tmp_path / "project" / ".mfa-guard.yaml", "fail-on: never\n")
    start = tmp_path / "project" / "infra" / "iam"
    start.mkdir(parents=True)
    assert find_config(start) == config


def test_find_config_outside_checkout_nearest_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    write(tmp_path / ".mfa-guard.yaml", "fail-on: never\n")
    nearest = write(tmp_path / "project" / ".mfa-guard.yaml", "fail-on: error\n")
    start = tmp_path / "project" / "infra"
    start.mkdir()
    assert find_config(start) == nearest


def test_find_config_reads_home_folder(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    config = write(home / ".mfa-guard.yaml", "fail-on: never\n")
    start = home / "project"
    start.mkdir()
    assert find_config(start) == config


def test_find_config_stops_at_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    write(tmp_path / ".mfa-guard.yaml", "fail-on: never\n")
    start = home / "project"
    start.mkdir(parents=True)
    assert find_config(start) is None


def test_find_config_stops_at_linked_home(tmp_path, monkeypatch):
    home = tmp_path / "real-home"
    (home / "project").mkdir(parents=True)
    (tmp_path / "home-link").symlink_to(home)
    monkeypatch.setenv("HOME", str(tmp_path / "home-link"))
    write(tmp_path / ".mfa-guard.yaml", "fail-on: never\n")
    assert find_config(home / "project") is None


def test_find_config_outside_home_reaches_parents(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    config = write(tmp_path / "srv" / ".mfa-guard.yaml", "fail-on: never\n")
    start = tmp_path / "srv" / "policies"
    start.mkdir()
    assert find_config(start) == config


def test_find_config_checkout_ignores_parents(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    write(tmp_path / ".mfa-guard.yaml", "fail-on: never\n")
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    start = tmp_path / "repo" / "infra"
    start.mkdir()
    assert find_config(start) is None


def test_scan_in_subfolder_reads_parent_config(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    write(tmp_path / ".mfa-guard.yaml", "fail-on: never\n")
    write(
        tmp_path / "infra" / "deny.json",
        '{"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]}',
    )
    monkeypatch.chdir(tmp_path / "infra")
    assert main(["scan", "."]) == 0
    assert main(["scan", "--fail-on", "error", "."]) == 1
    capsys.readouterr()


def test_config_unknown_rule_name_exits_2(tmp_path, capsys):
    path = write(tmp_path / "c.yaml", "disable: [no-such-rule]\n")
    assert main(["scan", "--config", str(path), str(tmp_path)]) == 2
    assert (
        "disable no-such-rule: no rule has this name or id" in capsys.readouterr().err
    )


def test_severity_override_applies(tmp_path, run_scan):
    config = write(
        tmp_path / "c.yaml", "severity:\n  password-change-blocked: warning\n"
    )
    policy = write(
        tmp_path / "p.json",
        '{"Statement": [{"Effect": "Deny", "NotAction": ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser", "iam:ListMFADevices", "iam:ListVirtualMFADevices"], "Resource": "*", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]}',
    )
    result = run_scan("--config", config, policy)
    severities = {f["rule_name"]: f["severity"] for f in result.findings}
    assert severities["password-change-blocked"] == "warning"
    assert result.code == 0


def test_scenario_account_used_in_messages(tmp_path, run_scan):
    config = write(
        tmp_path / "c.yaml", "scenarios:\n  account: '210987654321'\n  user-name: bob\n"
    )
    policy = write(
        tmp_path / "p.json",
        '{"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]}',
    )
    result = run_scan("--config", config, policy)
    assert "arn:aws:iam::210987654321:user/bob" in result.findings[0]["message"]


def test_init_writes_starter(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 0
    assert (tmp_path / ".mfa-guard.yaml").read_text() == STARTER
    assert main(["init"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["init", "--force"]) == 0


def test_init_in_subfolder_names_root(tmp_path, monkeypatch, capsys):
    (tmp_path / ".git").mkdir()
    sub = tmp_path / "infra"
    sub.mkdir()
    monkeypatch.chdir(sub)
    assert main(["init"]) == 0
    assert capsys.readouterr().err == (
        f"note: scans read {tmp_path / '.mfa-guard.yaml'}, the file at the root of this"
        f" git checkout; move the file there or pass --config {sub / '.mfa-guard.yaml'}\n"
    )


def test_init_outside_checkout_no_note(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    write(tmp_path / ".mfa-guard.yaml", "fail-on: never\n")
    sub = tmp_path / "infra"
    sub.mkdir()
    monkeypatch.chdir(sub)
    assert main(["init"]) == 0
    assert capsys.readouterr().err == ""
    assert find_config(sub) == sub / ".mfa-guard.yaml"


def test_init_at_root_prints_no_note(tmp_path, monkeypatch, capsys):
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 0
    assert capsys.readouterr().err == ""
