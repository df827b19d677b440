"""Translate a `data "aws_iam_policy_document"` block into IAM policy JSON.

The translation follows the AWS provider: `statement` blocks become
statements, `effect` defaults to "Allow", `condition` blocks with the same
`test` are merged into one operator, and `&{...}` is written for `${...}` so
Terraform does not interpolate it. Positions come from the blocks: a statement
is at its `statement` keyword, a condition operator at its `test` argument and
a condition key at its `variable` argument. Merging with source and override
documents is done afterwards (see `terraform_merge`).

Terraform 0.11 configurations are read too. They may write a nested block
as an argument (`condition = { test = ... }`), and a list in a list such as
`not_actions = ["${var.actions}"]`, which Terraform 0.11 flattened.
"""

from __future__ import annotations

from typing import Any

from mfa_guard.loaders.positions import Pos, PosDict, PosList, Unresolved
from mfa_guard.loaders.terraform_blocks import Attribute, Block, unwrap
from mfa_guard.loaders.terraform_expressions import is_unknown
from mfa_guard.loaders.terraform_values import ValueResolver

DEFAULT_VERSION = "2012-10-17"

_STATEMENT_ARGUMENTS = {
    "sid": "Sid",
    "effect": "Effect",
    "actions": "Action",
    "not_actions": "NotAction",
    "resources": "Resource",
    "not_resources": "NotResource",
}
_PRINCIPAL_BLOCKS = {"principals": "Principal", "not_principals": "NotPrincipal"}
# Arguments whose value is a set of strings in the provider schema.
_STRING_SETS = frozenset(
    {"actions", "not_actions", "resources", "not_resources", "identifiers"}
)


