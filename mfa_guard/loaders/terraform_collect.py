"""Build the policy documents of one evaluated module instance.

Resources with a policy argument are read first, so each
`aws_iam_policy_document` data source can take the kind of the first
resource that uses it (a trust policy when `aws_iam_role.assume_role_policy`
refers to it). Each data source becomes one document, however many
resources refer to it. The exception is a data source that is only an input
of another one's `source_policy_documents` or `override_policy_documents`.
It is checked as part of the document it is merged into, as Terraform
renders it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mfa_guard.loaders.base import LoadResult
from mfa_guard.loaders.build import build_document
from mfa_guard.loaders.positions import Pos
from mfa_guard.loaders.terraform_blocks import Attribute
from mfa_guard.loaders.terraform_data import DataDocuments
from mfa_guard.loaders.terraform_document import as_list, match_block
from mfa_guard.loaders.terraform_expressions import is_unknown
from mfa_guard.loaders.terraform_instances import ModuleInstance
from mfa_guard.loaders.terraform_merge import policy_value, relocate
from mfa_guard.loaders.terraform_module import Entry
from mfa_guard.loaders.terraform_policies import (
    POLICY_DOCUMENT,
    PolicyReader,
    PolicyReference,
)
from mfa_guard.model import Diagnostic, DiagnosticKind, PolicyKind, SourceSpan
from mfa_guard.records import field, record

# Resource type -> (argument containing the policy JSON, what the policy is used as).
POLICY_ARGUMENTS: dict[str, tuple[str, PolicyKind]] = {
    "aws_iam_policy": ("policy", PolicyKind.IDENTITY),
    "aws_iam_user_policy": ("policy", PolicyKind.IDENTITY),
    "aws_iam_group_policy": ("policy", PolicyKind.IDENTITY),
    "aws_iam_role_policy": ("policy", PolicyKind.IDENTITY),
    "aws_iam_role": ("assume_role_policy", PolicyKind.TRUST),
    "aws_organizations_policy": ("content", PolicyKind.SCP),
}
_SERVICE_CONTROL_POLICY = "SERVICE_CONTROL_POLICY"


@record(frozen=False)
class TerraformLoadResult(LoadResult):
    """A LoadResult with the policy references and local modules of a module.

    `policy_references` maps the address of each referenced
    `aws_iam_policy_document` data source to the addresses of the resources
    whose policy argument is that data source's `json`. `local_modules`
    lists the display paths of the local child module directories whose
    policies were loaded as part of this module, named by module address.
    """

    policy_references: dict[str, list[str]] = field(default_factory=dict)
    local_modules: list[str] = field(default_factory=list)


class PolicyCollector:
    """Build the documents of one module instance into a TerraformLoadResult.

    `directory` is the root module's directory and `allowed` returns the
    directories whose files `file()` and `templatefile()` may read.
    """

    def __init__(
        self,
        instance: ModuleInstance,
        directory: Path,
        allowed: Callable[[], list[Path]],
        result: TerraformLoadResult,
    ) -> None:
        self.index = instance.index
        self.result = result
        self.resolver = instance.resolver
        self.data_addresses = self.index.data_ids(POLICY_DOCUMENT)
        self.reader = PolicyReader(
            self.resolver, directory, self.data_addresses, allowed, self.index.prefix
        )
        self.documents = DataDocuments(
            self.index, self.resolver, self.reader, result.diagnostics
        )
        # The kind of the first resource that uses each data source.
        self.kinds: dict[str, PolicyKind] = {}
        self.referenced: set[str] = set()

    def collect(self) -> None:
        for type_name, (argument, kind) in POLICY_ARGUMENTS.items():
            for entry in self.index.entries(type_name, "resource"):
                if type_name == "aws_organizations_policy" and not _is_scp(entry):
                    continue
                attribute = entry.block.attributes.get(argument)
                if attribute is not None:
                    value = entry.values.get(argument)
                    self._read(attribute, value, entry.address, kind)
                if type_name == "aws_iam_role":
                    self._inline_policies(entry)

        built = [(e, self.documents.parts(e.address)) for e in self.documents.entries()]
        for entry, parts in built:
            if parts is None:
                continue
            inputs = self.documents.inputs
            if entry.address in inputs and entry.address not in self.referenced:
                continue
            kind = self.kinds.get(entry.address, PolicyKind.IDENTITY)
            value = policy_value(parts, entry.block.span)
            paths = [statement.path for statement in parts.statements]
            self._add(
                value,
                entry.source.path,
                entry.address,
                kind,
                entry.block.span,
                parts.notes,
                paths,
            )

    def _inline_policies(self, role: Entry) -> None:
        blocks = role.block.children("inline_policy")
        for index, values in enumerate(as_list(role.values.get("inline_policy"))):
            block = match_block(values, blocks, index)
            if block is None or not isinstance(values, dict):
                continue
            attribute = block.attributes.get("policy")
            if attribute is not None:
                name = f"{role.address}.inline_policy[{index}]"
                self._read(attribute, values.get("policy"), name, PolicyKind.IDENTITY)

    def _read(
        self, attribute: Attribute, value: Any, address: str, kind: PolicyKind
    ) -> None:
        read = self.reader.read(attribute, value, address)
        if isinstance(read, Diagnostic):
            self.result.diagnostics.append(read)
            return
        if isinstance(read, PolicyReference):
            self._reference(read.address, attribute, address, kind)
            return
        self._add(read.value, read.path, address, kind, read.fallback)

    def _reference(
        self, target: str, attribute: Attribute, address: str, kind: PolicyKind
    ) -> None:
        self.result.policy_references.setdefault(target, []).append(address)
        self.kinds.setdefault(target, kind)
        self.referenced.add(target)
        if target in self.data_addresses.values():
            return
        span = SourceSpan(attribute.source.path, *attribute.span)
        reason = (
            f"{target} is not declared in a file of this module that parses,"
            " or was not checked"
        )
        message = f"policy of {address} could not be resolved: {reason}"
        self.result.diagnostics.append(
            Diagnostic(DiagnosticKind.UNRESOLVED, span, message)
        )

    def _add(
        self,
        value: Any,
        path: str,
        name: str,
        kind: PolicyKind,
        fallback: Pos,
        notes: list[str] | None = None,
        paths: list[str] | None = None,
    ) -> None:
        """Build and add a document.

        `notes` lists what could not be resolved, and `paths` the file of
        each statement when they are not all in `path`.
        """
        document, problems = build_document(
            value,
            path=path,
            name=name,
            kind=kind,
            fallback=fallback,
            unresolved=tuple(notes or ()),
        )
        self.result.diagnostics.extend(problems)
        if document is not None:
            if paths is not None:
                document = relocate(document, paths)
            self.result.documents.append(document)
            return
        span = SourceSpan(path, *fallback)
        message = (
            f"invalid policy of {name}: expected an object with a Statement element"
        )
        self.result.diagnostics.append(
            Diagnostic(DiagnosticKind.PARSE_ERROR, span, message)
        )


def _is_scp(entry: Entry) -> bool:
    """Return True unless the policy's `type` is known and not an SCP.

    Without a `type` argument the AWS provider creates a service control
    policy.
    """
    policy_type = entry.values.get("type")
    return is_unknown(policy_type) or policy_type == _SERVICE_CONTROL_POLICY
