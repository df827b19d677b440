"""Load and analyze scan units, in worker processes or in this process.

A unit is what one loader reads as a whole: a file, or a Terraform module
directory. Each worker receives the analyzer once, when it starts, then
loads and analyzes one unit at a time and sends back a `UnitReport`.
Reports are returned in unit order, so the output does not depend on the
number of workers.

Workers also isolate crashes. tfparse is a Go extension, and a Go panic
ends the whole process instead of raising an exception. When a worker
dies, or runs longer than the timeout, its unit gets a parse-error
finding, a new worker takes its place and the scan goes on. With one job
everything runs in this process, without that protection.
"""

from __future__ import annotations

import contextlib
import copy
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mfa_guard.discover import TERRAFORM_EXTENSIONS, is_terraform
from mfa_guard.loaders.base import LoadResult
from mfa_guard.log import get_logger
from mfa_guard.model import Diagnostic, DiagnosticKind, Finding, SourceSpan
from mfa_guard.records import field, record, replace

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.context import ForkContext, ForkServerContext, SpawnContext
    from multiprocessing.process import BaseProcess

    from mfa_guard.cache import CacheKey, ResultCache
    from mfa_guard.engine.runner import Analyzer
    from mfa_guard.prefetch import Prefetch
    from mfa_guard.suppress import InlineSuppression

logger = get_logger(__name__)

# Maximum time in seconds to wait for a new worker process to import the
# engine and receive the analyzer.
START_TIMEOUT = 120.0

# The maximum wait that the pipes' poll and select accept is 2**31 - 1 ms,
# about 24.8 days, and a longer one raised OverflowError. A longer timeout
# is waited for in parts of this length.
MAX_WAIT_SECONDS = 2_000_000.0

# Maximum number of units other than Terraform modules sent to a worker at once.
MAX_BATCH = 16


@record
class Unit:
    """One file, or one Terraform module directory, that a loader reads as a whole.

    `name` is the display path of the file or directory, and `files` the
    discovered files it stands for. A Terraform module is evaluated with
    every `.tf` and `.tf.json` file of its directory. Paths are strings, so
    that a warm-cache scan builds no `pathlib.Path` for a unit it does not load.
    """

    name: str
    path: str
    files: tuple[str, ...]
    terraform: bool
    max_bytes: int

    def load(self) -> LoadResult:
        directory = Path(self.path)
        if not self.terraform:
            from mfa_guard.loaders.dispatch import load_file

            return load_file(directory, self.max_bytes)
        from mfa_guard.loaders.terraform import load_terraform_module

        oversized = _oversized_terraform_file(directory, self.max_bytes)
        if oversized is not None:
            return _oversized_module_result(directory, *oversized, self.max_bytes)
        return load_terraform_module(directory, [Path(name) for name in self.files])


def _oversized_terraform_file(
    directory: Path, max_bytes: int
) -> tuple[Path, int] | None:
    """Return the first Terraform file of `directory` over the size limit, and its size."""
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError:
        return None
    for entry in entries:
        if not is_terraform(entry.name):
            continue
        try:
            size = entry.stat().st_size
        except OSError:
            continue
        if size > max_bytes:
            return Path(entry.path), size
    return None


def _oversized_module_result(
    directory: Path, path: Path, size: int, max_bytes: int
) -> LoadResult:
    """Skip a module with a file over the size limit, reporting it when it mentions IAM.

    The loader evaluates every file of a module together, so the whole
    module is left out. The first 64 KiB of the file decide whether it
    looks like it declares IAM resources.
    """
    from mfa_guard.loaders.terraform import IAM_MARKERS

    problem = f"{path} is larger than the {max_bytes:,}-byte limit ({size:,} bytes)"
    try:
        with path.open("rb") as stream:
            head = stream.read(65536).decode("utf-8", "replace")
    except OSError:
        head = ""
    if not any(marker in head for marker in IAM_MARKERS):
        return LoadResult(relevant=False, note=f"module not loaded: {problem}")
    message = f"{problem}; Terraform module {directory} was not checked (raise max-file-size to check it)"
    span = SourceSpan.point(str(path), 1, 1)
    return LoadResult(
        diagnostics=[Diagnostic(DiagnosticKind.UNRESOLVED, span, message)]
    )


