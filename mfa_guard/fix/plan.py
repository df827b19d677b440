"""Plan the edits that fix findings, file by file.

Findings that ask for the same edit of one statement are merged: the
entries that `password-change-blocked` and `mfa-enrollment-blocked` add to
one NotAction list become one insertion. An edit that overlaps another
edit of the file is left for the next run. A file whose fixed text would
not parse is left unchanged.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence

from mfa_guard.engine.autofix import ADD_TO_LIST, REPLACE_OPERATOR
from mfa_guard.fix.documents import Document, open_document
from mfa_guard.fix.source import (
    FixError,
    LineIndex,
    SourceText,
    TextEdit,
    apply_edits,
    overlaps,
    write_atomic,
)
from mfa_guard.fix.syntax import add_to_list, replace_operator, replace_variable_end
from mfa_guard.log import get_logger
from mfa_guard.model import Autofix, Finding
from mfa_guard.records import field, record, replace

_LINE = re.compile(r"[^\n]*\n|[^\n]+")

logger = get_logger(__name__)


@record
class Skipped:
    """A finding with a fix that was not applied, and why."""

    finding: Finding
    reason: str


@record(frozen=False)
class FileFix:
    """A file's text before and after its fixes, and the findings they fix."""

    path: str
    source: SourceText
    text: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.text != self.source.text

    def write(self) -> None:
        """Write the fixed text atomically, or raise FixError or OSError."""
        data = self.source.encode(self.text)
        write_atomic(self.path, data, expected=self.source.data)

    def unified_diff(self) -> str:
        """Return the change as a unified diff with three lines of context.

        A last line without a line ending is marked the way `diff` marks it.
        """
        lines = difflib.unified_diff(
            _lines(self.source.text), _lines(self.text), self.path, self.path
        )
        return "".join(
            line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
            for line in lines
        )


@record(frozen=False)
class FixPlan:
    files: list[FileFix] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def fixed(self) -> list[Finding]:
        return [finding for item in self.files for finding in item.findings]


@record
class Replacement:
    """One edit in the coordinates of the unchanged file, for SARIF `fixes`."""

    line: int
    column: int
    end_line: int
    end_column: int
    text: str


@record(frozen=False)
class _Group:
    """Findings whose fixes make one edit, with the merged fix."""

    autofix: Autofix
    findings: list[Finding]


def _lines(text: str) -> list[str]:
    return _LINE.findall(text)


def _group_key(autofix: Autofix) -> tuple[object, ...]:
    span = autofix.statement
    key: tuple[object, ...] = (autofix.kind, span.line, span.column, autofix.element)
    if autofix.kind != ADD_TO_LIST:
        key += (autofix.old, autofix.new)
    return key


def _groups(findings: Iterable[Finding]) -> dict[str, list[_Group]]:
    """Group the findings with fixes by file, merging the entries to add to one list."""
    groups: dict[str, dict[tuple[object, ...], _Group]] = defaultdict(dict)
    for finding in findings:
        autofix = finding.autofix
        if autofix is None:
            continue
        by_key = groups[autofix.statement.path]
        key = _group_key(autofix)
        if key not in by_key:
            by_key[key] = _Group(autofix, [finding])
            continue
        group = by_key[key]
        group.findings.append(finding)
        if autofix.kind == ADD_TO_LIST:
            merged = tuple(dict.fromkeys(group.autofix.new + autofix.new))
            entries = ", ".join(f'"{value}"' for value in merged)
            description = f"add {entries} to {autofix.element}"
            group.autofix = replace(group.autofix, new=merged, description=description)
    return {path: list(by_key.values()) for path, by_key in groups.items()}


def _internal_error(path: str, error: Exception) -> FixError:
    """Turn a fixer bug into a skipped fix, so the scan and its report go on."""
    logger.debug("fixer failed on %s", path, exc_info=True)
    return FixError(
        f"the fixer failed ({type(error).__name__}: {error}). Please report this file."
    )


def _edits(document: Document, text: str, autofix: Autofix) -> list[TextEdit]:
    """Return the edits that apply one fix, or raise FixError."""
    try:
        return _fix_edits(document, text, autofix)
    except FixError:
        raise
    except Exception as error:
        raise _internal_error(autofix.statement.path, error) from error


