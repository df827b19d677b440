"""Read the policy JSON of a resource argument such as `policy` or `content`.

The argument may be a heredoc, a quoted JSON string, `jsonencode({...})`,
`file("...")`, `templatefile("...", {...})`, a reference to a local value
or variable holding one of these, or `data.aws_iam_policy_document.<name>.json`.
Values come from tfparse and positions from the source. The JSON in a
heredoc or string is parsed again from the source text, and the object in
`jsonencode` is walked in the syntax tree. A `file()` is parsed from the
file it names, and a `templatefile()` is rendered from its template.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mfa_guard.loaders.hcl_template import template_text
from mfa_guard.loaders.jsonpos import JsonError, parse_json
from mfa_guard.loaders.positions import Pos, Unresolved
from mfa_guard.loaders.terraform_blocks import Attribute, traversal, unwrap
from mfa_guard.loaders.terraform_expressions import (
    UNKNOWN,
    describe,
    is_unknown,
    plain,
)
from mfa_guard.loaders.terraform_files import FileRejected, read_named_file
from mfa_guard.loaders.terraform_interpolation import (
    merge_positions,
    read_template_policy,
)
from mfa_guard.loaders.terraform_templatefile import render_policy_template
from mfa_guard.loaders.terraform_values import ValueResolver
from mfa_guard.model import Diagnostic, DiagnosticKind, SourceSpan
from mfa_guard.records import record

if TYPE_CHECKING:
    from tree_sitter import Node

# `"${data.aws_iam_policy_document.<name>.json}"` in a `.tf.json` file.
_DATA_REFERENCE = re.compile(
    r"^\$\{data\.aws_iam_policy_document\.([\w-]+)(?:\[[^\]]*\])?\.json\}$"
)
_TEMPLATES = ("heredoc_template", "quoted_template", "string_lit")
POLICY_DOCUMENT = "aws_iam_policy_document"
# How many local values or variables a policy argument may refer through.
_MAX_DEPTH = 8


@record(frozen=False)
class PolicyValue:
    """An IAM-shaped policy value and the file its statements are written in.

    `fallback` is the position for parts of the value that carry none.
    """

    value: Any
    path: str
    fallback: Pos


@record(frozen=False)
class PolicyReference:
    """A policy argument set to `data.aws_iam_policy_document.<name>.json`."""

    address: str


PolicyRead = PolicyValue | PolicyReference | Diagnostic


@record(frozen=False)
class _Request:
    """The policy argument being read.

    `value` is tfparse's value of the argument, `owner` the resource address
    and `origin` the argument itself, where an unresolved policy is reported
    even after following a reference to a local value.
    """

    value: Any
    owner: str
    origin: Attribute


class PolicyReader:
    """Read the policy arguments of one module.

    `directory` is the root module's directory, against which Terraform
    resolves relative file paths, and `allowed` returns the directories
    named files may be in (see `terraform_files`). `prefix` is the module address of the
    module whose arguments are read ("module.x." or "" for the root).
    """

    def __init__(
        self,
        resolver: ValueResolver,
        directory: Path,
        data_ids: dict[str, str],
        allowed: Callable[[], list[Path]],
        prefix: str = "",
    ) -> None:
        self.resolver = resolver
        self.evaluator = resolver.evaluator
        self.directory = directory
        self.data_ids = data_ids
        self.allowed = allowed
        self.prefix = prefix

    def read(self, attribute: Attribute, value: Any, owner: str) -> PolicyRead:
        """Read the policy argument `attribute` of the resource `owner`."""
        if isinstance(value, str) and value in self.data_ids:
            return PolicyReference(self.data_ids[value])
        return self._read(attribute, _Request(value, owner, attribute), 0)

    def _read(self, attribute: Attribute, request: _Request, depth: int) -> PolicyRead:
        if attribute.expression is None:
            return self._read_json_syntax(attribute, request)

        source = attribute.source
        node = unwrap(attribute.expression)
        names = traversal(node, source)
        if names and len(names) >= 3 and names[:2] == ["data", POLICY_DOCUMENT]:
            return PolicyReference(f"{self.prefix}data.{POLICY_DOCUMENT}.{names[2]}")

        if node.type in _TEMPLATES:
            return self._read_template(attribute, node, request)
        function = _function_name(node, attribute)
        if function == "jsonencode":
            return self._read_jsonencode(attribute, node, request)
        if function == "file":
            return self._read_file(attribute, node, request)
        if function == "templatefile":
            return self._read_templatefile(node, request)

        definition = self.evaluator.definition(names)
        followable = definition is not None and definition.known
        if followable and definition and definition.attribute and depth < _MAX_DEPTH:
            return self._read(definition.attribute, request, depth + 1)

        if is_unknown(request.value):
            return self._unresolved(request, self._reason(node, attribute))
        return self._read_text(attribute, request)

    def _read_json_syntax(self, attribute: Attribute, request: _Request) -> PolicyRead:
        written = attribute.json_value
        if isinstance(written, str):
            match = _DATA_REFERENCE.match(written)
            if match:
                return PolicyReference(
                    f"{self.prefix}data.{POLICY_DOCUMENT}.{match[1]}"
                )
        if is_unknown(request.value):
            return self._unresolved(request, f"{written} could not be evaluated")
        return self._read_text(attribute, request)

    def _read_text(self, attribute: Attribute, request: _Request) -> PolicyRead:
        """Read a policy from tfparse's value alone, positioned at the argument."""
        path = attribute.source.path
        value = request.value
        if isinstance(value, dict):
            return PolicyValue(plain(value), path, attribute.span)
        if not isinstance(value, str):
            message = f"invalid policy of {request.owner}: expected a JSON string, got {value!r}"
            return _parse_error(path, attribute.span, message)
        try:
            return PolicyValue(json.loads(value), path, attribute.span)
        except (ValueError, RecursionError) as error:
            # RecursionError: JSON nested about 1,000 levels deep.
            message = f"invalid JSON in policy of {request.owner}: {error}"
            return _parse_error(path, attribute.span, message)

    def _read_template(
        self, attribute: Attribute, node: Node, request: _Request
    ) -> PolicyRead:
        source = attribute.source
        template = template_text(node, source)
        if template is None:
            return self._read_text(attribute, request)

        evaluated = _load_json(request.value)
        if self.resolver.uses_guessed_value(node, source):
            evaluated = UNKNOWN
        policy = read_template_policy(template, source, evaluated, self.evaluator)
        if policy.value is not UNKNOWN:
            return PolicyValue(policy.value, source.path, attribute.span)
        if policy.unresolved is not None:
            return self._unresolved(request, policy.unresolved)

        error = policy.error
        assert error is not None
        span = (error.line, error.column, error.line, error.column)
        message = f"invalid JSON in policy of {request.owner}: {error.message}"
        return _parse_error(source.path, span, message)

    def _read_jsonencode(
        self, attribute: Attribute, node: Node, request: _Request
    ) -> PolicyRead:
        arguments = _call_arguments(node)
        if len(arguments) != 1:
            return self._read_text(attribute, request)
        evaluated = _load_json(request.value)

        # `jsonencode(local.policy)`: position the object where it is written.
        target = attribute
        names = traversal(arguments[0], attribute.source)
        definition = self.evaluator.definition(names)
        if definition is not None and definition.known and definition.attribute:
            target = definition.attribute
            result = self.resolver.resolve(target, evaluated)
        else:
            if self.resolver.uses_guessed_value(arguments[0], attribute.source):
                evaluated = UNKNOWN
            result = self.resolver.resolve_node(
                arguments[0], attribute.source, evaluated
            )

        if isinstance(result, Unresolved):
            return self._unresolved(request, str(result))
        if not isinstance(result, dict):
            message = (
                f"invalid policy of {request.owner}: expected an object in jsonencode"
            )
            return _parse_error(attribute.source.path, attribute.span, message)
        return PolicyValue(result, target.source.path, target.span)

    def _read_file(
        self, attribute: Attribute, node: Node, request: _Request
    ) -> PolicyRead:
        arguments = _call_arguments(node)
        name = None
        if arguments:
            name = self.evaluator.evaluate(arguments[0], attribute.source)
        if not isinstance(name, str) or isinstance(name, Unresolved):
            if is_unknown(request.value):
                return self._unresolved(request, self._reason(node, attribute))
            return self._read_text(attribute, request)

        try:
            policy_file = read_named_file(self.directory, name, self.allowed())
        except FileRejected as error:
            if is_unknown(request.value):
                reason = f"{name} {error}"
                return self._unresolved(request, reason)
            return self._read_text(attribute, request)

        try:
            positioned = parse_json(policy_file.text).value
        except JsonError as error:
            span = (error.line, error.column, error.line, error.column)
            message = f"invalid JSON in policy of {request.owner}: {error.message}"
            return _parse_error(policy_file.path, span, message)
        evaluated = _load_json(request.value)
        if evaluated is not UNKNOWN:
            positioned = merge_positions(positioned, evaluated)
        return PolicyValue(positioned, policy_file.path, (1, 1, 1, 1))

    def _read_templatefile(self, node: Node, request: _Request) -> PolicyRead:
        arguments = _call_arguments(node)
        source = request.origin.source
        if len(arguments) != 2:
            return self._unresolved(request, f"{describe(node, source)} is invalid")
        name = self.evaluator.evaluate(arguments[0], source)
        variables = self.evaluator.evaluate(arguments[1], source)
        if not isinstance(name, str) or isinstance(name, Unresolved):
            reason = f"the template path {describe(arguments[0], source)} could not be evaluated"
            return self._unresolved(request, reason)
        if not isinstance(variables, dict):
            reason = f"the template variables {describe(arguments[1], source)} could not be evaluated"
            return self._unresolved(request, reason)

        try:
            template = read_named_file(self.directory, name, self.allowed())
        except FileRejected as error:
            return self._unresolved(request, f"template {name} {error}")
        rendered = render_policy_template(template, variables)
        if rendered.value is not None:
            return PolicyValue(rendered.value, template.path, (1, 1, 1, 1))
        if rendered.unresolved:
            parts = ", ".join(rendered.unresolved)
            reason = f"template {template.path} could not be rendered: {parts}"
            return self._unresolved(request, reason)

        assert rendered.error is not None
        pos, message = rendered.error
        return _parse_error(
            template.path, pos, f"{message} (policy of {request.owner})"
        )

    def _reason(self, node: Node, attribute: Attribute) -> str:
        names = traversal(node, attribute.source)
        if names and names[0] == "var" and len(names) == 2:
            definition = self.evaluator.definition(names)
            if definition is None:
                return f"var.{names[1]} is not declared"
            if not definition.known or definition.value is None:
                return f"var.{names[1]} has no default"
        return f"{describe(node, attribute.source)} could not be evaluated"

    def _unresolved(self, request: _Request, reason: str) -> Diagnostic:
        origin = request.origin
        span = SourceSpan(origin.source.path, *origin.span)
        message = f"policy of {request.owner} could not be resolved: {reason}"
        return Diagnostic(DiagnosticKind.UNRESOLVED, span, message)


def _load_json(value: Any) -> Any:
    if not isinstance(value, str):
        return UNKNOWN
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return UNKNOWN


def _function_name(node: Node, attribute: Attribute) -> str | None:
    if node.type != "function_call":
        return None
    return attribute.source.node_text(node.children[0])


def _call_arguments(node: Node) -> list[Node]:
    for child in node.children:
        if child.type == "function_arguments":
            return [c for c in child.children if c.type == "expression"]
    return []


def _parse_error(path: str, pos: Pos, message: str) -> Diagnostic:
    return Diagnostic(DiagnosticKind.PARSE_ERROR, SourceSpan(path, *pos), message)
