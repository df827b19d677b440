"""Statements in CloudFormation YAML templates.

The fixer needs the position and quoting style of every scalar, which the
loader's constructed values do not keep, so it reads PyYAML's node tree
(`yaml.compose`). Composing builds no objects and ignores tags, so
CloudFormation short forms such as `!Sub` need no constructor. Node marks
count characters, as the model's columns do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mfa_guard.fix.source import FixError
from mfa_guard.fix.syntax import ListSyntax, Render, ScalarSyntax

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Plain scalars that YAML would read as text in a flow or block sequence.
_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:*?_./+=@-]*$")
# Plain words YAML 1.1 reads as booleans or null.
_RESERVED = {"y", "n", "yes", "no", "true", "false", "on", "off", "null"}
_PLAIN_STYLES = (None, "")
_QUOTE_STYLES = ('"', "'")


def compose(text: str) -> Node | None:
    """Return the node tree of the first document in `text`, or raise FixError."""
    try:
        return yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as error:
        raise FixError(f"invalid YAML: {error}") from None


def find_mapping(root: Node | None, line: int, column: int) -> MappingNode | None:
    """Return the mapping node that starts at `line` and `column` (1-based)."""
    stack = [root] if root is not None else []
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            mark = node.start_mark
            if (mark.line + 1, mark.column + 1) == (line, column):
                return node
            stack.extend(child for pair in node.value for child in pair)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return None


def _value(mapping: Node, key: str) -> Node | None:
    if not isinstance(mapping, MappingNode):
        return None
    found = None
    for key_node, value_node in mapping.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            found = value_node
    return found


def _is_tagged(node: Node) -> bool:
    return node.tag.startswith("!")


def _render_for(node: Node | None) -> Render:
    """Return a renderer that writes new entries in the quoting style of `node`."""
    style = node.style if isinstance(node, ScalarNode) else None
    if style == "'":
        return lambda value: "'" + value.replace("'", "''") + "'"
    if style == '"':
        return json.dumps
    return _render_plain


def _render_plain(value: str) -> str:
    if _PLAIN.match(value) and value.lower() not in _RESERVED:
        return value
    return json.dumps(value)


def _text_end(node: ScalarNode) -> int:
    """Return the offset where a scalar's text ends, before a closing quote."""
    end: int = node.end_mark.index
    return end - 1 if node.style in _QUOTE_STYLES else end


class YamlStatement:
    """A statement mapping of a composed YAML document."""

    def __init__(self, text: str, node: MappingNode) -> None:
        self.text = text
        self.node = node

    def element_list(self, element: str) -> ListSyntax | ScalarSyntax:
        value = _value(self.node, element)
        if value is None:
            raise FixError(f"the statement has no {element}")
        if isinstance(value, SequenceNode) and not _is_tagged(value):
            items = tuple(
                (item.start_mark.index, item.end_mark.index) for item in value.value
            )
            render = _render_for(value.value[0] if value.value else None)
            if not value.flow_style:
                return ListSyntax(items, None, render)
            start = value.start_mark.index
            if not self.text.startswith("[", start):
                raise FixError("expected '[' at the start of a flow sequence")
            return ListSyntax(items, start + 1, render)

        if _is_inline_scalar(value) and not _is_tagged(value):
            start, end = value.start_mark.index, value.end_mark.index
            return ScalarSyntax(start, end, _render_for(value))
        raise FixError(f"{element} is not a plain YAML list or string")

    def operator_names(self, operator: str) -> list[tuple[int, int]]:
        condition = _value(self.node, "Condition")
        if not isinstance(condition, MappingNode):
            return []
        names = []
        for key_node, _ in condition.value:
            if not isinstance(key_node, ScalarNode) or key_node.value != operator:
                continue
            start, end = key_node.start_mark.index, key_node.end_mark.index
            if key_node.style in _QUOTE_STYLES:
                start, end = start + 1, end - 1
            if self.text[start:end] == operator:
                names.append((start, end))
        return names

    def string_ends(self, element: str) -> list[tuple[int, int]]:
        value = _value(self.node, element)
        if value is None:
            return []
        if isinstance(value, SequenceNode) and not _is_tagged(value):
            return [text_range for item in value.value for text_range in _strings(item)]
        return list(_strings(value))


def _is_inline_scalar(node: Node | None) -> bool:
    """Return True for a plain or quoted scalar, which is not a block scalar."""
    if not isinstance(node, ScalarNode):
        return False
    return node.style in (*_PLAIN_STYLES, *_QUOTE_STYLES)


def _strings(node: Node) -> Iterator[tuple[int, int]]:
    """Yield the text of a string entry, or the final string of its Sub or Join."""
    if isinstance(node, ScalarNode):
        is_string = node.tag in ("!Sub", "tag:yaml.org,2002:str")
        if is_string and _is_inline_scalar(node):
            yield node.start_mark.index, _text_end(node)
        return

    function = node.tag
    argument: Node = node
    if isinstance(node, MappingNode) and len(node.value) == 1:
        key_node, argument = node.value[0]
        if not isinstance(key_node, ScalarNode):
            return
        function = "!" + key_node.value.removeprefix("Fn::")

    if function == "!Sub":
        if isinstance(argument, SequenceNode) and argument.value:
            yield from _strings(argument.value[0])
        elif isinstance(argument, ScalarNode) and _is_inline_scalar(argument):
            yield argument.start_mark.index, _text_end(argument)
    elif function == "!Join" and isinstance(argument, SequenceNode):
        # Fn::Join takes a delimiter and a list, whose last part ends the text.
        parts = argument.value[1] if len(argument.value) == 2 else None
        if isinstance(parts, SequenceNode) and parts.value:
            yield from _strings(parts.value[-1])
