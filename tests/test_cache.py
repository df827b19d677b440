"""The per-unit result cache: keys, hits, invalidation and damaged entries."""

import json
import os
import resource
import subprocess
import sys

import pytest

from mfa_guard.cache import CACHE_FORMAT, ResultCache, default_cache_directory
from mfa_guard.cache_store import HEADER, read_shard
from mfa_guard.cli import main
from mfa_guard.engine.context import RunContext, ScenarioSettings
from mfa_guard.engine.rules import load_rules
from mfa_guard.engine.runner import Analyzer
from mfa_guard.parallel import Unit, analyze_units, make_units
from mfa_guard.records import replace
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


def stored_files(directory):
    return sorted(path.name for path in directory.rglob("*") if path.is_file())


def stored_keys(directory):
    """Return the keys of every entry in the shard files under `directory`."""
    keys = []
    for path in sorted(directory.rglob("entries-*")):
        keys.extend(read_shard(str(path)))
    return sorted(keys)


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
        'file("${path.module}/node_modules/policies/mfa.json")',
        'file(".terraform/modules/iam/policy.json")',
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


def test_terraform_git_module_source_cached(tmp_path, cache):
    module = tmp_path / "module"
    source = "git::https://example.com/org/infra.git//modules/iam?ref=v1"
    write(module / "main.tf", MODULE + f'module "iam" {{\n  source = "{source}"\n}}\n')
    unit = make_units([module / "main.tf"], 10_000_000)[0]
    assert cache.key(unit) is not None


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
    severity = replace(rules[0], severity=rules[0].severity.__class__(1))
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


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"{not json",
        HEADER.encode() + b"\n%(key)s {not json\n",
        HEADER.encode() + b'\n%(key)s {"name": 1}\n',
        HEADER.encode() + b"\n%(key)s []\n",
        b"mfa-guard result cache 1\n%(key)s {}\n",
        HEADER.encode() + b"\n%(key)s \xff\xfe\n",
        HEADER.encode() + b"\n%(key)s " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
    ],
)
def test_damaged_shard_ignored(tmp_path, analyzer, cache, counted, damage):
    path = write(tmp_path / "repo" / "policy.json", POLICY)
    first = scan([str(tmp_path / "repo")], analyzer, cache=cache)
    key = cache.key(file_unit(path)).value
    shard = cache.directory / f"entries-{key[0]}"
    shard.write_bytes(damage % {b"key": key.encode()})

    reopened = ResultCache(cache.directory, cache.fingerprint)
    assert reopened.get(key) is None
    again = scan([str(tmp_path / "repo")], analyzer, cache=reopened)
    assert again.findings == first.findings
    assert len(counted) == 2
    assert stored_keys(cache.directory) == [key]


def test_damaged_entry_not_written_back(tmp_path, cache):
    key = "0" * 64
    other = "0" + "1" * 63
    shard = cache.directory / "entries-0"
    shard.write_text(f"{HEADER}\n{key} {{not json\n")
    reopened = ResultCache(cache.directory, cache.fingerprint)
    assert reopened.get(key) is None
    reopened.store.put(other, "{}")
    reopened.save()
    assert list(read_shard(str(shard))) == [other]


def test_entries_written_atomically(tmp_path, analyzer, cache):
    write(tmp_path / "repo" / "policy.json", POLICY)
    scan([str(tmp_path / "repo")], analyzer, cache=cache)
    names = stored_files(cache.directory)
    assert len(names) == 1
    assert names[0].startswith("entries-")
    assert not any(name.startswith(".tmp-") for name in names)


def test_incomplete_report_not_cached(tmp_path, analyzer, cache, monkeypatch):
    path = write(tmp_path / "policy.json", POLICY)

    def broken(self):
        raise RuntimeError("loader bug")

    monkeypatch.setattr(Unit, "load", broken)
    reports = analyze_units([file_unit(path)], analyzer, cache=cache)
    assert not reports[0].complete
    assert stored_files(cache.directory) == []


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
    assert stored_files(cache.directory) == []


