"""Running tfparse: its own error output is discarded in worker processes."""

import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).parent.parent.parent

SCRIPT = """
import os, sys
from mfa_guard.loaders import terraform_evaluate as evaluate

if sys.argv[1] == "quiet":
    evaluate.quiet_native_errors()
with evaluate._native_stderr():
    os.write(2, b"goroutine 1 [running]:\\n")
os.write(2, b"after\\n")
"""


def run(mode):
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode],
        capture_output=True,
        cwd=REPOSITORY,
        timeout=60,
        check=True,
    )
    return completed.stderr.decode()


def test_native_output_discarded_when_quiet():
    assert run("quiet") == "after\n"


def test_native_output_kept_by_default():
    assert run("default") == "goroutine 1 [running]:\nafter\n"
