"""What every loader returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from mfa_guard.model import Diagnostic, PolicyDocument


@dataclass
class LoadResult:
    """Documents and problems found in one file (or one Terraform module).

    `relevant` is False when the file turned out to hold nothing IAM-related;
    `note` then says why it was skipped, for `--verbose`.
    """

    documents: list[PolicyDocument] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    relevant: bool = True
    note: str | None = None

    def extend(self, other: LoadResult) -> None:
        self.documents.extend(other.documents)
        self.diagnostics.extend(other.diagnostics)
