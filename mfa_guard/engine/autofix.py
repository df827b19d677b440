"""Validation of the `autofix` key of rule files, and the fixes it attaches to findings.

A rule declares its automatic fix with the `autofix` key. `mfa-guard scan
--fix` applies the fixes to the files, `--diff` prints them as a unified
diff, and SARIF output carries them as `fixes`. The key has exactly one of
these entries:

- `add-to-list` {`element`, `values`}: add `values` to the statement's
  `element` (`Action`, `NotAction`, `Resource` or `NotResource`). The fix
  applies only when the statement already has that element, because adding
  an element changes what the statement covers. `values` is a list, or the
  word `reported-actions` for the actions the finding reports (its
  `{actions}` field). A value that an entry already covers is not added:
  action elements compare with IAM's wildcard matching, resource elements
  compare text.
- `replace-operator` {`from`, `to`}: rename the condition operator the
  finding points at from `from` to `to`, such as `Bool` to `BoolIfExists`.
  The fix applies only when the finding points at a condition entry with
  the operator `from`, no other entry of the statement uses `from` (renaming
  would change those tests too) and no entry uses `to` yet.
- `replace-resource-variable` {`find`, `replace`, `only-actions`}: in the
  statement's `Resource` entries that end with `find`, replace that end
  with `replace`. `find` ends with one policy variable, such as
  `mfa/${aws:username}`. The source may write the variable as `${name}`,
  `$${name}` (Terraform), `&{name}` (`aws_iam_policy_document`) or
  `${!name}` (CloudFormation `Fn::Sub`). With `only-actions`, the fix
  applies only when every Action entry of the statement is one of those
  actions, so that a wider resource does not also widen other actions.

Entries to add and replacement text may not contain white space, quotes,
backslashes or the characters `$ & { } %`, because the fixer writes them
into JSON, YAML and HCL strings as they are. A finding whose statement does
not meet the conditions is reported without a fix. The fixer edits only list entries, operator names and
resource text, keeps the file's layout, and skips an edit whose result does
not parse.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mfa_guard.engine.schema import RuleError, check_unknown, string_list
from mfa_guard.iam.actions import action_matches
from mfa_guard.loaders.positions import Unresolved
from mfa_guard.model import Autofix, SourceSpan, Statement
from mfa_guard.records import record

ADD_TO_LIST = "add-to-list"
REPLACE_OPERATOR = "replace-operator"
REPLACE_RESOURCE_VARIABLE = "replace-resource-variable"
REPORTED_ACTIONS = "reported-actions"

LIST_ELEMENTS = ("Action", "NotAction", "Resource", "NotResource")
_ACTION_ELEMENTS = ("Action", "NotAction")
_OPERATOR = re.compile(r"^[A-Za-z][A-Za-z0-9:]*$")
# `find` is literal text followed by one policy variable, such as
# `mfa/${aws:username}`.
_VARIABLE_END = re.compile(r"^[^$&{}\"'\\]*\$\{[A-Za-z0-9:_.-]+\}$")
# A replacement is written into JSON, YAML and HCL strings unchanged, so it
# may not contain quotes, escapes or template syntax.
_PLAIN_TEXT = re.compile(r"^[^$&{}%\"'\\\s]+$")


@record
class AutofixSpec:
    """A validated `autofix` key of a rule file.

    `kind` selects which of the other fields apply: `element` and `values`
    (or `reported_actions`) for add-to-list, `old` and `new` for the
    replacements, and `only_actions` for replace-resource-variable.
    """

    kind: str
    element: str = ""
    values: tuple[str, ...] = ()
    reported_actions: bool = False
    old: str = ""
    new: str = ""
    only_actions: tuple[str, ...] = ()


def parse_autofix(data: Any, path: Path) -> AutofixSpec | None:
    """Validate a rule's `autofix` value, or raise RuleError naming the key."""
    if data is None:
        return None
    kinds = (ADD_TO_LIST, REPLACE_OPERATOR, REPLACE_RESOURCE_VARIABLE)
    if not isinstance(data, dict) or len(data) != 1 or next(iter(data)) not in kinds:
        raise RuleError(path, "autofix", f"expected exactly one of {', '.join(kinds)}")

    kind, body = next(iter(data.items()))
    key = f"autofix.{kind}"
    if not isinstance(body, dict):
        raise RuleError(path, key, "expected a mapping")
    if kind == ADD_TO_LIST:
        return _parse_add_to_list(body, path, key)
    if kind == REPLACE_OPERATOR:
        return _parse_replace_operator(body, path, key)
    return _parse_replace_resource_variable(body, path, key)


