"""Globs of the configuration file match paths relative to its folder, from any current folder."""

import os

import pytest

from tests.policies import DENY_WITHOUT_PASSWORD_CHANGE as POLICY

EXCLUDE = 'exclude: ["legacy/*.json"]\n'

IGNORE = """\
ignore:
  - paths: ["legacy/*.json"]
    rules: [password-change-blocked]
    reason: legacy accounts close in Q1
"""


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def repository(tmp_path):
    """Return a checkout with a policy in `legacy/` and one in `current/`."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    write(root / "legacy" / "old.json", POLICY)
    write(root / "current" / "new.json", POLICY)
    return root


def paths(result):
    return [finding["path"] for finding in result.findings]


# Each case: the current folder relative to the checkout, the scan argument,
# the path of the finding in `current/` (None when it is outside the scan) and
# the path of the legacy file, as the scan displays them. "{root}" is replaced
# by the absolute path of the checkout.
PLACES = [
    pytest.param(".", ".", "current/new.json", "legacy/old.json", id="root"),
    pytest.param("legacy", ".", None, "old.json", id="excluded-folder"),
    pytest.param(
        "current", "..", "../current/new.json", "../legacy/old.json", id="subfolder"
    ),
    pytest.param(
        "current",
        "{root}",
        "{root}/current/new.json",
        "{root}/legacy/old.json",
        id="absolute",
    ),
    pytest.param(
        ".",
        "{root}",
        "{root}/current/new.json",
        "{root}/legacy/old.json",
        id="absolute-from-root",
    ),
]


def expand(text, root):
    return None if text is None else text.replace("{root}", str(root))


def expected_paths(expected, root):
    """Return the finding paths a case expects, in the form the scan reports."""
    if expected is None:
        return []
    return [os.path.normpath(expand(expected, root))]


@pytest.mark.parametrize(("folder", "argument", "expected", "legacy"), PLACES)
def test_exclude_relative_to_config(
    repository, monkeypatch, run_scan, folder, argument, expected, legacy
):
    write(repository / ".mfa-guard.yaml", EXCLUDE)
    monkeypatch.chdir(repository / folder)
    result = run_scan("--verbose", expand(argument, repository))
    skipped = expand(legacy, repository)
    assert paths(result) == expected_paths(expected, repository)
    assert f"skipped: {skipped}: excluded by configuration\n" in result.stderr


@pytest.mark.parametrize(("folder", "argument", "expected", "legacy"), PLACES)
def test_ignore_relative_to_config(
    repository, monkeypatch, run_scan, folder, argument, expected, legacy
):
    write(repository / ".mfa-guard.yaml", IGNORE)
    monkeypatch.chdir(repository / folder)
    result = run_scan("--verbose", expand(argument, repository))
    assert paths(result) == expected_paths(expected, repository)
    assert f"read: {expand(legacy, repository)}\n" in result.stderr
    assert result.data["summary"]["suppressed"] == 1


def test_exclude_outside_config_folder(repository, monkeypatch, run_scan):
    config = write(repository / "settings" / "mfa-guard.yaml", EXCLUDE)
    monkeypatch.chdir(repository.parent)
    result = run_scan("--config", config, repository)
    assert paths(result) == [
        str(repository / "current" / "new.json"),
        str(repository / "legacy" / "old.json"),
    ]


def test_ignore_outside_config_folder(repository, monkeypatch, run_scan):
    config = write(repository / "settings" / "mfa-guard.yaml", IGNORE)
    monkeypatch.chdir(repository.parent)
    result = run_scan("--config", config, repository / "legacy")
    assert result.located() == [
        ("password-change-blocked", 4, 5),
        ("unused-suppression", 2, 1),
    ]
    assert paths(result) == [str(repository / "legacy" / "old.json"), str(config)]
    assert result.data["summary"]["suppressed"] == 0


def test_exclude_ignores_path_as_given(repository, monkeypatch, run_scan):
    # legacy/*.json in settings/ means settings/legacy/*.json, even where
    # the scanned path happens to read legacy/old.json.
    config = write(repository / "settings" / "mfa-guard.yaml", EXCLUDE)
    monkeypatch.chdir(repository)
    result = run_scan("--config", config, ".")
    assert paths(result) == ["current/new.json", "legacy/old.json"]


def test_config_globs_from_subfolder(repository, monkeypatch, run_scan):
    # From app/, the paths app/legacy/old.json and app/ignored/old.json read
    # legacy/... and ignored/..., but the globs name folders of the root.
    write(
        repository / ".mfa-guard.yaml",
        EXCLUDE + IGNORE.replace("legacy/*.json", "ignored/*.json"),
    )
    write(repository / "app" / "legacy" / "old.json", POLICY)
    write(repository / "app" / "ignored" / "old.json", POLICY)
    monkeypatch.chdir(repository / "app")
    result = run_scan(".")
    config = str(repository / ".mfa-guard.yaml")
    assert paths(result) == [config, "ignored/old.json", "legacy/old.json"]
    assert result.findings[0]["rule_name"] == "unused-suppression"


def test_exclude_name_pattern_anywhere(repository, monkeypatch, run_scan):
    write(repository / ".mfa-guard.yaml", 'exclude: ["old.json"]\n')
    monkeypatch.chdir(repository / "current")
    result = run_scan(repository)
    assert paths(result) == [str(repository / "current" / "new.json")]


def test_cli_exclude_relative_to_cwd(repository, monkeypatch, run_scan):
    monkeypatch.chdir(repository / "legacy")
    from_legacy = run_scan("--exclude", "current/*.json", repository)
    monkeypatch.chdir(repository)
    from_root = run_scan("--exclude", "current/*.json", repository)
    assert paths(from_legacy) == [
        str(repository / "current" / "new.json"),
        str(repository / "legacy" / "old.json"),
    ]
    assert paths(from_root) == [str(repository / "legacy" / "old.json")]


def test_exclude_folder_with_slash(repository, monkeypatch, run_scan):
    write(repository / ".mfa-guard.yaml", 'exclude: ["legacy/"]\n')
    monkeypatch.chdir(repository)
    result = run_scan(".")
    from_cli = run_scan("--exclude", "current/", ".")
    assert paths(result) == ["current/new.json"]
    assert paths(from_cli) == []
