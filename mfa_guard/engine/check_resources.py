"""The `resource-limited` check: a deny over every action that covers only some resources."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mfa_guard.engine.predicates import is_mfa_deny
from mfa_guard.engine.schema import check_unknown, require_mapping
from mfa_guard.engine.scope import DocumentScope, Hit
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


def validate_resource_limited(body: Any, path: Path, key: str) -> None:
    body = require_mapping(body, path, key, "expected an empty mapping, {}")
    check_unknown(body, set(), path, key + ".")


def run_resource_limited(
    body: Mapping[str, Any],
    statement: Statement,
    scope: DocumentScope,
    span: SourceSpan,
) -> list[Hit]:
    """Report an MFA deny for every resource whose Resource was narrowed by mistake.

    That is a statement over every action (NotAction, or an Action entry
    made only of `*`) whose Resource has no entry "*", when it is shaped as
    the deny that enforces MFA: its NotAction exempts a self-service action
    such as iam:EnableMFADevice, or it denies `*` on IAM resources only. A
    deny that protects one bucket is not reported, and neither is any
    statement of a document that also has such a deny on "*", which already
    denies the other resources. A statement with NotResource, which names
    what it leaves out, or with a value the loader could not resolve is not
    reported either.
    """
    if not _covers_every_action(statement) or statement.not_resources:
        return []
    entries = statement.resources or ()
    if not entries or any(_is_everything(entry) for entry in entries):
        return []
    if any(isinstance(entry, Unresolved) for entry in entries):
        return []
    if not _enforces_mfa_everywhere(statement):
        return []
    if any(_denies_everywhere(other, scope) for other in scope.document.statements):
        return []

    fields = {"resources": ", ".join(f'"{entry}"' for entry in entries)}
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
    return any(_is_everything(entry) for entry in statement.actions or ())


def _is_everything(entry: str) -> bool:
    return bool(entry) and set(entry) == {"*"}
