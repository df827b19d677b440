"""Files as the fixer reads and writes them: decoded text, encoding and edits.

Offsets are character offsets into the decoded text, which excludes the byte
order mark. Lines and columns are 1-based and count characters, as in the
policy model.
"""

from __future__ import annotations

import bisect
import codecs
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from mfa_guard.records import record

# UTF-32 first, because the UTF-32 LE mark starts with the UTF-16 LE mark.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class FixError(Exception):
    """An error that stops a fix from being applied, with the reason as its message."""


@record
class TextEdit:
    """Replace the characters from `start` to `end` with `text`."""

    start: int
    end: int
    text: str


@record
class SourceText:
    """A file's bytes and its text, with what it takes to encode the text again."""

    path: str
    data: bytes
    text: str
    bom: bytes
    encoding: str

    @classmethod
    def read(cls, path: str) -> SourceText:
        """Read and decode `path`, or raise FixError.

        A file is decoded by its byte order mark, or as UTF-8 without one.
        Invalid UTF-8 bytes are kept as lone surrogates, so encoding the
        unchanged text gives the same bytes.
        """
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise FixError(f"could not be read: {error.strerror or error}") from None

        bom, encoding = b"", "utf-8"
        for mark, name in _BOMS:
            if data.startswith(mark):
                bom, encoding = mark, name
                break
        try:
            text = data[len(bom) :].decode(encoding, _errors(encoding))
        except UnicodeDecodeError as error:
            raise FixError(f"invalid {encoding} text: {error.reason}") from None

        source = cls(path, data, text, bom, encoding)
        if source.encode(text) != data:
            raise FixError(f"{encoding} text does not encode back to the same bytes")
        return source

    def encode(self, text: str) -> bytes:
        return self.bom + text.encode(self.encoding, _errors(self.encoding))


def _errors(encoding: str) -> str:
    return "surrogateescape" if encoding == "utf-8" else "strict"


class LineIndex:
    """Converts between character offsets and 1-based lines and columns.

    Lines end at "\\n", as in the JSON and HCL loaders, so a "\\r" before it
    is the last character of its line.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        self.starts.extend(index + 1 for index, char in enumerate(text) if char == "\n")

    def offset(self, line: int, column: int) -> int:
        """Return the offset of a line and column, or raise FixError."""
        if not 1 <= line <= len(self.starts):
            raise FixError(f"line {line} is not in the file")
        offset = self.starts[line - 1] + column - 1
        if not 0 <= offset <= len(self.text):
            raise FixError(f"line {line}, column {column} is not in the file")
        return offset

    def location(self, offset: int) -> tuple[int, int]:
        row = bisect.bisect_right(self.starts, offset) - 1
        return row + 1, offset - self.starts[row] + 1

    def line_start(self, offset: int) -> int:
        return self.starts[bisect.bisect_right(self.starts, offset) - 1]


def newline_at(text: str, offset: int) -> str:
    """Return the line ending of the line at `offset`: "\\r\\n" or "\\n"."""
    end = text.find("\n", offset)
    if end < 0:
        end = text.rfind("\n", 0, offset)
    if end > 0 and text[end - 1] == "\r":
        return "\r\n"
    return "\n"


def apply_edits(text: str, edits: Iterable[TextEdit]) -> str:
    """Apply edits that do not overlap, from the last to the first."""
    for edit in sorted(edits, key=lambda item: (item.start, item.end), reverse=True):
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text


def overlaps(first: TextEdit, second: TextEdit) -> bool:
    """Return True when two edits touch the same text or insert at one place."""
    if first.start == second.start:
        return True
    return first.start < second.end and second.start < first.end


def write_atomic(path: str, data: bytes, expected: bytes) -> None:
    """Replace the file at `path` with `data`, or raise FixError or OSError.

    The data goes to a temporary file in the same folder, which is renamed
    over the target, so readers see the old or the new file and never a
    part of one. A symbolic link is followed and stays a link. The file
    keeps its permission bits. FixError is raised when the file no longer
    contains `expected`, because someone changed it after it was read.
    """
    target = Path(os.path.realpath(path))
    if target.read_bytes() != expected:
        raise FixError("the file changed after it was read; run the fix again")
    mode = stat.S_IMODE(target.stat().st_mode)

    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
