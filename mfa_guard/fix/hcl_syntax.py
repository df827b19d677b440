"""Statements in Terraform files, found in the tree-sitter syntax tree.

A statement is an object in `jsonencode({...})`, a `statement` block of a
`data "aws_iam_policy_document"`, or an object in JSON written as a heredoc.
The loader places each at its first character: the `{` of the object, the
`statement` keyword of the block, or the `{` inside the heredoc.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from mfa_guard.fix.json_syntax import JsonStatement, find_object
from mfa_guard.fix.source import FixError, LineIndex
from mfa_guard.fix.syntax import ListSyntax, ScalarSyntax, StatementSyntax
from mfa_guard.loaders.hcl_source import SourceFile, make_parser, parse_hcl
from mfa_guard.loaders.jsonpos import JsonError, parse_json

if TYPE_CHECKING:
    from tree_sitter import Node

# Statement elements and their `aws_iam_policy_document` argument names.
_ARGUMENTS = {
    "Action": "actions",
    "NotAction": "not_actions",
    "Resource": "resources",
    "NotResource": "not_resources",
}
_STRINGS = ("string_lit", "quoted_template")
_SNIPPET_LENGTH = 40


def render_hcl(value: str) -> str:
    # The rule schema rejects entries with quotes, backslashes or template
    # syntax, so the entry needs no escapes.
    return f'"{value}"'


class HclDocument:
    """A Terraform file's syntax tree, for finding statements in it."""

    def __init__(self, path: str, text: str) -> None:
        data = text.encode("utf-8", "surrogateescape")
        self.source = SourceFile(path, path, text, data)
        parse_hcl(self.source, make_parser())
        self.index = LineIndex(text)

    def statement(self, line: int, column: int) -> StatementSyntax:
        """Return the statement that starts at `line` and `column`, or raise FixError."""
        offset = self.index.offset(line, column)
        for node in self._nodes():
            if self._start(node) != offset:
                continue
            if node.type == "object":
                return HclObjectStatement(self.source, node)
            if node.type == "block":
                return HclBlockStatement(self.source, node)

        heredoc = self._heredoc_at(offset)
        if heredoc is None:
            raise FixError("no statement object or block starts at the finding")
        return self._heredoc_statement(heredoc, line, column)

    def heredoc_json_count(self) -> int:
        """Return how many heredocs of the file contain JSON that parses."""
        count = 0
        for node in self._nodes():
            if node.type != "heredoc_template":
                continue
            try:
                self._parse_heredoc(node)
            except FixError:
                continue
            count += 1
        return count

    def has_syntax_error(self) -> bool:
        tree = self.source.tree
        return tree is None or tree.root_node.has_error

    def _nodes(self) -> Iterator[Node]:
        if self.source.tree is None:
            return
        stack = [self.source.tree.root_node]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def _start(self, node: Node) -> int:
        return self.source.char_offset(node.start_byte)

    def _heredoc_at(self, offset: int) -> Node | None:
        for node in self._nodes():
            if node.type != "heredoc_template":
                continue
            start, end = self.source.node_range(node)
            if start <= offset < end:
                return node
        return None

    def _heredoc_statement(self, node: Node, line: int, column: int) -> JsonStatement:
        parsed = self._parse_heredoc(node)
        statement = find_object(parsed, line, column)
        if statement is None:
            raise FixError("no statement object starts at the finding in the heredoc")
        return JsonStatement(self.index, statement)

    def _parse_heredoc(self, node: Node) -> object:
        """Parse the JSON of a heredoc with positions in the file, or raise FixError."""
        markers = [
            child for child in node.children if child.type == "heredoc_identifier"
        ]
        if len(markers) < 2 or markers[-1].is_missing:
            raise FixError("the heredoc has no closing marker")

        text = self.source.text
        opening_end = self.source.node_range(markers[0])[1]
        newline = text.find("\n", opening_end)
        if newline < 0:
            raise FixError("the heredoc has no body")
        body_start = newline + 1
        body_end = self.source.node_range(markers[-1])[0]

        line, _ = self.index.location(body_start)
        try:
            return parse_json(text[body_start:body_end], line_offset=line - 1).value
        except JsonError as error:
            raise FixError(
                f"the heredoc does not contain plain JSON: {error}"
            ) from None


def _children(node: Node, kind: str) -> list[Node]:
    return [child for child in node.children if child.type == kind]


def _expression_value(node: Node | None) -> Node | None:
    """Return the tuple, object or string inside an `expression` node."""
    while node is not None and node.type in (
        "expression",
        "collection_value",
        "literal_value",
        "template_expr",
    ):
        named = [child for child in node.children if child.type != "comment"]
        if len(named) != 1:
            return None
        node = named[0]
    return node


def _string_text_range(source: SourceFile, node: Node) -> tuple[int, int] | None:
    """Return a quoted string's range from its opening quote to its closing quote."""
    if node.type not in _STRINGS:
        return None
    end = node.children[-1] if node.children else None
    if end is None or end.type != "quoted_template_end":
        return None
    start = source.char_offset(node.start_byte)
    return start, source.char_offset(end.start_byte)


def _string_value(source: SourceFile, node: Node | None) -> str | None:
    """Return the text of a string without interpolations, or None."""
    if node is None or node.type not in _STRINGS:
        return None
    parts = []
    for child in node.children:
        if child.type == "template_literal":
            parts.append(source.node_text(child))
        elif child.type not in ("quoted_template_start", "quoted_template_end"):
            return None
    return "".join(parts)


