"""Storage for result cache entries: a few shard files, each written once per scan.

Entries are spread over 16 shard files, `entries-0` to `entries-f`, by the
first hexadecimal digit of their key. A scan of a whole repository
therefore reads at most 16 files, and at its end rewrites only the shards
that gained entries. A one-file run reads one shard.

A shard is ASCII text: the line HEADER, then one line per entry with the
key, a space and the entry text, which must not contain a line break. It
is written to a temporary file in the same folder and renamed over the old
shard, so a reader sees the old or the new shard, never part of one. A
write interrupted by an exception, Ctrl-C included, removes its temporary
file, and a save removes the ones that a killed process left. A shard that
cannot be read, is not a regular file or starts with another header counts
as empty. The rename replaces a named pipe or a link in a shard's place,
but fails on a folder, so the entries of that shard are not kept.

A save reads each shard again before it rewrites it, so two scans that
save one after the other keep each other's entries. When they save at the
same moment, the last rename wins, and the entries that only the other
scan added are lost until a later scan adds them again.

Each rewrite keeps first the entries this process used, then the other
entries on disk in their order, and leaves out entries that do not fit in
MAX_SHARD_BYTES. Entries that recent scans used therefore stay longest,
and the cache stays under 16 times MAX_SHARD_BYTES. NOTE: a scan rewrites
only the shards it added entries to, so its hits in other shards do not
move those entries forward.
"""

from __future__ import annotations

import os
import stat
import time

from mfa_guard.log import get_logger

logger = get_logger(__name__)

HEADER = "mfa-guard result cache 2"

# Maximum size of one shard file in bytes, so 32 MiB for the whole cache.
MAX_SHARD_BYTES = 2 * 1024 * 1024

# A larger shard file was not written by mfa-guard, so it is not read:
# reading a file of any size whole could take seconds and gigabytes.
MAX_READ_BYTES = 2 * MAX_SHARD_BYTES

# A temporary file older than this many seconds is taken to be left by a
# killed process, because a write takes well under a second, and the next
# save removes it.
STALE_TEMPORARY_SECONDS = 3600

TEMPORARY_PREFIX = ".tmp-"

# Flags for opening a file to read. Opening a named pipe without O_NONBLOCK
# blocks until a writer appears. The flag does not change how a regular file
# is read.
OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)

# Bytes asked for by each read of a shard file.
READ_CHUNK_BYTES = 1024 * 1024


