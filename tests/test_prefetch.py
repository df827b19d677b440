"""Terraform modules loaded early in forked processes: same results, crashes isolated."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import mfa_guard.prefetch as prefetch_module
from mfa_guard.prefetch import Prefetch

REPOSITORY = Path(__file__).parent.parent

MODULE = textwrap.dedent(
    """\
    resource "aws_iam_policy" "force_mfa" {
      policy = jsonencode({
        Version = "2012-10-17"
        Statement = [{
          Sid       = "DenyAllExceptListedIfNoMFA"
          Effect    = "Deny"
          NotAction = ["iam:ListMFADevices"]
          Resource  = "*"
          Condition = { BoolIfExists = { "aws:MultiFactorAuthPresent" = "false" } }
        }]
      })
    }
    """
)

# Runs the command line in a fresh interpreter, where tfparse is not loaded
# and forking is allowed. It prints the exit code and whether the prefetch
# started to stderr. With CRASH_CHILD set, every prefetched load ends its
# process the way a Go panic in tfparse does.
RUNNER = """
import json, os, signal, sys
from mfa_guard import cli, prefetch, parallel

started = []
original = prefetch.Prefetch.start.__func__

def start(cls, *args, **kwargs):
    result = original(cls, *args, **kwargs)
    started.append(result is not None)
    return result

prefetch.Prefetch.start = classmethod(start)

# Every load, in a prefetch child, a worker or here, adds a line to LOAD_LOG.
original_load = parallel.Unit.load

def logged_load(self):
    with open(os.environ["LOAD_LOG"], "a") as log:
        log.write(self.name + "\\n")
    return original_load(self)

if os.environ.get("LOAD_LOG"):
    parallel.Unit.load = logged_load
if os.environ.get("CRASH_CHILD"):
    def crash(self):
        os.kill(os.getpid(), signal.SIGABRT)
    parallel.Unit.load = crash
if os.environ.get("SLOW_CHILD"):
    import time
    def slow(self):
        time.sleep(60)
    parallel.Unit.load = slow
