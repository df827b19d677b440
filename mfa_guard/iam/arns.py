"""Resource ARN matching with IAM's wildcard rules.

An ARN has six colon-separated segments:
`arn:partition:service:region:account:resource`. Following the IAM Resource
element reference
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html),
`*` and `?` match within one segment, except that a `*` that ends a segment
may also match beyond the colon boundaries. In the resource segment `*`
matches `/` and `:` too. The service segment takes no wildcards and is
compared literally. Matching is case-sensitive.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from mfa_guard.iam.glob import (
    ANY,
    ANY_NOT_COLON,
    LITERAL,
    STAR,
    STAR_NOT_COLON,
    Glob,
    Token,
)
from mfa_guard.iam.scenarios import DEFAULT_ACCOUNT
from mfa_guard.iam.variables import PatternPart, Substituted, split_variables

_PARTITION_SEGMENT = 1
_SERVICE_SEGMENT = 2
_ACCOUNT_SEGMENT = 4
_ACCOUNT_ID = re.compile(r"\d{12}")
# The partitions other than `aws`, whose ARNs read as the scenarios' `aws`.
OTHER_PARTITIONS = frozenset(
    {
        "aws-cn",
        "aws-us-gov",
        "aws-iso",
        "aws-iso-b",
        "aws-iso-e",
        "aws-iso-f",
        "aws-eusc",
    }
)
_RESOURCE_SEGMENT = 5

# A `${...}` reference in the account segment whose name is not an IAM
# condition key (`AWS::AccountId`, `data.aws_caller_identity.current.account_id`)
# is a template value the loader could not resolve.
_CONDITION_KEY_NAME = re.compile(r"^[A-Za-z0-9-]+:[^:]+$")


def arn_matches(pattern: str, arn: str) -> bool:
    """Return True when a Resource pattern without variables matches an ARN.

    The pattern "*" matches every ARN, including the literal "*" that
    actions without resource-level permissions are authorised against.
    """
    return compile_arn_pattern((pattern,)).fullmatch(arn) is not None


@functools.lru_cache(maxsize=4096)
def compile_arn_pattern(parts: tuple[PatternPart, ...]) -> Glob:
    """Compile a resolved Resource pattern into a matcher.

    Plain strings in `parts` are policy text with wildcards. `Substituted`
    values, such as a user name, match literally.
    """
    tokens = _tokens(parts)
    compiled: list[Token] = []
    segment = 0
    for index, (char, is_policy_text) in enumerate(tokens):
        if not is_policy_text:
            compiled.append((LITERAL, char))
            continue

        if char == ":" and segment < _RESOURCE_SEGMENT:
            segment += 1
            compiled.append((LITERAL, ":"))
            continue

        if char not in "*?" or segment == _SERVICE_SEGMENT:
            compiled.append((LITERAL, char))
            continue

        if segment == _RESOURCE_SEGMENT:
            compiled.append((STAR, "") if char == "*" else (ANY, ""))
            continue

        if char == "?":
            compiled.append((ANY_NOT_COLON, ""))
            continue

        following = tokens[index + 1] if index + 1 < len(tokens) else None
        ends_segment = following is None or following == (":", True)
        compiled.append((STAR, "") if ends_segment else (STAR_NOT_COLON, ""))

    return Glob(compiled)


def _tokens(parts: Sequence[PatternPart]) -> list[tuple[str, bool]]:
    """Split parts into characters, each flagged True when it is policy text."""
    tokens: list[tuple[str, bool]] = []
    for part in parts:
        if isinstance(part, Substituted):
            tokens.extend((char, False) for char in part.text)
        else:
            tokens.extend((char, True) for char in part)
    return tokens


@functools.lru_cache(maxsize=4096)
def localize_pattern(pattern: str, account: str) -> str:
    """Return a Resource pattern rewritten for the caller's own partition and account.

    - Loaders leave references such as `${AWS::AccountId}` in place when
      they cannot resolve them. In the account segment, such a reference is
      the caller's own account. Policy variables such as
      `${aws:PrincipalAccount}` are kept.
    - A policy is deployed in one partition, so a literal partition such as
      `aws-us-gov` or `aws-cn` is the caller's own, `aws` in every scenario.
    - While the scenarios use DEFAULT_ACCOUNT, because the configuration
      sets no account, a literal account in an IAM ARN is the account the
      policy is deployed in, so it is read as the caller's own too.
    """
    if not pattern.startswith("arn:"):
        return pattern
    if "${" in pattern:
        segments = _split_segments(pattern)
    else:
        segments = pattern.split(":", _RESOURCE_SEGMENT)
    if len(segments) <= _ACCOUNT_SEGMENT:
        return pattern

    changed = False
    if segments[_PARTITION_SEGMENT] in OTHER_PARTITIONS:
        segments[_PARTITION_SEGMENT] = "aws"
        changed = True

    if _is_own_account(segments, account):
        segments[_ACCOUNT_SEGMENT] = account
        changed = True
    return ":".join(segments) if changed else pattern


def _is_own_account(segments: list[str], account: str) -> bool:
    """Return whether the account segment is read as the caller's own `account`."""
    text = segments[_ACCOUNT_SEGMENT]
    if "${" in text:
        return _is_unresolved_reference(text)
    if account != DEFAULT_ACCOUNT or segments[_SERVICE_SEGMENT] != "iam":
        return False
    return _ACCOUNT_ID.fullmatch(text) is not None


def _is_unresolved_reference(text: str) -> bool:
    pieces = split_variables(text)
    if len(pieces) != 1 or isinstance(pieces[0], str):
        return False
    return _CONDITION_KEY_NAME.match(pieces[0].key) is None


def _split_segments(pattern: str) -> list[str]:
    """Split on the first five colons that are outside `${...}` references."""
    segments: list[str] = []
    current: list[str] = []
    depth = 0
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("${", index):
            depth += 1
            current.append("${")
            index += 2
            continue

        if char == "}" and depth:
            depth -= 1
        if char == ":" and not depth and len(segments) < _RESOURCE_SEGMENT:
            segments.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1

    segments.append("".join(current))
    return segments
