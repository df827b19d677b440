import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mfa_guard.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


class ScanRun:
    def __init__(self, code, data, stderr):
        self.code = code
        self.data = data
        self.stderr = stderr

    @property
    def findings(self):
        return self.data["findings"]

    def located(self):
        """Return (rule name, line, column) for each finding, in report order."""
        return [(f["rule_name"], f["line"], f["column"]) for f in self.findings]


@pytest.fixture(autouse=True)
def isolated_user_folders(tmp_path_factory, monkeypatch):
    """Keep every test away from the user's cache and configuration.

    The result cache goes to a temporary folder instead of ~/.cache. HOME
    is the folder of all temporary folders, so the search for a
    `.mfa-guard.yaml` above a test's folder ends there and never reads a
    file in /tmp or /.
    """
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("HOME", str(tmp_path_factory.getbasetemp()))


@pytest.fixture
def run_scan(capsys):
    def run(*arguments):
        code = main(["scan", "--format", "json", *map(str, arguments)])
        captured = capsys.readouterr()
        data = json.loads(captured.out) if captured.out else None
        return ScanRun(code, data, captured.err)

    return run


@pytest.fixture
def try_repo():
    """Return a runner of `pre-commit try-repo` on this repository, offline.

    pre-commit installs the hook into a fresh virtualenv, so pip reads only
    the wheels in MFA_GUARD_WHEELHOUSE. GIT_* variables are dropped because
    pytest may run inside a git hook, whose variables would point git at
    another repository.
    """

    def run(repository, home, hook_id, *files):
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("GIT_")
        }
        environment.update(
            {
                "PRE_COMMIT_HOME": str(home),
                "PIP_NO_INDEX": "1",
                "PIP_FIND_LINKS": os.environ["MFA_GUARD_WHEELHOUSE"],
                "NO_COLOR": "1",
            }
        )
        root = Path(__file__).resolve().parents[1]
        command = [
            sys.executable,
            "-m",
            "pre_commit",
            "try-repo",
            str(root),
            hook_id,
            "--files",
            *files,
        ]
        return subprocess.run(
            command,
            cwd=repository,
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    return run
