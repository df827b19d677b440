import fnmatch
import re
import time

from hypothesis import given
from hypothesis import strategies as st

from mfa_guard.iam.actions import action_matches
from mfa_guard.iam.glob import Glob, wildcard_tokens


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


def test_pathological_pattern_is_fast():
    pattern = "iam:" + "*?" * 30 + "X"
    started = time.perf_counter()
    for _ in range(5):
        assert not action_matches(pattern, "iam:" + "A" * 80)
    # A backtracking regex takes minutes here; the automaton takes milliseconds.
    assert time.perf_counter() - started < 5
