"""Statements in JSON text: policy files, CloudFormation JSON and Terraform heredocs.

Positions come from `parse_json`, which records containers, keys and list
items. A string that is the value of a key has no recorded position, so it
is read from the text after its key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from json import decoder as json_decoder
from typing import Any

from mfa_guard.fix.source import FixError, LineIndex
from mfa_guard.fix.syntax import ListSyntax, ScalarSyntax
from mfa_guard.loaders.positions import Pos, PosDict, PosList

_WHITESPACE = " \t\r\n"
# Statement elements and their argument names in the JSON syntax of
# `aws_iam_policy_document` (`.tf.json` files).
_TERRAFORM_ARGUMENTS = {
    "Action": "actions",
    "NotAction": "not_actions",
    "Resource": "resources",
    "NotResource": "not_resources",
}


def find_object(value: Any, line: int, column: int) -> PosDict | None:
    """Return the object in a parsed value that starts at `line` and `column`."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, PosDict):
            if item.pos[:2] == (line, column):
                return item
            stack.extend(item.values())
        elif isinstance(item, PosList):
            stack.extend(item)
    return None


def render_json(value: str) -> str:
    return json.dumps(value)


class JsonStatement:
    """A statement object of positioned JSON, within the text `index` covers.

    With `terraform`, the object is a `statement` block of an
    `aws_iam_policy_document` in a `.tf.json` file, which uses the
    provider's argument names and `condition` blocks.
    """

    def __init__(
        self, index: LineIndex, node: PosDict, terraform: bool = False
    ) -> None:
        self.index = index
        self.text = index.text
        self.node = node
        self.terraform = terraform

    def element_list(self, element: str) -> ListSyntax | ScalarSyntax:
        key = self._key(element)
        if key not in self.node:
            raise FixError(f"the statement has no {key}")
        value = self.node[key]
        if isinstance(value, PosList):
            start, _ = self._range(value.pos)
            items = tuple(self._range(pos) for pos in value.item_pos)
            return ListSyntax(items, start + 1, render_json)
        if isinstance(value, str) and not self.terraform:
            start, end = self._value_range(self.node, key)
            return ScalarSyntax(start, end, render_json)
        raise FixError(f"{key} is not a list of strings")

    def operator_names(self, operator: str) -> list[tuple[int, int]]:
        if self.terraform:
            return self._condition_tests(operator)
        condition = self.node.get("Condition")
        if not isinstance(condition, PosDict) or operator not in condition.key_pos:
            return []
        start, end = self._range(condition.key_pos[operator])
        if self.text[start:end] != json.dumps(operator):
            # The key contains escapes, so the fixer leaves it alone.
            return []
        return [(start + 1, end - 1)]

    def string_ends(self, element: str) -> list[tuple[int, int]]:
        key = self._key(element)
        value = self.node.get(key)
        if isinstance(value, PosList):
            return [
                text_range
                for item, pos in zip(value, value.item_pos, strict=False)
                for text_range in self._entry_strings(item, self._range(pos))
            ]
        if key not in self.node:
            return []
        if isinstance(value, str):
            return [_inside_quotes(self._value_range(self.node, key))]
        return list(self._entry_strings(value, None))

    def _key(self, element: str) -> str:
        if self.terraform:
            return _TERRAFORM_ARGUMENTS.get(element, element)
        return element

    def _condition_tests(self, operator: str) -> list[tuple[int, int]]:
        """Return the `test` values of `condition` blocks that name `operator`."""
        blocks = self.node.get("condition")
        names = []
        for block in blocks if isinstance(blocks, PosList) else [blocks]:
            if not isinstance(block, PosDict) or block.get("test") != operator:
                continue
            start, end = self._value_range(block, "test")
            if self.text[start:end] == json.dumps(operator):
                names.append((start + 1, end - 1))
        return names

    def _entry_strings(
        self, value: Any, value_range: tuple[int, int] | None
    ) -> Iterator[tuple[int, int]]:
        """Yield the string of an entry, or the final string of its `Fn::Sub` or `Fn::Join`."""
        if isinstance(value, str) and value_range is not None:
            yield _inside_quotes(value_range)
            return
        if not isinstance(value, PosDict) or len(value) != 1:
            return

        name, argument = next(iter(value.items()))
        if name == "Fn::Sub" and isinstance(argument, str):
            yield _inside_quotes(self._value_range(value, name))
        elif name == "Fn::Sub" and isinstance(argument, PosList) and argument:
            if isinstance(argument[0], str):
                yield _inside_quotes(self._range(argument.item_pos[0]))
        elif (
            name == "Fn::Join" and isinstance(argument, PosList) and len(argument) == 2
        ):
            parts = argument[1]
            if isinstance(parts, PosList) and parts and isinstance(parts[-1], str):
                yield _inside_quotes(self._range(parts.item_pos[-1]))

    def _range(self, pos: Pos) -> tuple[int, int]:
        line, column, end_line, end_column = pos
        return self.index.offset(line, column), self.index.offset(end_line, end_column)

    def _value_range(self, mapping: PosDict, key: str) -> tuple[int, int]:
        """Return the range of the string value of `key`, read after the key."""
        _, key_end = self._range(mapping.key_pos[key])
        offset = _skip(self.text, key_end)
        if not self.text.startswith(":", offset):
            raise FixError(f"expected ':' after the key {key!r}")
        start = _skip(self.text, offset + 1)
        if not self.text.startswith('"', start):
            raise FixError(f"the value of {key!r} is not a string")
        _, end = json_decoder.scanstring(self.text, start + 1)  # type: ignore[attr-defined]
        return start, int(end)


def _skip(text: str, offset: int) -> int:
    while offset < len(text) and text[offset] in _WHITESPACE:
        offset += 1
    return offset


def _inside_quotes(text_range: tuple[int, int]) -> tuple[int, int]:
    start, end = text_range
    return start + 1, end - 1
