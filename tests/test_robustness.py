"""End-to-end behaviour of `mfa-guard scan` on hostile and unusual input."""

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.generate import generate_tree
from mfa_guard.cli import main
from mfa_guard.loaders.dispatch import _read_up_to
from tests.processes import process_ended

REPOSITORY = Path(__file__).resolve().parent.parent

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
# MFA101 points at the Bool operator: line 9, column 21.
POLICY_FINDING = ("MFA101", 9, 21)

TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  DenyPolicy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: DenyEc2WithoutMFA
            Effect: Deny
            Action: ec2:StopInstances
            Resource: "*"
            Condition:
              Bool:
                aws:MultiFactorAuthPresent: "false"
"""
TEMPLATE_FINDING = ("MFA101", 14, 15)

MODULE = """resource "aws_iam_policy" "deny" {
  name = "deny"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyEc2WithoutMFA"
      Effect    = "Deny"
      Action    = ["ec2:StopInstances"]
      Resource  = "*"
      Condition = { Bool = { "aws:MultiFactorAuthPresent" = "false" } }
    }]
  })
}
"""


def scan_cli(capsys, *arguments):
    """Run `mfa-guard scan` in this process; return exit code, report and standard error."""
    code = main(["scan", "--no-cache", "--format", "json", *map(str, arguments)])
    captured = capsys.readouterr()
    report = json.loads(captured.out) if captured.out else None
    return code, report, captured.err


def located(report):
    return [(f["rule_id"], f["line"], f["column"]) for f in report["findings"]]


def write_bytes(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_policy_over_size_limit_reported(tmp_path, capsys):
    path = write_bytes(tmp_path / "policy.json", POLICY.encode())
    size = len(POLICY.encode())
    code, report, _ = scan_cli(capsys, "--max-file-size", "100", path)
    assert code == 0
    assert located(report) == [("MFA902", 1, 1)]
    message = report["findings"][0]["message"]
    assert f"larger than the 100-byte limit ({size:,} bytes)" in message


def test_other_file_over_size_limit_skipped(tmp_path, capsys):
    path = write_bytes(
        tmp_path / "package.json", b'{"name": "web", "version": "1.0.0"}' * 10
    )
    code, report, err = scan_cli(capsys, "--max-file-size", "100", "--verbose", path)
    assert code == 0
    assert report["findings"] == []
    assert f"skipped: {path}: larger than the 100-byte limit (350 bytes)" in err


def test_file_within_size_limit_read(tmp_path, capsys):
    path = write_bytes(tmp_path / "policy.json", POLICY.encode())
    code, report, _ = scan_cli(capsys, "--max-file-size", "100000", path)
    assert code == 1
    assert located(report) == [POLICY_FINDING]


def test_size_limit_above_memory_read(tmp_path, capsys):
    # A limit of 64 GiB is more memory than a read can allocate at once.
    path = write_bytes(tmp_path / "policy.json", POLICY.encode())
    code, report, _ = scan_cli(capsys, "--max-file-size", str(64 << 30), path)
    assert code == 1
    assert located(report) == [POLICY_FINDING]


def test_read_up_to_file_that_grew():
    stream = io.BytesIO(b"0123456789")
    assert _read_up_to(stream, 8, 3) == b"01234567"


def test_read_up_to_stops_at_end():
    stream = io.BytesIO(b"0123")
    assert _read_up_to(stream, 100, 5) == b"0123"


def test_terraform_module_over_size_limit_reported(tmp_path, capsys):
    path = write_bytes(tmp_path / "module" / "main.tf", MODULE.encode())
    code, report, _ = scan_cli(capsys, "--max-file-size", "100", tmp_path)
    assert code == 0
    assert located(report) == [("MFA902", 1, 1)]
    assert report["findings"][0]["path"] == str(path)
    assert "was not checked (raise max-file-size" in report["findings"][0]["message"]


def test_terraform_module_without_iam_over_limit_skipped(tmp_path, capsys):
    path = write_bytes(
        tmp_path / "module" / "main.tf", b'resource "aws_s3_bucket" "b" {}\n' * 10
    )
    code, report, err = scan_cli(
        capsys, "--max-file-size", "100", "--verbose", tmp_path
    )
    assert code == 0
    assert report["findings"] == []
    assert f"module not loaded: {path} is larger than the 100-byte limit" in err


def test_invalid_max_file_size_is_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as raised:
        main(["scan", "--max-file-size", "0", str(tmp_path)])
    assert raised.value.code == 2
    assert "expected 1 or more" in capsys.readouterr().err


def test_deep_json_nesting_is_parse_error(tmp_path, capsys):
    text = '{"Statement": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path = write_bytes(tmp_path / "deep.json", text.encode())
    code, report, _ = scan_cli(capsys, path)
    assert code == 1
    assert [f["rule_id"] for f in report["findings"]] == ["MFA903"]
    assert "nesting deeper than" in report["findings"][0]["message"]


def test_deep_yaml_nesting_is_parse_error(tmp_path, capsys):
    text = (
        'AWSTemplateFormatVersion: "2010-09-09"\nResources: '
        + "[" * 50_000
        + "]" * 50_000
    )
    path = write_bytes(tmp_path / "deep.yaml", text.encode())
    code, report, _ = scan_cli(capsys, path)
    assert code == 1
    assert [f["rule_id"] for f in report["findings"]] == ["MFA903"]
    assert "nesting depth" in report["findings"][0]["message"]


def test_yaml_alias_bomb_bounded(tmp_path, capsys):
    lines = [
        'AWSTemplateFormatVersion: "2010-09-09"',
        "Resources:",
        '  a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]',
    ]
    for index in range(1, 10):
        name, previous = chr(ord("a") + index), chr(ord("a") + index - 1)
        lines.append(f"  {name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
    path = write_bytes(tmp_path / "bomb.yaml", "\n".join(lines).encode())
    started = time.monotonic()
    code, report, _ = scan_cli(capsys, path)
    assert time.monotonic() - started < 30
    assert code == 1
    assert "through YAML aliases" in report["findings"][0]["message"]


def test_binary_policy_reported(tmp_path, capsys):
    path = write_bytes(tmp_path / "policy.json", b'{"Statement": []}\x00\x01\x02')
    code, report, _ = scan_cli(capsys, path)
    assert code == 1
    assert located(report) == [("MFA903", 1, 1)]
    assert "binary file" in report["findings"][0]["message"]


def test_binary_file_skipped(tmp_path, capsys):
    path = write_bytes(tmp_path / "data.json", b"\x89PNG\x00\x01\x02")
    code, report, err = scan_cli(capsys, "--verbose", path)
    assert code == 0
    assert report["findings"] == []
    assert f"skipped: {path}: binary file" in err


def test_invalid_utf8_policy_reported(tmp_path, capsys):
    path = write_bytes(
        tmp_path / "policy.json", POLICY.encode().replace(b"Stop", b"St\xffp")
    )
    code, report, _ = scan_cli(capsys, path)
    assert code == 1
    assert located(report) == [("MFA903", 1, 1)]
    assert "invalid UTF-8 at byte 134" in report["findings"][0]["message"]


def test_invalid_utf8_file_skipped(tmp_path, capsys):
    path = write_bytes(tmp_path / "package.json", b'{"name": "w\xffb"}')
    code, report, err = scan_cli(capsys, "--verbose", path)
    assert code == 0
    assert report["findings"] == []
    assert f"skipped: {path}: invalid UTF-8 at byte 11" in err


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "utf-32"])
def test_byte_order_mark_policy_read(tmp_path, capsys, encoding):
    path = write_bytes(tmp_path / "policy.json", POLICY.encode(encoding))
    code, report, _ = scan_cli(capsys, path)
    assert code == 1
    assert located(report) == [POLICY_FINDING]


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("policy.json", POLICY, [POLICY_FINDING]),
        ("template.yaml", TEMPLATE, [TEMPLATE_FINDING]),
    ],
)
def test_crlf_same_positions(tmp_path, capsys, name, text, expected):
    path = write_bytes(tmp_path / name, text.replace("\n", "\r\n").encode())
    code, report, _ = scan_cli(capsys, path)
    assert code == 1
    assert located(report) == expected


def test_crlf_terraform_same_positions(tmp_path, capsys):
    lf = write_bytes(tmp_path / "lf" / "main.tf", MODULE.encode())
    crlf = write_bytes(
        tmp_path / "crlf" / "main.tf", MODULE.replace("\n", "\r\n").encode()
    )
    _, lf_report, _ = scan_cli(capsys, lf)
    code, crlf_report, _ = scan_cli(capsys, crlf)
    assert code == 1
    assert located(crlf_report) == located(lf_report)
    assert located(lf_report)


def opener(original):
    """Wrap Path.open so that opening policy.json raises PermissionError."""

    def open_path(self, *args, **kwargs):
        if self.name == "policy.json":
            raise PermissionError(13, "Permission denied", str(self))
        return original(self, *args, **kwargs)

    return open_path


def test_unreadable_file_reported(tmp_path, capsys, monkeypatch):
    path = write_bytes(tmp_path / "policy.json", POLICY.encode())
    other = write_bytes(tmp_path / "other.json", POLICY.encode())
    original = Path.read_bytes

    def read_bytes(self):
        if self.name == "policy.json":
            raise PermissionError(13, "Permission denied", str(self))
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    monkeypatch.setattr(Path, "open", opener(Path.open))
    code, report, _ = scan_cli(capsys, "--jobs", "1", tmp_path)
    assert code == 1
    assert [(f["path"], f["rule_id"]) for f in report["findings"]] == [
        (str(other), "MFA101"),
        (str(path), "MFA903"),
    ]
    assert "could not be read: Permission denied" in report["findings"][1]["message"]


def test_fifo_named_json_skipped(tmp_path, capsys):
    os.mkfifo(tmp_path / "pipe.json")
    write_bytes(tmp_path / "policy.json", POLICY.encode())
    code, report, err = scan_cli(capsys, "--verbose", tmp_path)
    assert code == 1
    assert located(report) == [POLICY_FINDING]
    assert f"skipped: {tmp_path / 'pipe.json'}: not a regular file" in err


def test_fifo_on_command_line_skipped(tmp_path, capsys):
    os.mkfifo(tmp_path / "pipe.json")
    code, report, err = scan_cli(capsys, "--verbose", tmp_path / "pipe.json")
    assert code == 0
    assert report["findings"] == []
    assert f"skipped: {tmp_path / 'pipe.json'}: not a regular file" in err


def test_folder_named_json_walked(tmp_path, capsys):
    write_bytes(tmp_path / "odd.json" / "policy.json", POLICY.encode())
    code, report, _ = scan_cli(capsys, tmp_path)
    assert code == 1
    assert [f["path"] for f in report["findings"]] == [
        str(tmp_path / "odd.json" / "policy.json")
    ]


def test_file_symlink_loop_skipped(tmp_path, capsys):
    os.symlink(tmp_path / "b.json", tmp_path / "a.json")
    os.symlink(tmp_path / "a.json", tmp_path / "b.json")
    write_bytes(tmp_path / "policy.json", POLICY.encode())
    code, report, err = scan_cli(capsys, "--verbose", tmp_path)
    assert code == 1
    assert located(report) == [POLICY_FINDING]
    assert f"skipped: {tmp_path / 'a.json'}: not a regular file" in err


def test_folder_symlink_loop_finishes(tmp_path, capsys):
    write_bytes(tmp_path / "repo" / "policy.json", POLICY.encode())
    os.symlink(tmp_path / "repo", tmp_path / "repo" / "loop")
    code, report, err = scan_cli(capsys, "--verbose", tmp_path / "repo")
    assert code == 1
    assert located(report) == [POLICY_FINDING]
    assert "symbolic link to a folder, not followed" in err


def test_spaces_and_non_ascii_in_paths(tmp_path, capsys):
    path = write_bytes(tmp_path / "my policies" / "déjà vu ☃.json", POLICY.encode())
    module = write_bytes(tmp_path / "ünï cødé" / "main.tf", MODULE.encode())
    code, report, _ = scan_cli(capsys, tmp_path)
    assert code == 1
    assert sorted(f["path"] for f in report["findings"]) == sorted(
        [str(path), str(module)]
    )


@pytest.fixture(scope="module")
def large_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("interrupt") / "tree"
    generate_tree(root, files=1500, seed=3)
    return root


def _children(pid):
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        text = Path(f"/proc/{pid}/task/{task}/children").read_text()
        found.extend(int(child) for child in text.split())
    return found


def _analyzing(process, jobs):
    """Return whether the scan is analyzing units: all its workers have started."""
    return len(_children(process.pid)) == int(jobs)


def _interrupt_when_busy(process, jobs, sent=signal.SIGINT):
    """Send a signal (SIGINT) once the scan analyzes units; return its standard error and workers."""
    deadline = time.monotonic() + 60
    while not _analyzing(process, jobs):
        assert process.poll() is None, "the scan ended before it could be interrupted"
        assert time.monotonic() < deadline, "the scan did not start within 60 seconds"
        time.sleep(0.02)

    workers = _children(process.pid)
    process.send_signal(sent)
    _, err = process.communicate(timeout=30)
    return err.decode(), workers


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_interrupt_exits_130_without_output(tmp_path, large_tree, jobs):
    output = tmp_path / "out" / "report.json"
    output.parent.mkdir()
    cache = tmp_path / "cache"
    env = dict(os.environ, XDG_CACHE_HOME=str(cache), PYTHONPATH=str(REPOSITORY))
    command = [sys.executable, "-m", "mfa_guard", "scan", str(large_tree)]
    command += ["--jobs", jobs, "--output", str(output)]

    process = subprocess.Popen(
        command,
        env=env,
        cwd=REPOSITORY,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    )
    try:
        err, workers = _interrupt_when_busy(process, jobs)
    finally:
        process.kill()

    assert process.returncode == 130
    assert "mfa-guard: interrupted" in err
    assert "Traceback" not in err
    assert list(output.parent.iterdir()) == []
    # The tree has Terraform modules, which load in a worker with one job too.
    assert len(workers) == int(jobs)
    assert all(process_ended(pid) for pid in workers)
    # The result cache is written only at the end of a scan.
    assert [path.name for path in cache.rglob("*") if path.is_file()] == []


def test_terminate_stops_workers(tmp_path, large_tree):
    output = tmp_path / "out" / "report.json"
    output.parent.mkdir()
    env = dict(
        os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONPATH=str(REPOSITORY)
    )
    command = [sys.executable, "-m", "mfa_guard", "scan", str(large_tree)]
    command += ["--jobs", "2", "--output", str(output)]

    process = subprocess.Popen(
        command,
        env=env,
        cwd=REPOSITORY,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    )
    try:
        err, workers = _interrupt_when_busy(process, "2", signal.SIGTERM)
    finally:
        process.kill()

    assert process.returncode == 128 + signal.SIGTERM
    assert "Traceback" not in err
    assert list(output.parent.iterdir()) == []
    assert len(workers) == 2
    assert all(process_ended(pid) for pid in workers)


# tfparse 0.6.22 panics on this `for_each`, which ends the process it runs in.
TFPARSE_CRASH = """resource "aws_iam_policy" "p" {
  name   = "p"
  policy = "{}"
  dynamic "x" {
    for_each = element([1], 0)
    content {}
  }
}
"""


def test_tfparse_crash_with_one_job_reported(tmp_path):
    (tmp_path / "main.tf").write_text(TFPARSE_CRASH)
    env = dict(
        os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONPATH=str(REPOSITORY)
    )
    command = [sys.executable, "-m", "mfa_guard", "scan", str(tmp_path)]
    command += ["--jobs", "1", "--format", "json"]

    process = subprocess.run(
        command, env=env, cwd=REPOSITORY, capture_output=True, timeout=120
    )

    assert process.returncode == 1
    findings = json.loads(process.stdout)["findings"]
    assert [(f["rule_id"], f["line"], f["column"]) for f in findings] == [
        ("MFA903", 1, 1)
    ]
    assert "killed by SIGABRT" in findings[0]["message"]


def run_module(*arguments, tmp_path):
    env = dict(
        os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONPATH=str(REPOSITORY)
    )
    command = [sys.executable, "-m", "mfa_guard", *map(str, arguments)]
    return subprocess.run(
        command, env=env, cwd=REPOSITORY, capture_output=True, text=True, timeout=120
    )


def test_tfparse_crash_same_in_one_file_run(tmp_path):
    module = tmp_path / "module"
    module.mkdir()
    (module / "main.tf").write_text(TFPARSE_CRASH)
    (module / "other.tf").write_text('variable "y" {}\n')

    one_file = run_module(
        "scan", module / "other.tf", "--format", "json", tmp_path=tmp_path
    )
    folder = run_module("scan", module, "--format", "json", tmp_path=tmp_path)

    # A baseline written by a folder scan must cover the pre-commit run.
    located = [
        (f["path"], f["line"], f["column"], f["message"])
        for f in json.loads(one_file.stdout)["findings"]
    ]
    assert located == [
        (f["path"], f["line"], f["column"], f["message"])
        for f in json.loads(folder.stdout)["findings"]
    ]
    assert located[0][0] == str(module / "main.tf")


def test_tfparse_crash_in_simulate_reported(tmp_path):
    (tmp_path / "main.tf").write_text(TFPARSE_CRASH)

    process = run_module(
        "simulate",
        tmp_path,
        "--action",
        "kms:Decrypt",
        "--scenario",
        "access-key",
        tmp_path=tmp_path,
    )

    assert process.returncode == 2
    assert "the process loading it died (killed by SIGABRT)" in process.stderr
    assert "no IAM policy found" in process.stderr
    assert "panic" not in process.stderr


def test_timeout_of_a_year_accepted(tmp_path):
    module = tmp_path / "module"
    module.mkdir()
    (module / "main.tf").write_text(MODULE)

    process = run_module(
        "scan", module, "--timeout", "31536000", "--format", "json", tmp_path=tmp_path
    )

    assert process.returncode == 1
    assert "OverflowError" not in process.stderr
    assert json.loads(process.stdout)["summary"]["files"] == 1


def run_python(code):
    """Run `code` in a new interpreter from the repository and return the process."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_interrupt_while_parsing_command_line():
    # Ctrl-C can arrive before `main` has set up its handling.
    code = (
        "from mfa_guard import cli\n"
        "def interrupted():\n"
        "    raise KeyboardInterrupt\n"
        "cli.main = interrupted\n"
        "cli.run()\n"
    )
    process = run_python(code)

    assert process.returncode == 130
    assert process.stderr == "mfa-guard: interrupted\n"


