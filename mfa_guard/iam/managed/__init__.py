"""AWS managed policies bundled with the engine as JSON policy documents.

`<Name>.json` contains the policy document of `arn:aws:iam::aws:policy/<Name>`,
and `index.json` records each document's version and the page or file it was
copied from. A document is read and parsed on first use.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from mfa_guard.model import PolicyDocument, PolicyKind
from mfa_guard.records import record

AWS_MANAGED_PREFIX = "arn:aws:iam::aws:policy/"

_DIRECTORY = Path(__file__).resolve().parent

# An AWS managed policy ARN in any partition, or with a partition that a
# template computes (`${data.aws_partition.current.partition}`). Each is read
# as the `aws` partition's policy of the same name.
# NOTE: the documents of other partitions were not compared with the bundled
# `aws` documents.
_AWS_MANAGED_ARN = re.compile(r"^arn:(?:aws[a-z-]*|\$\{[^}]*\}):iam::aws:policy/(.+)$")


@record
class ManagedPolicyInfo:
    """The version and source page of a bundled managed policy document."""

    name: str
    version: str
    source: str


def aws_managed_arn(text: str) -> str | None:
    """Return the `arn:aws:` form of an AWS managed policy ARN, or None for any other text."""
    match = _AWS_MANAGED_ARN.match(text)
    if match is None:
        return None
    return AWS_MANAGED_PREFIX + match.group(1)


def policy_name_of_arn(arn: str) -> str | None:
    """Return the policy name at the end of a policy ARN (after any path), or None."""
    _, separator, rest = arn.partition(":policy/")
    if not separator or not rest:
        return None
    return rest.rsplit("/", 1)[-1]


@functools.cache
def _index() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (_DIRECTORY / "index.json").read_text(encoding="utf-8")
    )
    return data


def managed_policy_info(arn: str) -> ManagedPolicyInfo | None:
    """Return the version and source of a bundled AWS managed policy, or None."""
    normalised = aws_managed_arn(arn)
    if normalised is None:
        return None
    name = normalised[len(AWS_MANAGED_PREFIX) :]
    entry = _index().get(name)
    if entry is None:
        return None
    return ManagedPolicyInfo(name, entry["version"], entry["source"])


@functools.cache
def managed_policy(arn: str) -> PolicyDocument | None:
    """Return the bundled document of an AWS managed policy ARN, or None when it is not bundled.

    The document's path is the ARN, and its name starts with "AWS managed policy".
    """
    from mfa_guard.loaders.build import build_document
    from mfa_guard.loaders.jsonpos import parse_json

    info = managed_policy_info(arn)
    if info is None:
        return None
    text = (_DIRECTORY / f"{info.name}.json").read_text(encoding="utf-8")
    document, _ = build_document(
        parse_json(text).value,
        path=AWS_MANAGED_PREFIX + info.name,
        name=f"AWS managed policy {info.name} ({info.version})",
        kind=PolicyKind.IDENTITY,
    )
    return document