def make_units(files: Sequence[str | os.PathLike[str]], max_bytes: int) -> list[Unit]:
    """Group Terraform files by module directory; every other file is its own unit."""
    units: list[Unit] = []
    modules: dict[str, list[str]] = {}
    for file in files:
        path = os.fspath(file)
        # The test of `is_terraform`, inlined because this loop runs once per file.
        if path.lower().endswith(TERRAFORM_EXTENSIONS):
            # The same directory name that `str(Path(path).parent)` returns.
            directory = os.path.dirname(path) or "."
            modules.setdefault(directory, []).append(path)
        else:
            units.append(Unit(path, path, (path,), False, max_bytes))
    for directory, members in modules.items():
        units.append(Unit(directory, directory, tuple(members), True, max_bytes))
    return units


@record(frozen=False)
class UnitReport:
    """The part of a unit's result that the scan keeps: findings and `--verbose` facts.

    `read` is False when the unit contains nothing IAM-related, and `note`
    then gives the reason it was skipped. `complete` is False when the unit could not be
    checked (an internal error, a crashed worker, a timeout), so the report
    must not be cached. `comments` maps each file of a read unit that can
    contain suppression comments to the suppressions it contains.
    """

    name: str
    read: bool
    note: str = ""
    documents: int = 0
    unresolved: list[tuple[str, str]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    complete: bool = True
    comments: dict[str, list[InlineSuppression]] = field(default_factory=dict)


def analyze_unit(unit: Unit, analyzer: Analyzer, debug: bool = False) -> UnitReport:
    """Load one unit, run the analyzer on it and read its suppression comments."""
    complete = True
    try:
        loaded = unit.load()
    except Exception as error:
        if debug:
            raise
        from mfa_guard.scan import _internal_error

        loaded = _internal_error(unit.name, error)
        complete = False
    return report_loaded(unit, loaded, analyzer, complete)


def report_loaded(
    unit: Unit, loaded: LoadResult, analyzer: Analyzer, complete: bool = True
) -> UnitReport:
    """Run the analyzer on the loaded `unit` and read its suppression comments."""
    # Imported here: mfa_guard.scan imports this module, and the prefetch
    # started before the engine is imported needs only Unit and make_units.
    from mfa_guard.scan import _unresolved_parts

    read = loaded.relevant or bool(loaded.diagnostics)
    return UnitReport(
        name=unit.name,
        read=read,
        note="" if read else loaded.note or "no IAM policies",
        documents=len(loaded.documents),
        unresolved=_unresolved_parts(loaded),
        findings=analyzer.analyze_result(loaded),
        complete=complete,
        comments=_unit_comments(unit) if read else {},
    )


def _unit_comments(unit: Unit) -> dict[str, list[InlineSuppression]]:
    from mfa_guard.suppress import read_unit_comments

    return read_unit_comments(unit.name, unit.terraform)


def crash_reason(cause: str) -> str:
    """Return why a unit whose loading process died was not checked."""
    from mfa_guard.loaders.terraform_evaluate import WORKER_MEMORY_LIMIT

    return (
        f"the process loading it died ({cause}); a crash of the Terraform"
        f" parser (tfparse), or its use of more than the"
        f" {WORKER_MEMORY_LIMIT / 2**30:g} GiB a loading process may use, can"
        " cause this"
    )


def failed_unit_diagnostic(unit: Unit, reason: str) -> Diagnostic:
    """Describe a unit that could not be checked as a parse error on its first file.

    The first file of a Terraform module is the first in name order of its
    directory, not of the files named on the command line. A one-file run
    then reports the same finding as a scan of the folder, so a baseline
    of one covers the other.
    """
    path = str(unit.files[0]) if unit.files else unit.name
    if unit.terraform:
        with contextlib.suppress(OSError):
            names = sorted(name for name in os.listdir(unit.path) if is_terraform(name))
            if names:
                path = os.path.join(unit.path, names[0])
    message = f"not checked: {reason}"
    return Diagnostic(DiagnosticKind.PARSE_ERROR, SourceSpan.point(path, 1, 1), message)


def failed_unit_report(unit: Unit, analyzer: Analyzer, reason: str) -> UnitReport:
    """Report a unit that could not be checked as a parse error on its first file."""
    findings = analyzer.analyze([], [failed_unit_diagnostic(unit, reason)])
    return UnitReport(
        unit.name,
        read=True,
        findings=findings,
        complete=False,
        comments=_unit_comments(unit),
    )


@record
class WorkerState:
    """Settings that every worker receives once, when it starts."""

    analyzer: Analyzer
    debug: bool = False


def default_jobs() -> int:
    """Return the number of CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


class WorkerError(Exception):
    """An exception raised inside a worker process and not handled there."""


class RemoteTraceback(Exception):
    """The formatted traceback of a WorkerError, shown by `--debug` as its cause."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def analyze_units(
    units: Sequence[Unit],
    analyzer: Analyzer,
    jobs: int = 1,
    cache: ResultCache | None = None,
    debug: bool = False,
    timeout: float | None = None,
    prefetch: Prefetch | None = None,
) -> list[UnitReport]:
    """Analyze every unit and return the reports in unit order.

    With a `cache`, this process looks up every unit first, analyzes only
    the units without a stored report, and saves the new reports at the
    end. Up to `jobs` worker processes run the units. Without Terraform
    modules, one job or one unit runs in this process instead, because
    starting a worker would only add time. `timeout` is the maximum time in seconds one unit may take in a
    worker. Units that `prefetch` loaded are analyzed here from its
    results. Raises WorkerError for an exception inside a worker.
    """
    if cache is None:
        return _analyze_uncached(units, analyzer, jobs, debug, timeout, prefetch)

    keys: list[CacheKey | None] = [cache.key(unit) for unit in units]
    reports = [None if key is None else cache.get(key.value) for key in keys]
    missing = [index for index, report in enumerate(reports) if report is None]
    fresh = _analyze_uncached(
        [units[index] for index in missing], analyzer, jobs, debug, timeout, prefetch
    )
    for index, report in zip(missing, fresh, strict=True):
        reports[index] = report
        key = keys[index]
        # A file that changed while it was loaded must not be cached under the
        # key of its earlier content.
        if key is not None and report.complete and key.unchanged():
            cache.put(key.value, report)
    cache.save()
    return [report for report in reports if report is not None]


