"""Wildcard patterns that match in bounded time.

IAM patterns use `*` and `?`. Translated to regular expressions, a pattern
with many stars, such as `*a*a*a*a*b`, makes Python's backtracking engine
take exponential time on a string that almost matches. A pattern with at
most `REGEX_STAR_LIMIT` stars is compiled to a regular expression, which is
fast and at worst quadratic. A pattern with more stars is matched by
simulating its automaton, in time proportional to pattern length times text
length.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Token kinds: a literal character, one character, one character other than
# ":", any run of characters, any run of characters without ":".
LITERAL = "literal"
ANY = "any"
ANY_NOT_COLON = "any-not-colon"
STAR = "star"
STAR_NOT_COLON = "star-not-colon"

Token = tuple[str, str]

REGEX_STAR_LIMIT = 2

_REGEX = {ANY: ".", ANY_NOT_COLON: "[^:]", STAR: ".*", STAR_NOT_COLON: "[^:]*"}


class Glob:
    """A compiled pattern; `fullmatch` mirrors `re.Pattern.fullmatch`'s truthiness."""

    def __init__(self, tokens: Sequence[Token]) -> None:
        self.tokens = tuple(tokens)
        stars = sum(1 for kind, _ in self.tokens if kind in (STAR, STAR_NOT_COLON))
        self._regex: re.Pattern[str] | None = None
        if stars <= REGEX_STAR_LIMIT:
            source = "".join(
                re.escape(char) if kind == LITERAL else _REGEX[kind]
                for kind, char in self.tokens
            )
            self._regex = re.compile(source, re.DOTALL)

    def fullmatch(self, text: str) -> bool | None:
        if self._regex is not None:
            return True if self._regex.fullmatch(text) else None
        return True if self._simulate(text) else None

    def _closure(self, states: set[int]) -> set[int]:
        # A star may match nothing, so the state after it is reachable too.
        result = set(states)
        pending = list(states)
        while pending:
            state = pending.pop()
            if (
                state < len(self.tokens)
                and self.tokens[state][0] in (STAR, STAR_NOT_COLON)
                and state + 1 not in result
            ):
                result.add(state + 1)
                pending.append(state + 1)
        return result

    def _simulate(self, text: str) -> bool:
        states = self._closure({0})
        for char in text:
            following: set[int] = set()
            for state in states:
                if state == len(self.tokens):
                    continue
                kind, literal = self.tokens[state]
                if kind == STAR or (kind == STAR_NOT_COLON and char != ":"):
                    following.add(state)
                elif (
                    kind == ANY
                    or (kind == ANY_NOT_COLON and char != ":")
                    or (kind == LITERAL and char == literal)
                ):
                    following.add(state + 1)
            if not following:
                return False
            states = self._closure(following)
        return len(self.tokens) in states


def wildcard_tokens(text: str) -> list[Token]:
    """Tokenise policy text in which `*` and `?` match anything, `/` and `:` included."""
    tokens: list[Token] = []
    for char in text:
        if char == "*":
            tokens.append((STAR, ""))
        elif char == "?":
            tokens.append((ANY, ""))
        else:
            tokens.append((LITERAL, char))
    return tokens


def literal_tokens(text: str) -> list[Token]:
    return [(LITERAL, char) for char in text]
