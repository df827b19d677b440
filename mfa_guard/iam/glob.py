"""Wildcard patterns that match in bounded time.

IAM patterns use `*` and `?`. Translated to regular expressions, a pattern
with many stars, such as `*a*a*a*a*b`, makes Python's backtracking engine
take exponential time on a string that almost matches. A run of stars and
question marks is first reduced to its question marks followed by one star,
which matches the same texts. A pattern left with at most
`REGEX_STAR_LIMIT` stars is compiled to a regular expression, which is fast
and at worst quadratic. A pattern with more stars that can match `:` is cut
at its stars into fixed-length segments, each found at its leftmost place
after the previous one, which is correct for stars that match anything and
takes about one search per segment. Other patterns are matched by
simulating their automaton, in time proportional to pattern length times
text length.
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


# The star and the single-character token of each family.
_FAMILIES = {
    STAR: ANY,
    ANY: ANY,
    STAR_NOT_COLON: ANY_NOT_COLON,
    ANY_NOT_COLON: ANY_NOT_COLON,
}


class Glob:
    """A compiled pattern; `fullmatch` mirrors `re.Pattern.fullmatch`'s truthiness."""

    def __init__(self, tokens: Sequence[Token]) -> None:
        self.tokens = tuple(_reduce_runs(tokens))
        stars = sum(1 for kind, _ in self.tokens if kind in (STAR, STAR_NOT_COLON))
        self._regex: re.Pattern[str] | None = None
        self._segments: list[tuple[re.Pattern[str], int]] | None = None
        if stars <= REGEX_STAR_LIMIT:
            self._regex = re.compile(_regex_source(self.tokens), re.DOTALL)
        elif all(kind in (LITERAL, ANY, STAR) for kind, _ in self.tokens):
            self._segments = _segments(self.tokens)

    def fullmatch(self, text: str) -> bool | None:
        if self._regex is not None:
            return True if self._regex.fullmatch(text) else None
        if self._segments is not None:
            return True if _match_segments(self._segments, text) else None
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


def _reduce_runs(tokens: Sequence[Token]) -> list[Token]:
    """Rewrite each run of stars and single characters of one family as its single characters, then one star.

    `*?*?` and `??*` match the same texts: at least two characters.
    """
    reduced: list[Token] = []
    index = 0
    while index < len(tokens):
        kind = tokens[index][0]
        if kind == LITERAL:
            reduced.append(tokens[index])
            index += 1
            continue
        single = _FAMILIES[kind]
        star = STAR if single == ANY else STAR_NOT_COLON
        end = index
        while end < len(tokens) and tokens[end][0] in (single, star):
            end += 1
        run = tokens[index:end]
        reduced.extend((single, "") for token in run if token[0] == single)
        if any(token[0] == star for token in run):
            reduced.append((star, ""))
        index = end
    return reduced


def _regex_source(tokens: Sequence[Token]) -> str:
    return "".join(
        re.escape(char) if kind == LITERAL else _REGEX[kind] for kind, char in tokens
    )


def _segments(tokens: Sequence[Token]) -> list[tuple[re.Pattern[str], int]]:
    """Cut a pattern of literals, `?` and `*` at its stars into segments and their lengths.

    A segment has no star, so it matches a fixed number of characters.
    """
    pieces: list[list[Token]] = [[]]
    for token in tokens:
        if token[0] == STAR:
            pieces.append([])
        else:
            pieces[-1].append(token)
    return [
        (re.compile(_regex_source(piece), re.DOTALL), len(piece)) for piece in pieces
    ]


def _match_segments(segments: list[tuple[re.Pattern[str], int]], text: str) -> bool:
    """Match segments separated by stars: the first at the start, the last at the end, the others leftmost in between."""
    (first, _), *middle, (last, last_length) = segments
    start = first.match(text)
    if start is None:
        return False
    position = start.end()
    tail = len(text) - last_length
    if tail < position or last.fullmatch(text, tail) is None:
        return False
    for segment, _ in middle:
        found = segment.search(text, position, tail)
        if found is None:
            return False
        position = found.end()
    return True


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
