"""Pair object keys written with interpolations with the keys tfparse rendered.

A heredoc policy may write a condition key as `"${var.prefix}:MultiFactorAuthPresent"`.
JSON parsed from the source text has that key as written, and tfparse's
JSON has it rendered (`"aws:MultiFactorAuthPresent"`), so the two values
share no key and the rendered one would get no position. `align_keys`
renames each such key of the source value to the rendered key it stands for,
keeping its position, before the two values are merged.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from mfa_guard.loaders.hcl_source import SourceFile
from mfa_guard.loaders.positions import PosDict
from mfa_guard.loaders.terraform_expressions import Evaluator

if TYPE_CHECKING:
    from tree_sitter import Node

_DIRECTIVE_BODIES = frozenset({"template_directive", "template_if", "template_for"})
# Limits of matching a written key's literal text against rendered keys.
MAX_WILDCARDS = 2
MAX_MATCHED_LENGTH = 256


def align_keys(
    positioned: Any,
    evaluated: Any,
    parts: list[Node],
    source: SourceFile,
    evaluator: Evaluator,
) -> None:
    """Rename, in place, the keys of `positioned` written with an interpolation.

    `parts` are the template's interpolation and directive nodes. A written
    key takes the rendered key the evaluator computes for it, or else the
    only rendered key that its literal text matches. A key neither decides
    keeps its written text, and the merged value gives it no position.
    """
    interpolations = _interpolations(parts, source)
    if interpolations:
        texts = sorted(interpolations, key=len, reverse=True)
        _Aligner(interpolations, texts, source, evaluator).align(positioned, evaluated)


class _Aligner:
    def __init__(
        self,
        interpolations: dict[str, Node],
        texts: list[str],
        source: SourceFile,
        evaluator: Evaluator,
    ) -> None:
        self.interpolations = interpolations
        self.texts = texts
        self.source = source
        self.evaluator = evaluator

    def align(self, positioned: Any, evaluated: Any) -> None:
        if isinstance(positioned, PosDict) and isinstance(evaluated, dict):
            self._align_object(positioned, evaluated)
            for key, item in positioned.items():
                if key in evaluated:
                    self.align(item, evaluated[key])
            return
        if not isinstance(positioned, list) or not isinstance(evaluated, list):
            return
        if len(positioned) == len(evaluated):
            for item, rendered in zip(positioned, evaluated, strict=True):
                self.align(item, rendered)

    def _align_object(self, positioned: PosDict, evaluated: dict[str, Any]) -> None:
        spare = [key for key in evaluated if key not in positioned]
        written = [key for key in positioned if key not in evaluated]
        for key in written:
            pieces = self._split(key)
            if len(pieces) < 2:
                continue
            target = self._rendered(pieces, spare) or _only_match(pieces, spare)
            if target is None:
                continue
            spare.remove(target)
            positioned[target] = positioned.pop(key)
            positioned.key_pos[target] = positioned.key_pos.pop(key)

    def _split(self, key: str) -> list[str]:
        """Split a key into literal text (even indices) and interpolations (odd)."""
        pieces = [""]
        index = 0
        while index < len(key):
            text = next((t for t in self.texts if key.startswith(t, index)), None)
            if text is None:
                pieces[-1] += key[index]
                index += 1
                continue
            pieces.extend([text, ""])
            index += len(text)
        return pieces

    def _rendered(self, pieces: list[str], spare: list[str]) -> str | None:
        """Return the key the evaluator renders, if it is among the spare keys."""
        rendered = []
        for index, piece in enumerate(pieces):
            if index % 2 == 0:
                rendered.append(piece)
                continue
            node = self.interpolations[piece]
            text, resolved = self.evaluator.part_text(node, self.source)
            if not resolved:
                return None
            rendered.append(text)
        key = "".join(rendered)
        return key if key in spare else None


def _only_match(pieces: list[str], spare: list[str]) -> str | None:
    """Return the only spare key the literal text of a written key matches.

    Interpolations next to each other match as one. A key with more than
    MAX_WILDCARDS separate interpolations, or a spare key longer than
    MAX_MATCHED_LENGTH, is not matched: the expression's time grows with the
    key's length to the power of the number of wildcards.
    """
    parts: list[str] = []
    for index, piece in enumerate(pieces):
        if index % 2 == 0:
            if piece:
                parts.append(re.escape(piece))
        elif not parts or parts[-1] != "(.*)":
            parts.append("(.*)")
    if parts.count("(.*)") > MAX_WILDCARDS:
        return None
    compiled = re.compile("".join(parts), re.DOTALL)
    matches = [
        key
        for key in spare
        if len(key) <= MAX_MATCHED_LENGTH and compiled.fullmatch(key)
    ]
    return matches[0] if len(matches) == 1 else None


def _interpolations(parts: list[Node], source: SourceFile) -> dict[str, Node]:
    """Return the interpolations within `parts`, directive bodies included, by text."""
    found: dict[str, Node] = {}
    pending = list(parts)
    while pending:
        node = pending.pop()
        if node.type == "template_interpolation":
            found.setdefault(source.node_text(node), node)
        elif node.type in _DIRECTIVE_BODIES:
            pending.extend(node.children)
    return found
