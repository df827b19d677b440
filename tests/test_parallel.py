"""Worker processes: same results as one process, crash and timeout isolation."""

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.generate import generate_tree
from mfa_guard.cli import main
from mfa_guard.engine.rules import load_rules
from mfa_guard.engine.runner import Analyzer
from mfa_guard.loaders.base import LoadResult
from mfa_guard.parallel import (
    Unit,
    UnitReport,
    WorkerError,
    WorkerPool,
    _send,
    analyze_units,
    make_units,
)
from mfa_guard.scan import scan
from tests.processes import process_ended

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


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer(load_rules())


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("generated") / "tree"
    generate_tree(root, files=150, seed=7)
    return root


class CrashingUnit(Unit):
    """Ends its worker process the way a Go panic in tfparse does."""

    def load(self) -> LoadResult:
        os.kill(os.getpid(), signal.SIGABRT)
        time.sleep(10)
        return LoadResult()


class SleepingUnit(Unit):
    def load(self) -> LoadResult:
        time.sleep(30)
        return LoadResult()


class RaisingUnit(Unit):
    def load(self) -> LoadResult:
        raise ValueError("loader bug")


def policy_unit(folder, name, unit_type=Unit):
    path = folder / name
    path.write_text(POLICY)
    return unit_type(str(path), str(path), (str(path),), False, 10_000_000)


def rule_ids(report: UnitReport) -> list[str]:
    return [finding.rule_id for finding in report.findings]


def test_make_units_groups_terraform(tmp_path):
    files = [
        tmp_path / "a.json",
        tmp_path / "mod" / "main.tf",
        tmp_path / "b.yaml",
        tmp_path / "mod" / "vars.tf.json",
    ]
    units = make_units(files, 100)
    assert [unit.name for unit in units] == [
        str(tmp_path / "a.json"),
        str(tmp_path / "b.yaml"),
        str(tmp_path / "mod"),
    ]
    assert units[2].terraform
    assert units[2].files == (str(files[1]), str(files[3]))
    assert not units[0].terraform


def test_workers_match_one_process(tree, analyzer):
    single = scan([str(tree)], analyzer, jobs=1)
    parallel = scan([str(tree)], analyzer, jobs=2)
    assert parallel.findings == single.findings
    assert parallel.files_read == single.files_read
    assert parallel.skipped == single.skipped
    assert parallel.unresolved == single.unresolved
    assert parallel.documents == single.documents
    assert single.findings


