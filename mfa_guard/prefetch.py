"""Load the Terraform modules of a short file list in forked processes, early.

A pre-commit run on one `.tf` file spends about 100 ms importing the rule
engine and loading the rules, and about as long in tfparse: importing it,
starting its Go runtime and evaluating the module. The two do not depend
on each other. `Prefetch.start` forks one process per Terraform module
before the engine is imported, and each loads its module while this
process prepares the rules. The scan then takes the loaded results
instead of loading those modules again, and analyzes them here.

A child also isolates a crash of tfparse, as a worker process would: a
module whose child died is reported as not checked. Only modules that
the scan would also load are used. A prefetched unit that the final list
does not contain (because of an exclude in the configuration, say) is
dropped, and its child is stopped.

Prefetching runs only where forking is safe: on Linux, with one thread,
before tfparse is imported in this process. It is skipped for folders,
whose walk can find many modules, and for more modules than `jobs`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mfa_guard.loaders.base import LoadResult
from mfa_guard.log import get_logger
from mfa_guard.parallel import (
    MAX_WAIT_SECONDS,
    Unit,
    _oversized_terraform_file,
    crash_reason,
    describe_exit,
    timeout_reason,
)

if TYPE_CHECKING:
    import threading

logger = get_logger(__name__)

# Marks a prefetched unit whose child died; the reason is the second item.
CRASHED = "crashed"


class Prefetch:
    """Forked processes that each load one Terraform unit, kept by unit."""

    def __init__(self, debug: bool = False, timeout: float | None = None) -> None:
        self._children: dict[Unit, tuple[int, int, tuple[Stamp, ...]]] = {}
        self._idled = False
        self._debug = debug
        self._timeout = timeout
        self._started = time.monotonic()

    @classmethod
    def start(
        cls,
        paths: Sequence[str],
        jobs: int,
        max_bytes: int,
        debug: bool = False,
        timeout: float | None = None,
    ) -> Prefetch | None:
        """Fork a loader for each Terraform module among `paths`, or return None when that does not pay.

        With `debug`, the children keep tfparse's own error output. A child
        still loading `timeout` seconds after the start is stopped, and its
        module is reported as not checked.
        """
        if jobs <= 1 or not _fork_is_safe():
            return None
        if not paths or not all(os.path.isfile(path) for path in paths):
            return None

        from mfa_guard.discover import discover
        from mfa_guard.parallel import make_units

        units = [
            unit
            for unit in make_units(discover(paths, ()).paths, max_bytes)
            if unit.terraform
        ]
        if not units or len(units) > jobs:
            return None

        prefetch = cls(debug, timeout)
        for unit in units:
            prefetch._fork(unit)
        return prefetch

    def take(
        self, unit: Unit, idle: Callable[[], None] | None = None
    ) -> LoadResult | tuple[str, str] | None:
        """Return the result loaded for `unit`, (CRASHED, reason) when its child died, or None when it was not prefetched.

        When the child has not finished yet, `idle` runs first, once per
        Prefetch, so that the wait does useful work.
        """
        key = self._prefetched_as(unit)
        if key is None:
            return None
        pid, reader, stamps = self._children[key]
        if idle is not None and not self._idled and not _readable(reader):
            self._idled = True
            idle()
        if not self._wait_readable(reader):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            _wait(pid)
            os.close(reader)
            del self._children[key]
            reason = timeout_reason(self._timeout)
            logger.warning("%s: %s; its process was stopped", unit.name, reason)
            return (CRASHED, reason)
        # The child stays listed until it is reaped, so that `close` stops it
        # when the read is interrupted.
        data = _read_all(reader)
        status = _wait(pid)
        del self._children[key]
        if _stamps(unit.path) != stamps:
            # A file changed after the child started, so the result may mix
            # old and new content, which the cache would store under the new.
            logger.debug(
                "%s changed while it was prefetched; loading it again", unit.name
            )
            return None

        import pickle

        try:
            kind, value = pickle.loads(data)
        except Exception:
            cause = describe_exit(os.waitstatus_to_exitcode(status))
            logger.warning("%s: the process loading it died (%s)", unit.name, cause)
            return (CRASHED, crash_reason(cause))
        if kind != "loaded":
            return (CRASHED, f"loading it failed: {value}")
        loaded: LoadResult = value
        return loaded

    def _prefetched_as(self, unit: Unit) -> Unit | None:
        """Return the prefetched unit whose result stands for `unit`, or None.

        The prefetch starts before the configuration is read, so it uses the
        file size limit of the command line or the default. A module loaded
        under another limit gives the same result when none of its files is
        larger than the smaller limit.
        """
        if unit in self._children:
            return unit
        for other in self._children:
            if (other.path, other.files) != (unit.path, unit.files):
                continue
            smaller = min(other.max_bytes, unit.max_bytes)
            if _oversized_terraform_file(Path(unit.path), smaller) is None:
                return other
        return None

    def _wait_readable(self, reader: int) -> bool:
        """Wait until the child's result can be read. Return False when the timeout passes first."""
        if self._timeout is None:
            return True
        import select

        while True:
            left = self._timeout - (time.monotonic() - self._started)
            wait = min(max(0.0, left), MAX_WAIT_SECONDS)
            ready, _, _ = select.select([reader], [], [], wait)
            if ready:
                return True
            if left <= MAX_WAIT_SECONDS:
                return False

    def close(self) -> None:
        """Stop and reap the children whose results were not taken."""
        for pid, reader, _ in self._children.values():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.close(reader)
            _wait(pid)
        self._children.clear()

    def _fork(self, unit: Unit) -> None:
        stamps = _stamps(unit.path)
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(reader)
            _child_main(unit, writer, self._debug)
        os.close(writer)
        self._children[unit] = (pid, reader, stamps)


