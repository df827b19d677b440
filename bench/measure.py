"""Run a command in a child process and measure its wall time and memory.

CPU time (user plus system) counts the command and every child it waited
for, so it adds up the work of worker processes and varies less than
wall time on a busy machine. Peak memory is measured two ways. `max_rss_mb` is the kernel's maximum
resident set size of the child or of any process it waited for
(`os.wait4`), so it is the largest single process. `tree_pss_mb` samples
the proportional set size of the child and all its descendants every
20 ms from `/proc/<pid>/smaps_rollup` and keeps the largest sum. PSS
splits pages that forked workers share, so the sum is not inflated, but
sampling can miss a peak shorter than the interval.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.02


@dataclass
class Measurement:
    """Wall time, CPU time of the command and its waited-for children, and peak memory."""

    seconds: float
    cpu_seconds: float
    max_rss_mb: float
    tree_pss_mb: float
    exit_code: int
    stderr: str


def _descendants(pid: int) -> list[int]:
    found = [pid]
    index = 0
    while index < len(found):
        current = found[index]
        index += 1
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                text = Path(f"/proc/{current}/task/{task}/children").read_text()
            except OSError:
                continue
            found.extend(int(child) for child in text.split())
    return found


def _pss_kib(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


class _TreeSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kib = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            total = sum(_pss_kib(pid) for pid in _descendants(self.pid))
            self.peak_kib = max(self.peak_kib, total)
            self.done.wait(SAMPLE_SECONDS)


def measure(
    command: Sequence[str], env: dict[str, str], cwd: Path | None = None
) -> Measurement:
    """Run `command` once, discarding its standard output."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        # A session of its own lets an interrupted benchmark stop the
        # command's own worker processes too.
        process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        sampler = _TreeSampler(process.pid)
        sampler.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            os.killpg(process.pid, signal.SIGKILL)
            raise
        seconds = time.perf_counter() - started
        sampler.done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        stderr = errors.read().decode("utf-8", "replace")
    # ru_maxrss is in KiB on Linux.
    return Measurement(
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        max_rss_mb=usage.ru_maxrss / 1024,
        tree_pss_mb=sampler.peak_kib / 1024,
        exit_code=process.returncode,
        stderr=stderr,
    )


def measure_median(
    command: Sequence[str],
    env: dict[str, str],
    runs: int,
    cwd: Path | None = None,
    allowed_codes: tuple[int, ...] = (0,),
) -> Measurement:
    """Run `command` `runs` times; return the median time and the largest memory figures.

    Raises RuntimeError when an exit code is not in `allowed_codes`.
    """
    results = []
    for _ in range(runs):
        result = measure(command, env, cwd)
        if result.exit_code not in allowed_codes:
            raise RuntimeError(
                f"{' '.join(command)} failed with exit code {result.exit_code}:\n{result.stderr[-2000:]}"
            )
        results.append(result)
    return Measurement(
        seconds=statistics.median(result.seconds for result in results),
        cpu_seconds=statistics.median(result.cpu_seconds for result in results),
        max_rss_mb=max(result.max_rss_mb for result in results),
        tree_pss_mb=max(result.tree_pss_mb for result in results),
        exit_code=results[-1].exit_code,
        stderr=results[-1].stderr,
    )
