"""Debug messages and warnings, with `logging` imported only when one is written.

Importing `logging` took 9 ms of a one-file scan on the benchmark machine,
and a scan without `--debug` usually writes nothing. Modules call
`get_logger(__name__)` and write through the returned Logger as they would
through logging's own.

A debug message is dropped while `logging` is not imported: `--debug`
imports it (see `configure`), and so does any program that embeds
mfa-guard and sets up logging itself. A warning always imports it.
"""

from __future__ import annotations

import sys
from types import ModuleType

_FORMAT = "mfa-guard: %(levelname)s: %(message)s"
# The values of logging.DEBUG and logging.WARNING, without importing logging.
_DEBUG = 10
_WARNING = 30

# The level that `configure` set and that is not applied yet.
_pending_level: int | None = None


def configure(debug: bool) -> None:
    """Write warnings, and with `debug` also debug messages, to standard error.

    As with `logging.basicConfig`, nothing changes when the root logger
    already has a handler.
    """
    global _pending_level
    _pending_level = _DEBUG if debug else _WARNING
    if debug or "logging" in sys.modules:
        _logging()


def shutdown() -> None:
    """Flush the handlers of `logging`, if it was imported."""
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.shutdown()


def _logging() -> ModuleType:
    global _pending_level
    import logging

    if _pending_level is not None:
        logging.basicConfig(level=_pending_level, format=_FORMAT)
        _pending_level = None
    return logging


class Logger:
    """A named logger that imports `logging` on its first written message."""

    def __init__(self, name: str) -> None:
        self.name = name

    def debug(self, message: str, *args: object, exc_info: bool = False) -> None:
        if "logging" in sys.modules:
            _logging().getLogger(self.name).debug(message, *args, exc_info=exc_info)

    def warning(self, message: str, *args: object) -> None:
        _logging().getLogger(self.name).warning(message, *args)


def get_logger(name: str) -> Logger:
    return Logger(name)