class ShardStore:
    """Entry texts by key, read from the shard files in `directory` on first use."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        # Shard name -> key -> entry text, as read from disk plus what `put` added.
        self._entries: dict[str, dict[str, str]] = {}
        # Shard name -> the entries that `get` returned or `put` added, in order of use.
        self._used: dict[str, dict[str, str]] = {}
        self._discarded: set[str] = set()
        self._changed: set[str] = set()

    def get(self, key: str) -> str | None:
        """Return the entry text stored under `key`, or None."""
        shard = _shard_name(key)
        text = self._shard_entries(shard).get(key)
        if text is not None:
            self._used.setdefault(shard, {})[key] = text
        return text

    def put(self, key: str, text: str) -> None:
        """Store `text` under `key` until the next `save` writes it.

        Raises ValueError unless the key is ASCII letters and digits and the
        text is ASCII without a line break.
        """
        if not (key.isascii() and key.isalnum()):
            raise ValueError(f"invalid cache key {key!r}: expected a hex digest")
        if not text.isascii() or "\n" in text:
            raise ValueError("invalid cache entry: expected ASCII text on one line")
        shard = _shard_name(key)
        self._shard_entries(shard)[key] = text
        self._used.setdefault(shard, {})[key] = text
        self._discarded.discard(key)
        self._changed.add(shard)

    def discard(self, key: str) -> None:
        """Forget a damaged entry, and leave it out when its shard is next written."""
        shard = _shard_name(key)
        self._shard_entries(shard).pop(key, None)
        self._used.get(shard, {}).pop(key, None)
        self._discarded.add(key)

    def save(self) -> None:
        """Rewrite every shard that `put` changed since the last save."""
        if not self._changed:
            return
        for shard in sorted(self._changed):
            self._write_shard(shard)
        self._changed.clear()
        _remove_stale_temporary_files(self.directory)

    def shard_path(self, shard: str) -> str:
        return os.path.join(self.directory, f"entries-{shard}")

    def _shard_entries(self, shard: str) -> dict[str, str]:
        entries = self._entries.get(shard)
        if entries is None:
            entries = read_shard(self.shard_path(shard))
            self._entries[shard] = entries
        return entries

    def _write_shard(self, shard: str) -> None:
        path = self.shard_path(shard)
        # Read again: another scan may have written this shard since this one read it.
        merged = dict(self._used.get(shard, {}))
        for key, text in read_shard(path).items():
            if key not in self._discarded:
                merged.setdefault(key, text)

        lines = [HEADER + "\n"]
        size = len(lines[0])
        for key, text in merged.items():
            line = f"{key} {text}\n"
            if size + len(line) > MAX_SHARD_BYTES:
                logger.debug(
                    "cache entry %s of %d bytes not stored: shard %s is full",
                    key,
                    len(line),
                    shard,
                )
                continue
            lines.append(line)
            size += len(line)
        _write_atomically(path, "".join(lines))


def _shard_name(key: str) -> str:
    return key[:1]


def read_shard(path: str) -> dict[str, str]:
    """Return the entries of one shard file, or none when it is missing or damaged.

    A path that is not a regular file (a named pipe, a folder, a device)
    counts as unreadable. It is opened without blocking and checked on the
    open descriptor, so a pipe cannot stall the scan and a file swapped in
    between a check and the open cannot pass.
    """
    try:
        data = _read_regular_file(path)
    except FileNotFoundError:
        return {}
    except OSError as error:
        logger.debug("ignoring unreadable cache file %s: %s", path, error)
        return {}
    if data is None:
        logger.debug("ignoring unreadable cache file %s: not a regular file", path)
        return {}

    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as error:
        logger.debug("ignoring cache file %s: not ASCII text (%s)", path, error)
        return {}
    header, _, body = text.partition("\n")
    if header != HEADER:
        logger.debug("ignoring cache file %s: its first line is not %r", path, HEADER)
        return {}

    entries: dict[str, str] = {}
    for line in body.split("\n"):
        key, separator, entry = line.partition(" ")
        if key and separator:
            entries[key] = entry
    return entries


def _read_regular_file(path: str) -> bytes | None:
    """Read all of `path`, or return None when it is not a regular file.

    Raises OSError when the file cannot be opened or read, or is larger
    than MAX_READ_BYTES.
    """
    descriptor = os.open(path, OPEN_FLAGS)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        chunks = []
        size = 0
        while chunk := os.read(descriptor, READ_CHUNK_BYTES):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_READ_BYTES:
                raise OSError(f"larger than {MAX_READ_BYTES} bytes")
    finally:
        os.close(descriptor)
    return b"".join(chunks)


def _write_atomically(path: str, text: str) -> None:
    """Replace `path` with `text` through a new temporary file. A failure is logged at debug level."""
    folder, name = os.path.split(path)
    # The random part keeps two processes apart even when they have the same
    # process id, as in two containers that share a cache folder.
    temporary = os.path.join(
        folder, f"{TEMPORARY_PREFIX}{name}-{os.getpid()}-{os.urandom(4).hex()}"
    )
    renamed = False
    try:
        with open(temporary, "x", encoding="ascii", newline="") as stream:
            stream.write(text)
        os.replace(temporary, path)
        renamed = True
    except OSError as error:
        logger.debug("failed to write cache file %s: %s", path, error)
    finally:
        # Also runs on KeyboardInterrupt, so Ctrl-C leaves no partial file.
        if not renamed:
            _remove(temporary)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as error:
        logger.debug("failed to remove cache file %s: %s", path, error)


def _remove_stale_temporary_files(directory: str) -> None:
    """Remove temporary files that a killed process left behind."""
    limit = time.time() - STALE_TEMPORARY_SECONDS
    try:
        with os.scandir(directory) as entries:
            stale = [
                entry.path
                for entry in entries
                if entry.name.startswith(TEMPORARY_PREFIX)
                and entry.stat(follow_symlinks=False).st_mtime < limit
            ]
    except OSError as error:
        logger.debug("failed to list cache folder %s: %s", directory, error)
        return
    for path in stale:
        _remove(path)
