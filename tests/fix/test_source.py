"""Reading, encoding, positions and atomic writes of the fixer's files."""

import codecs
import os

import pytest

from mfa_guard.fix.source import (
    FixError,
    LineIndex,
    SourceText,
    TextEdit,
    apply_edits,
    newline_at,
    overlaps,
    write_atomic,
)


@pytest.mark.parametrize(
    ("data", "encoding", "text"),
    [
        (b'{"a": 1}\n', "utf-8", '{"a": 1}\n'),
        (codecs.BOM_UTF8 + b"x\r\n", "utf-8", "x\r\n"),
        ("\ufeffx\n".encode("utf-16-le"), "utf-16-le", "x\n"),
        ("\ufeffx\n".encode("utf-16-be"), "utf-16-be", "x\n"),
        ("\ufeffx\n".encode("utf-32-le"), "utf-32-le", "x\n"),
    ],
)
def test_read_detects_encoding(tmp_path, data, encoding, text):
    path = tmp_path / "policy.json"
    path.write_bytes(data)
    source = SourceText.read(str(path))
    assert source.encoding == encoding
    assert source.text == text
    assert source.encode(source.text) == data


def test_invalid_utf8_bytes_kept(tmp_path):
    path = tmp_path / "main.tf"
    path.write_bytes(b'# caf\xe9\nname = "x"\n')
    source = SourceText.read(str(path))
    assert source.encode(source.text.replace('"x"', '"y"')) == (
        b'# caf\xe9\nname = "y"\n'
    )


def test_invalid_utf16_rejected(tmp_path):
    path = tmp_path / "policy.json"
    path.write_bytes(codecs.BOM_UTF16_LE + b"\x00\xd8")
    with pytest.raises(FixError, match="invalid utf-16-le text"):
        SourceText.read(str(path))


def test_line_index_counts_characters():
    index = LineIndex("ä\r\nbc\n")
    assert index.offset(1, 1) == 0
    assert index.offset(2, 2) == 4
    assert index.location(4) == (2, 2)
    assert index.line_start(4) == 3


@pytest.mark.parametrize(("line", "column"), [(0, 1), (4, 1), (3, 9)])
def test_line_index_rejects_outside(line, column):
    with pytest.raises(FixError):
        LineIndex("ab\ncd\n").offset(line, column)


@pytest.mark.parametrize(
    ("text", "offset", "expected"),
    [
        ("a\r\nb\r\n", 0, "\r\n"),
        ("a\nb\n", 3, "\n"),
        ("a\r\nb", 3, "\r\n"),
        ("ab", 1, "\n"),
    ],
)
def test_newline_at(text, offset, expected):
    assert newline_at(text, offset) == expected


def test_apply_edits_in_any_order():
    edits = [TextEdit(0, 1, "A"), TextEdit(4, 4, "!"), TextEdit(2, 3, "C")]
    assert apply_edits("abcd", edits) == "AbCd!"


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        (TextEdit(0, 2, "x"), TextEdit(1, 3, "y"), True),
        (TextEdit(0, 2, "x"), TextEdit(2, 3, "y"), False),
        (TextEdit(2, 2, "x"), TextEdit(2, 2, "y"), True),
        (TextEdit(2, 2, "x"), TextEdit(0, 1, "y"), False),
    ],
)
def test_overlaps(first, second, expected):
    assert overlaps(first, second) is expected


def test_write_atomic_replaces_file(tmp_path):
    path = tmp_path / "policy.json"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    write_atomic(str(path), b"new", expected=b"old")
    assert path.read_bytes() == b"new"
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.listdir(tmp_path) == ["policy.json"]


def test_write_atomic_rejects_changed_file(tmp_path):
    path = tmp_path / "policy.json"
    path.write_bytes(b"edited")
    with pytest.raises(FixError, match="changed after it was read"):
        write_atomic(str(path), b"new", expected=b"old")
    assert path.read_bytes() == b"edited"
