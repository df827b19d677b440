"""Policies written as a heredoc or a quoted string: values and positions.

tfparse returns the evaluated text of the heredoc or string. Its JSON gives
the values, and the same JSON parsed from the source text (see
`hcl_template`) gives the positions. Both are merged. Interpolations that
tfparse left unevaluated are then evaluated by the loader's `Evaluator`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mfa_guard.loaders.hcl_placeholders import parse_with_placeholders
from mfa_guard.loaders.hcl_source import SourceFile
from mfa_guard.loaders.hcl_template import TemplateText, parse_template_json
from mfa_guard.loaders.jsonpos import JsonError
from mfa_guard.loaders.positions import PosDict, PosList, Unresolved
from mfa_guard.loaders.terraform_expressions import UNKNOWN, Evaluator, describe
from mfa_guard.loaders.terraform_keys import align_keys
from mfa_guard.records import record

if TYPE_CHECKING:
    from tree_sitter import Node

_UNKNOWN_MARKER = "${...}"


@record(frozen=False)
class TemplatePolicy:
    """The policy JSON of a heredoc or quoted string.

    `value` is UNKNOWN when the text is no valid JSON. Then `unresolved`
    names an interpolation that could not be evaluated, if any, and `error`
    gives the position where the JSON is invalid.
    """

    value: Any = UNKNOWN
    error: JsonError | None = None
    unresolved: str | None = None


def read_template_policy(
    template: TemplateText, source: SourceFile, evaluated: Any, evaluator: Evaluator
) -> TemplatePolicy:
    """Return the policy in `template`, given tfparse's parsed JSON (or UNKNOWN)."""
    positioned = _parse_source(template, source, evaluated, evaluator)
    if isinstance(positioned, JsonError):
        # The source text is invalid JSON even with placeholders, as when
        # the branches of a directive together are no JSON, so positions
        # are lost.
        if evaluated is not UNKNOWN:
            render_interpolations(evaluated, template, source, evaluator)
            return TemplatePolicy(evaluated)
        unresolved = _first_unresolved(template, source, evaluator)
        return TemplatePolicy(error=positioned, unresolved=unresolved)

    if evaluated is not UNKNOWN:
        align_keys(positioned, evaluated, template.parts, source, evaluator)
        positioned = merge_positions(positioned, evaluated)
    render_interpolations(positioned, template, source, evaluator)
    return TemplatePolicy(positioned)


def _parse_source(
    template: TemplateText, source: SourceFile, evaluated: Any, evaluator: Evaluator
) -> Any:
    """Parse the source text as JSON, or return the error where it is invalid.

    An interpolation with quotes or line breaks inside a JSON string, or one
    outside a string, makes the source text invalid JSON even where
    tfparse's text is valid. When tfparse `evaluated` the text, it is then
    parsed again with a placeholder for each part, for the positions only.
    Without tfparse's value the placeholders would stand for values: an
    interpolation outside a string would become one string, such as a whole
    list of actions read as one action. A directive the evaluator cannot
    decide gives the error too, so no statement gets a guessed position.
    """
    try:
        return parse_template_json(template, source)
    except JsonError as error:
        first_error = error
    if evaluated is UNKNOWN:
        return first_error
    try:
        result = parse_with_placeholders(template, source, evaluator, evaluated)
    except JsonError:
        return first_error
    return first_error if result is None else result


def merge_positions(positioned: Any, evaluated: Any) -> Any:
    """Return `evaluated` with the positions of `positioned` where both agree.

    Keys and items present only in `evaluated` carry no position.
    """
    if isinstance(positioned, PosDict) and isinstance(evaluated, dict):
        result = PosDict(positioned.pos)
        for key, item in evaluated.items():
            if key in positioned:
                result[key] = merge_positions(positioned[key], item)
                result.key_pos[key] = positioned.key_pos[key]
            else:
                result[key] = item
        return result

    if (
        isinstance(positioned, PosList)
        and isinstance(evaluated, list)
        and len(evaluated) == len(positioned)
    ):
        merged = PosList(positioned.pos)
        merged.item_pos = list(positioned.item_pos)
        merged.extend(
            merge_positions(a, b) for a, b in zip(positioned, evaluated, strict=True)
        )
        return merged

    if _has_unknown_marker(evaluated) and isinstance(positioned, str):
        # The text as written is evaluated by the loader instead.
        return positioned
    return evaluated


def _has_unknown_marker(value: Any) -> bool:
    """Return True for tfparse's text of an interpolation it could not evaluate.

    tfparse 0.6.22 writes `${...}` for such an interpolation, as in
    `"${join(",", [var.unset])}"`, and keeps a plain reference such as
    `${var.unset}` as written.
    """
    return isinstance(value, str) and _UNKNOWN_MARKER in value


def render_interpolations(
    value: Any, template: TemplateText, source: SourceFile, evaluator: Evaluator
) -> None:
    """Evaluate, in place, interpolations that strings still contain as written.

    tfparse 0.6.22 leaves a whole heredoc as written when one of its
    interpolations is unknown, so its strings can still contain `${...}`.
    NOTE: an escaped `$${var.x}` next to a real `${var.x}` in the same string
    would be replaced as well, because both read `${var.x}` by now.
    """
    if not template.parts:
        return
    parts = [(source.node_text(part), part) for part in template.parts]
    _render_strings(value, parts, source, evaluator)


def _render_strings(
    value: Any, parts: list[tuple[str, Node]], source: SourceFile, evaluator: Evaluator
) -> None:
    if isinstance(value, dict):
        keys: list[Any] = list(value)
    elif isinstance(value, list):
        keys = list(range(len(value)))
    else:
        return
    for key in keys:
        item = value[key]
        if isinstance(item, str) and not isinstance(item, Unresolved):
            value[key] = _render_string(item, parts, source, evaluator)
        else:
            _render_strings(item, parts, source, evaluator)


def _render_string(
    text: str, parts: list[tuple[str, Node]], source: SourceFile, evaluator: Evaluator
) -> str:
    for raw, part in parts:
        expressions = [c for c in part.children if c.type == "expression"]
        if text == raw and len(expressions) == 1:
            # The whole string is one interpolation: keep the evaluator's
            # description of what is missing.
            value = evaluator.evaluate(expressions[0], source)
            if isinstance(value, str):
                return value

    complete = True
    for raw, part in parts:
        if raw not in text:
            continue
        replacement, resolved = evaluator.part_text(part, source)
        text = text.replace(raw, replacement)
        complete = complete and resolved
    return text if complete else Unresolved(text)


def _first_unresolved(
    template: TemplateText, source: SourceFile, evaluator: Evaluator
) -> str | None:
    for part in template.parts:
        _, resolved = evaluator.part_text(part, source)
        if not resolved:
            return f"{describe(part, source)} could not be evaluated"
    return None
