"""Shard files of the result cache: merging, size limit, interrupted and failed writes."""

import logging
import os
import signal
import time

import pytest

import mfa_guard.cache_store as cache_store
from mfa_guard.cache_store import HEADER, ShardStore, read_shard

# Keys that share the shard `entries-0`, and one in `entries-a`.
FIRST = "0" + "1" * 63
SECOND = "0" + "2" * 63
THIRD = "0" + "3" * 63
OTHER_SHARD = "a" + "1" * 63

# Size in bytes of one shard line holding the entry text "{}".
LINE_BYTES = 64 + 1 + 2 + 1


def shard_keys(folder, shard="0"):
    return list(read_shard(str(folder / f"entries-{shard}")))


def temporary_files(folder):
    return [path.name for path in folder.iterdir() if path.name.startswith(".tmp-")]


def test_store_round_trip(tmp_path):
    store = ShardStore(str(tmp_path))
    store.put(FIRST, '{"a":1}')
    store.put(OTHER_SHARD, '{"b":2}')
    store.save()
    reopened = ShardStore(str(tmp_path))
    assert reopened.get(FIRST) == '{"a":1}'
    assert reopened.get(OTHER_SHARD) == '{"b":2}'
    assert reopened.get(SECOND) is None
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "entries-0",
        "entries-a",
    ]


def test_shard_file_layout(tmp_path):
    store = ShardStore(str(tmp_path))
    store.put(FIRST, "{}")
    store.save()
    text = (tmp_path / "entries-0").read_text()
    assert text == f"{HEADER}\n{FIRST} {{}}\n"


def test_save_without_changes_writes_nothing(tmp_path):
    store = ShardStore(str(tmp_path))
    assert store.get(FIRST) is None
    store.save()
    assert list(tmp_path.iterdir()) == []


def test_concurrent_scans_keep_both_entries(tmp_path):
    first = ShardStore(str(tmp_path))
    second = ShardStore(str(tmp_path))
    assert first.get(FIRST) is None
    assert second.get(SECOND) is None
    first.put(FIRST, "{}")
    second.put(SECOND, "{}")
    first.save()
    second.save()
    assert shard_keys(tmp_path) == [SECOND, FIRST]


def test_used_entries_kept_first(tmp_path, monkeypatch):
    old = ShardStore(str(tmp_path))
    old.put(FIRST, "{}")
    old.put(SECOND, "{}")
    old.save()
    monkeypatch.setattr(
        cache_store, "MAX_SHARD_BYTES", len(HEADER) + 1 + 2 * LINE_BYTES
    )
    store = ShardStore(str(tmp_path))
    assert store.get(SECOND) == "{}"
    store.put(THIRD, "{}")
    store.save()
    assert shard_keys(tmp_path) == [SECOND, THIRD]


def test_entry_over_limit_left_out(tmp_path, monkeypatch):
    monkeypatch.setattr(
        cache_store, "MAX_SHARD_BYTES", len(HEADER) + 1 + 2 * LINE_BYTES
    )
    store = ShardStore(str(tmp_path))
    store.put(FIRST, "{}")
    store.put(SECOND, '"' + "x" * 200 + '"')
    store.put(THIRD, "{}")
    store.save()
    assert shard_keys(tmp_path) == [FIRST, THIRD]


