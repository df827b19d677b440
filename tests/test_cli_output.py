"""Where the report goes: standard output, a file, a link, a named pipe."""

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mfa_guard.cli import _use_colour, main

REPOSITORY = Path(__file__).parent.parent
POLICY = REPOSITORY / "examples" / "json" / "force_mfa.json"


def scan_to(target):
    return main(
        ["scan", "--no-cache", "--format", "json", "--output", str(target), str(POLICY)]
    )


def test_new_file_follows_umask(tmp_path):
    old = os.umask(0o022)
    try:
        scan_to(tmp_path / "report.json")
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "report.json").stat().st_mode)
    assert mode == 0o644


def test_existing_file_keeps_mode(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")
    target.chmod(0o640)
    scan_to(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_text().startswith("{")


def test_link_followed(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    scan_to(link)
    assert link.is_symlink()
    assert real.read_text().startswith("{")


def test_named_pipe_written_in_place(tmp_path):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received = []
    reader = threading.Thread(
        target=lambda: received.append(pipe.read_text()), daemon=True
    )
    reader.start()
    scan_to(pipe)
    reader.join(timeout=30)
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert received[0].startswith("{")


def test_dev_stdout_written_in_place():
    command = [sys.executable, "-m", "mfa_guard", "scan", "--no-cache"]
    completed = subprocess.run(
        [*command, "--format", "json", "--output", "/dev/stdout", str(POLICY)],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 1
    assert completed.stdout.startswith("{")
    assert completed.stderr == ""


def test_no_colour_in_output_file():
    assert _use_colour(Path("report.txt")) is False


def run_closed_stdout(*arguments):
    """Run mfa-guard with its standard output closed; return exit code and stderr."""
    command = [sys.executable, "-m", "mfa_guard", *arguments]
    script = " ".join(f"'{part}'" for part in command) + " >&-"
    completed = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        timeout=120,
        check=False,
    )
    return completed.returncode, completed.stderr


def test_closed_stdout_with_output_file(tmp_path):
    target = tmp_path / "report.json"
    code, err = run_closed_stdout(
        "scan", "--no-cache", "--format", "json", "--output", str(target), str(POLICY)
    )
    assert code == 1
    assert err == ""
    assert target.read_text().startswith("{")


def test_closed_stdout_without_output_file():
    code, err = run_closed_stdout("scan", "--no-cache", str(POLICY))
    assert code == 2
    assert "standard output is closed; name a file with --output" in err
    assert "Traceback" not in err


def test_output_folder_missing(tmp_path, capsys):
    target = tmp_path / "missing" / "report.json"

    assert scan_to(target) == 2
    assert capsys.readouterr().err == (
        f"mfa-guard: error: --output: folder not found: {target.parent}\n"
    )


def test_output_file_unwritable(tmp_path, capsys, monkeypatch):
    # The folder exists when the scan starts, and is a file by the time the
    # report is written.
    import mfa_guard.cli as cli

    target = tmp_path / "reports" / "report.json"
    target.parent.mkdir()
    render = cli._render_scan

    def replace_folder(*arguments):
        target.parent.rmdir()
        target.parent.write_text("")
        return render(*arguments)

    monkeypatch.setattr(cli, "_render_scan", replace_folder)
    code = scan_to(target)

    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mfa-guard: error: --output: failed to write {target}: ")


@pytest.mark.parametrize("name", ["MFA001", "mfa001", "password-change-blocked"])
def test_explain_finds_rule_in_any_case(name, capsys):
    code = main(["explain", name])

    assert code == 0
    assert capsys.readouterr().out.startswith("# MFA001 password-change-blocked\n")


def test_explain_unknown_rule(capsys):
    code = main(["explain", "MFA999"])

    assert code == 2
    assert "no rule named 'MFA999'" in capsys.readouterr().err