def test_interrupt_while_importing():
    # Ctrl-C during the imports, which take most of a short run, is
    # modelled by an import of argparse that raises KeyboardInterrupt.
    code = (
        "import sys\n"
        "class Interrupt:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'argparse':\n"
        "            raise KeyboardInterrupt\n"
        "sys.modules.pop('argparse', None)\n"
        "sys.meta_path.insert(0, Interrupt())\n"
        "sys.argv = ['mfa-guard', 'rules']\n"
        "import runpy\n"
        "runpy.run_module('mfa_guard', run_name='__main__')\n"
    )
    process = run_python(code)

    assert process.returncode == 130
    assert process.stderr == "mfa-guard: interrupted\n"
    assert process.stdout == ""


def test_memory_bomb_stopped(tmp_path):
    # Each local doubles the one before: tfparse alone would allocate until
    # the machine runs out. The loading process is capped and dies instead.
    lines = ["locals {", '  s0 = "x"']
    lines += [
        f'  s{n} = "${{local.s{n - 1}}}${{local.s{n - 1}}}"' for n in range(1, 60)
    ]
    lines += ["}", 'resource "aws_iam_policy" "p" {', "  policy = local.s59", "}"]
    module = tmp_path / "module"
    module.mkdir()
    (module / "main.tf").write_text("\n".join(lines) + "\n")

    process = run_module(
        "scan", module, "--format", "json", "--timeout", "100", tmp_path=tmp_path
    )

    assert process.returncode == 1
    (finding,) = json.loads(process.stdout)["findings"]
    assert (finding["rule_id"], finding["line"], finding["column"]) == ("MFA903", 1, 1)
    assert "4 GiB a loading process may use" in finding["message"]


def test_memory_limit_applies():
    code = (
        "from mfa_guard.loaders.terraform_evaluate import limit_memory\n"
        "limit_memory(200 * 1024 * 1024)\n"
        "try:\n"
        "    data = bytearray(400 * 1024 * 1024)\n"
        "except MemoryError:\n"
        "    print('stopped')\n"
    )
    process = run_python(code)

    assert process.stdout == "stopped\n"
