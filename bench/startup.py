"""Time each phase of a one-file `mfa-guard scan`, to see where the cold start goes.

The phases follow `mfa_guard.cli._run_scan`: importing the CLI, reading the
configuration and loading the rules, opening the result cache, the scan
itself, suppressions and rendering. The result cache is used, as in a
pre-commit run, but lives in a fresh temporary folder, so every unit misses.

Usage: python -m bench.startup FILE [--repeat 5]
Prints the median milliseconds of each phase over the runs, each run in a
new interpreter.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent

# Runs in a new interpreter; prints one JSON object of phase -> seconds.
PHASES = """
import json, sys, time
started = time.perf_counter()
from mfa_guard import cli
from mfa_guard.engine.runner import Analyzer
from mfa_guard.gate import gate, prepare
from mfa_guard.scan import scan
imported = time.perf_counter()
args = cli._build_parser().parse_args(["scan", sys.argv[1]])
settings = prepare(args)
analyzer = Analyzer(settings.rules, settings.context)
prepared = time.perf_counter()
from mfa_guard.cache import ResultCache
from mfa_guard.parallel import default_jobs
cache = ResultCache.open(analyzer, settings.max_bytes)
opened = time.perf_counter()
result = scan(args.paths, analyzer, max_bytes=settings.max_bytes, jobs=default_jobs(), cache=cache)
scanned = time.perf_counter()
gate(result, settings, args)
output = cli._render_scan("text", settings.rules, result, False)
done = time.perf_counter()
print(json.dumps({
    "import the CLI and engine": imported - started,
    "configuration and rules": prepared - imported,
    "result cache": opened - prepared,
    "scan": scanned - opened,
    "suppressions and report": done - scanned,
}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, help="the file to scan")
    parser.add_argument("--repeat", type=int, default=5, help="runs (default: 5)")
    args = parser.parse_args()

    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = str(REPOSITORY)
    runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="mfa-guard-startup-") as folder:
        env["PYTHONPYCACHEPREFIX"] = os.path.join(folder, "pycache")
        for attempt in range(args.repeat + 1):
            env["XDG_CACHE_HOME"] = os.path.join(folder, f"cache-{attempt}")
            completed = subprocess.run(
                [sys.executable, "-c", PHASES, str(args.file)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            # The first run compiles the bytecode and is not counted.
            if attempt:
                runs.append(json.loads(completed.stdout))

    for phase in runs[0]:
        median = statistics.median(run[phase] for run in runs)
        print(f"{phase:<28} {median * 1000:7.1f} ms")
    total = statistics.median(sum(run.values()) for run in runs)
    print(f"{'total after interpreter start':<28} {total * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
