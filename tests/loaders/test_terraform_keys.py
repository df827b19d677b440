"""Matching a key written with interpolations against the keys tfparse rendered."""

from __future__ import annotations

import pytest

from mfa_guard.loaders.terraform_keys import MAX_MATCHED_LENGTH, _only_match

PREFIXED = ["", "${var.prefix}", ":MultiFactorAuthPresent"]


def test_only_match_found() -> None:
    spare = ["aws:MultiFactorAuthPresent", "aws:MultiFactorAuthAge"]

    assert _only_match(PREFIXED, spare) == "aws:MultiFactorAuthPresent"


def test_two_matches_ambiguous() -> None:
    spare = ["aws:MultiFactorAuthPresent", "x:MultiFactorAuthPresent"]

    assert _only_match(PREFIXED, spare) is None


def test_adjacent_interpolations_one_wildcard() -> None:
    pieces = [""] + ["${local.part}", ""] * 30

    assert _only_match(pieces, ["aws:MultiFactorAuthPresent"]) == (
        "aws:MultiFactorAuthPresent"
    )


@pytest.mark.parametrize(
    ("pieces", "key"),
    [
        # Three wildcards between literals: too slow to match in the worst case.
        (["a", "${x}", "-", "${y}", "-", "${z}", "b"], "a1-2-3b"),
        (PREFIXED, "a" * MAX_MATCHED_LENGTH + ":MultiFactorAuthPresent"),
    ],
)
def test_match_limits(pieces: list[str], key: str) -> None:
    assert _only_match(pieces, [key]) is None
