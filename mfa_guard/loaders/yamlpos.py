"""A YAML parser for CloudFormation templates that records positions.

It uses PyYAML's libyaml parser, or the pure-Python parser when PyYAML was
built without libyaml. The safe constructor runs without implicit resolvers,
so every plain scalar stays the text it was written as: `Version: 2012-10-17`
is "2012-10-17" and `0600` stays "0600", never a date or a number.

Mappings and sequences become `PosDict` and `PosList` with 1-based positions.
CloudFormation short-form tags become their long form: `!Ref x` is
`{"Ref": "x"}`, `!GetAtt A.B` is `{"Fn::GetAtt": ["A", "B"]}` and any other
`!Name value` is `{"Fn::Name": value}`.

Only the first document of a multi-document stream is parsed, because a
CloudFormation template is one document. Text after the first document is
not read, so a syntax error there goes unreported.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from yaml import MarkedYAMLError
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.error import Mark
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader, ReaderError
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from mfa_guard.loaders.jsonpos import DuplicateKey
from mfa_guard.loaders.positions import LiteralText, Pos, PosDict, PosList
from mfa_guard.records import field, record

__all__ = ["LiteralText", "ParsedYaml", "YamlError", "parse_yaml"]

# The constructors use about three Python frames per level, so 200 levels
# stay inside Python's default recursion limit of 1,000.
MAX_DEPTH = 200

# An alias bomb ("billion laughs") shares nodes, so it parses in milliseconds
# but expands to billions of values when walked. The expanded size is
# therefore checked before construction.
MAX_EXPANDED_NODES = 100_000

_MERGE_TAG = "tag:yaml.org,2002:merge"
_UNPREFIXED_TAGS = ("Ref", "Condition")


class YamlError(ValueError):
    """Invalid YAML, with the 1-based line and column of the problem."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"{message} (line {line}, column {column})")
        self.message = message
        self.line = line
        self.column = column


@record(frozen=False)
class ParsedYaml:
    value: Any
    duplicates: list[DuplicateKey] = field(default_factory=list)


def _error_at(message: str, mark: Mark | None) -> YamlError:
    if mark is None:
        return YamlError(message, 1, 1)
    return YamlError(message, mark.line + 1, mark.column + 1)


def _last_node(node: Node) -> Node:
    """Return the node whose end is the end of `node` as written.

    libyaml ends a block collection where the next token starts, often on a
    later line, so a block collection ends with its last item instead. Merged
    (`<<`) items written elsewhere in the file are not followed.
    """
    while isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style:
        if not node.value:
            break
        last = node.value[-1]
        child: Node = last[1] if isinstance(node, MappingNode) else last
        inside = node.start_mark.index <= child.end_mark.index <= node.end_mark.index
        if not inside:
            break
        node = child
    return node


def _span(node: Node) -> Pos:
    start = node.start_mark
    end = _last_node(node).end_mark
    return (start.line + 1, start.column + 1, end.line + 1, end.column + 1)


