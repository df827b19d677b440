import json
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
def isolated_cache(tmp_path_factory, monkeypatch):
    """Keep the result cache of every test in a temporary folder, never in ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def run_scan(capsys):
    def run(*arguments):
        code = main(["scan", "--format", "json", *map(str, arguments)])
        captured = capsys.readouterr()
        data = json.loads(captured.out) if captured.out else None
        return ScanRun(code, data, captured.err)

    return run
