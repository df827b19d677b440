"""Named statement predicates that rule files list under `where`.

A statement is checked only when every predicate in `where` is true for it.

- `deny`, `allow`: the statement's Effect.
- `mfa-deny`: a Deny statement with an MFA test whose condition holds for
  at least one kind of caller without MFA (a console user without MFA, a
  long-term access key, a role session without MFA). An MFA test is `Bool`
  or `BoolIfExists` on aws:MultiFactorAuthPresent with the value false,
  `Null` on either MFA key, or a `Numeric` test on aws:MultiFactorAuthAge.
- `mfa-allow`: an Allow statement with an MFA requirement: `Bool` or
  `BoolIfExists` on aws:MultiFactorAuthPresent with the value true, `Null`
  on either MFA key with the value false, or a `Numeric` test on
  aws:MultiFactorAuthAge.
- `mfa-age-test`: the statement tests aws:MultiFactorAuthAge with a
  `Numeric` operator.
- `mfa-enforcing-policy`: the statement's document contains an MFA deny.
- `allows-in-set`: a policy set that contains the statement's document has
  an Allow statement. A set is the policies that apply to one IAM user (see
  "Checks"), or the document alone when no user is known. A set without
  any Allow grants nothing, so its grants must come from policies the scan
  cannot see.
- `variables-not-substituted`: the document's Version is missing or is not
  "2012-10-17", so IAM reads `${...}` policy variables as literal text.
- `identity-policy`, `service-control-policy`: the kind of the document.

Set-operator prefixes (`ForAnyValue:`) and `IfExists` suffixes are ignored
when an operator is compared, and condition keys compare case-insensitively.
"""

from __future__ import annotations

from collections.abc import Callable

from mfa_guard.engine.context import NO_MFA_SCENARIOS
from mfa_guard.engine.scope import DocumentScope
from mfa_guard.iam.conditions import Tri, evaluate_conditions
from mfa_guard.iam.variables import variables_apply
from mfa_guard.loaders.positions import Unresolved
from mfa_guard.model import ConditionEntry, PolicyDocument, PolicyKind, Statement

MFA_PRESENT = "aws:multifactorauthpresent"
MFA_AGE = "aws:multifactorauthage"
MFA_KEYS = (MFA_PRESENT, MFA_AGE)


def base_operator(operator: str) -> str:
    """Strip a set-operator prefix and an IfExists suffix: "ForAnyValue:BoolIfExists" -> "Bool"."""
    name = operator.split(":", 1)[-1]
    if name.endswith("IfExists"):
        name = name[: -len("IfExists")]
    return name


def _has_value(entry: ConditionEntry, expected: str) -> bool:
    return any(value.strip().lower() == expected for value in entry.values)


def is_mfa_test(entry: ConditionEntry) -> bool:
    """Return True for a test that can hold when MFA is absent (the deny form)."""
    key = entry.key.lower()
    operator = base_operator(entry.operator)
    if key == MFA_PRESENT and operator == "Bool":
        return _has_value(entry, "false")
    if key in MFA_KEYS and operator == "Null":
        return True
    return key == MFA_AGE and operator.startswith("Numeric")


def is_mfa_requirement(entry: ConditionEntry) -> bool:
    """Return True for a test meant to hold only when MFA was used (the allow form)."""
    key = entry.key.lower()
    operator = base_operator(entry.operator)
    if key == MFA_PRESENT and operator == "Bool":
        return _has_value(entry, "true")
    if key in MFA_KEYS and operator == "Null":
        return _has_value(entry, "false")
    return key == MFA_AGE and operator.startswith("Numeric")


def has_mfa_key(document: PolicyDocument) -> bool:
    """Return True when any statement has a condition entry on an MFA key."""
    return any(
        entry.key.lower() in MFA_KEYS
        for statement in document.statements
        for entry in statement.conditions
    )


def is_mfa_deny(statement: Statement, scope: DocumentScope) -> bool:
    if statement.effect != "Deny":
        return False
    if not any(is_mfa_test(entry) for entry in statement.conditions):
        return False

    version = scope.document.version
    for name in NO_MFA_SCENARIOS:
        outcome = evaluate_conditions(statement, scope.scenario(name), version)
        if outcome.value is not Tri.FALSE:
            return True
    return False


def _is_mfa_allow(statement: Statement, scope: DocumentScope) -> bool:
    if statement.effect != "Allow":
        return False
    return any(is_mfa_requirement(entry) for entry in statement.conditions)


def _has_mfa_age_test(statement: Statement, scope: DocumentScope) -> bool:
    return any(
        entry.key.lower() == MFA_AGE
        and base_operator(entry.operator).startswith("Numeric")
        for entry in statement.conditions
    )


def _in_mfa_enforcing_policy(statement: Statement, scope: DocumentScope) -> bool:
    def compute() -> bool:
        return any(is_mfa_deny(other, scope) for other in scope.document.statements)

    return scope.memo("mfa-enforcing-policy", compute)


def _allows_in_set(statement: Statement, scope: DocumentScope) -> bool:
    def compute() -> bool:
        return any(
            candidate.effect == "Allow"
            for policy_set in scope.sets
            for document in policy_set.documents
            for candidate in document.statements
        )

    return scope.memo("allows-in-set", compute)


def _variables_not_substituted(statement: Statement, scope: DocumentScope) -> bool:
    version = scope.document.version
    if isinstance(version, Unresolved):
        return False
    return not variables_apply(version)


Predicate = Callable[[Statement, DocumentScope], bool]

PREDICATES: dict[str, Predicate] = {
    "mfa-deny": is_mfa_deny,
    "mfa-allow": _is_mfa_allow,
    "mfa-age-test": _has_mfa_age_test,
    "mfa-enforcing-policy": _in_mfa_enforcing_policy,
    "allows-in-set": _allows_in_set,
    "variables-not-substituted": _variables_not_substituted,
    "deny": lambda statement, scope: statement.effect == "Deny",
    "allow": lambda statement, scope: statement.effect == "Allow",
    "identity-policy": lambda statement, scope: (
        scope.document.kind is PolicyKind.IDENTITY
    ),
    "service-control-policy": lambda statement, scope: (
        scope.document.kind is PolicyKind.SCP
    ),
}

# Predicates that are false for every statement of a document without a
# condition entry on an MFA key. The runner skips such rules for those
# documents without evaluating anything.
NEEDS_MFA_KEY = frozenset(
    {"mfa-deny", "mfa-allow", "mfa-age-test", "mfa-enforcing-policy"}
)
