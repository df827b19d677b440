"""Evaluate a Terraform module directory with tfparse.

tfparse (the evaluator trivy uses) returns an empty or partial result when
any file of the directory has a syntax error. It therefore runs with
`stop_on_hcl_error`, which makes it raise with HCL's own message and
position for the first broken file. tfparse then runs again without that
file, on a temporary directory of symbolic links to the other entries. This
way `file()` and local module sources still resolve, and nothing is written
inside the scanned tree. Files of local child modules can be left out the
same way: the temporary directory then mirrors the directories from their
common ancestor down.

Each run reports one broken file, so after a few HCL messages the files
tree-sitter found broken are left out together, to bound the number of runs.
Variable definitions files are passed as `vars_paths`, and one that HCL
rejects is left out like a broken file.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from mfa_guard.loaders.positions import Pos
from mfa_guard.records import field, record

# Maximum number of broken files that get HCL's own message (one tfparse run each).
HCL_MESSAGE_LIMIT = 3

# An HCL diagnostic in a tfparse error, for example
# "unable to create TerraformConverter: bad.tf:2,9-3,1: Invalid multi-line
# string; Quoted strings may not be split over multiple lines., and 2 other
# diagnostic(s)".
_HCL_DIAGNOSTIC = re.compile(
    r"(?P<file>[^\s:][^:]*?):(?P<line>\d+),(?P<column>\d+)(?:-\d+(?:,\d+)?)?: "
    r"(?P<summary>[^;]*?)(?:; (?P<detail>.*?))?"
    r"(?:, and \d+ other diagnostic\(s\))?$",
    re.DOTALL,
)


@record(frozen=False)
class Evaluation:
    """tfparse's output for one directory.

    `excluded` names the files left out of the evaluation. `syntax_errors`
    maps a file name to the position and message of the syntax error HCL
    reported in it. `error` describes a failure that stopped evaluation as a
    whole, and `blocks` is then empty.
    """

    blocks: dict[str, Any] = field(default_factory=dict)
    excluded: set[str] = field(default_factory=set)
    syntax_errors: dict[str, tuple[Pos, str]] = field(default_factory=dict)
    error: str | None = None


_quiet_native_errors = False


# Maximum memory, in bytes, of a process that loads Terraform. tfparse has
# no limit of its own: a module of 59 locals that each double a string
# made it allocate 9 GB within 30 seconds. Past the limit its Go runtime
# ends the process, which the parent reports as a crash. A module of the
# benchmark tree needs about 60 MB, and a 9 MB file of 17,000 policies,
# near the default file size limit, 2.1 GB.
WORKER_MEMORY_LIMIT = 4 * 1024 * 1024 * 1024


def limit_memory(limit: int = WORKER_MEMORY_LIMIT) -> None:
    """Cap the heap of this process at `limit` bytes, or lower where it is lower already.

    Worker processes call this. RLIMIT_DATA counts the anonymous memory
    that both Python and Go allocate, but not the mapped library files.
    """
    try:
        import resource
    except ImportError:  # not on Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    target = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    if soft == resource.RLIM_INFINITY or soft > target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_DATA, (target, hard))


def quiet_native_errors() -> None:
    """Discard what tfparse's Go code writes to stderr, from now on, in this process.

    Worker processes call this. A Go panic writes the stack of every
    goroutine, often hundreds of lines, before it ends the process, and
    the parent reports the crash as a finding anyway.
    """
    global _quiet_native_errors
    _quiet_native_errors = True


@contextlib.contextmanager
def _native_stderr() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null while tfparse runs, when errors are quiet."""
    if not _quiet_native_errors:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    discard = os.open(os.devnull, os.O_WRONLY)
    os.dup2(discard, 2)
    os.close(discard)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def evaluate_module(
    directory: Path,
    broken: set[str],
    unsafe: set[str],
    var_files: Iterable[str] = (),
    modules: Iterable[str] = (),
    rewritten: Mapping[str, str] | None = None,
) -> Evaluation:
    """Run tfparse on `directory`, leaving out broken files after a syntax error.

    File names are relative to `directory`. `broken` names the files
    tree-sitter found broken. They are left out only after HCL has reported
    HCL_MESSAGE_LIMIT syntax errors, because a file that HCL accepts is
    valid whatever tree-sitter-hcl reports. `unsafe` names files that would
    crash tfparse, which are always left out. `var_files` are the variable
    definitions files in load order, and `modules` the directories of local
    child modules relative to `directory`. `rewritten` maps file names to
    the text tfparse reads in place of the file's own.
    """
    import tfparse

    evaluation = Evaluation()
    excluded = evaluation.excluded
    excluded.update(unsafe)
    var_names = list(var_files)
    module_directories = list(modules)
    attempts = len(os.listdir(directory)) + 2
    for _ in range(attempts):
        try:
            with (
                _module_view(
                    directory, excluded, module_directories, rewritten or {}
                ) as path,
                _native_stderr(),
            ):
                evaluation.blocks = tfparse.load_from_path(
                    path,
                    stop_on_hcl_error=True,
                    allow_downloads=False,
                    vars_paths=[name for name in var_names if name not in excluded],
                )
            return evaluation
        except tfparse.ParseError as error:
            found = parse_hcl_diagnostic(str(error))
            # A name with a directory is a file of a child module, which
            # leaving out files of this directory cannot fix.
            if found is None or found[0] in excluded or "/" in found[0]:
                evaluation.error = str(error)
                return evaluation
            name, pos, message = found
            evaluation.syntax_errors[name] = (pos, message)
            excluded.add(name)
            if len(evaluation.syntax_errors) >= HCL_MESSAGE_LIMIT:
                excluded.update(broken)
        except Exception as error:  # a failure inside the Go extension
            evaluation.error = f"{type(error).__name__}: {error}"
            return evaluation
    evaluation.error = "tfparse reported a syntax error in every file"
    return evaluation


