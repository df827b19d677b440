import fnmatch
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mfa_guard.iam.actions import action_matches
from mfa_guard.iam.glob import (
    ANY,
    ANY_NOT_COLON,
    LITERAL,
    STAR,
    STAR_NOT_COLON,
    Glob,
    wildcard_tokens,
)


def oracle(pattern, text):
    return (
        re.fullmatch(fnmatch.translate(pattern).replace("(?s:", "(?s:", 1), text)
        is not None
    )


@given(st.text(alphabet="ab*?", max_size=9), st.text(alphabet="ab", max_size=9))
def test_glob_agrees_with_fnmatch(pattern, text):
    # fnmatch treats [ specially; the alphabet avoids it.
    assert bool(Glob(wildcard_tokens(pattern)).fullmatch(text)) == oracle(pattern, text)


def test_many_stars_use_automaton():
    assert Glob(wildcard_tokens("*a*b*c")).fullmatch("xaybzc")
    assert not Glob(wildcard_tokens("*a*b*c")).fullmatch("xaybz")


def test_pathological_pattern_no_match():
    # A backtracking regular expression takes minutes on this pattern.
    pattern = "iam:" + "*?" * 30 + "X"
    assert not action_matches(pattern, "iam:" + "A" * 80)


@given(st.text(alphabet="ab:*?", max_size=14), st.text(alphabet="ab:", max_size=14))
def test_many_star_patterns_agree_with_fnmatch(pattern, text):
    assert bool(Glob(wildcard_tokens(pattern)).fullmatch(text)) == oracle(pattern, text)


TOKEN_REGEX = {
    LITERAL: None,
    ANY: ".",
    ANY_NOT_COLON: "[^:]",
    STAR: ".*",
    STAR_NOT_COLON: "[^:]*",
}
TOKENS = st.sampled_from(
    [
        (LITERAL, "a"),
        (LITERAL, ":"),
        (ANY, ""),
        (ANY_NOT_COLON, ""),
        (STAR, ""),
        (STAR_NOT_COLON, ""),
    ]
)


@given(st.lists(TOKENS, max_size=10), st.text(alphabet="ab:", max_size=10))
def test_colon_tokens_agree_with_regex(tokens, text):
    source = "".join(
        re.escape(char) if kind == LITERAL else TOKEN_REGEX[kind]
        for kind, char in tokens
    )
    expected = re.fullmatch(source, text, re.DOTALL) is not None
    assert bool(Glob(tokens).fullmatch(text)) == expected


def test_star_runs_reduced():
    assert Glob(wildcard_tokens("a*?*?b")).tokens == tuple(wildcard_tokens("a??*b"))


def test_long_star_run_matches_length():
    glob = Glob(wildcard_tokens("*?" * 300))
    assert not glob.fullmatch("x" * 299)
    assert glob.fullmatch("x" * 300)


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("*a*b*b", "ab", False),
        ("*a*b*b", "abb", True),
        ("*a*a*a", "aa", False),
        ("a*?*b*c", "axbc", True),
        ("a*?*b*c", "abc", False),
        ("*:*:*:", "a:b:c:", True),
    ],
)
def test_segments_do_not_overlap(pattern, text, expected):
    assert bool(Glob(wildcard_tokens(pattern)).fullmatch(text)) is expected
