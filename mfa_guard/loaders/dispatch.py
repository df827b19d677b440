"""Read one file safely and send it to the loader for its format.

Reading is bounded (file size), decoding handles byte-order marks, and a file
that is binary or not text is skipped with a note. Whether a broken file is
reported or skipped quietly depends on whether it looks like it contains IAM
policies: a JSON file mentioning "Statement" is reported, a `tsconfig.json`
with comments is not.
"""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path
from typing import Any, BinaryIO

from mfa_guard.loaders import plan_json
from mfa_guard.loaders.base import DEFAULT_MAX_BYTES, LoadResult
from mfa_guard.loaders.build import build_document, is_template, looks_like_policy
from mfa_guard.loaders.jsonpos import JsonError, ParsedJson, parse_json
from mfa_guard.model import Diagnostic, DiagnosticKind, PolicyKind, SourceSpan

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_POLICY_MARKERS = (
    '"Statement"',
    '"AWSTemplateFormatVersion"',
    '"AWS::',
    '"resource_changes"',
)


class UnreadableFile(Exception):
    """A file that cannot be read as text. The message gives the reason.

    `reason` is one of "not-regular", "unreadable", "too-large", "binary" or
    "encoding". `head` contains the first bytes when they could be read, so the
    caller can tell whether the file looked like a policy.
    """

    def __init__(self, message: str, reason: str, head: bytes = b"") -> None:
        super().__init__(message)
        self.reason = reason
        self.head = head


_HEAD_BYTES = 65536

# Size of each further read of a file that grew after its size was taken.
_CHUNK_BYTES = 1 << 20

_POLICY_BYTE_MARKERS = (
    b"Statement",
    b"AWSTemplateFormatVersion",
    b"AWS::",
    b"aws_iam_",
    b"resource_changes",
)


def _read_bounded(path: Path, max_bytes: int) -> bytes:
    """Read at most `max_bytes` of a regular file; FIFOs and devices are rejected before reading."""
    try:
        with path.open("rb") as stream:
            status = os.fstat(stream.fileno())
            if not stat.S_ISREG(status.st_mode):
                raise UnreadableFile("not a regular file", "not-regular")
            data = _read_up_to(stream, max_bytes + 1, status.st_size + 1)
    except OSError as error:
        raise UnreadableFile(
            f"could not be read: {error.strerror or error}", "unreadable"
        ) from None
    if len(data) > max_bytes:
        message = f"larger than the {max_bytes:,}-byte limit ({status.st_size:,} bytes)"
        raise UnreadableFile(message, "too-large", data[:_HEAD_BYTES])
    return data


def _read_up_to(stream: BinaryIO, limit: int, expected: int) -> bytes:
    """Read at most `limit` bytes, reading `expected` bytes first.

    A read allocates the size it requests, so requesting a limit far above
    the file's size, such as `--max-file-size 68719476736`, failed with
    MemoryError. A file that grew since its size was taken is read on in
    chunks, still up to `limit`.
    """
    data = stream.read(min(limit, expected))
    chunks = [data]
    remaining = limit - len(data)
    while data and remaining > 0:
        data = stream.read(min(remaining, _CHUNK_BYTES))
        chunks.append(data)
        remaining -= len(data)
    return b"".join(chunks)


