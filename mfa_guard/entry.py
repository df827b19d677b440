"""The entry point of the `mfa-guard` command and of `python -m mfa_guard`.

It imports the command-line module itself, so that Ctrl-C during the
imports, which take most of a short run, ends the run like Ctrl-C later
on: a message and exit code 130 instead of a traceback.
"""

from __future__ import annotations

import os
import sys

# Type checkers read this as True. At run time `typing` is imported with
# the command-line module, inside the block that handles Ctrl-C.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

EXIT_INTERRUPTED = 130


def run() -> NoReturn:
    """Import the command-line module and run the command."""
    try:
        from mfa_guard.cli import run as run_command
    except KeyboardInterrupt:
        print("mfa-guard: interrupted", file=sys.stderr)
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
    run_command()
