"""Immutable policy model shared by loaders, the IAM engine, rules and reporters.

Loaders build these objects; nothing downstream reads source files again.
Lines and columns are 1-based, columns count characters (code points).
"""

from __future__ import annotations

import enum

from mfa_guard.records import field, record


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Return the severity named by `text` (case-insensitive), or raise ValueError."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(str(s) for s in cls)
            raise ValueError(
                f"invalid severity {text!r}: expected one of {names}"
            ) from None


class PolicyKind(enum.Enum):
    """The use of a policy document. Rules treat some kinds differently."""

    IDENTITY = "identity-policy"
    SCP = "service-control-policy"
    TRUST = "trust-policy"
    RESOURCE = "resource-policy"


@record(order=True)
class SourceSpan:
    path: str
    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def point(cls, path: str, line: int, column: int) -> SourceSpan:
        return cls(path, line, column, line, column)


@record
class ConditionEntry:
    """One `operator -> key -> values` test of a statement's Condition block.

    `values` contains the policy values as IAM compares them: JSON booleans become
    "true"/"false" and numbers their decimal text. `raw_values` keeps what the
    source held (a bool, a number or a string), for rules about value forms.
    `span` points at the operator (the "BoolIfExists" key, or a Terraform
    `test` argument) and `key_span` at the condition key.
    """

    operator: str
    key: str
    values: tuple[str, ...]
    raw_values: tuple[object, ...]
    span: SourceSpan
    key_span: SourceSpan


@record
class Statement:
    """One policy statement. Absent elements are None; present ones are tuples."""

    index: int
    sid: str | None
    effect: str
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    conditions: tuple[ConditionEntry, ...]
    span: SourceSpan
    has_principal: bool = False
    item_spans: tuple[tuple[str, tuple[SourceSpan, ...]], ...] = ()

    @property
    def label(self) -> str:
        """Name the statement for messages: its Sid, or its position."""
        if self.sid:
            return f'"{self.sid}"'
        return f"#{self.index + 1}"

    def item_span(self, element: str, index: int) -> SourceSpan:
        """Return the position of one entry of an element, or the statement's span.

        `element` is "Action", "NotAction", "Resource" or "NotResource".
        `item_spans` pairs each element name with one span per entry of that
        element's tuple. Loaders that cannot place entries leave it empty.
        """
        for name, spans in self.item_spans:
            if name == element and index < len(spans):
                return spans[index]
        return self.span


# One value for each of some CloudFormation conditions, as (name, value)
# pairs in the order the template uses them.
FnIfAssignment = tuple[tuple[str, bool], ...]


@record
class PolicyDocument:
    """A policy document and where it came from.

    `name` gives where in the file the document is: a Terraform resource
    address, a CloudFormation logical id, or "" for a standalone JSON file.
    `variant` names the branch of a conditional the document was built from
    (for example a CloudFormation `Fn::If` condition), or is None.
    `unresolved` lists the parts the loader could not resolve.
    `variant_assignments` lists every combination of CloudFormation condition
    values that builds this document, or is () when no `Fn::If` or resource
    `Condition` decides it. `template_conditions` is the template's
    Conditions section as canonical JSON (see `cfn_conditions`), or "".
    """

    path: str
    name: str
    kind: PolicyKind
    version: str | None
    statements: tuple[Statement, ...]
    span: SourceSpan
    variant: str | None = None
    unresolved: tuple[str, ...] = ()
    variant_assignments: tuple[FnIfAssignment, ...] = ()
    template_conditions: str = ""

    @property
    def label(self) -> str:
        text = self.name or self.path
        if self.variant:
            text += f" ({self.variant})"
        return text


class DiagnosticKind(enum.Enum):
    """Problems reported about a file or a suppression instead of a policy."""

    PARSE_ERROR = "parse-error"
    UNRESOLVED = "unresolved-policy"
    SUPPRESSION_WITHOUT_REASON = "suppression-without-reason"
    UNUSED_SUPPRESSION = "unused-suppression"


@record
class Diagnostic:
    kind: DiagnosticKind
    span: SourceSpan
    message: str


@record
class Autofix:
    """A safe edit that fixes a finding, declared by its rule's `autofix` key.

    `kind` is "add-to-list" (add the `new` entries to the statement's
    `element`), "replace-operator" (rename the condition operator `old` to
    `new[0]`) or "replace-resource-variable" (rewrite the end `old` of the
    statement's `element` entries to `new[0]`). `statement` is the span of the
    statement to edit, and `description` describes the edit for people.
    """

    kind: str
    statement: SourceSpan
    element: str
    old: str = ""
    new: tuple[str, ...] = ()
    description: str = ""


@record(order=True)
class Finding:
    """One reported problem. Sorting orders findings by file and position."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    rule_id: str
    rule_name: str
    severity: Severity
    message: str
    fix: str | None = None
    policy: str = ""
    # Not compared, so a finding with and without its fix is the same finding.
    autofix: Autofix | None = field(default=None, compare=False)


class PrincipalKind(enum.Enum):
    """The kinds of IAM identity that policies are attached to."""

    USER = "user"
    GROUP = "group"
    ROLE = "role"


@record
class LoginProfile:
    """A console password of an IAM user.

    `password_reset_required` is None when the loader could not resolve it.
    """

    span: SourceSpan
    password_reset_required: bool | None = False


@record
class Principal:
    """An IAM user, group or role declared in one Terraform module or template.

    `address` is the Terraform resource address or the CloudFormation logical
    id, and `name` the IAM name when the source gives it. `path` is None when
    it could not be resolved. `groups` contains the addresses of the groups
    of the same module or template that a user is a member of. `policies`
    contains the names of the PolicyDocuments of the same module or template
    attached to the principal, inline or managed. `managed_policy_arns` lists
    attached policies that the module or template does not define.
    `unresolved` lists what could not be resolved, such as a group that is not
    declared, so a policy set built from the principal may be incomplete.
    `conditions` is the CloudFormation template's Conditions section as
    canonical JSON (see `cfn_conditions`), or "".
    `exists_when` gives the condition values under which CloudFormation
    creates the principal (its resource's `Condition`), or is () when it
    always does. `link_conditions` pairs each group address, policy name or
    managed policy ARN that links to the principal only in some stacks with
    the combinations of condition values that create the link, any one of
    them being enough. A link that is not listed always exists.
    """

    kind: PrincipalKind
    address: str
    span: SourceSpan
    name: str | None = None
    path: str | None = "/"
    groups: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()
    managed_policy_arns: tuple[str, ...] = ()
    login_profile: LoginProfile | None = None
    unresolved: tuple[str, ...] = ()
    conditions: str = ""
    exists_when: FnIfAssignment = ()
    link_conditions: tuple[tuple[str, tuple[FnIfAssignment, ...]], ...] = ()

    @property
    def label(self) -> str:
        """Name the principal for messages: its IAM name, or its address."""
        return self.name or self.address


@record
class PasswordPolicy:
    """The account password policy (`aws_iam_account_password_policy`).

    `max_password_age` is in days. None or 0 means passwords never expire.
    With `hard_expiry`, users cannot set a new password once theirs has
    expired, and an administrator must reset it.
    """

    span: SourceSpan
    max_password_age: int | None = None
    hard_expiry: bool | None = False

    @property
    def passwords_expire(self) -> bool:
        return bool(self.max_password_age)