def _parse_add_to_list(body: dict[str, Any], path: Path, key: str) -> AutofixSpec:
    check_unknown(body, {"element", "values"}, path, key + ".")
    element = body.get("element")
    if element not in LIST_ELEMENTS:
        raise RuleError(
            path, f"{key}.element", f"expected one of {', '.join(LIST_ELEMENTS)}"
        )

    values = body.get("values")
    if values == REPORTED_ACTIONS:
        if element not in _ACTION_ELEMENTS:
            raise RuleError(
                path,
                f"{key}.values",
                f"{REPORTED_ACTIONS} needs element Action or NotAction",
            )
        return AutofixSpec(ADD_TO_LIST, element=element, reported_actions=True)

    expected = f"expected a list of entries or the word {REPORTED_ACTIONS}"
    entries = string_list(values, path, f"{key}.values", expected)
    for index, entry in enumerate(entries):
        if not _PLAIN_TEXT.match(entry):
            raise RuleError(
                path,
                f"{key}.values[{index}]",
                f"invalid entry {entry!r}: expected text without spaces, quotes, "
                "backslashes or the characters $ & { } %",
            )
    return AutofixSpec(ADD_TO_LIST, element=element, values=tuple(entries))


def _parse_replace_operator(body: dict[str, Any], path: Path, key: str) -> AutofixSpec:
    check_unknown(body, {"from", "to"}, path, key + ".")
    names = []
    for name in ("from", "to"):
        value = body.get(name)
        if not isinstance(value, str) or not _OPERATOR.match(value):
            raise RuleError(
                path, f"{key}.{name}", "expected a condition operator such as Bool"
            )
        names.append(value)
    if names[0] == names[1]:
        raise RuleError(path, f"{key}.to", "expected an operator other than 'from'")
    return AutofixSpec(
        REPLACE_OPERATOR, element="Condition", old=names[0], new=names[1]
    )


def _parse_replace_resource_variable(
    body: dict[str, Any], path: Path, key: str
) -> AutofixSpec:
    check_unknown(body, {"find", "replace", "only-actions"}, path, key + ".")
    find = body.get("find")
    if not isinstance(find, str) or not _VARIABLE_END.match(find):
        raise RuleError(
            path,
            f"{key}.find",
            "expected text that ends with one policy variable, such as "
            "mfa/${aws:username}",
        )

    replace = body.get("replace")
    if not isinstance(replace, str) or not _PLAIN_TEXT.match(replace):
        raise RuleError(
            path,
            f"{key}.replace",
            "expected text without spaces, quotes, backslashes or the characters "
            "$ & { } %, such as mfa/*",
        )

    only_actions: tuple[str, ...] = ()
    if body.get("only-actions") is not None:
        expected = "expected a list of actions such as iam:CreateVirtualMFADevice"
        only_actions = tuple(
            string_list(body["only-actions"], path, f"{key}.only-actions", expected)
        )
    return AutofixSpec(
        REPLACE_RESOURCE_VARIABLE,
        element="Resource",
        old=find,
        new=replace,
        only_actions=only_actions,
    )


def build_autofix(
    spec: AutofixSpec, statement: Statement, span: SourceSpan, actions: tuple[str, ...]
) -> Autofix | None:
    """Return the fix for a finding at `span` on `statement`, or None.

    `actions` are the actions the finding reports. None means the
    statement does not meet the conditions of the fix.
    """
    if spec.kind == ADD_TO_LIST:
        return _add_to_list(spec, statement, actions)
    if spec.kind == REPLACE_OPERATOR:
        return _replace_operator(spec, statement, span)
    return _replace_resource_variable(spec, statement)