def test_generated_tree_findings_match_manifest(tree, analyzer):
    result = scan([str(tree)], analyzer, jobs=2)
    planted_rules = {"MFA001", "MFA002", "MFA101", "MFA102", "MFA103"}
    reported = {}
    for finding in result.findings:
        assert finding.rule_id != "MFA903", finding.message
        if finding.rule_id in planted_rules:
            relative = Path(finding.path).relative_to(tree).as_posix()
            reported.setdefault(relative, set()).add(finding.rule_id)
    expected = {}
    for line in (tree / "planted.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if entry["expected"]:
            expected[entry["path"]] = set(entry["expected"])
    assert reported == expected


def test_cli_output_identical_for_any_jobs(tree, capsys):
    outputs = []
    for jobs in ("1", "2", "3"):
        code = main(
            [
                "scan",
                "--no-cache",
                "--format",
                "sarif",
                "--verbose",
                "--jobs",
                jobs,
                str(tree),
            ]
        )
        captured = capsys.readouterr()
        outputs.append((code, captured.out, captured.err))
    assert outputs[0][0] == 1
    assert outputs[1] == outputs[0]
    assert outputs[2] == outputs[0]


def test_crashed_worker_reports_parse_error(tmp_path, analyzer):
    first = policy_unit(tmp_path, "first.json")
    crashing = policy_unit(tmp_path, "crash.json", CrashingUnit)
    last = policy_unit(tmp_path, "last.json")
    reports = analyze_units([first, crashing, last], analyzer, jobs=2)
    assert [report.name for report in reports] == [first.name, crashing.name, last.name]
    assert rule_ids(reports[0]) == ["MFA101"]
    assert rule_ids(reports[1]) == ["MFA903"]
    assert rule_ids(reports[2]) == ["MFA101"]
    message = reports[1].findings[0].message
    assert "the process loading it died (killed by SIGABRT)" in message
    assert not reports[1].complete


def test_every_worker_crashing_still_finishes(tmp_path, analyzer):
    units = [
        policy_unit(tmp_path, f"crash{index}.json", CrashingUnit) for index in range(4)
    ]
    reports = analyze_units(units, analyzer, jobs=2)
    assert [rule_ids(report) for report in reports] == [["MFA903"]] * 4


def test_crash_inside_batch_names_unit(tmp_path, analyzer):
    units = [policy_unit(tmp_path, f"p{index}.json") for index in range(40)]
    units[13] = policy_unit(tmp_path, "crash.json", CrashingUnit)
    reports = analyze_units(units, analyzer, jobs=2)
    assert [report.name for report in reports] == [unit.name for unit in units]
    assert rule_ids(reports[13]) == ["MFA903"]
    assert "killed by SIGABRT" in reports[13].findings[0].message
    others = [rule_ids(report) for index, report in enumerate(reports) if index != 13]
    assert others == [["MFA101"]] * 39


def test_timeout_inside_batch_names_unit(tmp_path, analyzer):
    units = [policy_unit(tmp_path, f"p{index}.json") for index in range(40)]
    units[5] = policy_unit(tmp_path, "slow.json", SleepingUnit)
    reports = analyze_units(units, analyzer, jobs=2, timeout=2.0)
    assert rule_ids(reports[5]) == ["MFA903"]
    assert "loading took longer than 2 seconds" in reports[5].findings[0].message
    others = [rule_ids(report) for index, report in enumerate(reports) if index != 5]
    assert others == [["MFA101"]] * 39


def test_scan_passes_timeout(tmp_path, analyzer, monkeypatch):
    for index in range(3):
        (tmp_path / f"p{index}.json").write_text(POLICY)
    (tmp_path / "slow.json").write_text(POLICY)
    real_make_units = make_units

    def with_slow_unit(files, max_bytes):
        # Workers may be spawned rather than forked, so the slow load must
        # travel with the unit, not with a patch of this process.
        return [
            SleepingUnit(
                unit.name, unit.path, unit.files, unit.terraform, unit.max_bytes
            )
            if unit.name.endswith("slow.json")
            else unit
            for unit in real_make_units(files, max_bytes)
        ]

    monkeypatch.setattr("mfa_guard.parallel.make_units", with_slow_unit)
    started = time.monotonic()
    result = scan([str(tmp_path)], analyzer, jobs=2, timeout=1.0)
    assert time.monotonic() - started < 20
    messages = [f.message for f in result.findings if f.rule_id == "MFA903"]
    assert len(messages) == 1
    assert "loading took longer than 1 second" in messages[0]


def test_slow_unit_times_out(tmp_path, analyzer):
    slow = policy_unit(tmp_path, "slow.json", SleepingUnit)
    quick = policy_unit(tmp_path, "quick.json")
    started = time.monotonic()
    reports = analyze_units([slow, quick], analyzer, jobs=2, timeout=1.0)
    assert time.monotonic() - started < 20
    assert rule_ids(reports[0]) == ["MFA903"]
    assert "loading took longer than 1 second" in reports[0].findings[0].message
    assert rule_ids(reports[1]) == ["MFA101"]


def test_loader_exception_in_worker_with_debug(tmp_path, analyzer):
    units = [
        policy_unit(tmp_path, "ok.json"),
        policy_unit(tmp_path, "bug.json", RaisingUnit),
    ]
    with pytest.raises(WorkerError, match="ValueError: loader bug"):
        analyze_units(units, analyzer, jobs=2, debug=True)


def test_loader_exception_in_worker_becomes_finding(tmp_path, analyzer):
    units = [
        policy_unit(tmp_path, "ok.json"),
        policy_unit(tmp_path, "bug.json", RaisingUnit),
    ]
    reports = analyze_units(units, analyzer, jobs=2)
    assert rule_ids(reports[1]) == ["MFA903"]
    assert "internal error (ValueError: loader bug)" in reports[1].findings[0].message
    assert not reports[1].complete


def test_one_job_runs_in_process(tmp_path, analyzer, monkeypatch):
    units = [policy_unit(tmp_path, "a.json"), policy_unit(tmp_path, "b.json")]

    def fail(*args, **kwargs):
        raise AssertionError("a worker pool was started")

    monkeypatch.setattr("mfa_guard.parallel.WorkerPool", fail)
    reports = analyze_units(units, analyzer, jobs=1)
    assert [rule_ids(report) for report in reports] == [["MFA101"], ["MFA101"]]


def test_one_job_loads_terraform_in_worker(tmp_path, analyzer):
    first = policy_unit(tmp_path, "first.json")
    path = tmp_path / "main.tf"
    path.write_text("")
    crashing = CrashingUnit(str(tmp_path), str(tmp_path), (str(path),), True, 100)
    reports = analyze_units([first, crashing], analyzer, jobs=1)
    assert rule_ids(reports[0]) == ["MFA101"]
    assert rule_ids(reports[1]) == ["MFA903"]
    assert "killed by SIGABRT" in reports[1].findings[0].message


def test_one_job_starts_one_worker(tmp_path, analyzer, monkeypatch):
    sizes = []
    real_pool = WorkerPool

    def recording_pool(analyzer, size, *args):
        sizes.append(size)
        return real_pool(analyzer, size, *args)

    monkeypatch.setattr("mfa_guard.parallel.WorkerPool", recording_pool)
    module = tmp_path / "module"
    module.mkdir()
    (module / "main.tf").write_text('locals {\n  name = "x"\n}\n')
    units = make_units([module / "main.tf", tmp_path / "a.json"], 10_000_000)
    policy_unit(tmp_path, "a.json")
    reports = analyze_units(units, analyzer, jobs=1)
    assert sizes == [1]
    assert [report.name for report in reports] == [units[0].name, units[1].name]


def test_make_units_takes_strings_and_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    units = make_units(["main.tf", Path("b.yaml"), Path("vars.tf.json")], 100)
    assert [(unit.name, unit.path, unit.files, unit.terraform) for unit in units] == [
        ("b.yaml", "b.yaml", ("b.yaml",), False),
        (".", ".", ("main.tf", "vars.tf.json"), True),
    ]


def test_crashed_unit_keeps_comments(tmp_path, analyzer):
    path = tmp_path / "crash.yaml"
    path.write_text("# mfa-guard: ignore[MFA001] reviewed\n")
    crashing = CrashingUnit(str(path), str(path), (str(path),), False, 10_000_000)
    quick = policy_unit(tmp_path, "quick.json")
    reports = analyze_units([crashing, quick], analyzer, jobs=2)
    assert rule_ids(reports[0]) == ["MFA903"]
    assert [item.span.line for item in reports[0].comments[str(path)]] == [1]
    assert reports[1].comments == {}


ORPHAN_SCRIPT = """
import os, signal
from mfa_guard.engine.rules import load_rules
from mfa_guard.engine.runner import Analyzer
from mfa_guard.parallel import WorkerPool

pool = WorkerPool(Analyzer(load_rules()), 2).__enter__()
print(" ".join(str(worker.process.pid) for worker in pool.slots), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_workers_end_with_killed_parent():
    completed = subprocess.run(
        [sys.executable, "-c", ORPHAN_SCRIPT],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
        timeout=120,
        check=False,
    )
    workers = [int(pid) for pid in completed.stdout.split()]
    deadline = time.monotonic() + 10
    while not all(process_ended(pid) for pid in workers):
        assert time.monotonic() < deadline, "a worker outlived its parent"
        time.sleep(0.05)
    assert len(workers) == 2


def test_send_to_gone_parent_returns_false():
    # A worker whose parent closed the pipe at Ctrl-C ends without a traceback.
    worker_end, parent_end = multiprocessing.Pipe()
    parent_end.close()

    assert _send(worker_end, ("ready",)) is False


def test_send_to_parent_returns_true():
    worker_end, parent_end = multiprocessing.Pipe()

    assert _send(worker_end, ("ready",)) is True
    assert parent_end.recv() == ("ready",)
