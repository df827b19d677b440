"""Choose the CloudFormation condition values that `mfa-guard simulate` uses.

A template's policy with `Fn::If` is loaded once per combination of its
conditions. A deployed stack has one value for each condition, so a
simulation keeps one variant of each policy: the one built for the values
given with `--condition NAME=true|false`, each other condition being true.
The output names the values used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mfa_guard.engine.policy_sets import built_for, condition_names, describe_assignment
from mfa_guard.errors import UsageError
from mfa_guard.model import PolicyDocument

_VALUES = {"true": True, "false": False}


def parse_conditions(pairs: Sequence[str]) -> dict[str, bool]:
    """Read `--condition NAME=true|false` options, or raise UsageError."""
    chosen: dict[str, bool] = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        flag = _VALUES.get(value.strip().lower())
        if not separator or not name.strip() or flag is None:
            raise UsageError(
                f"invalid --condition {pair!r}: expected NAME=true or NAME=false,"
                " such as IsProduction=false"
            )
        name = name.strip()
        if chosen.get(name, flag) != flag:
            raise UsageError(f"--condition {name} is given both true and false")
        chosen[name] = flag
    return chosen


def choose_variants(
    documents: Sequence[PolicyDocument], chosen: Mapping[str, bool]
) -> tuple[list[PolicyDocument], list[str]]:
    """Keep the variant of each policy that the condition values build, and explain.

    Returns the documents to evaluate and notes for the output: the values
    used, and each chosen condition that decides none of the documents.
    """
    names = condition_names(documents)
    notes = [
        f"--condition {name}: no policy here depends on this condition"
        for name in chosen
        if name not in names
    ]
    if not names:
        return list(documents), notes

    assignment = tuple((name, chosen.get(name, True)) for name in names)
    variants = [document for document in documents if built_for(document, assignment)]
    defaulted = [name for name in names if name not in chosen]
    note = f"evaluated with {describe_assignment(assignment)}"
    if defaulted:
        note += f"; {', '.join(defaulted)} not set with --condition, so taken as true"
    return variants, [note, *notes]