def _analyze_uncached(
    units: Sequence[Unit],
    analyzer: Analyzer,
    jobs: int,
    debug: bool,
    timeout: float | None,
    prefetch: Prefetch | None = None,
) -> list[UnitReport]:
    prefetched: dict[int, UnitReport] = {}
    if prefetch is not None:
        prefetched = _take_prefetched(units, analyzer, prefetch)
    rest = [unit for index, unit in enumerate(units) if index not in prefetched]
    reports = iter(_analyze_here_or_in_workers(rest, analyzer, jobs, debug, timeout))
    return [
        prefetched[index] if index in prefetched else next(reports)
        for index in range(len(units))
    ]


def _take_prefetched(
    units: Sequence[Unit], analyzer: Analyzer, prefetch: Prefetch
) -> dict[int, UnitReport]:
    from mfa_guard.prefetch import CRASHED

    reports: dict[int, UnitReport] = {}
    for index, unit in enumerate(units):
        result = prefetch.take(unit, idle=analyzer.warm_up)
        if result is None:
            continue
        if isinstance(result, tuple) and result[0] == CRASHED:
            reports[index] = failed_unit_report(unit, analyzer, result[1])
        elif isinstance(result, LoadResult):
            reports[index] = report_loaded(unit, result, analyzer)
    return reports