code = cli.main(sys.argv[1:])
print(json.dumps({"code": code, "prefetched": started}), file=sys.stderr)
"""


def run_cli(*arguments, crash=False, load_log=None):
    env = dict(os.environ)
    env.pop("CRASH_CHILD", None)
    if crash:
        env["CRASH_CHILD"] = "1"
    if load_log is not None:
        env["LOAD_LOG"] = str(load_log)
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            RUNNER,
            "scan",
            "--format",
            "json",
            *map(str, arguments),
        ],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        env=env,
        timeout=120,
        check=False,
    )
    status = json.loads(completed.stderr.strip().splitlines()[-1])
    return status, json.loads(completed.stdout)


def located(report):
    return [(f["rule_name"], f["line"], f["column"]) for f in report["findings"]]


@pytest.fixture
def module(tmp_path):
    path = tmp_path / "iam" / "main.tf"
    path.parent.mkdir()
    path.write_text(MODULE)
    return path


def test_prefetched_scan_matches_one_process(module):
    status, prefetched = run_cli(module, "--jobs", "2", "--no-cache")
    _, single = run_cli(module, "--jobs", "1", "--no-cache")
    assert status["prefetched"] == [True]
    assert located(prefetched) == located(single)


def test_prefetched_findings_located(module):
    _, report = run_cli(module, "--jobs", "2", "--no-cache")
    assert ("password-change-blocked", 4, 18) in located(report)


def test_crashed_child_reported(module):
    status, report = run_cli(module, "--jobs", "2", "--no-cache", crash=True)
    assert status["code"] == 1
    assert located(report) == [("parse-error", 1, 1)]
    assert (
        "the process loading it died (killed by SIGABRT)"
        in report["findings"][0]["message"]
    )


def test_excluded_prefetch_dropped(module, tmp_path):
    (tmp_path / ".mfa-guard.yaml").write_text("exclude: ['main.tf']\n")
    status, report = run_cli(
        module, "--jobs", "2", "--no-cache", "--config", tmp_path / ".mfa-guard.yaml"
    )
    assert status["prefetched"] == [True]
    assert report["findings"] == []


def test_folder_not_prefetched(module):
    assert Prefetch.start([str(module.parent)], 2, 1 << 20) is None


def test_one_job_not_prefetched(module):
    assert Prefetch.start([str(module)], 1, 1 << 20) is None


def test_more_modules_than_jobs_not_prefetched(tmp_path):
    paths = []
    for name in ("a", "b", "c"):
        path = tmp_path / name / "main.tf"
        path.parent.mkdir()
        path.write_text(MODULE)
        paths.append(str(path))
    assert Prefetch.start(paths, 2, 1 << 20) is None


def run_python(script, *arguments):
    """Run `script` in a fresh interpreter, where forking is allowed; return its standard output."""
    completed = subprocess.run(
        [sys.executable, "-c", script, *map(str, arguments)],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        timeout=120,
        check=True,
    )
    return completed.stdout.strip()


def test_children_reaped_on_close(module):
    script = (
        "import os, sys\n"
        "from mfa_guard.prefetch import Prefetch\n"
        "p = Prefetch.start(sys.argv[1:], 2, 1 << 20)\n"
        "pids = [pid for pid, *_ in p._children.values()]\n"
        "p.close()\n"
        "print(all(not os.path.exists(f'/proc/{pid}') for pid in pids))\n"
    )
    assert run_python(script, module) == "True"


def test_interrupted_parent_stops_child(module):
    env = dict(os.environ, SLOW_CHILD="1")
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            RUNNER,
            "scan",
            "--jobs",
            "2",
            "--no-cache",
            str(module),
        ],
        cwd=REPOSITORY,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        children = _wait_for_children(process.pid)
        # Only the parent gets the signal, as from `kill -INT`, not Ctrl-C.
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()

    assert json.loads(err.decode().strip().splitlines()[-1])["code"] == 130
    assert len(children) == 1
    assert not Path(f"/proc/{children[0]}").exists()


def _wait_for_children(pid):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = []
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            found.extend(int(child) for child in text.split())
        if found:
            # Give the parent time to reach its wait for the child.
            time.sleep(1.0)
            return found
        time.sleep(0.02)
    raise AssertionError("the prefetch child did not start within 60 seconds")


def test_file_changed_during_prefetch_loaded_again(module):
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from mfa_guard.prefetch import Prefetch\n"
        "p = Prefetch.start(sys.argv[1:], 2, 1 << 20)\n"
        "(unit,) = p._children\n"
        "time.sleep(0.05)\n"
        "path = Path(sys.argv[1])\n"
        "path.write_text(path.read_text() + '# edited\\n')\n"
        "print(p.take(unit))\n"
    )
    assert run_python(script, module) == "None"


def test_slow_child_stopped_at_timeout(module):
    env = dict(os.environ, SLOW_CHILD="1")
    completed = subprocess.run(
        [
            *(sys.executable, "-c", RUNNER, "scan", "--format", "json"),
            *("--jobs", "2", "--no-cache", "--timeout", "1", str(module)),
        ],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        env=env,
        timeout=120,
        check=False,
    )
    report = json.loads(completed.stdout)

    assert located(report) == [("parse-error", 1, 1)]
    assert report["findings"][0]["message"] == (
        "not checked: loading took longer than 1 second"
    )


def test_warm_up_signals_failed_import(monkeypatch):
    # The child waits for this signal before it imports the loader, so a
    # missing signal would hang it until the timeout.
    from mfa_guard.prefetch import _start_parser_warm_up

    monkeypatch.setitem(sys.modules, "tfparse", None)

    warming = _start_parser_warm_up()
    warming.thread.join(10)

    assert warming.imported.is_set()


def test_configured_size_limit_keeps_prefetch(module, tmp_path):
    config = tmp_path / ".mfa-guard.yaml"
    config.write_text("max-file-size: 2000000\n")

    log = tmp_path / "loads.log"

    status, report = run_cli(
        module, "--jobs", "2", "--no-cache", "--config", config, load_log=log
    )

    assert status["prefetched"] == [True]
    # Loaded once, by the prefetch child, and not again under the new limit.
    assert log.read_text().splitlines() == [str(module.parent)]
    assert ("password-change-blocked", 4, 18) in located(report)


def test_configured_size_limit_below_file_loads_again(module, tmp_path):
    config = tmp_path / ".mfa-guard.yaml"
    config.write_text("max-file-size: 10\n")

    status, report = run_cli(module, "--jobs", "2", "--no-cache", "--config", config)

    assert status["prefetched"] == [True]
    assert located(report) == [("unresolved-policy", 1, 1)]


def test_wait_longer_than_one_select(monkeypatch):
    # A timeout beyond the maximum wait of one select is waited for in parts.
    monkeypatch.setattr(prefetch_module, "MAX_WAIT_SECONDS", 0.05)
    reader, writer = os.pipe()
    timer = threading.Timer(0.3, os.write, (writer, b"x"))
    timer.start()

    try:
        ready = Prefetch(timeout=30)._wait_readable(reader)
    finally:
        timer.cancel()
        timer.join()
        os.close(reader)
        os.close(writer)

    assert ready is True