def _element_entries(statement: Statement, element: str) -> tuple[str, ...] | None:
    entries: dict[str, tuple[str, ...] | None] = {
        "Action": statement.actions,
        "NotAction": statement.not_actions,
        "Resource": statement.resources,
        "NotResource": statement.not_resources,
    }
    return entries[element]


def _is_covered(value: str, entries: tuple[str, ...], element: str) -> bool:
    if element in _ACTION_ELEMENTS:
        return any(
            not isinstance(entry, Unresolved) and action_matches(entry, value)
            for entry in entries
        )
    return value in entries


def _quoted(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f'"{value}"' for value in values)


def _add_to_list(
    spec: AutofixSpec, statement: Statement, actions: tuple[str, ...]
) -> Autofix | None:
    entries = _element_entries(statement, spec.element)
    if entries is None:
        return None

    candidates = actions if spec.reported_actions else spec.values
    missing = [
        value
        for value in dict.fromkeys(candidates)
        if not _is_covered(value, entries, spec.element)
    ]
    if not missing:
        return None
    return Autofix(
        kind=ADD_TO_LIST,
        statement=statement.span,
        element=spec.element,
        new=tuple(missing),
        description=f"add {_quoted(missing)} to {spec.element}",
    )


def _replace_operator(
    spec: AutofixSpec, statement: Statement, span: SourceSpan
) -> Autofix | None:
    located = [
        entry
        for entry in statement.conditions
        if entry.span == span and entry.operator == spec.old
    ]
    using_old = [entry for entry in statement.conditions if entry.operator == spec.old]
    using_new = [entry for entry in statement.conditions if entry.operator == spec.new]
    if len(located) != 1 or len(using_old) != 1 or using_new:
        return None
    return Autofix(
        kind=REPLACE_OPERATOR,
        statement=statement.span,
        element="Condition",
        old=spec.old,
        new=(spec.new,),
        description=f'change the condition operator "{spec.old}" to "{spec.new}"',
    )


def _replace_resource_variable(
    spec: AutofixSpec, statement: Statement
) -> Autofix | None:
    if spec.only_actions:
        allowed = {action.lower() for action in spec.only_actions}
        if not statement.actions or any(
            action.lower() not in allowed for action in statement.actions
        ):
            return None

    resources = statement.resources or ()
    if not any(entry.endswith(spec.old) for entry in resources):
        return None
    return Autofix(
        kind=REPLACE_RESOURCE_VARIABLE,
        statement=statement.span,
        element="Resource",
        old=spec.old,
        new=(spec.new,),
        description=f'change Resource entries ending in "{spec.old}" to end in "{spec.new}"',
    )


def describe_autofix(spec: AutofixSpec) -> str:
    """Describe a rule's fix in Markdown sentences, for the rule reference."""
    if spec.kind == ADD_TO_LIST and spec.reported_actions:
        change = f"adds the actions the finding reports to `{spec.element}`"
    elif spec.kind == ADD_TO_LIST:
        entries = ", ".join(f"`{value}`" for value in spec.values)
        change = f"adds {entries} to `{spec.element}`"
    elif spec.kind == REPLACE_OPERATOR:
        change = f"changes the condition operator `{spec.old}` to `{spec.new}`"
    else:
        change = (
            f"changes `{spec.element}` entries that end in `{spec.old}` "
            f"to end in `{spec.new}`"
        )

    sentences = [f"`mfa-guard scan --fix` {change}."]
    if spec.only_actions:
        actions = ", ".join(f"`{action}`" for action in spec.only_actions)
        sentences.append(f"It changes only statements whose actions are all {actions}.")
    sentences.append(
        "It leaves a statement alone that does not meet the conditions under "
        "[Automatic fixes](#automatic-fixes)."
    )
    return " ".join(sentences)
