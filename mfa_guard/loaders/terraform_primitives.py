"""Tell, from the syntax alone, when an expression's value is a string, number or bool.

The crash guards use this for `dynamic` blocks: a `for_each` whose value is
a primitive makes tfparse 0.6.22 panic, and Terraform rejects it, whatever
the value. The fallback evaluator computes only some expressions, but the
type of many more is plain from the syntax. That is the case for a string
template, arithmetic, a comparison and a call of a function that returns a
primitive. It is also the case for a variable whose `type` is primitive, a
local value defined by one of these, `path.*`, `terraform.*`, `count.index`
and the `id`, `arn` or `json` of a block.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mfa_guard.loaders.hcl_source import SourceFile
from mfa_guard.loaders.terraform_blocks import Attribute, Block, traversal, unwrap
from mfa_guard.records import field, record

if TYPE_CHECKING:
    from tree_sitter import Node

# Terraform functions whose result is always a string, a number or a bool.
_STRING_FUNCTIONS = frozenset(
    {
        "abspath", "base64decode", "base64encode", "base64gzip", "base64sha256",
        "base64sha512", "basename", "bcrypt", "chomp", "cidrhost", "cidrnetmask",
        "cidrsubnet", "dirname", "file", "filebase64", "filebase64sha256",
        "filebase64sha512", "filemd5", "filesha1", "filesha256", "filesha512",
        "format", "formatdate", "indent", "join", "jsonencode", "lower", "md5",
        "pathexpand", "replace", "sha1", "sha256", "sha512", "strrev", "substr",
        "templatefile", "textdecodebase64", "textencodebase64", "timeadd",
        "timestamp", "title", "tostring", "trim", "trimprefix", "trimspace",
        "trimsuffix", "upper", "urlencode", "uuid", "uuidv5", "yamlencode",
    }
)  # fmt: skip
_NUMBER_FUNCTIONS = frozenset(
    {
        "abs", "ceil", "floor", "index", "length", "log", "max", "min",
        "parseint", "pow", "signum", "sum", "tonumber",
    }
)  # fmt: skip
_BOOL_FUNCTIONS = frozenset(
    {
        "alltrue", "anytrue", "can", "contains", "endswith", "fileexists",
        "issensitive", "startswith", "strcontains", "tobool",
    }
)  # fmt: skip
# Functions that return their argument's value with a mark added or removed.
_PASS_THROUGH = frozenset({"sensitive", "nonsensitive"})
_PRIMITIVE_TYPES = {"string": "string", "number": "number", "bool": "bool"}
# Attributes of a resource or data source that are strings: `id` of every
# block, `arn` of AWS resources and the JSON of a policy document.
_STRING_ATTRIBUTES = frozenset({"id", "arn", "json", "minified_json"})
# Maximum number of local values followed from one expression.
_MAX_DEPTH = 8


@record(frozen=False)
class PrimitiveContext:
    """The declarations of one module that the inference follows."""

    locals: dict[str, Attribute] = field(default_factory=dict)
    variables: dict[str, Block] = field(default_factory=dict)

    @classmethod
    def of_blocks(cls, blocks: list[Block]) -> PrimitiveContext:
        context = cls()
        for block in blocks:
            if block.type == "locals":
                context.locals.update(block.attributes)
            elif block.type == "variable" and block.labels:
                context.variables[block.labels[0]] = block
        return context


def primitive_kind(
    node: Node, source: SourceFile, context: PrimitiveContext, depth: int = 0
) -> str | None:
    """Return "string", "number" or "bool" when the expression's type is plain, else None."""
    core = unwrap(node)
    kind = core.type
    if kind in ("string_lit", "quoted_template", "heredoc_template"):
        return "string"
    if kind == "numeric_lit":
        return "number"
    if kind == "bool_lit":
        return "bool"
    if kind == "operation":
        return _operation_kind(core, source)
    if kind == "conditional":
        branches = [c for c in core.children if c.type == "expression"][1:]
        kinds = {primitive_kind(b, source, context, depth) for b in branches}
        return kinds.pop() if len(kinds) == 1 else None
    if kind == "function_call":
        return _call_kind(core, source, context, depth)
    return _reference_kind(core, source, context, depth)


def _operation_kind(node: Node, source: SourceFile) -> str | None:
    operation = next((c for c in node.children if c.is_named), None)
    if operation is None:
        return None
    operators = {source.node_text(c) for c in operation.children if not c.is_named}
    if operators & {"+", "-", "*", "/", "%"}:
        return "number"
    return "bool"


def _call_kind(
    node: Node, source: SourceFile, context: PrimitiveContext, depth: int
) -> str | None:
    name = source.node_text(node.children[0])
    if name in _STRING_FUNCTIONS:
        return "string"
    if name in _NUMBER_FUNCTIONS:
        return "number"
    if name in _BOOL_FUNCTIONS:
        return "bool"
    if name in _PASS_THROUGH:
        for child in node.children:
            if child.type == "function_arguments":
                arguments = [c for c in child.children if c.type == "expression"]
                if len(arguments) == 1:
                    return primitive_kind(arguments[0], source, context, depth)
    return None


def _reference_kind(
    node: Node, source: SourceFile, context: PrimitiveContext, depth: int
) -> str | None:
    names = traversal(node, source)
    if names is None or len(names) < 2:
        return None
    if names[0] in ("path", "terraform") and len(names) == 2:
        return "string"
    if names == ["count", "index"]:
        return "number"
    if names[-1] in _STRING_ATTRIBUTES and len(names) == (
        4 if names[0] == "data" else 3
    ):
        return "string"
    if names[0] == "local" and len(names) == 2 and depth < _MAX_DEPTH:
        attribute = context.locals.get(names[1])
        if attribute is not None and attribute.expression is not None:
            return primitive_kind(
                attribute.expression, attribute.source, context, depth + 1
            )
    if names[0] == "var" and len(names) == 2:
        return _variable_kind(context.variables.get(names[1]))
    return None


def _variable_kind(block: Block | None) -> str | None:
    """Return the primitive a variable's `type` constraint names, if any."""
    if block is None:
        return None
    attribute = block.attributes.get("type")
    if attribute is None or attribute.expression is None:
        return None
    text = attribute.source.node_text(unwrap(attribute.expression)).strip('"')
    return _PRIMITIVE_TYPES.get(text)
