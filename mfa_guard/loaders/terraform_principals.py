"""Find the IAM users, groups and roles of a Terraform module and what reaches them.

Reads `aws_iam_user`, `aws_iam_group` and `aws_iam_role`, group memberships,
inline policies, policy attachments, login profiles and the account password
policy. tfparse evaluates `aws_iam_user.x.name` to the user's name, and
`aws_iam_policy.x.arn` (or `.id`) to tfparse's own id of the referenced
block, so a value is matched against both names and ids. A reference that
tfparse could not evaluate comes back as a mapping such as
`{"__attribute__": "aws_iam_user.x.name"}` and is matched by its address.

A name or id that no principal of the block's own module has is looked up in
the other modules of the tree. A module call often passes a user's name to a
child module that creates the group and the membership. IAM names are unique
in an account, but two modules may create principals in two accounts. So a
name that several other modules declare is left unresolved.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from mfa_guard.loaders.principal_draft import PrincipalDraft
from mfa_guard.loaders.terraform_collect import TerraformLoadResult
from mfa_guard.loaders.terraform_document import as_list
from mfa_guard.loaders.terraform_expressions import is_unknown
from mfa_guard.loaders.terraform_module import Entry, ModuleIndex
from mfa_guard.loaders.terraform_policy_targets import (
    PolicyTargets,
    reference_address,
    value_text,
)
from mfa_guard.model import (
    LoginProfile,
    PasswordPolicy,
    PrincipalKind,
    SourceSpan,
)

PRINCIPAL_TYPES = {
    "aws_iam_user": PrincipalKind.USER,
    "aws_iam_group": PrincipalKind.GROUP,
    "aws_iam_role": PrincipalKind.ROLE,
}

# Resource type -> (argument naming the principal, kind of that principal).
_INLINE_POLICIES = {
    "aws_iam_user_policy": ("user", PrincipalKind.USER),
    "aws_iam_group_policy": ("group", PrincipalKind.GROUP),
    "aws_iam_role_policy": ("role", PrincipalKind.ROLE),
}
_ATTACHMENTS = {
    "aws_iam_user_policy_attachment": ("user", PrincipalKind.USER),
    "aws_iam_group_policy_attachment": ("group", PrincipalKind.GROUP),
    "aws_iam_role_policy_attachment": ("role", PrincipalKind.ROLE),
}
_SHARED_ATTACHMENT_LISTS = {
    "users": PrincipalKind.USER,
    "groups": PrincipalKind.GROUP,
    "roles": PrincipalKind.ROLE,
}
_INDEX_SUFFIX = re.compile(r"\[[^\]]*\]$")


def _span(entry: Entry) -> SourceSpan:
    return SourceSpan(entry.source.path, *entry.block.span)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and not is_unknown(value) else None


class PrincipalCollector:
    """Add the principals and the password policy of one module to its result."""

    def __init__(self, index: ModuleIndex, result: TerraformLoadResult) -> None:
        self.index = index
        self.result = result
        self.drafts: list[PrincipalDraft] = []
        self.by_id: dict[str, PrincipalDraft] = {}
        self.targets = PolicyTargets(index, result)
        # The principals that the other modules of the tree declare, and
        # their tfparse ids.
        self.elsewhere: list[PrincipalDraft] = []
        self.elsewhere_ids: dict[str, PrincipalDraft] = {}

    def declare(self) -> None:
        """Read the users, groups and roles that this module declares."""
        self._declare_principals()

    def link(self, others: list[PrincipalCollector]) -> None:
        """Add logins, memberships and policies, looking up names in `others` too."""
        for other in others:
            if other is not self:
                self.elsewhere.extend(other.drafts)
                self.elsewhere_ids.update(other.by_id)
        self._login_profiles()
        self._group_memberships()
        self._inline_policies()
        self._attachments()
        self._password_policy()

    # Declarations

    def _declare_principals(self) -> None:
        for type_name, kind in PRINCIPAL_TYPES.items():
            for entry in self.index.entries(type_name, "resource"):
                draft = PrincipalDraft(kind, entry.address, _span(entry), None)
                name = entry.values.get("name")
                draft.name = _text(name)
                if draft.name is None:
                    draft.note(f"the name of {entry.address} could not be resolved")
                self._read_path(draft, entry)
                self.drafts.append(draft)
                if isinstance(entry.values.get("id"), str):
                    self.by_id[entry.values["id"]] = draft
                if kind is PrincipalKind.ROLE:
                    self._role_policies(draft, entry)

    def _read_path(self, draft: PrincipalDraft, entry: Entry) -> None:
        if "path" not in entry.values:
            return
        draft.path = _text(entry.values["path"])
        if draft.path is None:
            draft.note(f"the path of {entry.address} could not be resolved")

    # Finding principals

    def _find(self, kind: PrincipalKind, value: Any) -> PrincipalDraft | None:
        """Return the principal that a reference, a tfparse id or an IAM name refers to."""
        address = reference_address(value)
        if address is not None:
            return self._by_address(kind, address)
        if not isinstance(value, str):
            return None
        draft = self.by_id.get(value)
        if draft is not None and draft.kind is kind:
            return draft
        for draft in self.drafts:
            if draft.kind is kind and draft.name == value:
                return draft
        return self._find_elsewhere(kind, value)

    def _find_elsewhere(self, kind: PrincipalKind, value: str) -> PrincipalDraft | None:
        """Return the one principal of another module with this tfparse id or name."""
        draft = self.elsewhere_ids.get(value)
        if draft is not None and draft.kind is kind:
            return draft
        found = [
            draft
            for draft in self.elsewhere
            if draft.kind is kind and draft.name == value
        ]
        return found[0] if len(found) == 1 else None

    def _by_address(self, kind: PrincipalKind, address: str) -> PrincipalDraft | None:
        address = self.index.prefix + address
        for draft in self.drafts:
            if draft.kind is kind and draft.address == address:
                return draft
        # `aws_iam_user.many` refers to every instance of a for_each or count.
        for draft in self.drafts:
            if draft.kind is kind and _INDEX_SUFFIX.sub("", draft.address) == address:
                return draft
        return None

    def _find_all(self, kind: PrincipalKind, value: Any) -> Iterator[PrincipalDraft]:
        address = reference_address(value)
        if address is None or _INDEX_SUFFIX.search(address):
            found = self._find(kind, value)
            if found is not None:
                yield found
            return
        address = self.index.prefix + address
        for draft in self.drafts:
            if draft.kind is kind and _INDEX_SUFFIX.sub("", draft.address) == address:
                yield draft

    # Login profiles and memberships

    def _login_profiles(self) -> None:
        for entry in self.index.entries("aws_iam_user_login_profile", "resource"):
            user_value = entry.values.get("user")
            user = self._find(PrincipalKind.USER, user_value)
            if user is None:
                user = self._undeclared_user(entry, user_value)
            reset = entry.values.get("password_reset_required", False)
            if is_unknown(reset) or not isinstance(reset, bool):
                reset = None
            user.login_profile = LoginProfile(_span(entry), reset)

    def _undeclared_user(self, profile: Entry, value: Any) -> PrincipalDraft:
        """Add a placeholder for a user that a login profile names but the module does not declare."""
        name = _text(value)
        draft = PrincipalDraft(
            PrincipalKind.USER, profile.address, _span(profile), name
        )
        described = value_text(value)
        if described is None:
            draft.note(f"the user of {profile.address} could not be resolved")
        else:
            draft.note(
                f"user {described} is not declared in this module, so its groups"
                " and policies may be incomplete"
            )
        self.drafts.append(draft)
        return draft

    def _group_memberships(self) -> None:
        for entry in self.index.entries("aws_iam_group_membership", "resource"):
            group_value = entry.values.get("group")
            for user_value in as_list(entry.values.get("users")):
                for user in self._find_all(PrincipalKind.USER, user_value):
                    self._join(user, group_value)

        for entry in self.index.entries("aws_iam_user_group_membership", "resource"):
            users = list(self._find_all(PrincipalKind.USER, entry.values.get("user")))
            for group_value in as_list(entry.values.get("groups")):
                for user in users:
                    self._join(user, group_value)

    def _join(self, user: PrincipalDraft, group_value: Any) -> None:
        groups = list(self._find_all(PrincipalKind.GROUP, group_value))
        described = value_text(group_value)
        if groups:
            user.groups.extend(group.address for group in groups)
        elif described is None:
            user.note(f"a group of {user.address} could not be resolved")
        else:
            user.note(f"group {described} is not declared in this module")

    # Policies

    def _attach_documents(self, draft: PrincipalDraft, address: str) -> None:
        documents = self.targets.documents_of(address)
        if not documents:
            draft.note(f"the policy of {address} could not be read")
        draft.policies.extend(documents)

    def _role_policies(self, role: PrincipalDraft, entry: Entry) -> None:
        prefix = f"{entry.address}.inline_policy["
        inline = [
            document.name
            for document in self.result.documents
            if document.name.startswith(prefix)
        ]
        role.policies.extend(inline)
        for value in as_list(entry.values.get("managed_policy_arns")):
            self._attach_target(role, value, entry.address)

    def _inline_policies(self) -> None:
        for type_name, (argument, kind) in _INLINE_POLICIES.items():
            for entry in self.index.entries(type_name, "resource"):
                for owner in self._find_all(kind, entry.values.get(argument)):
                    self._attach_documents(owner, entry.address)

    def _attachments(self) -> None:
        for type_name, (argument, kind) in _ATTACHMENTS.items():
            for entry in self.index.entries(type_name, "resource"):
                owners = self._find_all(kind, entry.values.get(argument))
                value = entry.values.get("policy_arn")
                for owner in owners:
                    self._attach_target(owner, value, entry.address)

        for entry in self.index.entries("aws_iam_policy_attachment", "resource"):
            value = entry.values.get("policy_arn")
            for argument, kind in _SHARED_ATTACHMENT_LISTS.items():
                for item in as_list(entry.values.get(argument)):
                    for owner in self._find_all(kind, item):
                        self._attach_target(owner, value, entry.address)

    def _attach_target(
        self, owner: PrincipalDraft, value: Any, attachment: str
    ) -> None:
        target = self.targets.resolve(value)
        if target.problem is not None:
            owner.note(f"the policy_arn of {attachment} {target.problem}")
        if target.arn is not None:
            owner.managed_policy_arns.append(target.arn)
        for address in target.addresses:
            self._attach_documents(owner, address)

    # Account settings

    def _password_policy(self) -> None:
        entries = self.index.entries("aws_iam_account_password_policy", "resource")
        if not entries:
            return
        entry = entries[0]
        age = entry.values.get("max_password_age")
        hard_expiry = entry.values.get("hard_expiry", False)
        self.result.password_policy = PasswordPolicy(
            _span(entry),
            max_password_age=age if isinstance(age, int) else None,
            hard_expiry=hard_expiry if isinstance(hard_expiry, bool) else None,
        )


def collect_principals(indexes: list[ModuleIndex], result: TerraformLoadResult) -> None:
    """Add the principals and password policy of each evaluated module to `result`.

    Run it after the policy documents are built, because principals refer to
    documents by name.
    """
    collectors = [PrincipalCollector(index, result) for index in indexes]
    for collector in collectors:
        collector.declare()
    for collector in collectors:
        collector.link(collectors)
    for collector in collectors:
        result.principals.extend(draft.freeze() for draft in collector.drafts)
