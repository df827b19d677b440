"""The result type that every loader returns."""

from __future__ import annotations

from mfa_guard.model import Diagnostic, PasswordPolicy, PolicyDocument, Principal
from mfa_guard.records import field, record

# Files larger than this are skipped unless the configuration or
# `--max-file-size` sets another limit.
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


@record(frozen=False)
class LoadResult:
    """Documents and problems found in one file (or one Terraform module).

    `relevant` is False when the file turned out to hold nothing IAM-related;
    `note` then gives the reason it was skipped, for `--verbose`. `principals` lists
    the IAM users, groups and roles that a Terraform module or a
    CloudFormation template declares, and `password_policy` the account
    password policy a Terraform module sets.
    """

    documents: list[PolicyDocument] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    relevant: bool = True
    note: str | None = None
    principals: list[Principal] = field(default_factory=list)
    password_policy: PasswordPolicy | None = None

    def extend(self, other: LoadResult) -> None:
        self.documents.extend(other.documents)
        self.diagnostics.extend(other.diagnostics)
        self.principals.extend(other.principals)
        self.password_policy = self.password_policy or other.password_policy
