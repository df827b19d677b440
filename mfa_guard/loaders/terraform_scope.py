"""Values tfparse left unknown, and the names an expression can refer to.

`UNKNOWN` and `is_unknown` describe what tfparse could not evaluate,
`Definition` and `ModuleScope` the variables and local values of one
module, which the fallback evaluator (`terraform_expressions`) reads.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from mfa_guard.loaders.hcl_source import SourceFile
from mfa_guard.loaders.positions import Unresolved
from mfa_guard.loaders.terraform_blocks import Attribute
from mfa_guard.records import field, record

if TYPE_CHECKING:
    from tree_sitter import Node

_DESCRIPTION_LENGTH = 60


class _Unknown:
    """Marker for "tfparse returned no value here"."""


UNKNOWN: Any = _Unknown()

# Maximum number of items in a list or map that a function call or a `for`
# expression builds. A larger one is Unresolved. Doubling a list with
# `concat` reaches any size in a few lines.
MAX_ITEMS = 100_000
# Maximum number of `for` iterations one evaluator runs, over all its `for`
# expressions and directives. 20,000 took about 0.7 s on the benchmark
# machine. Past it, each further loop is Unresolved.
MAX_ITERATIONS = 20_000
# Maximum number of variables and local values being evaluated inside each
# other, as in `a2 = local.a1`, `a1 = local.a0`. Each takes about ten Python
# frames, and a deeper chain would exceed Python's recursion limit.
MAX_DEFINITION_DEPTH = 32


def is_unknown(value: Any) -> bool:
    """Return True for what tfparse returns when it cannot evaluate an expression.

    That is None, or a mapping such as `{"__attribute__": "var.x", ...}`
    naming an unresolved reference.
    """
    if value is None or value is UNKNOWN:
        return True
    return isinstance(value, dict) and "__attribute__" in value


def contains_unknown(value: Any) -> bool:
    if is_unknown(value):
        return True
    if isinstance(value, dict):
        return any(contains_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(contains_unknown(item) for item in value)
    return False


def contains_unresolved(value: Any) -> bool:
    """Return True when `value` is, or contains at any depth, an Unresolved marker."""
    if isinstance(value, Unresolved):
        return True
    if isinstance(value, dict):
        return any(contains_unresolved(item) for item in value.values())
    if isinstance(value, list):
        return any(contains_unresolved(item) for item in value)
    return False


def plain(value: Any) -> Any:
    """Return `value` without positions (PosDict and PosList become dict and list)."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def describe(node: Node, source: SourceFile) -> str:
    """Return the source text of an expression on one line, shortened."""
    text = re.sub(r"\s+", " ", source.node_text(node)).strip()
    if len(text) > _DESCRIPTION_LENGTH:
        text = text[: _DESCRIPTION_LENGTH - 3] + "..."
    return text


@record(frozen=False)
class Definition:
    """A variable or local value: its value and where it is written.

    For a variable, `attribute` is the argument that sets it: its `default`,
    an assignment in a `.tfvars` file or, for a child module, None when the
    caller's argument set it. `known` is False when nothing sets it. A value
    of UNKNOWN makes the evaluator evaluate `attribute` instead.
    """

    value: Any
    attribute: Attribute | None
    known: bool = True


@record(frozen=False)
class ModuleScope:
    """The names one module's expressions can refer to.

    `path_module` is the value of `path.module`: the module directory
    relative to the root module, where Terraform resolves relative paths.
    `guessed_locals` names the local values whose tfparse value is a
    fallback that Terraform would not take (see `tries_outside`).
    `other_accounts` names the account data sources ("aws_caller_identity.x")
    that another provider reads, which may describe another account.
    """

    variables: dict[str, Definition] = field(default_factory=dict)
    locals: dict[str, Definition] = field(default_factory=dict)
    path_module: str = "."
    guessed_locals: set[str] = field(default_factory=set)
    other_accounts: set[str] = field(default_factory=set)