def _analyze_here_or_in_workers(
    units: Sequence[Unit],
    analyzer: Analyzer,
    jobs: int,
    debug: bool,
    timeout: float | None,
) -> list[UnitReport]:
    # tfparse can abort the whole process (a Go panic) and ignores Ctrl-C
    # while it runs, so Terraform modules always load in a worker process,
    # with `jobs` 1 too. A worker that dies becomes a finding, and this
    # process stays free to stop the scan.
    isolate = any(unit.terraform for unit in units)
    if not isolate and (jobs <= 1 or len(units) <= 1):
        return [analyze_unit(unit, analyzer, debug) for unit in units]

    size = max(1, min(jobs, len(units)))
    with WorkerPool(analyzer, size, debug, timeout) as pool:
        return pool.run(units)


def _portable_analyzer(analyzer: Analyzer) -> Analyzer:
    """Copy `analyzer` without the per-process values its context caches.

    The context computes its scenarios on first use, and they hold objects
    that cannot be pickled. A fresh context rebuilds them in each worker.
    """
    portable = copy.copy(analyzer)
    portable.context = replace(analyzer.context)
    return portable


def _start_method_context() -> ForkContext | ForkServerContext | SpawnContext:
    """Choose how to start workers: fork when it is safe, else a fork server or spawn.

    Forking is fastest because the child shares the parent's imported
    modules and analyzer. It is unsafe once the Go runtime of tfparse runs
    in the parent (a test run, a library caller) or other threads exist,
    and on macOS. A fork server is a clean process, started once, that
    imports the engine and forks each worker from itself. Windows only
    has spawn, which starts a new interpreter per worker.
    """
    # Imported here: a scan that runs in one process does not need them.
    import multiprocessing
    import threading

    methods = multiprocessing.get_all_start_methods()
    safe = (
        sys.platform == "linux"
        and "tfparse" not in sys.modules
        and threading.active_count() == 1
    )
    if safe and "fork" in methods:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")


def _worker_main(
    connection: Connection, state: WorkerState, parent_end: Connection | None = None
) -> None:
    """Serve batches of units from `connection` until the parent sends None or goes away.

    `parent_end` is the parent's end of the pipe, which a forked worker
    inherits. The worker closes it at once: while it stays open here, a
    read never reaches the end of the pipe when the parent dies, and the
    worker would wait for a batch forever.

    A unit sent alone, such as a Terraform module, gets its report as soon
    as it is ready, so the parent can tell which unit a worker was running
    when it died. A batch of other units gets one message with all its
    reports, which saves the parent most of its work per unit.
    """
    if parent_end is not None:
        parent_end.close()
    # The parent handles Ctrl-C and stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    from mfa_guard.loaders.terraform_evaluate import limit_memory, quiet_native_errors

    limit_memory()
    if not state.debug:
        quiet_native_errors()
    if not _send(connection, ("ready",)):
        return
    while True:
        try:
            batch = connection.recv()
        except (EOFError, OSError):
            return
        if batch is None:
            return
        reports = []
        for index, unit in batch:
            try:
                report = analyze_unit(unit, state.analyzer, state.debug)
            except Exception as error:
                import traceback

                summary = (
                    f"{type(error).__name__}: {error} (while analyzing {unit.name})"
                )
                _send(connection, ("error", index, summary, traceback.format_exc()))
                return
            reports.append((index, report))
        if not _send(connection, ("reports", reports)):
            return


def _send(connection: Connection, message: tuple[Any, ...]) -> bool:
    """Send `message` to the parent, or return False when the parent has gone.

    A parent that is stopping, at Ctrl-C for example, closes its end of the
    pipe. The worker then ends quietly, where multiprocessing would print
    the traceback of the broken pipe to the terminal that the scan shares.
    """
    try:
        connection.send(message)
    except OSError:
        return False
    return True