class _PositionConstructor(SafeConstructor, BaseResolver):
    """Constructors that build positioned values, used by both parsers."""

    def __init__(self, text: str) -> None:
        SafeConstructor.__init__(self)
        BaseResolver.__init__(self)
        self.source_text = text
        self.source_lines: list[str] | None = None
        self.duplicates: list[DuplicateKey] = []
        self.depth = 0
        self.own_pair_counts: dict[int, int] = {}

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return SafeConstructor.construct_object(self, node, deep)
        except YamlError:
            raise
        except (ValueError, TypeError, AttributeError) as error:
            # Typed tags such as `!!float abc` or `!!timestamp x` raise these.
            message = f"invalid {node.tag} value: {error}"
            raise _error_at(message, node.start_mark) from None

    def enter(self, node: Node) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            message = f"nesting deeper than {MAX_DEPTH} levels"
            raise _error_at(message, node.start_mark)

    def flatten_mapping(self, node: MappingNode) -> None:
        # Merging moves the merged pairs in front of the mapping's own pairs.
        # Duplicate detection needs the number of own pairs to separate them.
        if id(node) not in self.own_pair_counts:
            own = sum(1 for key, _ in node.value if key.tag != _MERGE_TAG)
            self.own_pair_counts[id(node)] = own
        SafeConstructor.flatten_mapping(self, node)

    def construct_positioned_mapping(self, node: MappingNode) -> PosDict:
        self.enter(node)
        self.flatten_mapping(node)
        merged_count = len(node.value) - self.own_pair_counts[id(node)]
        result = PosDict(_span(node))
        own_keys: set[str] = set()

        for index, (key_node, value_node) in enumerate(node.value):
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                message = f"invalid mapping key {key!r}: expected a string"
                raise _error_at(message, key_node.start_mark)
            key_pos = _span(key_node)

            # A key of the mapping's own overrides a merged key silently, as
            # YAML specifies, but two own keys with one name are a mistake.
            if index >= merged_count:
                if key in own_keys:
                    first_pos = result.key_pos[key]
                    self.duplicates.append(DuplicateKey(key, key_pos, first_pos))
                own_keys.add(key)

            result[key] = self.construct_object(value_node, deep=True)
            result.key_pos[key] = key_pos

        self.depth -= 1
        return result

    def construct_positioned_sequence(self, node: SequenceNode) -> PosList:
        self.enter(node)
        result = PosList(_span(node))
        for item_node in node.value:
            result.append(self.construct_object(item_node, deep=True))
            result.item_pos.append(_span(item_node))
        self.depth -= 1
        return result

    def reject_tag(self, node: Node) -> None:
        message = f"unsupported YAML tag {node.tag}: template values are strings, numbers, booleans, lists and mappings"
        raise _error_at(message, node.start_mark)

    def construct_text(self, node: ScalarNode) -> str:
        text = self.construct_scalar(node)
        if node.style == "|":
            return self.literal_text(node, text)
        return text

    def literal_text(self, node: ScalarNode, text: str) -> str:
        """Return `text` as LiteralText when its lines can be found in the file."""
        lines = text.split("\n")
        first = next((i for i, line in enumerate(lines) if line.strip()), None)
        if first is None:
            return text
        if self.source_lines is None:
            self.source_lines = self.source_text.split("\n")

        # The content starts on the line after the `|` indicator. Comparing
        # the file line with the text line finds the indentation, and rejects
        # layouts this does not handle (such as a tag on its own line).
        line_offset = node.start_mark.line + 1
        source_index = line_offset + first
        if source_index >= len(self.source_lines):
            return text
        source_line = self.source_lines[source_index].rstrip("\r")
        indent = len(source_line) - len(lines[first])
        if indent < 0 or source_line[indent:] != lines[first]:
            return text

        result = LiteralText(text)
        result.line_offset = line_offset
        result.column_offset = indent
        return result

    def construct_intrinsic(self, suffix: str, node: Node) -> PosDict:
        """Build the long form of a CloudFormation short-form tag."""
        name = suffix if suffix in _UNPREFIXED_TAGS else f"Fn::{suffix}"
        pos = _span(node)
        value: Any
        if isinstance(node, ScalarNode):
            value = self.construct_text(node)
            if name == "Fn::GetAtt":
                value = _split_attribute(value, pos)
        elif isinstance(node, SequenceNode):
            value = self.construct_positioned_sequence(node)
        else:
            assert isinstance(node, MappingNode)
            value = self.construct_positioned_mapping(node)

        result = PosDict(pos)
        result[name] = value
        result.key_pos[name] = pos
        return result


def _split_attribute(text: str, pos: Pos) -> PosList:
    """Split `!GetAtt Resource.Attribute` at the first dot, as CloudFormation does."""
    result = PosList(pos)
    for part in text.split(".", 1):
        result.append(part)
        result.item_pos.append(pos)
    return result


_CONSTRUCTORS: dict[str, Callable[..., Any]] = {
    "tag:yaml.org,2002:map": _PositionConstructor.construct_positioned_mapping,
    "tag:yaml.org,2002:seq": _PositionConstructor.construct_positioned_sequence,
    "tag:yaml.org,2002:str": _PositionConstructor.construct_text,
    "tag:yaml.org,2002:binary": _PositionConstructor.reject_tag,
    "tag:yaml.org,2002:omap": _PositionConstructor.reject_tag,
    "tag:yaml.org,2002:pairs": _PositionConstructor.reject_tag,
    "tag:yaml.org,2002:set": _PositionConstructor.reject_tag,
    "tag:yaml.org,2002:timestamp": _PositionConstructor.reject_tag,
}
for _tag, _constructor in _CONSTRUCTORS.items():
    _PositionConstructor.add_constructor(_tag, _constructor)
_PositionConstructor.add_multi_constructor(
    "!", _PositionConstructor.construct_intrinsic
)
# The merge key is the one implicit tag kept: `<<` must resolve to it for
# flatten_mapping to merge.
_PositionConstructor.add_implicit_resolver(_MERGE_TAG, re.compile(r"^(?:<<)$"), ["<"])


