"""Named statement predicates that rule files list under `where`.

`mfa-deny` defines an MFA deny: a Deny statement with an MFA test whose
condition holds for at least one kind of caller without MFA. An MFA test is
Bool or BoolIfExists on aws:MultiFactorAuthPresent with the value false,
Null on either MFA key, or a Numeric test on aws:MultiFactorAuthAge.
"""

from __future__ import annotations

from collections.abc import Callable

from mfa_guard.engine.context import NO_MFA_SCENARIOS, RunContext
from mfa_guard.iam.conditions import Tri, evaluate_conditions
from mfa_guard.model import ConditionEntry, PolicyDocument, PolicyKind, Statement

MFA_PRESENT = "aws:multifactorauthpresent"
MFA_AGE = "aws:multifactorauthage"


def base_operator(operator: str) -> str:
    """Strip a set-operator prefix and an IfExists suffix: "ForAnyValue:BoolIfExists" -> "Bool"."""
    name = operator.split(":", 1)[-1]
    if name.endswith("IfExists"):
        name = name[: -len("IfExists")]
    return name


def is_mfa_test(entry: ConditionEntry) -> bool:
    key = entry.key.lower()
    operator = base_operator(entry.operator)
    if key == MFA_PRESENT and operator == "Bool":
        return any(value.strip().lower() == "false" for value in entry.values)
    if key in (MFA_PRESENT, MFA_AGE) and operator == "Null":
        return True
    return key == MFA_AGE and operator.startswith("Numeric")


def is_mfa_deny(
    statement: Statement, document: PolicyDocument, context: RunContext
) -> bool:
    if statement.effect != "Deny":
        return False
    if not any(is_mfa_test(entry) for entry in statement.conditions):
        return False
    for name in NO_MFA_SCENARIOS:
        outcome = evaluate_conditions(
            statement, context.scenarios[name], document.version
        )
        if outcome.value is not Tri.FALSE:
            return True
    return False


Predicate = Callable[[Statement, PolicyDocument, RunContext], bool]

PREDICATES: dict[str, Predicate] = {
    "mfa-deny": is_mfa_deny,
    "deny": lambda statement, document, context: statement.effect == "Deny",
    "allow": lambda statement, document, context: statement.effect == "Allow",
    "identity-policy": lambda statement, document, context: (
        document.kind is PolicyKind.IDENTITY
    ),
    "service-control-policy": lambda statement, document, context: (
        document.kind is PolicyKind.SCP
    ),
}
