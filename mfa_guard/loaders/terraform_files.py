"""Read the files a Terraform configuration names: `file()` and `templatefile()`.

A configuration may name any path, so the loader reads only what the
repository itself contains. Inside a git work tree the file must be inside
that work tree. Outside one it must be inside a directory Terraform loads
anyway: the root module or one of its local child modules. Symbolic links
are resolved before that check. Only regular files up to the loader's size
limit are read, because opening a named pipe or a device such as
/dev/zero would block or never end.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from mfa_guard.checkout import checkout_root
from mfa_guard.loaders.base import DEFAULT_MAX_BYTES
from mfa_guard.loaders.hcl_source import SourceFile, read_source


class FileRejected(Exception):
    """A named file that the loader does not read. The message gives the reason."""


def repository_roots(directory: Path, module_directories: Iterable[Path]) -> list[Path]:
    """Return the resolved directories whose files a configuration may name."""
    resolved = directory.resolve()
    root = checkout_root(resolved)
    if root is not None:
        return [Path(root)]
    return [resolved, *(path.resolve() for path in module_directories)]


def check_regular_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Raise FileRejected unless `path` is a regular file of at most `max_bytes`."""
    try:
        status = os.stat(path)
    except OSError as error:
        raise FileRejected(f"could not be read: {error.strerror or error}") from None
    if not stat.S_ISREG(status.st_mode):
        raise FileRejected("is not a regular file")
    if status.st_size > max_bytes:
        raise FileRejected(
            f"is larger than the {max_bytes:,}-byte limit ({status.st_size:,} bytes)"
        )


def read_named_file(root: Path, name: str, allowed: list[Path]) -> SourceFile:
    """Read the file a configuration names, relative to the root module.

    Raises FileRejected with the reason when the file is outside `allowed`,
    is not a regular file, is too large or cannot be read.
    """
    if "\0" in name:
        raise FileRejected("has a NUL character in its name, which no file can have")
    path = Path(os.path.normpath(root / name))
    resolved = path.resolve()
    if not any(resolved.is_relative_to(base) for base in allowed):
        raise FileRejected("is outside the repository")
    check_regular_file(resolved)
    try:
        return read_source(path, path.name)
    except OSError as error:
        raise FileRejected(f"could not be read: {error.strerror or error}") from None