class _PurePythonLoader(Reader, Scanner, Parser, Composer, _PositionConstructor):
    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _PositionConstructor.__init__(self, text)


_LOADER: type[Any] = _PurePythonLoader
try:
    from yaml._yaml import CParser
except ImportError:  # PyYAML built without libyaml, for example on PyPy
    pass
else:

    class _CLoader(CParser, _PositionConstructor):
        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            _PositionConstructor.__init__(self, text)

    _LOADER = _CLoader


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [child for pair in node.value for child in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def check_alias_expansion(root: Node, limit: int = MAX_EXPANDED_NODES) -> None:
    """Raise YamlError if expanding the aliases under `root` goes beyond the limits.

    The limits are `limit` nodes in all and MAX_DEPTH levels of nesting. The
    constructors check the nesting of the text as written, but an alias can
    put a deep value under another one. Each node is visited once, so the
    check takes time proportional to the nodes as written. A node that
    contains itself through an alias is rejected too.
    """
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            active.discard(key)
            children = _children(node)
            sizes[key] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[key] > limit:
                message = f"document expands to more than {limit:,} nodes through YAML aliases"
                raise _error_at(message, node.start_mark)
            depths[key] = 0
            if not isinstance(node, ScalarNode):
                deepest = max((depths[id(child)] for child in children), default=0)
                depths[key] = 1 + deepest
            if depths[key] > MAX_DEPTH:
                message = f"nesting deeper than {MAX_DEPTH} levels through YAML aliases"
                raise _error_at(message, node.start_mark)
            continue
        if key in sizes:
            continue
        if key in active:
            raise _error_at("recursive YAML alias", node.start_mark)
        active.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node))


def _line_and_column(prefix: str) -> tuple[int, int]:
    """Return the 1-based position just after `prefix`, the text before a problem."""
    line = prefix.count("\n") + 1
    column = len(prefix) - prefix.rfind("\n")
    return line, column


def _reader_error(error: ReaderError, text: str, byte_offsets: bool) -> YamlError:
    # libyaml reports a byte offset into the UTF-8 text, the pure-Python
    # reader a character offset.
    prefix = text[: error.position]
    if byte_offsets:
        encoded = text.encode("utf-8", "surrogatepass")[: error.position]
        prefix = encoded.decode("utf-8", "ignore")
    line, column = _line_and_column(prefix)
    return YamlError(f"invalid character: {error.reason}", line, column)


def _convert_error(error: Exception, text: str, byte_offsets: bool) -> YamlError:
    if isinstance(error, YamlError):
        return error
    if isinstance(error, MarkedYAMLError):
        message = error.problem or error.context or "invalid YAML"
        if error.problem and error.context:
            message = f"{error.problem} {error.context}"
        return _error_at(message, error.problem_mark or error.context_mark)
    if isinstance(error, ReaderError):
        return _reader_error(error, text, byte_offsets)
    if isinstance(error, UnicodeEncodeError):
        # libyaml needs UTF-8, which cannot hold a lone surrogate.
        line, column = _line_and_column(text[: error.start])
        return YamlError(f"invalid character: {error.reason}", line, column)
    if isinstance(error, RecursionError):
        return YamlError(
            "nesting too deep to parse (Python recursion limit reached)", 1, 1
        )
    return YamlError(f"invalid YAML: {error}", 1, 1)


def _load_first_document(loader: Any, text: str) -> ParsedYaml:
    # check_node reads the stream start, which get_node expects to be gone.
    if not loader.check_node():
        return ParsedYaml(None)
    node = loader.get_node()
    if "&" in text:
        check_alias_expansion(node)
    value = loader.construct_document(node)
    return ParsedYaml(value, loader.duplicates)


def parse_yaml(text: str) -> ParsedYaml:
    """Parse the first YAML document in `text`, or raise YamlError.

    Every error the parser can raise becomes a YamlError, with the position of
    the problem when the parser reports one (line 1, column 1 otherwise).
    Duplicate mapping keys are kept last-wins and listed in `duplicates`.
    An empty document gives the value None.
    """
    byte_offsets = _LOADER is not _PurePythonLoader
    try:
        loader = _LOADER(text)
    except (ReaderError, ValueError) as error:
        raise _convert_error(error, text, byte_offsets) from None

    try:
        return _load_first_document(loader, text)
    except (
        MarkedYAMLError,
        ReaderError,
        ValueError,
        TypeError,
        AttributeError,
        RecursionError,
    ) as error:
        raise _convert_error(error, text, byte_offsets) from None
    finally:
        loader.dispose()