def _list_syntax(
    source: SourceFile, expression: Node | None, element: str, strings: bool
) -> ListSyntax | ScalarSyntax:
    """Return the list an element's expression writes, or raise FixError.

    With `strings`, a single string is accepted too, as `jsonencode` allows.
    """
    if expression is None:
        raise FixError(f"the statement has no {element}")
    node = _expression_value(expression)
    if node is not None and node.type == "tuple":
        items = tuple(
            source.node_range(child) for child in _children(node, "expression")
        )
        open_end = source.node_range(_children(node, "tuple_start")[0])[1]
        return ListSyntax(items, open_end, render_hcl)
    if strings and node is not None and node.type in _STRINGS:
        start, end = source.node_range(node)
        return ScalarSyntax(start, end, render_hcl)

    text = source.node_text(expression).split("\n", 1)[0]
    if len(text) > _SNIPPET_LENGTH:
        text = text[:_SNIPPET_LENGTH] + "..."
    raise FixError(f"{element} is {text!r}, not a list written in the statement")


def _tuple_strings(
    source: SourceFile, expression: Node | None
) -> list[tuple[int, int]]:
    node = _expression_value(expression)
    if node is None:
        return []
    items = [node]
    if node.type == "tuple":
        items = [
            value
            for child in _children(node, "expression")
            if (value := _expression_value(child)) is not None
        ]
    ranges = []
    for item in items:
        text_range = _string_text_range(source, item)
        if text_range is not None:
            ranges.append(text_range)
    return ranges


class HclObjectStatement:
    """A statement written as an HCL object, inside `jsonencode`."""

    def __init__(self, source: SourceFile, node: Node) -> None:
        self.source = source
        self.node = node

    def element_list(self, element: str) -> ListSyntax | ScalarSyntax:
        expression = self._value(self.node, element)
        return _list_syntax(self.source, expression, element, strings=True)

    def operator_names(self, operator: str) -> list[tuple[int, int]]:
        condition = _expression_value(self._value(self.node, "Condition"))
        if condition is None or condition.type != "object":
            return []
        names = []
        for key, _ in self._elements(condition):
            name_range = self._key_range(key)
            if name_range is not None:
                start, end = name_range
                if self.source.text[start:end] == operator:
                    names.append(name_range)
        return names

    def string_ends(self, element: str) -> list[tuple[int, int]]:
        return _tuple_strings(self.source, self._value(self.node, element))

    def _elements(self, node: Node) -> Iterator[tuple[Node, Node]]:
        for element in _children(node, "object_elem"):
            key = element.child_by_field_name("key")
            value = element.child_by_field_name("val")
            if key is not None and value is not None:
                yield key, value

    def _key_range(self, key: Node) -> tuple[int, int] | None:
        """Return the range of a key's name: an identifier, or a string's text."""
        inner = _expression_value(key)
        if inner is not None and inner.type == "variable_expr":
            return self.source.node_range(inner)
        if _string_value(self.source, inner) is None:
            return None
        assert inner is not None
        literals = _children(inner, "template_literal")
        if len(literals) != 1:
            return None
        return self.source.node_range(literals[0])

    def _value(self, node: Node, name: str) -> Node | None:
        """Return the expression of the object's last element named `name`."""
        found = None
        for key, value in self._elements(node):
            name_range = self._key_range(key)
            if name_range is None:
                continue
            start, end = name_range
            if self.source.text[start:end] == name:
                found = value
        return found


class HclBlockStatement:
    """A `statement` block of a `data "aws_iam_policy_document"`."""

    def __init__(self, source: SourceFile, node: Node) -> None:
        self.source = source
        self.node = node

    def element_list(self, element: str) -> ListSyntax | ScalarSyntax:
        name = _ARGUMENTS.get(element, element)
        expression = self._argument(self.node, name)
        return _list_syntax(self.source, expression, name, strings=False)

    def operator_names(self, operator: str) -> list[tuple[int, int]]:
        names = []
        for block in self._blocks(self.node, "condition"):
            test = _expression_value(self._argument(block, "test"))
            if _string_value(self.source, test) != operator:
                continue
            assert test is not None
            literals = _children(test, "template_literal")
            if len(literals) == 1:
                names.append(self.source.node_range(literals[0]))
        return names

    def string_ends(self, element: str) -> list[tuple[int, int]]:
        value = self._argument(self.node, _ARGUMENTS.get(element, ""))
        return _tuple_strings(self.source, value)

    def _body(self, block: Node) -> Node | None:
        bodies = _children(block, "body")
        return bodies[0] if bodies else None

    def _blocks(self, block: Node, name: str) -> Iterator[Node]:
        body = self._body(block)
        if body is None:
            return
        for child in _children(body, "block"):
            identifiers = _children(child, "identifier")
            if identifiers and self.source.node_text(identifiers[0]) == name:
                yield child

    def _argument(self, block: Node, name: str) -> Node | None:
        """Return the expression of the block's argument `name`."""
        body = self._body(block)
        if body is None:
            return None
        for attribute in _children(body, "attribute"):
            identifiers = _children(attribute, "identifier")
            if identifiers and self.source.node_text(identifiers[0]) == name:
                expressions = _children(attribute, "expression")
                return expressions[0] if expressions else None
        return None
