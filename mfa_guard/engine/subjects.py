"""Validation of the rule keys `subject` and `users`.

`subject` is `statements` (the default: the rule checks policy statements)
or `users` (the rule checks each IAM user of a Terraform module or
CloudFormation template). A `users` rule takes user predicates in `where`,
a user check in `check`, and no `select` or `location`. `users` lists user
predicates that choose which users a statement rule's findings name.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mfa_guard.engine.schema import RuleError, optional, string_list

STATEMENTS = "statements"
USERS = "users"
SUBJECTS = (STATEMENTS, USERS)


def parse_subject(data: Mapping[str, Any], path: Path) -> str:
    subject: str = optional(data, "subject", str, path) or STATEMENTS
    if subject not in SUBJECTS:
        raise RuleError(
            path,
            "subject",
            f"invalid subject {subject!r}; expected one of {', '.join(SUBJECTS)}",
        )
    if subject == USERS:
        for key in ("select", "location", "users"):
            if key in data:
                raise RuleError(
                    path, key, "not allowed with subject: users; use where instead"
                )
    return subject


def user_predicate_names(
    value: Any, path: Path, key: str, allow_missing: bool = True
) -> tuple[str, ...]:
    """Validate a list of user predicate names and return it."""
    from mfa_guard.engine.user_predicates import USER_PREDICATES

    if value is None and allow_missing:
        return ()
    names = string_list(
        value, path, key, "expected a list of user predicates such as console-user"
    )
    for index, name in enumerate(names):
        if name not in USER_PREDICATES:
            expected = ", ".join(sorted(USER_PREDICATES))
            raise RuleError(
                path,
                f"{key}[{index}]",
                f"unknown user predicate {name!r}; expected one of {expected}",
            )
    return tuple(names)
