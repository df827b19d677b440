"""Decide which files a scan reads.

Directories are walked without following symbolic links to directories, so
a symlink loop cannot trap the walk. Well-known build and dependency folders
are skipped, and inside a git checkout so is every file git ignores. Files
named on the command line are always read (pre-commit passes exactly the
files it wants checked).
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

SKIPPED_DIRECTORIES = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".terraform",
        "node_modules",
        "__pycache__",
        ".venv",
        ".tox",
    }
)
EXTENSIONS = (".tf.json", ".tf", ".json", ".yaml", ".yml", ".template")


def is_candidate(name: str) -> bool:
    return name.lower().endswith(EXTENSIONS)


def is_terraform(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(".tf") or name.endswith(".tf.json")


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def _git_visible_files(directory: Path) -> set[str] | None:
    """Return the files git does not ignore under `directory` (relative paths), or None outside a checkout."""
    try:
        completed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=directory,
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if completed.returncode != 0:
        return None
    return {
        os.path.normpath(name)
        for name in completed.stdout.decode("utf-8", "surrogateescape").split("\0")
        if name
    }


def _skip_directory(name: str, parent: str) -> bool:
    if name in SKIPPED_DIRECTORIES:
        return True
    # CDK synthesises templates into cdk.out/ next to asset folders that hold
    # bundled application code; only the templates matter.
    return os.path.basename(parent) == "cdk.out" and name.startswith("asset.")


def _walk(root: Path, discovery: Discovery) -> Iterator[Path]:
    visible = _git_visible_files(root)
    for directory, subdirectories, names in os.walk(
        root,
        onerror=lambda error: discovery.skipped.append(
            (str(error.filename), f"could not be listed: {error.strerror}")
        ),
    ):
        followed = []
        for name in sorted(subdirectories):
            full = os.path.join(directory, name)
            if _skip_directory(name, directory):
                discovery.skipped.append((full, "skipped folder"))
            elif os.path.islink(full):
                discovery.skipped.append(
                    (full, "symbolic link to a folder, not followed")
                )
            else:
                followed.append(name)
        subdirectories[:] = followed
        for name in sorted(names):
            if not is_candidate(name):
                continue
            path = Path(directory, name)
            if not path.is_file():
                # A FIFO would block the reader and a device never ends.
                discovery.skipped.append((str(path), "not a regular file"))
                continue
            if visible is not None:
                relative = os.path.normpath(os.path.relpath(path, root))
                if relative not in visible:
                    discovery.skipped.append((str(path), "ignored by git"))
                    continue
            yield path


def discover(paths: Sequence[str], excludes: Iterable[str] = ()) -> Discovery:
    """List the files to scan under `paths`, in a stable order."""
    import fnmatch

    patterns = list(excludes)
    discovery = Discovery()
    seen: set[Path] = set()

    def add(path: Path) -> None:
        text = path.as_posix()
        if any(
            fnmatch.fnmatch(text, pattern) or fnmatch.fnmatch(path.name, pattern)
            for pattern in patterns
        ):
            discovery.skipped.append((str(path), "excluded by configuration"))
            return
        key = Path(os.path.normpath(path))
        if key not in seen:
            seen.add(key)
            discovery.files.append(path)

    for argument in paths:
        path = Path(argument)
        if path.is_dir():
            for found in _walk(path, discovery):
                add(found)
        elif path.is_file():
            add(path)
        elif path.exists():
            discovery.skipped.append((argument, "not a regular file"))
        else:
            discovery.missing.append(argument)
    return discovery