def parse_hcl_diagnostic(text: str) -> tuple[str, Pos, str] | None:
    """Return the file name, position and message of an HCL diagnostic."""
    match = _HCL_DIAGNOSTIC.search(text.strip())
    if match is None:
        return None
    line, column = int(match["line"]), int(match["column"])
    message = match["summary"].strip().rstrip(".")
    if match["detail"]:
        message += ": " + match["detail"].strip()
    return match["file"], (line, column, line, column), message


@contextlib.contextmanager
def _module_view(
    directory: Path,
    excluded: set[str],
    modules: list[str],
    rewritten: Mapping[str, str],
) -> Iterator[str]:
    """Yield a directory that shows the module tree without the `excluded` files.

    `excluded`, `modules` and the names in `rewritten` are relative to
    `directory`. A rewritten file shows the text `rewritten` gives. Each
    directory that contains an excluded or rewritten file, and each of its
    ancestors up to the common ancestor of all module directories, is
    recreated with symbolic links to its other entries. The view of `directory` sits at the same
    relative place, so `../` sources resolve as they do in the real tree.
    NOTE: a `file()` outside those directories (`../shared/policy.json`
    from a module whose own directory is recreated) no longer resolves.
    """
    if not excluded and not rewritten:
        yield str(directory)
        return

    root = os.path.abspath(directory)
    texts = {
        os.path.normpath(os.path.join(root, name)): text
        for name, text in rewritten.items()
        if name not in excluded
    }
    hidden = {os.path.normpath(os.path.join(root, name)) for name in excluded}
    hidden.update(texts)
    trees = {os.path.normpath(os.path.join(root, name)) for name in modules}
    base = os.path.commonpath([root, *trees, *(os.path.dirname(p) for p in hidden)])
    recreated = _ancestors({root, *(os.path.dirname(p) for p in hidden)}, base)

    # Imported here: it brings in shutil, lzma and random, about 6 ms that
    # most modules, with no file excluded, do not need.
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mfa-guard-") as view:
        for original in sorted(recreated):
            copy = os.path.join(view, os.path.relpath(original, base))
            os.makedirs(copy, exist_ok=True)
            for entry in os.scandir(original):
                target = os.path.join(original, entry.name)
                if target in texts:
                    with open(
                        os.path.join(copy, entry.name),
                        "w",
                        encoding="utf-8",
                        errors="surrogateescape",
                    ) as handle:
                        handle.write(texts[target])
                elif target not in hidden and target not in recreated:
                    os.symlink(target, os.path.join(copy, entry.name))
        yield os.path.normpath(os.path.join(view, os.path.relpath(root, base)))


def _ancestors(directories: set[str], base: str) -> set[str]:
    """Return the directories and every ancestor of them down from `base`."""
    result = set()
    for directory in directories:
        current = directory
        while True:
            result.add(current)
            parent = os.path.dirname(current)
            if current == base or parent == current:
                break
            current = parent
    return result