def read_text(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Read and decode `path`, or raise UnreadableFile."""
    if not path.is_file():
        # Checked before opening: opening a FIFO for reading blocks until a writer appears.
        raise UnreadableFile("not a regular file", "not-regular")
    data = _read_bounded(path, max_bytes)
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as error:
                message = f"invalid {encoding} text at byte {error.start + len(bom)}"
                raise UnreadableFile(message, "encoding", data[:_HEAD_BYTES]) from None
    if b"\0" in data:
        raise UnreadableFile("binary file", "binary", data[:_HEAD_BYTES])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        message = f"invalid UTF-8 at byte {error.start}"
        raise UnreadableFile(message, "encoding", data[:_HEAD_BYTES]) from None


def unreadable_result(error: UnreadableFile, path: str) -> LoadResult:
    """Report a file that could not be read when it may hold policies, else skip it with a note.

    An unreadable file is always reported, because it was selected for the
    scan. A file too large, binary or badly encoded is reported only when its
    first bytes mention policy markers, so a large lock file is just skipped.
    """
    looks_relevant = any(marker in error.head for marker in _POLICY_BYTE_MARKERS)
    if error.reason == "unreadable" or (
        error.reason in ("binary", "encoding") and looks_relevant
    ):
        return _parse_error(path, 1, 1, f"{path} {error}; it was not checked")
    if error.reason == "too-large" and looks_relevant:
        message = (
            f"{path} is {error}; it was not checked (raise max-file-size to check it)"
        )
        diagnostic = Diagnostic(DiagnosticKind.UNRESOLVED, _span(path, 1, 1), message)
        return LoadResult(diagnostics=[diagnostic])
    return LoadResult(relevant=False, note=str(error))


def _span(path: str, line: int, column: int) -> SourceSpan:
    return SourceSpan(path, line, column, line, column)


def _parse_error(path: str, line: int, column: int, message: str) -> LoadResult:
    diagnostic = Diagnostic(
        DiagnosticKind.PARSE_ERROR, _span(path, line, column), message
    )
    return LoadResult(diagnostics=[diagnostic])


def looks_like_json_policy_file(text: str) -> bool:
    return any(marker in text for marker in _POLICY_MARKERS)


def _policy_kind(value: dict[str, Any]) -> PolicyKind:
    statements = value.get("Statement")
    raw_items = statements if isinstance(statements, list) else [statements]
    items = [item for item in raw_items if isinstance(item, dict)]
    if items and all("Principal" in item or "NotPrincipal" in item for item in items):
        actions: list[Any] = []
        for item in items:
            action = item.get("Action", [])
            actions.extend(action if isinstance(action, list) else [action])
        if actions and all(
            isinstance(a, str) and a.lower().startswith("sts:assumerole")
            for a in actions
        ):
            return PolicyKind.TRUST
        return PolicyKind.RESOURCE
    return PolicyKind.IDENTITY


def _duplicate_diagnostics(parsed: ParsedJson, path: str) -> list[Diagnostic]:
    diagnostics = []
    for duplicate in parsed.duplicates:
        line, column, _, _ = duplicate.pos
        message = f"duplicate key {duplicate.key!r} (first at line {duplicate.first_pos[0]}): only the last value is used"
        diagnostics.append(
            Diagnostic(DiagnosticKind.PARSE_ERROR, _span(path, line, column), message)
        )
    return diagnostics


def load_json_policies(value: Any, path: str) -> LoadResult:
    """Load a standalone policy document, or a list of them."""
    result = LoadResult()
    items = value if isinstance(value, list) else [value]
    for index, item in enumerate(items):
        if not looks_like_policy(item):
            continue
        name = f"[{index}]" if isinstance(value, list) else ""
        document, problems = build_document(
            item, path=path, name=name, kind=_policy_kind(item)
        )
        if document is not None:
            result.documents.append(document)
        result.diagnostics.extend(problems)
    return result


def load_json_text(text: str, path: str) -> LoadResult:
    """Load a `.json` file: policies, a CloudFormation template or a Terraform plan."""
    relevant = looks_like_json_policy_file(text)
    try:
        parsed = parse_json(text)
    except JsonError as error:
        if not relevant:
            return LoadResult(
                relevant=False, note=f"not JSON ({error.message}) and no policy markers"
            )
        return _parse_error(
            path, error.line, error.column, f"invalid JSON: {error.message}"
        )

    value = parsed.value
    if looks_like_policy(value) or (
        isinstance(value, list) and any(looks_like_policy(item) for item in value)
    ):
        result = load_json_policies(value, path)
    elif is_template(value):
        from mfa_guard.loaders.cloudformation import load_template

        result = load_template(value, path)
    elif plan_json.is_plan(value):
        result = plan_json.load_plan(value, path)
    else:
        return LoadResult(relevant=False, note="JSON without IAM policies")
    result.diagnostics.extend(_duplicate_diagnostics(parsed, path))
    return result


def _first_character(text: str) -> str:
    stripped = text.lstrip()
    return stripped[:1]


def load_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> LoadResult:
    """Load one non-Terraform file. Terraform is loaded per module directory."""
    display = str(path)
    try:
        text = read_text(path, max_bytes)
    except UnreadableFile as error:
        return unreadable_result(error, display)

    name = path.name.lower()
    if name.endswith(".json") or (
        name.endswith(".template") and _first_character(text) in "{["
    ):
        return load_json_text(text, display)

    from mfa_guard.loaders.cloudformation import load_cloudformation_yaml

    return load_cloudformation_yaml(text, display)