def as_list(value: Any) -> list[Any]:
    """Return tfparse's nested blocks as a list: one block comes back as a dict."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def match_block(entry: Any, candidates: list[Block], index: int) -> Block | None:
    """Find the block tfparse evaluated into `entry`.

    tfparse gives the first line of each nested HCL block. Blocks from
    `.tf.json` files carry no lines and are matched by their order.
    """
    meta = entry.get("__tfmeta") if isinstance(entry, dict) else None
    line = meta.get("line_start") if isinstance(meta, dict) else None
    if line is not None:
        for block in candidates:
            if block.span[0] == line:
                return block
        return None
    if index < len(candidates):
        return candidates[index]
    return None


class PolicyDocumentBuilder:
    """Build the IAM policy value of one `aws_iam_policy_document` data source."""

    def __init__(self, resolver: ValueResolver) -> None:
        self.resolver = resolver
        self.notes: list[str] = []

    def build(self, entry: dict[str, Any], block: Block) -> PosDict:
        """Build the positioned policy value. `notes` then lists what it leaves out."""
        document = PosDict(block.span)
        version = self._argument(entry, block, "version")
        document["Version"] = DEFAULT_VERSION if version is None else version
        document.key_pos["Version"] = _argument_span(block, "version")

        policy_id = self._argument(entry, block, "policy_id")
        if policy_id is not None:
            document["Id"] = policy_id
            document.key_pos["Id"] = _argument_span(block, "policy_id")

        statements = PosList(block.span)
        candidates = nested_blocks(block, "statement")
        for index, raw in enumerate(as_list(entry.get("statement"))):
            statement_block = match_block(raw, candidates, index) or block
            statements.append(self._statement(raw, statement_block))
            statements.item_pos.append(statement_block.span)
        document["Statement"] = statements
        document.key_pos["Statement"] = block.span
        return document

    def _argument(self, entry: dict[str, Any], block: Block, name: str) -> Any:
        attribute = block.attributes.get(name)
        value = entry.get(name)
        if attribute is None:
            value = None if is_unknown(value) else value
        else:
            value = _replace_ampersand(self.resolver.resolve(attribute, value))
        if name in _STRING_SETS:
            return _flatten_strings(value)
        return value

    def _statement(self, raw: Any, block: Block) -> PosDict:
        statement = PosDict(block.span)
        if not isinstance(raw, dict):
            return statement

        for name, element in _STATEMENT_ARGUMENTS.items():
            value = self._argument(raw, block, name)
            if value is None:
                continue
            statement[element] = value
            statement.key_pos[element] = _argument_span(block, name)
        if "Effect" not in statement:
            statement["Effect"] = "Allow"
            statement.key_pos["Effect"] = block.span

        for name, element in _PRINCIPAL_BLOCKS.items():
            principal = self._principals(raw, block, name)
            if principal is not None:
                statement[element], statement.key_pos[element] = principal

        condition = self._conditions(raw, block)
        if condition:
            statement["Condition"] = condition
            statement.key_pos["Condition"] = condition.pos
        return statement

    def _principals(
        self, raw: dict[str, Any], block: Block, name: str
    ) -> tuple[Any, Pos] | None:
        entries = as_list(raw.get(name))
        if not entries:
            return None
        candidates = nested_blocks(block, name)
        principal: dict[str, Any] = {}
        first_span = None
        for index, entry in enumerate(entries):
            principal_block = match_block(entry, candidates, index) or block
            first_span = first_span or principal_block.span
            kind = self._argument(entry, principal_block, "type")
            identifiers = self._argument(entry, principal_block, "identifiers")
            if kind == "*":
                return "*", principal_block.span
            if isinstance(kind, str):
                principal.setdefault(kind, []).extend(as_list(identifiers))
        return principal, first_span or block.span

    def _conditions(self, raw: dict[str, Any], block: Block) -> PosDict | None:
        entries = as_list(raw.get("condition"))
        if not entries:
            return None
        candidates = nested_blocks(block, "condition")
        result: PosDict | None = None
        for index, entry in enumerate(entries):
            condition_block = match_block(entry, candidates, index) or block
            if result is None:
                result = PosDict(condition_block.span)
            if isinstance(entry, dict):
                self._add_condition(result, entry, condition_block)
        return result

    def _add_condition(
        self, result: PosDict, entry: dict[str, Any], block: Block
    ) -> None:
        test = self._argument(entry, block, "test")
        variable = self._argument(entry, block, "variable")
        values = self._argument(entry, block, "values")
        for part in (test, variable):
            if isinstance(part, Unresolved):
                self.notes.append(str(part))
        if not isinstance(test, str) or not isinstance(variable, str):
            return

        tests = result.get(test)
        if not isinstance(tests, PosDict):
            tests = PosDict(block.span)
            result[test] = tests
            result.key_pos[test] = _argument_span(block, "test")

        values_list = _condition_values(values, _argument_span(block, "values"))
        existing = tests.get(variable)
        if isinstance(existing, PosList):
            existing.extend(values_list)
            existing.item_pos.extend(values_list.item_pos)
            return
        tests[variable] = values_list
        tests.key_pos[variable] = _argument_span(block, "variable")


def nested_blocks(block: Block, name: str) -> list[Block]:
    """Return the nested blocks of a type: blocks, `dynamic` contents, then arguments.

    An argument such as `condition = { test = ... }` (Terraform 0.11 style)
    becomes one block per object, positioned at the object.
    """
    blocks = block.children(name) + block.dynamic_contents(name)
    attribute = block.attributes.get(name)
    if attribute is not None and attribute.expression is not None:
        blocks.extend(_object_blocks(attribute, name))
    return blocks


def _object_blocks(attribute: Attribute, name: str) -> list[Block]:
    source = attribute.source
    node = unwrap(attribute.expression) if attribute.expression else None
    if node is None:
        return []
    objects = [node]
    if node.type == "tuple":
        objects = [unwrap(c) for c in node.children if c.type == "expression"]

    blocks = []
    for item in objects:
        if item.type != "object":
            continue
        block = Block(name, (), source.node_span(item), source)
        for element in item.children:
            key = element.child_by_field_name("key")
            value = element.child_by_field_name("val")
            if element.type != "object_elem" or key is None or value is None:
                continue
            key_name = source.node_text(unwrap(key)).strip('"')
            span = source.node_span(element)
            block.attributes[key_name] = Attribute(key_name, span, source, value)
        blocks.append(block)
    return blocks


def _flatten_strings(value: Any) -> Any:
    """Flatten a list of lists into one list, as Terraform 0.11 did.

    Entries of an inner list take the position of that inner list.
    """
    if not isinstance(value, list) or not any(isinstance(i, list) for i in value):
        return value
    result = PosList(getattr(value, "pos", (1, 1, 1, 1)))
    positions = getattr(value, "item_pos", [])
    for index, item in enumerate(value):
        pos = positions[index] if index < len(positions) else result.pos
        for inner in item if isinstance(item, list) else [item]:
            result.append(inner)
            result.item_pos.append(pos)
    if not isinstance(value, PosList) and not positions:
        return list(result)
    return result


def _argument_span(block: Block, name: str) -> Pos:
    attribute = block.attributes.get(name)
    return attribute.span if attribute is not None else block.span


def _condition_values(values: Any, span: Pos) -> PosList:
    """Return condition values as the strings the provider sends to AWS.

    `values` is a list of strings in the provider schema, so Terraform turns
    `false` into "false" and 1 into "1".
    """
    result = PosList(span)
    if values is None:
        return result
    items = values if isinstance(values, list) else [values]
    positions = getattr(values, "item_pos", [])
    for index, item in enumerate(items):
        if isinstance(item, bool):
            item = "true" if item else "false"
        elif isinstance(item, (int, float)):
            item = str(item)
        result.append(item)
        result.item_pos.append(positions[index] if index < len(positions) else span)
    return result


def _replace_ampersand(value: Any) -> Any:
    """Write `&{...}` as `${...}` in every string, keeping positions and markers."""
    if isinstance(value, Unresolved):
        return Unresolved(value.replace("&{", "${"))
    if isinstance(value, str):
        return value.replace("&{", "${")
    if isinstance(value, dict):
        for key in list(value):
            value[key] = _replace_ampersand(value[key])
        return value
    if isinstance(value, list):
        for index, item in enumerate(value):
            value[index] = _replace_ampersand(item)
        return value
    return value
