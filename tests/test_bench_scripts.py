"""The benchmark's helper scripts still run against the current code.

They call internal functions, so a change there can break them without any
other test noticing. Each runs once on a shipped example.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
EXAMPLE = REPOSITORY / "examples" / "json" / "force_mfa.json"


def run_module(*args: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


def test_startup_phases() -> None:
    output = run_module("bench.startup", str(EXAMPLE), "--repeat", "1")

    phases = [line.rsplit(None, 2)[0] for line in output.splitlines()]
    assert phases == [
        "import the CLI and engine",
        "configuration and rules",
        "result cache",
        "scan",
        "suppressions and report",
        "total after interpreter start",
    ]


def test_parse_floor() -> None:
    output = json.loads(run_module("bench.parse_floor", str(EXAMPLE.parent)))

    assert output["files"] == 4
    assert output["seconds"] > 0