class _Worker:
    """One worker process, its end of the pipe and the units it was sent.

    `assigned` lists the units of the current batch, which the worker
    reports together. `started` is when the batch was sent.
    """

    def __init__(self, state: WorkerState) -> None:
        context = _start_method_context()
        parent_end, child_end = context.Pipe()
        self.connection = parent_end
        self.process: BaseProcess = context.Process(
            target=_worker_main, args=(child_end, state, parent_end), daemon=True
        )
        # The worker starts with Ctrl-C blocked and unblocks it once it
        # ignores it: a Ctrl-C while it starts would print a traceback there.
        with _interrupts_blocked():
            self.process.start()
        child_end.close()
        self.assigned: deque[int] = deque()
        self.started = 0.0

    def wait_ready(self) -> None:
        if not self.connection.poll(START_TIMEOUT):
            raise WorkerError(
                f"a worker process did not start within {START_TIMEOUT:g} seconds; rerun with --jobs 1"
            )
        try:
            message = self.connection.recv()
        except (EOFError, OSError):
            self.process.join(1)
            raise WorkerError(
                f"a worker process failed to start ({_exit_cause(self.process)}); rerun with --jobs 1"
            ) from None
        if message != ("ready",):
            raise WorkerError(f"unexpected message from a worker process: {message!r}")

    def assign(self, batch: list[tuple[int, Unit]]) -> None:
        self.assigned.extend(index for index, _ in batch)
        self.started = time.monotonic()
        try:
            self.connection.send(batch)
        except OSError:
            # The worker is gone. The next wait returns its closed pipe,
            # and the unit is reported as not checked.
            logger.debug("sending units to a worker failed", exc_info=True)

    def stop(self, force: bool) -> None:
        if not force and self.process.is_alive():
            with contextlib.suppress(OSError):
                self.connection.send(None)
            self.process.join(1)
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.connection.close()


