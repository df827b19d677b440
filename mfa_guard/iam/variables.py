"""Policy variables such as `${aws:username}` in resources and condition values.

IAM substitutes variables only in documents whose Version is "2012-10-17".
In any other document the text is compared literally. A variable may carry a
default (`${aws:PrincipalTag/team, 'none'}`) that applies when the key is
absent. `${*}`, `${?}` and `${$}` are escapes for the literal characters. Variable
names are case-insensitive. Source:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mfa_guard.records import record

if TYPE_CHECKING:
    from mfa_guard.iam.scenarios import Scenario

VARIABLES_VERSION = "2012-10-17"

_ESCAPES = frozenset("*?$")

# A default is a single-quoted string after a comma: `${key, 'default'}`.
_DEFAULT = re.compile(r"^(?P<key>[^,]*?)\s*,\s*'(?P<default>[^']*)'\s*$")


@record
class Variable:
    """A `${...}` reference as written, with its key and optional default."""

    text: str
    key: str
    default: str | None = None


@record
class Substituted:
    """Text that a variable stood for. Wildcard characters in it are literal."""

    text: str


Piece = str | Variable
PatternPart = str | Substituted


@record
class Resolution:
    """The result of substituting every variable of one policy string.

    `parts` alternates policy text (where `*` and `?` are wildcards) and
    substituted values. It is None when a variable has no value
    (`missing_keys`) or an unknown one (`unknown_keys`).
    """

    parts: tuple[PatternPart, ...] | None
    missing_keys: frozenset[str] = frozenset()
    unknown_keys: frozenset[str] = frozenset()


def variables_apply(version: str | None) -> bool:
    """Return True when a document of this Version has its variables substituted."""
    return version == VARIABLES_VERSION


@functools.lru_cache(maxsize=4096)
def split_variables(text: str) -> tuple[Piece, ...]:
    """Split text into literal pieces and `${...}` references.

    A `${` without a closing brace stays literal text. Results are
    cached, because rules evaluate the same policy strings many times.
    """
    pieces: list[Piece] = []
    position = 0
    literal_start = 0
    while True:
        start = text.find("${", position)
        if start < 0:
            break
        end = text.find("}", start + 2)
        if end < 0:
            break

        if start > literal_start:
            pieces.append(text[literal_start:start])
        pieces.append(_parse_reference(text[start : end + 1]))
        position = end + 1
        literal_start = position

    if literal_start < len(text):
        pieces.append(text[literal_start:])
    return tuple(pieces)


def _parse_reference(text: str) -> Variable:
    inner = text[2:-1]
    match = _DEFAULT.match(inner)
    if match is None:
        return Variable(text=text, key=inner.strip())
    return Variable(text=text, key=match["key"].strip(), default=match["default"])


def variable_value(variable: Variable, scenario: Scenario) -> str | None:
    """Return the value substituted for a variable, or None when it has none.

    A key the scenario does not set has no value here either. Callers that
    must tell an unknown key from an absent one check `scenario.key_state`.
    Keys with several values have no single value to substitute, so they
    count as having none.
    """
    if variable.key in _ESCAPES:
        return variable.key

    values = scenario.values.get(variable.key.lower())
    if values is not None and len(values) == 1:
        return values[0]
    if values is None and scenario.key_state(variable.key) == "absent":
        return variable.default
    return None


def resolve(text: str, scenario: Scenario, version: str | None) -> Resolution:
    """Substitute the variables of a policy string for use as a pattern."""
    if not variables_apply(version):
        return Resolution(parts=(text,))

    parts: list[PatternPart] = []
    missing: set[str] = set()
    unknown: set[str] = set()
    for piece in split_variables(text):
        if isinstance(piece, str):
            parts.append(piece)
            continue

        is_escape = piece.key in _ESCAPES
        if not is_escape and scenario.key_state(piece.key) == "unknown":
            unknown.add(piece.key)
            continue

        value = variable_value(piece, scenario)
        if value is None:
            missing.add(piece.key)
        else:
            parts.append(Substituted(value))

    if missing:
        return Resolution(parts=None, missing_keys=frozenset(missing))
    if unknown:
        return Resolution(parts=None, unknown_keys=frozenset(unknown))
    return Resolution(parts=tuple(parts))


def join_parts(parts: Sequence[PatternPart]) -> str:
    """Join resolved parts back into plain text."""
    return "".join(part if isinstance(part, str) else part.text for part in parts)


def substitute(text: str, scenario: Scenario, version: str | None) -> str | None:
    """Return the text with its variables replaced by the scenario's values.

    Returns None when a variable has no value, including a key the scenario
    does not set. When `version` is not "2012-10-17" the text is returned
    unchanged, because IAM then reads variables as literal text.
    """
    resolution = resolve(text, scenario, version)
    if resolution.parts is None:
        return None
    return join_parts(resolution.parts)
