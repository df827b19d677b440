"""One policy document under analysis, and what a check reports about it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any, TypeVar

from mfa_guard.engine.context import RunContext
from mfa_guard.engine.policy_sets import PolicySet, SetMember
from mfa_guard.engine.selectors import document_view, select_statements
from mfa_guard.iam.scenarios import Scenario
from mfa_guard.model import PolicyDocument, SourceSpan, Statement
from mfa_guard.records import field, record

T = TypeVar("T")


@record
class Hit:
    """One place a check fired, with the values for the message template.

    `actions` lists the actions the finding is about, for the rule's
    `severity-by-actions`.
    """

    span: SourceSpan
    fields: Mapping[str, str]
    actions: tuple[str, ...] = ()


@record(frozen=False)
class DocumentScope:
    """A document and the run's context, with values every rule shares.

    The JSON view used by selectors, the statements each selector picks and
    document-level facts are computed once per document, not once per rule.
    `sets` are the policy sets that contain the document. Without them the
    document is a set of its own.
    """

    document: PolicyDocument
    context: RunContext
    sets: tuple[PolicySet, ...] = ()
    _selected: dict[str | None, list[Statement]] = field(default_factory=dict)
    _memo: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.sets:
            alone = (SetMember(self.document, "this policy"),)
            self.sets = (PolicySet(None, alone),)

    def scenario(self, name: str) -> Scenario:
        return self.context.scenarios[name]

    def every_set_has(self, test: Callable[[Statement, DocumentScope], bool]) -> bool:
        """Return whether each policy set of the document has a statement that passes `test`.

        A statement of another document is tested with a scope of its own,
        in the same run context.
        """
        for policy_set in self.sets:
            found = False
            for document in policy_set.documents:
                scope = self
                if document is not self.document:
                    scope = DocumentScope(document, self.context)
                if any(test(statement, scope) for statement in document.statements):
                    found = True
                    break
            if not found:
                return False
        return True

    @cached_property
    def _view(self) -> tuple[dict[str, Any], dict[int, Statement]]:
        return document_view(self.document)

    def select(self, expression: str | None) -> list[Statement]:
        """Return the statements a selector picks, or every statement when it is None."""
        if expression not in self._selected:
            selected = select_statements(expression, self.document, lambda: self._view)
            self._selected[expression] = selected
        return self._selected[expression]

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """Return `compute()`, computed once per document for each `key`."""
        if key not in self._memo:
            self._memo[key] = compute()
        value: T = self._memo[key]
        return value
