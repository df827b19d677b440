"""Decide which files a scan reads.

Directories are walked without following symbolic links to directories, so
a symlink loop cannot trap the walk. Well-known build and dependency folders
are skipped, and inside a git checkout so is every file git ignores. Files
named on the command line are always read (pre-commit passes exactly the
files it wants checked).

The walk works on path strings from `os.scandir` and builds no `pathlib.Path`
per file, because that cost about as much as the rest of a warm-cache scan.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from mfa_guard.checkout import checkout_root
from mfa_guard.log import get_logger
from mfa_guard.records import field, record

logger = get_logger(__name__)

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
# The skip reason of a file that an exclude pattern matches.
EXCLUDED = "excluded by configuration"

EXTENSIONS = (".tf.json", ".tf", ".json", ".yaml", ".yml", ".template")
TERRAFORM_EXTENSIONS = (".tf", ".tf.json")


def is_candidate(name: str) -> bool:
    return name.lower().endswith(EXTENSIONS)


def is_terraform(path: str | os.PathLike[str]) -> bool:
    """Return whether the file name ends in `.tf` or `.tf.json`, in any case."""
    return os.path.basename(path).lower().endswith(TERRAFORM_EXTENSIONS)


@record(frozen=False)
class Discovery:
    """The files to scan, and the paths left out with the reason for each.

    `paths` contains the display path of each file in scan order. It has the
    form `str(Path(...))` produces, so a path given as `./x` is listed as `x`.
    """

    paths: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def files(self) -> list[Path]:
        """The files to scan as `Path` objects, built on each access."""
        return [Path(path) for path in self.paths]


def _inside_git_checkout(directory: str) -> bool:
    """Return False when neither `directory` nor a parent contains `.git`.

    Then `git ls-files` would fail, so the scan does not start git. When
    GIT_DIR is set, git can find a repository anywhere, so this returns True.
    """
    if "GIT_DIR" in os.environ:
        return True
    return checkout_root(directory) is not None


def _git_visible_files(directory: str) -> set[str] | None:
    """Return the files git does not ignore under `directory` (relative paths), or None outside a checkout."""
    if not _inside_git_checkout(directory):
        return None

    import subprocess

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


def _is_directory(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _is_regular_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def _list_directory(
    directory: str, discovery: Discovery
) -> tuple[list[os.DirEntry[str]], list[os.DirEntry[str]]] | None:
    """Return the subdirectories and the other entries of `directory`, each sorted by name.

    A symbolic link to a directory counts as a subdirectory, as in `os.walk`.
    Returns None, and records why, when the directory cannot be listed.
    """
    try:
        with os.scandir(directory) as entries:
            listed = list(entries)
    except OSError as error:
        discovery.skipped.append(
            (str(error.filename), f"could not be listed: {error.strerror}")
        )
        return None

    listed.sort(key=lambda entry: entry.name)
    subdirectories: list[os.DirEntry[str]] = []
    others: list[os.DirEntry[str]] = []
    for entry in listed:
        if _is_directory(entry):
            subdirectories.append(entry)
        else:
            others.append(entry)
    return subdirectories, others


def _walk(root: str, discovery: Discovery) -> Iterator[str]:
    """Yield the display path of each candidate file under `root`, in `os.walk` order.

    Each directory's files come first, then its subdirectories in name
    order, depth first. Skip reasons name a folder as `os.walk` does
    (`./node_modules` under the root `.`) and a file in the display form.
    """
    visible = _git_visible_files(root)
    file_prefix = "" if root == "." else os.path.join(root, "")

    # Each item is a folder path as `os.walk` forms it, and its path relative to `root`.
    stack: list[tuple[str, str]] = [(root, "")]
    while stack:
        directory, relative_directory = stack.pop()
        listing = _list_directory(directory, discovery)
        if listing is None:
            continue
        subdirectories, others = listing

        followed: list[tuple[str, str]] = []
        for entry in subdirectories:
            full = os.path.join(directory, entry.name)
            if _skip_directory(entry.name, directory):
                discovery.skipped.append((full, "skipped folder"))
            elif entry.is_symlink():
                discovery.skipped.append(
                    (full, "symbolic link to a folder, not followed")
                )
            else:
                followed.append((full, relative_directory + entry.name + os.sep))

        for entry in others:
            if not is_candidate(entry.name):
                continue
            relative = relative_directory + entry.name
            path = file_prefix + relative
            if not _is_regular_file(entry):
                # A FIFO would block the reader and a device never ends.
                discovery.skipped.append((path, "not a regular file"))
                continue
            if visible is not None and relative not in visible:
                discovery.skipped.append((path, "ignored by git"))
                continue
            yield path

        stack.extend(reversed(followed))


def anchor_patterns(
    patterns: Iterable[str], folder: str | os.PathLike[str]
) -> list[str]:
    """Return absolute globs that match what `patterns` match relative to `folder`.

    A pattern without a slash matches file names in any folder, so it needs
    no anchored form and is left out. An absolute pattern stays as it is.
    `..` in a pattern is resolved against `folder`, as in a path.
    """
    patterns = list(patterns)
    if not patterns:
        return []

    import glob

    base = glob.escape(os.path.abspath(folder))
    anchored = []
    for pattern in patterns:
        if "/" not in pattern and os.sep not in pattern:
            continue
        path = os.path.normpath(os.path.join(base, pattern))
        # normpath drops the slash that makes a folder pattern.
        if pattern.endswith(("/", os.sep)):
            path += os.sep
        anchored.append(path)
    return anchored


def file_patterns(patterns: Iterable[str], folder: str | os.PathLike[str]) -> list[str]:
    """Return the globs to match for `patterns` written in a file in `folder`.

    A pattern without a slash matches file names, so it is kept as it is.
    Every other pattern is anchored to `folder`, so that it matches the same
    files whatever the current folder.
    """
    patterns = list(patterns)
    names = [p for p in patterns if "/" not in p and os.sep not in p]
    return names + anchor_patterns(patterns, folder)


def path_matcher(patterns: Sequence[str]) -> Callable[[str], bool] | None:
    """Build a test of whether a path matches one of the globs, as in `fnmatch`.

    A relative pattern is matched against the path as given and against the
    file name. An absolute pattern (from `anchor_patterns`) is matched against
    the path as given and against the path made absolute. A pattern that
    ends with a slash matches every path under that folder. Returns None
    when there are no patterns. NOTE: symbolic links are not resolved, so a file
    reached through a link is matched by the path of the link.
    """
    if not patterns:
        return None

    import fnmatch
    import re

    relative = []
    absolute = []
    for pattern in patterns:
        # A glob that ends with a slash names a folder: everything under it.
        if pattern.endswith(("/", os.sep)):
            pattern += "*"
        match = re.compile(fnmatch.translate(os.path.normcase(pattern))).match
        if os.path.isabs(pattern):
            absolute.append(match)
        else:
            relative.append(match)

    def matches(path: str) -> bool:
        text = os.path.normcase(path.replace(os.sep, "/"))
        name = os.path.normcase(os.path.basename(path))
        if any(match(text) or match(name) for match in relative):
            return True
        if not absolute:
            return False

        full = os.path.normcase(os.path.abspath(path))
        return any(match(text) or match(full) for match in absolute)

    return matches


def discover(paths: Sequence[str], excludes: Iterable[str] = ()) -> Discovery:
    """List the files to scan under `paths`, in a stable order.

    `excludes` are globs for `path_matcher`, and a file that one matches is
    listed in `skipped` with the reason EXCLUDED.
    """
    excluded = path_matcher(list(excludes))
    discovery = Discovery()
    seen: set[str] = set()

    def add(path: str) -> None:
        if excluded is not None and excluded(path):
            discovery.skipped.append((path, EXCLUDED))
            return
        # By absolute path, so that `x.json` and `/repo/x.json` are one file.
        key = os.path.normcase(os.path.abspath(path))
        if key not in seen:
            seen.add(key)
            discovery.paths.append(path)

    for argument in paths:
        path = Path(argument)
        if path.is_dir():
            for found in _walk(str(path), discovery):
                add(found)
        elif path.is_file():
            add(str(path))
        elif path.exists():
            discovery.skipped.append((argument, "not a regular file"))
        else:
            discovery.missing.append(argument)
    return discovery