def _fix_edits(document: Document, text: str, autofix: Autofix) -> list[TextEdit]:
    span = autofix.statement
    statement = document.statement(span.line, span.column)
    if autofix.kind == ADD_TO_LIST:
        syntax = statement.element_list(autofix.element)
        edits = add_to_list(text, syntax, autofix.new)
    elif autofix.kind == REPLACE_OPERATOR:
        edits = replace_operator(statement, autofix.old, autofix.new[0])
    else:
        edits = replace_variable_end(
            text, statement, autofix.element, autofix.old, autofix.new[0]
        )

    changing = [edit for edit in edits if text[edit.start : edit.end] != edit.text]
    if not changing:
        raise FixError("the source already has this fix")
    return changing


def _open(path: str) -> tuple[SourceText, Document]:
    """Read and parse a file, or raise FixError."""
    source = SourceText.read(path)
    try:
        return source, open_document(path, source.text)
    except FixError:
        raise
    except Exception as error:
        raise _internal_error(path, error) from error


def _check(document: Document, path: str, text: str) -> None:
    """Raise FixError when the fixed text does not parse."""
    try:
        document.check(text)
    except FixError:
        raise
    except Exception as error:
        raise _internal_error(path, error) from error


def _fix_file(
    path: str, groups: Sequence[_Group]
) -> tuple[FileFix | None, list[Skipped]]:
    """Apply the groups' edits to one file's text.

    Returns the fixed file, or None when no edit is applied, and the findings
    whose fixes were skipped.
    """
    skipped: list[Skipped] = []
    try:
        source, document = _open(path)
    except FixError as error:
        skipped = [Skipped(f, str(error)) for g in groups for f in g.findings]
        return None, skipped

    accepted: list[TextEdit] = []
    fixed: list[Finding] = []
    for group in groups:
        try:
            edits = _edits(document, source.text, group.autofix)
        except FixError as error:
            skipped.extend(Skipped(finding, str(error)) for finding in group.findings)
            continue
        if any(overlaps(edit, other) for edit in edits for other in accepted):
            reason = "overlaps another fix in the file; run the fix again"
            skipped.extend(Skipped(finding, reason) for finding in group.findings)
            continue
        accepted.extend(edits)
        fixed.extend(group.findings)

    if not accepted:
        return None, skipped
    text = apply_edits(source.text, accepted)
    try:
        _check(document, path, text)
    except FixError as error:
        skipped.extend(Skipped(finding, str(error)) for finding in fixed)
        return None, skipped
    return FileFix(path, source, text, fixed), skipped


def plan_fixes(findings: Iterable[Finding]) -> FixPlan:
    """Read the files of the findings that have fixes and plan their edits.

    Nothing is written. Findings without a fix are ignored.
    """
    plan = FixPlan()
    for path, groups in sorted(_groups(findings).items()):
        file_fix, skipped = _fix_file(path, groups)
        plan.skipped.extend(skipped)
        if file_fix is not None:
            plan.files.append(file_fix)
    return plan


def finding_replacements(
    findings: Iterable[Finding],
) -> dict[Finding, list[Replacement]]:
    """Return each fixable finding's own edits in the unchanged file's coordinates.

    Each finding is planned alone, as a SARIF result's fix applies alone.
    A finding whose fix cannot be applied is left out.
    """
    opened: dict[str, tuple[SourceText, Document] | None] = {}
    result: dict[Finding, list[Replacement]] = {}
    for finding in findings:
        autofix = finding.autofix
        if autofix is None:
            continue
        path = autofix.statement.path
        if path not in opened:
            try:
                opened[path] = _open(path)
            except FixError:
                opened[path] = None
        entry = opened[path]
        if entry is None:
            continue
        source, document = entry
        try:
            edits = _edits(document, source.text, autofix)
            _check(document, path, apply_edits(source.text, edits))
        except FixError:
            continue
        index = LineIndex(source.text)
        result[finding] = [_replacement(index, edit) for edit in edits]
    return result


def _replacement(index: LineIndex, edit: TextEdit) -> Replacement:
    line, column = index.location(edit.start)
    end_line, end_column = index.location(edit.end)
    return Replacement(line, column, end_line, end_column, edit.text)
