"""The per-unit result cache: keys, hits, invalidation and damaged entries."""

import os

import pytest

from mfa_guard import records
from mfa_guard.cache import ResultCache, default_cache_directory
from mfa_guard.cli import main
from mfa_guard.engine.context import RunContext, ScenarioSettings
from mfa_guard.engine.rules import load_rules
from mfa_guard.engine.runner import Analyzer
from mfa_guard.parallel import Unit, analyze_units, make_units
from mfa_guard.scan import scan

POLICY = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "DenyEc2WithoutMFA",
      "Effect": "Deny",
      "Action": ["ec2:StopInstances"],
      "Resource": "*",
      "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}
    }
  ]
}
"""

MODULE = """resource "aws_iam_policy" "deny" {
  name   = "deny"
  policy = file("${path.module}/policy.json")
}
"""


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.fixture
def analyzer(rules):
    return Analyzer(rules)


@pytest.fixture
def cache(tmp_path, analyzer):
    return ResultCache.open(analyzer, 10_000_000, tmp_path / "cache")


@pytest.fixture
def counted(monkeypatch):
    """Count the units that are loaded and analyzed instead of read from the cache."""
    import mfa_guard.parallel as parallel

    calls = []
    original = parallel.analyze_unit

    def counting(unit, analyzer, debug=False):
        calls.append(unit.name)
        return original(unit, analyzer, debug)

    monkeypatch.setattr(parallel, "analyze_unit", counting)
    return calls


def file_unit(path):
    return make_units([path], 10_000_000)[0]


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_default_directory_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_directory() == tmp_path / "mfa-guard"


def test_default_directory_ignores_relative_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/folder")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_directory() == tmp_path / ".cache" / "mfa-guard"


def test_second_scan_reads_cache(tmp_path, analyzer, cache, counted):
    write(tmp_path / "repo" / "policy.json", POLICY)
    first = scan([str(tmp_path / "repo")], analyzer, cache=cache)
    second = scan([str(tmp_path / "repo")], analyzer, cache=cache)
    assert len(counted) == 1
    assert second.findings == first.findings
    assert second.files_read == first.files_read
    assert second.documents == 1
    assert [finding.rule_id for finding in second.findings] == ["MFA101"]


def test_changed_file_gets_new_key(tmp_path, cache):
    path = write(tmp_path / "policy.json", POLICY)
    before = cache.key(file_unit(path))
    path.write_text(POLICY.replace("StopInstances", "StartInstances"))
    after = cache.key(file_unit(path))
    assert before is not None
    assert after is not None
    assert before.value != after.value
    assert not before.unchanged()
    assert after.unchanged()


def test_key_depends_on_display_path(tmp_path, cache):
    first = write(tmp_path / "a" / "policy.json", POLICY)
    second = write(tmp_path / "b" / "policy.json", POLICY)
    assert cache.key(file_unit(first)).value != cache.key(file_unit(second)).value


def test_terraform_key_covers_file_function(tmp_path, cache):
    module = tmp_path / "module"
    write(module / "main.tf", MODULE)
    policy = write(module / "policy.json", POLICY)
    unit = make_units([module / "main.tf"], 10_000_000)[0]
    before = cache.key(unit)
    policy.write_text(POLICY.replace("Bool", "BoolIfExists"))
    assert before is not None
    assert cache.key(unit).value != before.value
    assert not before.unchanged()


def test_terraform_key_covers_child_folders(tmp_path, cache):
    module = tmp_path / "module"
    write(module / "main.tf", 'module "child" {\n  source = "./child"\n}\n')
    child = write(module / "child" / "main.tf", MODULE)
    unit = make_units([module / "main.tf"], 10_000_000)[0]
    before = cache.key(unit)
    child.write_text(MODULE.replace("deny", "other"))
    assert cache.key(unit).value != before.value


@pytest.mark.parametrize(
    "reference",
    [
        'file("${path.module}/../shared/policy.json")',
        'file("/etc/policies/deny.json")',
        'file("${path.root}/policy.json")',
        'file("${path.cwd}/policy.json")',
        'file(abspath("policy.json"))',
    ],
)
def test_terraform_outside_tree_not_cached(tmp_path, cache, reference):
    module = tmp_path / "module"
    write(
        module / "main.tf",
        f'resource "aws_iam_policy" "p" {{\n  policy = {reference}\n}}\n',
    )
    unit = make_units([module / "main.tf"], 10_000_000)[0]
    assert cache.key(unit) is None


def test_terraform_parent_module_source_not_cached(tmp_path, cache):
    module = tmp_path / "module"
    write(module / "main.tf", 'module "shared" {\n  source = "../shared"\n}\n')
    unit = make_units([module / "main.tf"], 10_000_000)[0]
    assert cache.key(unit) is None


def test_terraform_symlinked_folder_not_cached(tmp_path, cache):
    module = tmp_path / "module"
    write(module / "main.tf", MODULE)
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", module / "linked")
    unit = make_units([module / "main.tf"], 10_000_000)[0]
    assert cache.key(unit) is None


def test_file_over_limit_not_cached(tmp_path, cache):
    path = write(tmp_path / "policy.json", POLICY)
    unit = make_units([path], 10)[0]
    assert cache.key(unit) is None


def test_fingerprint_covers_rules_and_settings(tmp_path, rules):
    directory = tmp_path / "cache"
    base = ResultCache.open(Analyzer(rules), 1000, directory)
    fewer = ResultCache.open(Analyzer(rules[1:]), 1000, directory)
    region = RunContext(ScenarioSettings(region="eu-west-1"))
    settings = ResultCache.open(Analyzer(rules, region), 1000, directory)
    severity = records.replace(rules[0], severity=rules[0].severity.__class__(1))
    changed = ResultCache.open(Analyzer([severity, *rules[1:]]), 1000, directory)
    limit = ResultCache.open(Analyzer(rules), 2000, directory)
    fingerprints = [
        cache.fingerprint for cache in (base, fewer, settings, changed, limit)
    ]
    assert len(set(fingerprints)) == 5
    assert (
        ResultCache.open(Analyzer(rules), 1000, directory).fingerprint
        == base.fingerprint
    )


def test_corrupt_entry_ignored(tmp_path, analyzer, cache, counted):
    path = write(tmp_path / "repo" / "policy.json", POLICY)
    first = scan([str(tmp_path / "repo")], analyzer, cache=cache)
    key = cache.key(file_unit(path)).value
    entry = cache.directory / key[:2] / key[2:]
    for damage in (
        b"",
        b"{not json",
        b'{"key": "other", "report": {}}',
        b'{"key": "%s", "report": {"name": 1}}' % key.encode(),
    ):
        entry.write_bytes(damage)
        assert cache.get(key) is None
        again = scan([str(tmp_path / "repo")], analyzer, cache=cache)
        assert again.findings == first.findings
    assert len(counted) == 5


def test_entries_written_atomically(tmp_path, analyzer, cache):
    write(tmp_path / "repo" / "policy.json", POLICY)
    scan([str(tmp_path / "repo")], analyzer, cache=cache)
    names = [path.name for path in cache.directory.rglob("*") if path.is_file()]
    assert len(names) == 1
    assert not any(name.startswith(".tmp-") for name in names)


def test_incomplete_report_not_cached(tmp_path, analyzer, cache, monkeypatch):
    path = write(tmp_path / "policy.json", POLICY)

    def broken(self):
        raise RuntimeError("loader bug")

    monkeypatch.setattr(Unit, "load", broken)
    reports = analyze_units([file_unit(path)], analyzer, cache=cache)
    assert not reports[0].complete
    assert not [path for path in cache.directory.rglob("*") if path.is_file()]


def test_file_changed_during_load_not_cached(tmp_path, analyzer, cache, monkeypatch):
    path = write(tmp_path / "policy.json", POLICY)
    original = Unit.load

    def load_then_edit(self):
        result = original(self)
        path.write_text(POLICY.replace("Stop", "Start") + "\n")
        return result

    monkeypatch.setattr(Unit, "load", load_then_edit)
    reports = analyze_units([file_unit(path)], analyzer, cache=cache)
    assert [finding.rule_id for finding in reports[0].findings] == ["MFA101"]
    assert not [path for path in cache.directory.rglob("*") if path.is_file()]


def test_workers_share_cache(tmp_path, analyzer, cache):
    for index in range(4):
        write(tmp_path / "repo" / f"policy{index}.json", POLICY)
    first = scan([str(tmp_path / "repo")], analyzer, jobs=2, cache=cache)
    entries = [path for path in cache.directory.rglob("*") if path.is_file()]
    second = scan([str(tmp_path / "repo")], analyzer, jobs=2, cache=cache)
    assert len(entries) == 4
    assert second.findings == first.findings


def test_unwritable_cache_directory_disables_cache(tmp_path, analyzer, caplog):
    blocker = write(tmp_path / "file", "not a folder")
    cache = ResultCache.open(analyzer, 1000, blocker / "cache")
    assert cache is None
    assert "result cache disabled" in caplog.text


def test_cli_uses_xdg_cache(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    write(tmp_path / "repo" / "policy.json", POLICY)
    first = main(["scan", "--jobs", "1", str(tmp_path / "repo")])
    first_output = capsys.readouterr().out
    second = main(["scan", "--jobs", "1", str(tmp_path / "repo")])
    second_output = capsys.readouterr().out
    entries = [
        path for path in (tmp_path / "xdg" / "mfa-guard").rglob("*") if path.is_file()
    ]
    assert first == 1
    assert second == 1
    assert len(entries) == 1
    assert second_output.split(" in ")[0] == first_output.split(" in ")[0]
    assert not [
        path for path in (tmp_path / "repo").iterdir() if path.name != "policy.json"
    ]


def test_cli_no_cache_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    write(tmp_path / "repo" / "policy.json", POLICY)
    code = main(["scan", "--no-cache", str(tmp_path / "repo")])
    capsys.readouterr()
    assert code == 1
    assert not (tmp_path / "xdg").exists()
