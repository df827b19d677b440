"""Terraform source files, their tree-sitter trees and 1-based positions.

tree-sitter reports byte offsets, while the policy model counts columns in
characters (code points). `SourceFile` converts between the two. Files are
decoded as UTF-8 with a leading byte order mark removed. Invalid bytes are
kept as lone surrogates (`surrogateescape`), so every byte still maps to
exactly one position.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path
from typing import TYPE_CHECKING

from mfa_guard.loaders.positions import Pos
from mfa_guard.records import field, record

if TYPE_CHECKING:
    from tree_sitter import Node, Parser, Tree

_BOM = b"\xef\xbb\xbf"
# Maximum depth of a syntax tree the loader walks. Each level of a nested
# list or object adds about three levels, so this allows values nested about
# 100 deep, and keeps the recursive evaluation well inside Python's default
# recursion limit of 1,000 frames.
MAX_SYNTAX_DEPTH = 320

# Maximum nesting of brackets, braces and parentheses in a file's text. The
# syntax tree of unbalanced brackets is flat (error nodes), while tfparse's
# parser recurses once per bracket, so about 100,000 of them exhausted its
# 1 GB Go stack and ended the process. Real configurations nest about ten
# levels.
MAX_BRACKET_DEPTH = 100
_BRACKETS = re.compile(r"[\[\]{}()]")
_SNIPPET_LENGTH = 40
# A number without a fraction but with an exponent, such as "1e+4", with its
# marker and sign as the group "exponent". A letter, digit, underscore or dot
# before it makes it part of a name or of a number with a fraction instead.
_EXPONENT = re.compile(rb"(?<![\w.])\d+(?P<exponent>[eE][+-]?)\d")
_MISSING_NAMES = {
    "heredoc_identifier": "the closing heredoc marker",
    "quoted_template_end": 'the closing quote (")',
    "template_interpolation_end": "'}' after an interpolation",
}


@record(frozen=False)
class SourceFile:
    """One file of a Terraform module: its text and, for HCL, its syntax tree.

    `path` is the display path (`directory / name`) and `name` the file name
    as tfparse reports it.
    """

    path: str
    name: str
    text: str
    data: bytes
    tree: Tree | None = None
    line_starts: list[int] = field(default_factory=list)
    byte_to_char: list[int] | None = None

    def __post_init__(self) -> None:
        self.line_starts = _line_starts(self.text)
        if len(self.text) != len(self.data):
            self.byte_to_char = _byte_to_char_table(self.text)

    @property
    def is_json(self) -> bool:
        return self.name.endswith(".json")

    def char_offset(self, byte_offset: int) -> int:
        if self.byte_to_char is None:
            return byte_offset
        return self.byte_to_char[byte_offset]

    def location(self, offset: int) -> tuple[int, int]:
        """Return the 1-based (line, column) of a character offset."""
        row = bisect.bisect_right(self.line_starts, offset) - 1
        return row + 1, offset - self.line_starts[row] + 1

    def span(self, start: int, end: int) -> Pos:
        line, column = self.location(start)
        end_line, end_column = self.location(end)
        return (line, column, end_line, end_column)

    def node_range(self, node: Node) -> tuple[int, int]:
        """Return the character offsets where `node` starts and ends."""
        return self.char_offset(node.start_byte), self.char_offset(node.end_byte)

    def node_span(self, node: Node) -> Pos:
        return self.span(*self.node_range(node))

    def node_text(self, node: Node) -> str:
        start, end = self.node_range(node)
        return self.text[start:end]


def _byte_to_char_table(text: str) -> list[int]:
    table: list[int] = []
    for index, char in enumerate(text):
        width = len(char.encode("utf-8", "surrogateescape"))
        table.extend([index] * width)
    table.append(len(text))
    return table


def read_source(path: Path, name: str) -> SourceFile:
    """Read a file as UTF-8, or raise OSError."""
    data = path.read_bytes()
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    text = data.decode("utf-8", "surrogateescape")
    return SourceFile(str(path), name, text, data)


def parse_hcl(source: SourceFile, parser: Parser) -> None:
    """Parse an HCL file with tree-sitter and store the tree on `source`.

    tree-sitter-hcl 1.2.0 rejects a number with an exponent but no fraction,
    such as `1e4`, which HCL accepts. So the parser reads a copy in which the
    exponent of such a number is replaced by digits of the same length. The
    tree's offsets stay those of the file, and `node_text` reads the file's
    own text.
    """
    source.tree = parser.parse(_EXPONENT.sub(_digits, source.data))


def _digits(match: re.Match[bytes]) -> bytes:
    """Return the matched number with its exponent marker and sign as zeros."""
    start, end = match.span("exponent")
    text = match[0]
    offset = match.start()
    return text[: start - offset] + b"0" * (end - start) + text[end - offset :]


def make_parser() -> Parser:
    """Create a tree-sitter parser for HCL (imported here, only when needed)."""
    import tree_sitter
    import tree_sitter_hcl

    language = tree_sitter.Language(tree_sitter_hcl.language())
    return tree_sitter.Parser(language)


def find_syntax_error(source: SourceFile) -> tuple[Pos, str] | None:
    """Return the position and description of the first syntax error, if any.

    tree-sitter marks text it cannot parse with ERROR nodes and tokens it had
    to assume with zero-width MISSING nodes.
    """
    if source.tree is None or not source.tree.root_node.has_error:
        return None
    node = _first_error_node(source.tree.root_node)
    if node is None:
        return None

    if node.is_missing:
        expected = _MISSING_NAMES.get(node.type, repr(node.type))
        return source.node_span(node), f"missing {expected}"

    snippet = source.node_text(node).strip().split("\n", 1)[0]
    if len(snippet) > _SNIPPET_LENGTH:
        snippet = snippet[:_SNIPPET_LENGTH] + "..."
    return source.node_span(node), f"unexpected {snippet!r}"


def _first_error_node(root: Node) -> Node | None:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            return node
        children = [child for child in node.children if child.has_error]
        stack.extend(reversed(children))
    return None


def _line_starts(text: str) -> list[int]:
    """Return the offset of the first character of each line of `text`."""
    starts = [0]
    index = text.find("\n")
    while index != -1:
        starts.append(index + 1)
        index = text.find("\n", index + 1)
    return starts


def find_deep_brackets(source: SourceFile) -> tuple[Pos, str] | None:
    """Return the position and description of brackets nested deeper than MAX_BRACKET_DEPTH.

    Brackets inside strings and comments count too. A closing bracket
    without an opening one is ignored.
    """
    text = source.text
    opening = text.count("[") + text.count("{") + text.count("(")
    if opening <= MAX_BRACKET_DEPTH:
        return None
    depth = 0
    for match in _BRACKETS.finditer(text):
        if match.group() in "[{(":
            depth += 1
            if depth > MAX_BRACKET_DEPTH:
                message = (
                    f"brackets nested too deeply (more than {MAX_BRACKET_DEPTH} levels)"
                )
                return source.span(match.start(), match.end()), message
        elif depth:
            depth -= 1
    return None


def find_deep_nesting(source: SourceFile) -> tuple[Pos, str] | None:
    """Return the position and description of nesting deeper than MAX_SYNTAX_DEPTH."""
    if source.tree is None:
        return None
    stack = [(source.tree.root_node, 1)]
    while stack:
        node, depth = stack.pop()
        # A subtree is no deeper than its node count (stored by tree-sitter),
        # so most subtrees are skipped without visiting their nodes.
        if depth + node.descendant_count <= MAX_SYNTAX_DEPTH:
            continue
        if depth > MAX_SYNTAX_DEPTH:
            message = (
                "expressions nested too deeply (a syntax tree deeper than "
                f"{MAX_SYNTAX_DEPTH} levels)"
            )
            return source.node_span(node), message
        stack.extend((child, depth + 1) for child in node.children)
    return None