def test_entry_over_limit_logged(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(
        cache_store, "MAX_SHARD_BYTES", len(HEADER) + 1 + 2 * LINE_BYTES
    )
    store = ShardStore(str(tmp_path))
    store.put(SECOND, '"' + "x" * 200 + '"')

    with caplog.at_level(logging.DEBUG, logger="mfa_guard.cache_store"):
        store.save()

    assert f"cache entry {SECOND} of 268 bytes not stored: shard 0 is full" in (
        caplog.text
    )


def test_discarded_entry_not_written_back(tmp_path):
    (tmp_path / "entries-0").write_text(f"{HEADER}\n{FIRST} damaged\n")
    store = ShardStore(str(tmp_path))
    assert store.get(FIRST) == "damaged"
    store.discard(FIRST)
    assert store.get(FIRST) is None
    store.put(SECOND, "{}")
    store.save()
    assert shard_keys(tmp_path) == [SECOND]


@pytest.mark.parametrize(
    ("key", "text", "message"),
    [
        (FIRST, "{\n}", "invalid cache entry"),
        (FIRST, '"zürich"', "invalid cache entry"),
        ("0 1", "{}", "invalid cache key"),
        ("", "{}", "invalid cache key"),
    ],
)
def test_invalid_entry_rejected(tmp_path, key, text, message):
    store = ShardStore(str(tmp_path))
    with pytest.raises(ValueError, match=message):
        store.put(key, text)


class Interrupted:
    """A text stream whose `write` raises KeyboardInterrupt, as Ctrl-C during a write would."""

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.stream.close()

    def write(self, text):
        self.stream.write(text[: len(text) // 2])
        raise KeyboardInterrupt


def interrupt_write(monkeypatch):
    def opening(path, mode="r", *args, **kwargs):
        stream = open(path, mode, *args, **kwargs)  # noqa: SIM115 (the caller closes it)
        return Interrupted(stream) if "x" in mode else stream

    monkeypatch.setattr(cache_store, "open", opening, raising=False)


def interrupt_rename(monkeypatch):
    def renaming(source, target):
        raise KeyboardInterrupt

    monkeypatch.setattr(cache_store.os, "replace", renaming)


@pytest.mark.parametrize("interrupt", [interrupt_write, interrupt_rename])
def test_interrupted_save_leaves_old_shard(tmp_path, monkeypatch, interrupt):
    old = ShardStore(str(tmp_path))
    old.put(FIRST, "{}")
    old.save()
    before = (tmp_path / "entries-0").read_text()

    store = ShardStore(str(tmp_path))
    store.put(SECOND, "{}")
    interrupt(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        store.save()
    assert temporary_files(tmp_path) == []
    assert (tmp_path / "entries-0").read_text() == before


def test_failed_write_logged(tmp_path, caplog):
    (tmp_path / "entries-0").mkdir()
    store = ShardStore(str(tmp_path))
    store.put(FIRST, "{}")
    with caplog.at_level(logging.DEBUG, logger="mfa_guard.cache_store"):
        store.save()
    assert "ignoring unreadable cache file" in caplog.text
    assert "failed to write cache file" in caplog.text
    assert temporary_files(tmp_path) == []


def test_stale_temporary_file_removed(tmp_path):
    stale = tmp_path / ".tmp-entries-0-123-abcd"
    fresh = tmp_path / ".tmp-entries-0-456-ef01"
    stale.write_text("partial")
    fresh.write_text("partial")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    store = ShardStore(str(tmp_path))
    store.put(FIRST, "{}")
    store.save()
    assert temporary_files(tmp_path) == [fresh.name]


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"mfa-guard result cache 1\n" + FIRST.encode() + b" {}\n",
        HEADER.encode() + b"\n\xff\xfe\n",
    ],
)
def test_damaged_shard_counts_as_empty(tmp_path, content):
    (tmp_path / "entries-0").write_bytes(content)
    store = ShardStore(str(tmp_path))
    assert store.get(FIRST) is None


def test_oversized_shard_not_read(tmp_path, caplog):
    shard = tmp_path / "entries-0"
    shard.write_bytes(HEADER.encode() + b"\n" + FIRST.encode() + b" {}\n")
    with shard.open("r+b") as stream:
        stream.truncate(cache_store.MAX_READ_BYTES + 1)
    caplog.set_level(logging.DEBUG, logger="mfa_guard.cache_store")
    assert read_shard(str(shard)) == {}
    assert f"larger than {cache_store.MAX_READ_BYTES} bytes" in caplog.text


@pytest.fixture
def time_limit():
    """Fail a test that blocks for 10 seconds, instead of letting it hang."""

    def expire(signum, frame):
        # pytest.fail raises an exception that `except OSError` does not catch.
        pytest.fail("blocked for 10 seconds")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, 10)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


def make_fifo(path):
    os.mkfifo(path)


def make_folder(path):
    path.mkdir()


def make_fifo_link(path):
    os.mkfifo(path.with_name("pipe"))
    path.symlink_to("pipe")


# A link to /dev/zero is tested in a separate process in test_cache.py,
# because a read without the regular-file check would fill this one's memory.
@pytest.mark.parametrize("make", [make_fifo, make_folder, make_fifo_link])
def test_irregular_shard_counts_as_empty(tmp_path, time_limit, caplog, make):
    make(tmp_path / "entries-0")
    with caplog.at_level(logging.DEBUG, logger="mfa_guard.cache_store"):
        entries = read_shard(str(tmp_path / "entries-0"))
    assert entries == {}
    assert (
        f"ignoring unreadable cache file {tmp_path / 'entries-0'}: not a regular file"
        in caplog.text
    )


@pytest.mark.parametrize("make", [make_fifo, make_fifo_link])
def test_save_replaces_irregular_shard(tmp_path, time_limit, make):
    make(tmp_path / "entries-0")
    store = ShardStore(str(tmp_path))
    assert store.get(FIRST) is None
    store.put(FIRST, "{}")
    store.save()
    assert (tmp_path / "entries-0").is_file()
    assert not (tmp_path / "entries-0").is_symlink()
    assert shard_keys(tmp_path) == [FIRST]
    assert temporary_files(tmp_path) == []


def test_save_keeps_folder_shard(tmp_path, time_limit):
    (tmp_path / "entries-0").mkdir()
    store = ShardStore(str(tmp_path))
    store.put(FIRST, "{}")
    store.save()
    assert (tmp_path / "entries-0").is_dir()
    assert temporary_files(tmp_path) == []