@contextlib.contextmanager
def _interrupts_blocked() -> Iterator[None]:
    """Hold back SIGINT in this thread; one that arrives meanwhile is delivered at the end."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _exit_cause(process: BaseProcess) -> str:
    return describe_exit(process.exitcode)


def timeout_reason(seconds: float | None) -> str:
    """Return why a unit that exceeded the time limit was not checked."""
    unit = "second" if seconds == 1 else "seconds"
    return f"loading took longer than {seconds:g} {unit}"


def describe_exit(code: int | None) -> str:
    """Describe how a process ended, from its exit code (negative for a signal)."""
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class WorkerPool:
    """Worker processes that load and analyze units, for one or more `run` calls.

    Use it as a context manager: the workers start on entry and stop on
    exit. Each worker receives the analyzer once. Terraform modules are
    sent one at a time, other units in small batches to save round trips.
    A slot whose worker died stays empty until another unit needs it.
    """

    def __init__(
        self,
        analyzer: Analyzer,
        size: int,
        debug: bool = False,
        timeout: float | None = None,
    ) -> None:
        self.state = WorkerState(_portable_analyzer(analyzer), debug)
        self.analyzer = analyzer
        self.timeout = timeout
        self.slots: list[_Worker | None] = [None] * max(1, size)
        # Units of a batch whose worker died or timed out: each is sent
        # alone from then on, so that the next failure names its unit.
        self.alone: set[int] = set()

    def __enter__(self) -> WorkerPool:
        if _start_method_context().get_start_method() == "fork":
            # Forked workers share this process's memory, so they can use the
            # analyzer as it is, warmed up once here instead of once in each.
            self.analyzer.warm_up()
            self.state = WorkerState(self.analyzer, self.state.debug)
        # Start every process before waiting, so spawned workers import in parallel.
        try:
            for position in range(len(self.slots)):
                self.slots[position] = _Worker(self.state)
            for worker in self.slots:
                assert worker is not None
                worker.wait_ready()
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def __exit__(self, *exception: object) -> None:
        failed = exception[0] is not None
        for position, worker in enumerate(self.slots):
            if worker is not None:
                # A worker still holding units is stopped at once.
                worker.stop(force=failed or bool(worker.assigned))
                self.slots[position] = None

    def run(self, units: Sequence[Unit]) -> list[UnitReport]:
        """Analyze `units` and return their reports in order."""
        reports: list[UnitReport | None] = [None] * len(units)
        # Terraform modules usually take longest, so they start first.
        order = sorted(range(len(units)), key=lambda index: not units[index].terraform)
        pending = deque(order)
        while pending or self._busy():
            self._assign(pending, units)
            self._collect(pending, units, reports)
        return [report for report in reports if report is not None]

    def _busy(self) -> list[_Worker]:
        return [w for w in self.slots if w is not None and w.assigned]

    def _assign(self, pending: deque[int], units: Sequence[Unit]) -> None:
        for position, worker in enumerate(self.slots):
            if not pending:
                return
            if worker is None:
                worker = _Worker(self.state)
                self.slots[position] = worker
                worker.wait_ready()
            if not worker.assigned:
                worker.assign(self._next_batch(pending, units))

    def _next_batch(
        self, pending: deque[int], units: Sequence[Unit]
    ) -> list[tuple[int, Unit]]:
        """Take the next Terraform module alone, or a batch of other units.

        Batches shrink towards the end of the queue, so every worker stays
        busy until the last unit.
        """
        first = pending.popleft()
        batch = [(first, units[first])]
        if units[first].terraform or first in self.alone:
            return batch
        size = min(MAX_BATCH, len(pending) // (4 * len(self.slots)) + 1)
        while pending and len(batch) < size:
            index = pending[0]
            if units[index].terraform or index in self.alone:
                break
            pending.popleft()
            batch.append((index, units[index]))
        return batch

    def _collect(
        self,
        pending: deque[int],
        units: Sequence[Unit],
        reports: list[UnitReport | None],
    ) -> None:
        from multiprocessing.connection import wait

        busy = self._busy()
        handles: list[Any] = [worker.connection for worker in busy]
        handles.extend(worker.process.sentinel for worker in busy)
        ready = set(wait(handles, self._wait_seconds(busy)))
        for worker in busy:
            if worker.connection in ready or worker.process.sentinel in ready:
                self._receive(worker, pending, units, reports)
            elif self._expired(worker):
                index = worker.assigned[0]
                if self._retry_alone(worker, pending):
                    continue
                reason = timeout_reason(self.timeout)
                logger.warning(
                    "%s: %s; its worker was stopped", units[index].name, reason
                )
                self._discard(worker)
                reports[index] = failed_unit_report(units[index], self.analyzer, reason)

    def _receive(
        self,
        worker: _Worker,
        pending: deque[int],
        units: Sequence[Unit],
        reports: list[UnitReport | None],
    ) -> None:
        index = worker.assigned[0]
        try:
            message = worker.connection.recv()
        except (EOFError, OSError):
            worker.process.join(5)
            if self._retry_alone(worker, pending):
                return
            cause = _exit_cause(worker.process)
            logger.warning(
                "%s: the process loading it died (%s)", units[index].name, cause
            )
            self._discard(worker)
            reason = crash_reason(cause)
            reports[index] = failed_unit_report(units[index], self.analyzer, reason)
            return

        if message[0] == "error":
            _, _, summary, remote_traceback = message
            raise WorkerError(summary) from RemoteTraceback(remote_traceback)
        for done, report in message[1]:
            reports[done] = report
        worker.assigned.clear()

    def _retry_alone(self, worker: _Worker, pending: deque[int]) -> bool:
        """Queue again each unit of a failed batch of several, to be sent alone.

        The batch's reports come together, so the unit that failed is not
        known. Return False for a batch of one unit: that unit failed.
        """
        if len(worker.assigned) < 2:
            return False
        self.alone.update(worker.assigned)
        pending.extendleft(reversed(worker.assigned))
        worker.assigned.clear()
        self._discard(worker)
        return True

    def _discard(self, worker: _Worker) -> None:
        """Stop a failed worker and free its slot."""
        worker.assigned.clear()
        worker.stop(force=True)
        self.slots[self.slots.index(worker)] = None

    def _wait_seconds(self, busy: list[_Worker]) -> float | None:
        if self.timeout is None:
            return None
        now = time.monotonic()
        remaining = [worker.started + self.timeout - now for worker in busy]
        return min(max(0.0, min(remaining)), MAX_WAIT_SECONDS)

    def _expired(self, worker: _Worker) -> bool:
        if self.timeout is None:
            return False
        return time.monotonic() - worker.started > self.timeout
