"""The `resource-limited` check: a deny over every action that covers only some resources."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mfa_guard.engine.schema import check_unknown, require_mapping
from mfa_guard.engine.scope import DocumentScope, Hit
from mfa_guard.loaders.positions import Unresolved
from mfa_guard.model import SourceSpan, Statement


def validate_resource_limited(body: Any, path: Path, key: str) -> None:
    body = require_mapping(body, path, key, "expected an empty mapping, {}")
    check_unknown(body, set(), path, key + ".")


def run_resource_limited(
    body: Mapping[str, Any],
    statement: Statement,
    scope: DocumentScope,
    span: SourceSpan,
) -> list[Hit]:
    """Report a statement over every action whose Resource has no entry "*".

    A statement is over every action when it has NotAction, or an Action
    entry made only of `*`. A statement with NotResource, which names what
    it leaves out, or with a value the loader could not resolve is not
    reported.
    """
    if not _covers_every_action(statement) or statement.not_resources:
        return []
    entries = statement.resources or ()
    if not entries or any(_is_everything(entry) for entry in entries):
        return []
    if any(isinstance(entry, Unresolved) for entry in entries):
        return []

    fields = {"resources": ", ".join(f'"{entry}"' for entry in entries)}
    return [Hit(statement.item_span("Resource", 0), fields)]


def _covers_every_action(statement: Statement) -> bool:
    if statement.not_actions is not None:
        return True
    return any(_is_everything(entry) for entry in statement.actions or ())


def _is_everything(entry: str) -> bool:
    return bool(entry) and set(entry) == {"*"}
