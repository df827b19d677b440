"""The `resource-limited` check: a deny over every action that covers only some resources."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mfa_guard.engine.predicates import is_mfa_deny
from mfa_guard.engine.schema import check_unknown, require_mapping
from mfa_guard.engine.scope import DocumentScope, Hit
from mfa_guard.iam.arns import arn_matches
from mfa_guard.loaders.positions import Unresolved
from mfa_guard.model import SourceSpan, Statement

# Actions that users need before MFA, in lower case. A NotAction that lists
# one of them belongs to a deny meant to enforce MFA.
SELF_SERVICE_ACTIONS = frozenset(
    {
        "iam:changepassword",
        "iam:createvirtualmfadevice",
        "iam:enablemfadevice",
        "iam:getuser",
        "iam:listmfadevices",
        "iam:listvirtualmfadevices",
        "iam:resyncmfadevice",
        "sts:getsessiontoken",
    }
)
_IAM_ARN = re.compile(r"arn:[^:]*:iam:")
# Resources of other services that an MFA deny must reach.
_SAMPLE_ARNS = (
    "arn:aws:s3:::example-bucket/report.csv",
    "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0",
)
# The requests that a narrowed Resource leaves out, for the `detail` field.
_LEFT_OUT_RESOURCES = (
    "requests on every other resource, such as S3 objects or EC2 instances,"
)
_LEFT_OUT_STAR = (
    'the requests authorized against "*", such as s3:ListAllMyBuckets and'
    " other actions without resource-level permissions,"
)


def validate_resource_limited(body: Any, path: Path, key: str) -> None:
    body = require_mapping(body, path, key, "expected an empty mapping, {}")
    check_unknown(body, set(), path, key + ".")


def run_resource_limited(
    body: Mapping[str, Any],
    statement: Statement,
    scope: DocumentScope,
    span: SourceSpan,
) -> list[Hit]:
    """Report an MFA deny over every action whose Resource was narrowed by mistake.

    A statement is over every action when it has NotAction, or an Action
    entry that matches every action ("*" or "*:*"). It is reported when its
    Resource does not cover every request and it is shaped as the deny that
    enforces MFA. That is, its NotAction exempts a self-service action such
    as iam:EnableMFADevice, or it denies every action on IAM resources only.
    A deny that protects one bucket is not reported. Neither is a statement
    whose every policy set also has an MFA deny on "*", which already denies
    the rest, nor one with NotResource, which names what it leaves out, nor
    one with a value the loader could not resolve.
    """
    if not _covers_every_action(statement) or statement.not_resources:
        return []
    entries = statement.resources or ()
    if not entries or any(isinstance(entry, Unresolved) for entry in entries):
        return []
    covers_star = any(arn_matches(entry, "*") for entry in entries)
    covers_arns = all(
        any(arn_matches(entry, arn) for entry in entries) for arn in _SAMPLE_ARNS
    )
    if covers_star and covers_arns:
        return []
    if not _enforces_mfa_everywhere(statement):
        return []
    if scope.every_set_has(_denies_everywhere):
        return []

    detail = _LEFT_OUT_STAR if covers_arns else _LEFT_OUT_RESOURCES
    fields = {
        "resources": ", ".join(f'"{entry}"' for entry in entries),
        "detail": detail,
    }
    return [Hit(statement.item_span("Resource", 0), fields)]


def _enforces_mfa_everywhere(statement: Statement) -> bool:
    """Return whether a deny is shaped to enforce MFA on every resource."""
    if statement.not_actions is not None:
        return any(
            entry.lower() in SELF_SERVICE_ACTIONS for entry in statement.not_actions
        )
    return all(_IAM_ARN.match(entry) for entry in statement.resources or ())


def _denies_everywhere(statement: Statement, scope: DocumentScope) -> bool:
    """Return whether a statement is an MFA deny over every action and resource."""
    if statement.not_resources or not _covers_every_action(statement):
        return False
    if not any(_is_everything(entry) for entry in statement.resources or ()):
        return False
    return is_mfa_deny(statement, scope)


def _covers_every_action(statement: Statement) -> bool:
    if statement.not_actions is not None:
        return True
    # "*" and "*:*" both match every action.
    return any(
        _is_everything(entry.replace(":", "", 1)) for entry in statement.actions or ()
    )


def _is_everything(entry: str) -> bool:
    return bool(entry) and set(entry) == {"*"}
