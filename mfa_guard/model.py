"""Immutable policy model shared by loaders, the IAM engine, rules and reporters.

Loaders build these objects; nothing downstream reads source files again.
Lines and columns are 1-based, columns count characters (code points).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


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
    """What a policy document is used as; rules treat some kinds differently."""

    IDENTITY = "identity-policy"
    SCP = "service-control-policy"
    TRUST = "trust-policy"
    RESOURCE = "resource-policy"


@dataclass(frozen=True, slots=True, order=True)
class SourceSpan:
    path: str
    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def point(cls, path: str, line: int, column: int) -> SourceSpan:
        return cls(path, line, column, line, column)


@dataclass(frozen=True, slots=True)
class ConditionEntry:
    """One `operator -> key -> values` test of a statement's Condition block.

    `values` holds the policy values as IAM compares them: JSON booleans become
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


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    """A policy document and where it came from.

    `name` says where in the file the document sits: a Terraform resource
    address, a CloudFormation logical id, or "" for a standalone JSON file.
    `variant` names the branch of a conditional the document was built from
    (for example a CloudFormation `Fn::If` condition), or is None.
    `unresolved` lists the parts the loader could not resolve.
    """

    path: str
    name: str
    kind: PolicyKind
    version: str | None
    statements: tuple[Statement, ...]
    span: SourceSpan
    variant: str | None = None
    unresolved: tuple[str, ...] = ()

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


@dataclass(frozen=True, slots=True)
class Diagnostic:
    kind: DiagnosticKind
    span: SourceSpan
    message: str


@dataclass(frozen=True, slots=True, order=True)
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