def forbid_workers(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("a worker pool was started")

    monkeypatch.setattr("mfa_guard.parallel.WorkerPool", fail)


def test_worker_reports_cached(tmp_path, analyzer, cache, counted, monkeypatch):
    for index in range(4):
        write(tmp_path / "repo" / f"policy{index}.json", POLICY)
    first = scan([str(tmp_path / "repo")], analyzer, jobs=2, cache=cache)
    forbid_workers(monkeypatch)
    reopened = ResultCache(cache.directory, cache.fingerprint)
    second = scan([str(tmp_path / "repo")], analyzer, jobs=2, cache=reopened)
    assert len(stored_keys(cache.directory)) == 4
    assert second.findings == first.findings
    assert len(first.findings) == 4
    assert counted == []


def test_warm_scan_writes_nothing(tmp_path, analyzer, cache, counted, monkeypatch):
    for index in range(20):
        write(tmp_path / "repo" / f"policy{index}.json", POLICY)
    scan([str(tmp_path / "repo")], analyzer, jobs=2, cache=cache)
    writes = []
    monkeypatch.setattr(
        "mfa_guard.cache_store._write_atomically",
        lambda path, text: writes.append(path),
    )
    forbid_workers(monkeypatch)
    reopened = ResultCache(cache.directory, cache.fingerprint)
    scan([str(tmp_path / "repo")], analyzer, jobs=2, cache=reopened)
    assert counted == []
    assert writes == []


def test_cold_scan_writes_each_shard_once(tmp_path, analyzer, cache, monkeypatch):
    for index in range(40):
        write(tmp_path / "repo" / f"policy{index}.json", POLICY)
    import mfa_guard.cache_store as cache_store

    writes = []
    original = cache_store._write_atomically

    def recording(path, text):
        writes.append(os.path.basename(path))
        original(path, text)

    monkeypatch.setattr(cache_store, "_write_atomically", recording)
    scan([str(tmp_path / "repo")], analyzer, jobs=1, cache=cache)
    keys = stored_keys(cache.directory)
    assert len(keys) == 40
    assert sorted(writes) == sorted({f"entries-{key[0]}" for key in keys})
    assert stored_files(cache.directory) == sorted(writes)


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


def test_terraform_key_skips_dependency_folders(tmp_path, cache):
    module = tmp_path / "module"
    write(module / "main.tf", MODULE)
    plugin = write(module / ".terraform" / "plugin.json", "{}")
    unit = make_units([module / "main.tf"], 10_000_000)[0]
    before = cache.key(unit)
    plugin.write_text('{"changed": true}')
    assert cache.key(unit).value == before.value


def test_terraform_large_file_keyed_by_stamp(tmp_path, cache):
    module = tmp_path / "module"
    write(module / "main.tf", MODULE)
    archive = write(module / "lambda.zip", "x" * 2000)
    unit = make_units([module / "main.tf"], 1000)[0]
    before = cache.key(unit)
    os.utime(archive, ns=(1_000_000_000, 1_000_000_000))
    after = cache.key(unit)
    assert before is not None
    assert after is not None
    assert after.value != before.value
    assert (str(archive), 2000, 1_000_000_000) in after.stamps


def test_terraform_fifo_not_cached(tmp_path, cache):
    module = tmp_path / "module"
    write(module / "main.tf", MODULE)
    os.mkfifo(module / "pipe.json")
    unit = make_units([module / "main.tf"], 10_000_000)[0]
    assert cache.key(unit) is None


def test_terraform_key_in_current_folder(tmp_path, cache, monkeypatch):
    write(tmp_path / "main.tf", MODULE)
    monkeypatch.chdir(tmp_path)
    unit = make_units(["main.tf"], 10_000_000)[0]
    key = cache.key(unit)
    assert unit.path == "."
    assert key is not None
    assert [stamp[0] for stamp in key.stamps] == [os.path.join(".", "main.tf")]


def test_cli_cold_and_warm_output_identical(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    write(tmp_path / "repo" / "policy.json", POLICY)
    write(tmp_path / "repo" / "module" / "main.tf", MODULE)
    write(tmp_path / "repo" / "module" / "policy.json", POLICY)
    write(tmp_path / "repo" / "notes.yaml", "a: 1\n")
    runs = []
    for _ in range(2):
        command = ["scan", "--jobs", "2", "--verbose", "--format", "json"]
        code = main([*command, str(tmp_path / "repo")])
        captured = capsys.readouterr()
        report = json.loads(captured.out)
        report["summary"].pop("seconds")
        runs.append((code, report, captured.err))
    assert runs[1] == runs[0]
    assert runs[0][0] == 1
    assert len(stored_keys(tmp_path / "xdg")) == 4


REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# Maximum address space of a scan in a new interpreter. A one-file JSON scan
# ran within it (checked with `ulimit -v 1048576` on Linux), and a read of
# /dev/zero fails at it instead of filling the machine's memory.
SCAN_MEMORY_BYTES = 1024 * 1024 * 1024


def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (SCAN_MEMORY_BYTES, SCAN_MEMORY_BYTES))


def scan_in_process(policy, cache_home):
    """Run `mfa-guard scan` on `policy` in a new interpreter, for 60 seconds at most."""
    environment = dict(os.environ, XDG_CACHE_HOME=str(cache_home))
    command = ["scan", "--jobs", "1", "--format", "json", str(policy)]
    return subprocess.run(
        [sys.executable, "-m", "mfa_guard", *command],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        env=environment,
        timeout=60,
        check=False,
        preexec_fn=limit_memory,
    )


def located(completed):
    findings = json.loads(completed.stdout)["findings"]
    return [(f["rule_name"], f["line"], f["column"]) for f in findings]


def make_fifo(path):
    os.mkfifo(path)


def make_folder(path):
    path.mkdir()


def make_device_link(path):
    path.symlink_to("/dev/zero")


# Each case: how a shard path is made irregular, and how many entries a scan
# can then store, because a save replaces a pipe or a link but not a folder.
IRREGULAR_SHARDS = [(make_fifo, 1), (make_folder, 0), (make_device_link, 1)]


@pytest.mark.parametrize(("make", "stored"), IRREGULAR_SHARDS)
def test_scan_with_irregular_shards_finishes(tmp_path, make, stored):
    policy = write(tmp_path / "repo" / "policy.json", POLICY)
    shards = tmp_path / "xdg" / "mfa-guard" / f"v{CACHE_FORMAT}"
    shards.mkdir(parents=True)
    for digit in "0123456789abcdef":
        make(shards / f"entries-{digit}")

    first = scan_in_process(policy, tmp_path / "xdg")
    second = scan_in_process(policy, tmp_path / "xdg")
    assert first.returncode == 1
    assert first.stderr == ""
    assert located(first) == [("access-key-bypass", 9, 21)]
    assert second.returncode == 1
    assert second.stderr == ""
    assert located(second) == [("access-key-bypass", 9, 21)]
    assert len(stored_keys(shards)) == stored
    assert not [path for path in shards.iterdir() if path.name.startswith(".tmp-")]
