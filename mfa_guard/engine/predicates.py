"""Named statement predicates that rule files list under `where`.

A statement is checked only when every predicate in `where` is true for it.

- `deny`, `allow`: the statement's Effect.
- `mfa-deny`: a Deny statement with an MFA test whose condition holds for
  at least one kind of caller without MFA (a console user without MFA, a
  long-term access key, a role session without MFA). An MFA test is `Bool`
  or `BoolIfExists` on aws:MultiFactorAuthPresent with the value false,
  `Null` on either MFA key, or a `Numeric` test on aws:MultiFactorAuthAge.
  Any other test on aws:MultiFactorAuthPresent counts when IAM evaluates it
  to true for a request with the key "false" or without the key, and to
  false for the key "true". `StringEquals` "false" and
  `StringNotEqualsIfExists` "true" are examples.
- `mfa-allow`: an Allow statement with an MFA requirement: `Bool` or
  `BoolIfExists` on aws:MultiFactorAuthPresent with the value true, `Null`
  on either MFA key with the value false, or a `Numeric` test on
  aws:MultiFactorAuthAge. Any other test on aws:MultiFactorAuthPresent
  counts when IAM evaluates it to true for the key "true", and to false for
  a request with the key "false" or without the key. `StringEquals` "true"
  and `StringNotEquals` "false" are examples.
- `mfa-present-required`: the statement has a test on
  aws:MultiFactorAuthPresent that IAM evaluates to true for the key "true"
  and to false for a request with the key "false" or without the key.
  `Bool` "true" and `StringEquals` "true" are examples, in any Effect.
- `mfa-age-test`: the statement tests aws:MultiFactorAuthAge with a
  `Numeric` operator.
- `mfa-enforcing-policy`: the statement's document contains an MFA deny.
- `no-mfa-deny-in-set`: some policy set that contains the statement's
  document has no MFA deny in any of its documents. A set is the policies
  that apply to one IAM user, or the document alone when no user is known.
- `mfa-keys-only`: every condition entry of the statement tests an MFA key.
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

import functools
from collections.abc import Callable

from mfa_guard.engine.context import NO_MFA_SCENARIOS
from mfa_guard.engine.scope import DocumentScope
from mfa_guard.iam.conditions import Tri, evaluate_conditions, evaluate_entry
from mfa_guard.iam.scenarios import Scenario, build_scenario
from mfa_guard.iam.variables import VARIABLES_VERSION, variables_apply
from mfa_guard.loaders.positions import Unresolved
from mfa_guard.model import (
    ConditionEntry,
    PolicyDocument,
    PolicyKind,
    SourceSpan,
    Statement,
)

MFA_PRESENT = "aws:multifactorauthpresent"
MFA_AGE = "aws:multifactorauthage"
MFA_KEYS = (MFA_PRESENT, MFA_AGE)


def base_operator(operator: str) -> str:
    """Strip a set-operator prefix and an IfExists suffix: "ForAnyValue:BoolIfExists" -> "Bool"."""
    name = operator.split(":", 1)[-1]
    if name.endswith("IfExists"):
        name = name[: -len("IfExists")]
    return name


# The callers that decide what an entry on aws:MultiFactorAuthPresent tests:
# the key is "false" for a console user without MFA and missing for a
# long-term access key, and it is "true" for a console user with MFA.
_WITHOUT_MFA = ("console-without-mfa", "access-key")
_WITH_MFA = "console-with-mfa"

DENY_FORM = "deny"
ALLOW_FORM = "allow"

# Operators whose tests on the MFA keys are recognised by name and value,
# not evaluated. The invalid-mfa-condition-value rule reports a `Bool` or
# `Null` value other than one "true" or "false", and evaluating such a value
# would add findings that repeat it: `BoolIfExists` "no" holds only when the
# key is missing, like `Null` "true".
_NAMED_OPERATORS = frozenset({"Bool", "Null"})


def _has_value(entry: ConditionEntry, expected: str) -> bool:
    return any(value.strip().lower() == expected for value in entry.values)


@functools.cache
def _presence_scenarios() -> tuple[tuple[Scenario, ...], Scenario]:
    without = tuple(build_scenario(name) for name in _WITHOUT_MFA)
    return without, build_scenario(_WITH_MFA)


@functools.lru_cache(maxsize=1024)
def _presence_form(
    operator: str, values: tuple[str, ...], version: str | None
) -> str | None:
    """Classify a test on aws:MultiFactorAuthPresent by how IAM evaluates it.

    Return DENY_FORM when the test holds for some caller without MFA and not
    for a caller with MFA, ALLOW_FORM when it holds for a caller with MFA and
    not for some caller without MFA, and None otherwise. A result that is
    UNKNOWN, such as a value with a policy variable the scenario does not
    set, counts as neither holding nor failing.
    """
    span = SourceSpan.point("", 1, 1)
    entry = ConditionEntry(operator, MFA_PRESENT, values, values, span, span)
    without, with_mfa = _presence_scenarios()
    outcomes = [evaluate_entry(entry, scenario, version).value for scenario in without]
    outcome_with_mfa = evaluate_entry(entry, with_mfa, version).value

    if Tri.TRUE in outcomes and outcome_with_mfa is Tri.FALSE:
        return DENY_FORM
    if Tri.FALSE in outcomes and outcome_with_mfa is Tri.TRUE:
        return ALLOW_FORM
    return None


def presence_form(
    entry: ConditionEntry, version: str | None = VARIABLES_VERSION
) -> str | None:
    """Return DENY_FORM, ALLOW_FORM or None for an entry on aws:MultiFactorAuthPresent.

    The entry is evaluated as IAM evaluates it for a request with the key
    "false", a request without the key and a request with the key "true".
    The result therefore does not depend on the operator's name, and
    `StringNotEqualsIfExists` "true" is a deny form like `BoolIfExists`
    "false". An entry on another key returns None. `version` is the
    policy's Version, which decides whether policy variables in the values
    are substituted.
    """
    if entry.key.lower() != MFA_PRESENT:
        return None
    return _presence_form(entry.operator, entry.values, version)


def is_mfa_test(entry: ConditionEntry, version: str | None = VARIABLES_VERSION) -> bool:
    """Return True for a test that can hold when MFA is absent (the deny form).

    A `Bool` test counts when one of its values is "false", a `Null` test on
    either MFA key always counts, and so does a `Numeric` test on
    aws:MultiFactorAuthAge, whose meaning depends on its threshold. Any
    other test on aws:MultiFactorAuthPresent counts when `presence_form`
    returns DENY_FORM for it.
    """
    key = entry.key.lower()
    operator = base_operator(entry.operator)
    if key == MFA_PRESENT and operator not in _NAMED_OPERATORS:
        return presence_form(entry, version) == DENY_FORM
    if key == MFA_PRESENT and operator == "Bool":
        return _has_value(entry, "false")
    if key in MFA_KEYS and operator == "Null":
        return True
    return key == MFA_AGE and operator.startswith("Numeric")


def is_mfa_requirement(
    entry: ConditionEntry, version: str | None = VARIABLES_VERSION
) -> bool:
    """Return True for a test meant to hold only when MFA was used (the allow form).

    The mirror of `is_mfa_test`: `Bool` with a value "true", `Null` with the
    value "false", a `Numeric` age test, or another test on
    aws:MultiFactorAuthPresent for which `presence_form` returns ALLOW_FORM.
    """
    key = entry.key.lower()
    operator = base_operator(entry.operator)
    if key == MFA_PRESENT and operator not in _NAMED_OPERATORS:
        return presence_form(entry, version) == ALLOW_FORM
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
    version = scope.document.version
    if not any(is_mfa_test(entry, version) for entry in statement.conditions):
        return False

    for name in NO_MFA_SCENARIOS:
        outcome = evaluate_conditions(statement, scope.scenario(name), version)
        if outcome.value is not Tri.FALSE:
            return True
    return False


def _is_mfa_allow(statement: Statement, scope: DocumentScope) -> bool:
    if statement.effect != "Allow":
        return False
    version = scope.document.version
    return any(is_mfa_requirement(entry, version) for entry in statement.conditions)


def _requires_mfa_present(statement: Statement, scope: DocumentScope) -> bool:
    version = scope.document.version
    return any(
        presence_form(entry, version) == ALLOW_FORM for entry in statement.conditions
    )


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


def set_has_mfa_deny(scope: DocumentScope) -> bool:
    """Return whether every policy set that contains the document has an MFA deny."""
    return scope.memo("set-has-mfa-deny", lambda: scope.every_set_has(is_mfa_deny))


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
    "mfa-present-required": _requires_mfa_present,
    "mfa-age-test": _has_mfa_age_test,
    "mfa-enforcing-policy": _in_mfa_enforcing_policy,
    "no-mfa-deny-in-set": lambda statement, scope: not set_has_mfa_deny(scope),
    "mfa-keys-only": lambda statement, scope: all(
        entry.key.lower() in MFA_KEYS for entry in statement.conditions
    ),
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
    {
        "mfa-deny",
        "mfa-allow",
        "mfa-present-required",
        "mfa-age-test",
        "mfa-enforcing-policy",
    }
)
