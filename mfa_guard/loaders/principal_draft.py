"""A principal while a loader collects its memberships and policies."""

from __future__ import annotations

from mfa_guard.model import LoginProfile, Principal, PrincipalKind, SourceSpan
from mfa_guard.records import field, record

DEFAULT_PATH = "/"


@record(frozen=False)
class PrincipalDraft:
    """A mutable principal; `freeze` turns it into the model's Principal.

    `address` is the Terraform address or the CloudFormation logical id.
    """

    kind: PrincipalKind
    address: str
    span: SourceSpan
    name: str | None
    path: str | None = DEFAULT_PATH
    groups: list[str] = field(default_factory=list)
    policies: list[str] = field(default_factory=list)
    managed_policy_arns: list[str] = field(default_factory=list)
    login_profile: LoginProfile | None = None
    unresolved: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if text not in self.unresolved:
            self.unresolved.append(text)

    def freeze(self) -> Principal:
        return Principal(
            kind=self.kind,
            address=self.address,
            span=self.span,
            name=self.name,
            path=self.path,
            groups=tuple(dict.fromkeys(self.groups)),
            policies=tuple(dict.fromkeys(self.policies)),
            managed_policy_arns=tuple(dict.fromkeys(self.managed_policy_arns)),
            login_profile=self.login_profile,
            unresolved=tuple(self.unresolved),
        )