Stamp = tuple[str, int, int]


def _stamps(directory: str) -> tuple[Stamp, ...]:
    """Return the name, size and modification time of each file in `directory`."""
    stamps = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                try:
                    status = entry.stat()
                except OSError:
                    continue
                stamps.append((entry.name, status.st_size, status.st_mtime_ns))
    except OSError:
        return ()
    return tuple(sorted(stamps))


def load_in_child(
    unit: Unit, debug: bool = False, timeout: float | None = None
) -> LoadResult | tuple[str, str] | None:
    """Load one unit in a forked process, or return None where forking is not safe.

    Returns what `Prefetch.take` returns for a prefetched unit: the result,
    or (CRASHED, reason) when the process died or passed `timeout` seconds.
    A unit whose files change while it loads is loaded again, up to three
    times in all. After that it returns None, as when forking is not safe.
    """
    for _ in range(3):
        if not _fork_is_safe():
            return None
        prefetch = Prefetch(debug, timeout)
        try:
            prefetch._fork(unit)
            result = prefetch.take(unit)
        finally:
            prefetch.close()
        if result is not None:
            return result
    return None


def _fork_is_safe() -> bool:
    if sys.platform != "linux" or "tfparse" in sys.modules:
        return False
    # Without `threading` imported, no thread was started through it.
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1


def _child_main(unit: Unit, writer: int, debug: bool) -> None:
    """Load `unit`, send the result through `writer` and end the process. Never returns."""
    code = 0
    try:
        # Ctrl-C ends the child quietly; the parent reports the interruption.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        warming = _start_parser_warm_up()
        # The loader is imported while tfparse warms up, which releases the
        # GIL, but not while tfparse itself is imported, which holds it.
        warming.imported.wait()
        import pickle

        import mfa_guard.loaders.terraform  # noqa: F401
        from mfa_guard.loaders.terraform_evaluate import (
            limit_memory,
            quiet_native_errors,
        )

        limit_memory()
        if not debug:
            quiet_native_errors()
        warming.thread.join()
        message: tuple[str, object]
        try:
            message = ("loaded", _portable(unit.load()))
        except Exception as error:
            message = ("failed", f"{type(error).__name__}: {error}")
        data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        view = memoryview(data)
        while view:
            written = os.write(writer, view)
            view = view[written:]
    except BaseException:
        code = 1
    finally:
        os._exit(code)


class _WarmUp:
    """The thread of tfparse's warm-up, and an event set once tfparse is imported."""

    def __init__(self, thread: threading.Thread, imported: threading.Event) -> None:
        self.thread = thread
        self.imported = imported


def _start_parser_warm_up() -> _WarmUp:
    """Start tfparse's first evaluation, of a folder without Terraform files, in a thread.

    The first evaluation in a process takes about 45 ms more than later
    ones (tfparse's Go code initialising), and it releases the GIL.
    Importing tfparse takes about 10 ms alone. While another thread
    imports modules, both wait for the GIL, and the import of tfparse
    took 30 to 40 ms on the benchmark machine.
    """
    import threading

    imported = threading.Event()

    def warm_up() -> None:
        try:
            import tfparse
        except Exception as error:
            logger.debug("importing tfparse failed: %s", error)
            return
        finally:
            imported.set()
        try:
            tfparse.load_from_path(os.path.dirname(tfparse.__file__))
        except Exception as error:
            logger.debug("warming up tfparse failed: %s", error)

    thread = threading.Thread(target=warm_up, name="tfparse-warm-up", daemon=True)
    thread.start()
    return _WarmUp(thread, imported)


def _portable(loaded: LoadResult) -> LoadResult:
    """Copy the fields the analysis reads into a plain LoadResult.

    The Terraform loader returns a subclass, and unpickling it would import
    the Terraform loader modules in the parent for fields it never reads.
    """
    return LoadResult(
        documents=loaded.documents,
        diagnostics=loaded.diagnostics,
        relevant=loaded.relevant,
        note=loaded.note,
        principals=loaded.principals,
        password_policy=loaded.password_policy,
    )


def _readable(reader: int) -> bool:
    import select

    ready, _, _ = select.select([reader], [], [], 0)
    return bool(ready)


def _read_all(reader: int) -> bytes:
    chunks = []
    try:
        while True:
            chunk = os.read(reader, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(reader)
    return b"".join(chunks)


def _wait(pid: int) -> int:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return 0
    return status
