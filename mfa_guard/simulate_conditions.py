"""Choose the CloudFormation condition values that `mfa-guard simulate` uses.

A template's policy with `Fn::If`, or on a resource with a `Condition`, is
loaded once per combination of its conditions. A deployed stack has one
value for each condition, so a simulation keeps one variant of each policy:
the one built for the values given with `--condition NAME=true|false`.

Each condition not given is true when the template allows that. When it
does not (`NotProd: !Not [Condition: IsProd]` rules out both true), the
combinations of the conditions not given are tried in a fixed order, and
the first one the template's Conditions allow is used. The order counts
down in binary with true before false, the conditions taken in order of
first use, so the last condition used is the first to become false. The
output names the values used.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence

from mfa_guard.cfn_conditions import matches_any, possible
from mfa_guard.engine.policy_sets import (
    PolicySet,
    built_for,
    condition_names,
    describe_assignment,
    describe_principal,
)
from mfa_guard.errors import UsageError
from mfa_guard.model import PolicyDocument

_VALUES = {"true": True, "false": False}

# Maximum number of combinations of the conditions not given that are tried.
# Past it, those conditions are taken as true.
MAX_TRIED = 1024


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
    Raises UsageError when the template rules out the chosen values.
    """
    names = condition_names(documents)
    texts = _definitions(documents)
    values, notes = _choose_values(names, chosen, texts)
    if values is None:
        return list(documents), notes

    assignment = tuple(values.items())
    variants = [document for document in documents if built_for(document, assignment)]
    return variants, notes


def choose_members(
    policy_set: PolicySet, chosen: Mapping[str, bool]
) -> tuple[list[PolicyDocument], list[str]]:
    """Keep the members of a user's set that reach it with the condition values.

    `policy_set` contains every variant of every policy that reaches the user
    in some stack. A member stays when the values create its links (a group
    membership from an `Fn::If`, for example) and build its variant. The
    user's own `Condition` must hold: a value that contradicts it raises
    UsageError, and it is true when not given.
    """
    documents = policy_set.documents
    principal = policy_set.principal
    fixed: dict[str, bool] = {}
    texts = _definitions(documents)
    if principal is not None:
        fixed = dict(principal.exists_when)
        texts = list(dict.fromkeys([principal.conditions, *texts]))
    for name, value in fixed.items():
        if chosen.get(name, value) != value and principal is not None:
            raise UsageError(
                f"--condition {name}={_text(not value)}:"
                f" {describe_principal(principal)} exists only when {name} is"
                f" {_text(value)}, because of its resource's Condition"
            )

    names = _member_condition_names(policy_set, fixed)
    values, notes = _choose_values(names, {**fixed, **chosen}, texts, chosen)
    if values is None:
        return list(documents), notes

    assignment = tuple(values.items())
    reaching = [
        member.document
        for member in policy_set.members
        if matches_any(member.when, values) and built_for(member.document, assignment)
    ]
    return reaching, notes


def _member_condition_names(
    policy_set: PolicySet, fixed: Mapping[str, bool]
) -> list[str]:
    names = dict.fromkeys(fixed)
    names.update(dict.fromkeys(condition_names(policy_set.documents)))
    for member in policy_set.members:
        for when in member.when:
            names.update(dict.fromkeys(name for name, _ in when))
    return list(names)


def _definitions(documents: Iterable[PolicyDocument]) -> list[str]:
    """Return the Conditions sections of the documents' templates, once each."""
    texts = (document.template_conditions for document in documents)
    return list(dict.fromkeys(text for text in texts if text))


def _choose_values(
    names: Sequence[str],
    preset: Mapping[str, bool],
    texts: Sequence[str],
    chosen: Mapping[str, bool] | None = None,
) -> tuple[dict[str, bool] | None, list[str]]:
    """Return the value of each of `names`, or None for no names, and the notes.

    `preset` contains the values that are set, and `chosen` those of them that
    came from `--condition` (all of `preset` when None).
    """
    chosen = preset if chosen is None else chosen
    notes = [
        f"--condition {name}: no policy here depends on this condition"
        for name in chosen
        if name not in names
    ]
    if not names:
        return None, notes
    if chosen and not all(possible(preset, text) for text in texts):
        listed = ", ".join(f"{name}={_text(value)}" for name, value in chosen.items())
        raise UsageError(
            f"--condition {listed}: the template's Conditions rule out these"
            " values together, so no stack has them; change one of them"
        )

    free = [name for name in names if name not in preset]
    values = _first_possible(preset, free, texts)
    assignment = tuple((name, values[name]) for name in names)
    note = f"evaluated with {describe_assignment(assignment)}"
    defaulted = [name for name in names if name not in chosen]
    if defaulted and all(values[name] for name in free):
        note += f"; {', '.join(defaulted)} not set with --condition, so taken as true"
    elif defaulted:
        note += (
            f"; {', '.join(defaulted)} not set with --condition; the template's"
            " Conditions rule out all true, so the first possible values were"
            " taken, trying true before false"
        )
    return dict(assignment), [note, *notes]


def _first_possible(
    preset: Mapping[str, bool],
    free: Sequence[str],
    texts: Sequence[str],
) -> dict[str, bool]:
    """Return `preset` with the first possible values of `free`, all true as the fallback."""
    combinations = itertools.product((True, False), repeat=len(free))
    for flags in itertools.islice(combinations, MAX_TRIED):
        values = {**preset, **dict(zip(free, flags, strict=True))}
        if all(possible(values, text) for text in texts):
            return values
    # NOTE: past MAX_TRIED combinations, the values may be impossible.
    return {**preset, **dict.fromkeys(free, True)}


def _text(value: bool) -> str:
    return "true" if value else "false"
