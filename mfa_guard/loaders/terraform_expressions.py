"""Evaluate Terraform expressions where tfparse returned no value.

tfparse returns None, or a mapping naming the reference, for what it cannot
evaluate. tfparse 0.6.22 also sets every reference inside `jsonencode(...)`
to null as soon as one of them is unknown. For those parts the loader
evaluates the expression from the syntax tree: literals, templates,
`var.<name>` from variable values, `local.<name>` from tfparse's locals,
`path.module`, `path.root`, the functions in `terraform_functions`, the
operators in `terraform_operations` and the `for` expressions in
`terraform_for`. Anything else becomes an `Unresolved` marker describing
the expression.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mfa_guard.loaders.hcl_source import SourceFile
from mfa_guard.loaders.hcl_template import TemplateText, template_text
from mfa_guard.loaders.positions import Unresolved
from mfa_guard.loaders.terraform_blocks import unwrap
from mfa_guard.loaders.terraform_for import evaluate_for
from mfa_guard.loaders.terraform_functions import FUNCTIONS
from mfa_guard.loaders.terraform_operations import evaluate_operation
from mfa_guard.loaders.terraform_scope import (
    MAX_DEFINITION_DEPTH,
    MAX_ITEMS,
    MAX_ITERATIONS,
    contains_unresolved,
)

# Re-exported: most loader modules import these from here.
from mfa_guard.loaders.terraform_scope import UNKNOWN as UNKNOWN
from mfa_guard.loaders.terraform_scope import Definition as Definition
from mfa_guard.loaders.terraform_scope import ModuleScope as ModuleScope
from mfa_guard.loaders.terraform_scope import contains_unknown as contains_unknown
from mfa_guard.loaders.terraform_scope import describe as describe
from mfa_guard.loaders.terraform_scope import is_unknown as is_unknown
from mfa_guard.loaders.terraform_scope import plain as plain
from mfa_guard.log import get_logger

if TYPE_CHECKING:
    from tree_sitter import Node

logger = get_logger(__name__)

_SCALARS = (str, int, float, bool)

# Data source attributes that stand for the caller's own account, partition
# and region, as the CloudFormation loader reads the pseudo parameters. An
# ARN built from them still matches the caller's own user.
ACCOUNT_DATA = {
    ("aws_caller_identity", "account_id"): "*",
    ("aws_partition", "partition"): "aws",
    ("aws_region", "name"): "*",
    ("aws_region", "region"): "*",
}
# The roots of traversals that name no resource, data source or module.
_LOCAL_ROOTS = frozenset({"var", "local", "path", "each", "count", "self", "terraform"})


class Evaluator:
    """Evaluate expressions of one module from variable defaults and locals.

    `bound` maps the iteration variables of the `for` expressions and
    directives being evaluated to their current values.
    """

    def __init__(self, scope: ModuleScope) -> None:
        self.scope = scope
        self.bound: dict[str, Any] = {}
        self._active: set[str] = set()
        # The value of each variable and local value evaluated so far. Without
        # it, `a2 = local.a1 + local.a1` chains take time exponential in their
        # length, where tfparse evaluates each value once.
        self._values: dict[str, Any] = {}
        self._iterations = 0

    def spend_iterations(self, count: int) -> bool:
        """Count `count` loop iterations, and return False once MAX_ITERATIONS are spent."""
        self._iterations += count
        return self._iterations <= MAX_ITERATIONS

    def definition(self, names: list[str] | None) -> Definition | None:
        """Return the definition a `var.<name>` or `local.<name>` traversal names."""
        if names is None or len(names) != 2:
            return None
        if names[0] == "var":
            return self.scope.variables.get(names[1])
        if names[0] == "local":
            return self.scope.locals.get(names[1])
        return None

    def evaluate(self, node: Node, source: SourceFile) -> Any:
        """Evaluate an expression that tfparse could not evaluate.

        Parts that this evaluator cannot evaluate either become Unresolved.
        """
        core = unwrap(node)
        kind = core.type
        if kind == "numeric_lit":
            return _number(source.node_text(core))
        if kind == "bool_lit":
            return source.node_text(core) == "true"
        if kind == "null_lit":
            return None
        if kind in ("string_lit", "quoted_template", "heredoc_template"):
            return self._template(core, source)
        if kind == "object":
            return self._object(core, source)
        if kind == "tuple":
            items = [c for c in core.children if c.type == "expression"]
            return [self.evaluate(item, source) for item in items]
        if kind == "variable_expr" or (
            kind == "expression" and core.children[0].type == "variable_expr"
        ):
            return self._traversal(core, source)
        if kind == "function_call":
            return self._call(core, source)
        if kind in ("conditional", "operation"):
            return evaluate_operation(self, core, source)
        if kind == "for_expr":
            return evaluate_for(self, core, source)
        return Unresolved(describe(core, source))

    def _object(self, node: Node, source: SourceFile) -> dict[str, Any]:
        result = {}
        for element in node.children:
            key_node = element.child_by_field_name("key")
            value_node = element.child_by_field_name("val")
            if element.type != "object_elem" or key_node is None or value_node is None:
                continue
            key = self.object_key(key_node, source)
            if key is not None:
                result[key] = self.evaluate(value_node, source)
        return result

    def object_key(self, node: Node, source: SourceFile) -> str | None:
        """Return the key an object element's key expression names, if known.

        A bare name (`Effect = ...`) is the key itself. A key in parentheses
        is an expression to evaluate. A key this evaluator cannot compute is
        returned as an Unresolved marker.
        """
        parenthesized = bool(node.children) and node.children[0].type == "("
        core = unwrap(node)
        if core.type == "variable_expr" and not parenthesized:
            return source.node_text(core)
        key = self.evaluate(core, source)
        if isinstance(key, Unresolved):
            return key
        if isinstance(key, _SCALARS) and not isinstance(key, bool):
            return str(key)
        return None

    def _template(self, node: Node, source: SourceFile) -> Any:
        template = template_text(node, source)
        if template is None:
            return Unresolved(describe(node, source))
        return self.render(template, source)

    def render(self, template: TemplateText, source: SourceFile) -> str:
        """Return the template text with each interpolation replaced by its value.

        Returns Unresolved, with the interpolations left as written, when
        any of them cannot be evaluated. Directives (`%{if}`) are never
        evaluated.
        """
        starts = {source.node_range(part)[0]: part for part in template.parts}
        pieces: list[str] = []
        complete = True
        index = 0
        while index < len(template.text):
            part = starts.get(template.origins[index])
            if part is None:
                pieces.append(template.text[index])
                index += 1
                continue

            text, resolved = self.part_text(part, source)
            pieces.append(text)
            complete = complete and resolved
            end = source.node_range(part)[1]
            while index < len(template.text) and template.origins[index] < end:
                index += 1

        text = "".join(pieces)
        return text if complete else Unresolved(text)

    def part_text(self, part: Node, source: SourceFile) -> tuple[str, bool]:
        """Return the text an interpolation produces and whether it was evaluated."""
        raw = source.node_text(part)
        expressions = [child for child in part.children if child.type == "expression"]
        if part.type != "template_interpolation" or len(expressions) != 1:
            return raw, False
        value = self.evaluate(expressions[0], source)
        if isinstance(value, Unresolved) or not isinstance(value, _SCALARS):
            return raw, False
        if isinstance(value, bool):
            return ("true" if value else "false"), True
        return str(value), True

    def _traversal(self, node: Node, source: SourceFile) -> Any:
        children = node.children if node.type == "expression" else [node]
        return self.traverse(children, source, node)

    def traverse(self, children: list[Node], source: SourceFile, whole: Node) -> Any:
        """Evaluate a traversal given as its root `variable_expr` and its steps.

        `whole` is the node described in an Unresolved marker.
        """
        root = source.node_text(children[0])
        steps = children[1:]
        start: tuple[Any, int] | None = None
        if root in self.bound:
            start = self.bound[root], 0
        else:
            start = self.root_value(root, steps, source)
        if start is None:
            return Unresolved(describe(whole, source))

        value, used = start
        for step in steps[used:]:
            if isinstance(value, Unresolved):
                break
            value = self._step(value, step, source, whole)
        return value

    def root_value(
        self, root: str, steps: list[Node], source: SourceFile
    ) -> tuple[Any, int] | None:
        """Return the value the start of a traversal names and how many steps it used.

        Returns None for a traversal this evaluator cannot start.
        """
        if root == "data":
            return _account_data(steps, source, self.scope.other_accounts)
        if root not in ("var", "local", "path") or not steps:
            return None
        if steps[0].type != "get_attr":
            return None

        name = _attribute_name(steps[0], source)
        if root == "path":
            # Terraform resolves relative paths against the root module's
            # directory, so path.module is the module's path from there.
            if name == "module" and len(steps) == 1:
                return self.scope.path_module, 1
            if name == "root" and len(steps) == 1:
                return ".", 1
            return None
        value = self._variable(name) if root == "var" else self._local(name)
        return value, 1

    def _step(self, value: Any, step: Node, source: SourceFile, whole: Node) -> Any:
        key: Any = None
        if step.type == "get_attr":
            key = _attribute_name(step, source)
        elif step.type == "index":
            expressions = [c for c in step.children[0].children if c.is_named]
            if expressions:
                key = self.evaluate(expressions[0], source)
            else:
                key = _number(source.node_text(step).lstrip("."))
        try:
            return value[key]
        except (KeyError, IndexError, TypeError):
            return Unresolved(describe(whole, source))

    def _variable(self, name: str) -> Any:
        definition = self.scope.variables.get(name)
        if definition is None:
            return Unresolved(f"var.{name} (not declared)")
        if not definition.known or definition.value is None:
            return Unresolved(f"var.{name} (no default)")
        return self._definition_value(f"var.{name}", definition)

    def _local(self, name: str) -> Any:
        definition = self.scope.locals.get(name)
        if definition is None:
            return Unresolved(f"local.{name} (not declared)")
        return self._definition_value(f"local.{name}", definition)

    def _definition_value(self, label: str, definition: Definition) -> Any:
        """Return tfparse's value, or evaluate the definition where it has gaps."""
        if not contains_unknown(definition.value):
            return definition.value
        attribute = definition.attribute
        if attribute is None or attribute.expression is None or label in self._active:
            return Unresolved(f"{label} (unresolved)")
        if label in self._values:
            return self._values[label]
        if len(self._active) >= MAX_DEFINITION_DEPTH:
            return Unresolved(
                f"{label} (defined through more than {MAX_DEFINITION_DEPTH} values)"
            )

        # The iteration variables of the referring expression are not in scope here.
        bound, self.bound = self.bound, {}
        self._active.add(label)
        try:
            value = self.evaluate(attribute.expression, attribute.source)
        finally:
            self._active.discard(label)
            self.bound = bound
        self._values[label] = value
        return value

    def _call(self, node: Node, source: SourceFile) -> Any:
        name = source.node_text(node.children[0])
        if name == "try":
            return self._try(node, source)
        function = FUNCTIONS.get(name)
        if function is None:
            return Unresolved(describe(node, source))

        arguments = [self.evaluate(child, source) for child in _argument_nodes(node)]

        unresolved = [item for item in arguments if isinstance(item, Unresolved)]
        if unresolved and name != "concat":
            return unresolved[0]
        if name == "jsonencode" and contains_unresolved(arguments):
            return Unresolved(describe(node, source))
        try:
            result = function(*arguments)
        except (ValueError, TypeError) as error:
            logger.debug("could not evaluate %s: %s", describe(node, source), error)
            return Unresolved(describe(node, source))
        if isinstance(result, list | dict) and len(result) > MAX_ITEMS:
            return Unresolved(f"{describe(node, source)} (more than {MAX_ITEMS} items)")
        return result

    def _try(self, node: Node, source: SourceFile) -> Any:
        """Return the first argument of `try(...)` that evaluates.

        An argument that refers to a resource, data source or module output
        is unknown until Terraform applies, not an error, so `try` returns
        it as unknown instead of falling back to the next argument.
        """
        for child in _argument_nodes(node):
            value = self.evaluate(child, source)
            if not isinstance(value, Unresolved):
                return value
            if refers_outside(child, source, set(self.bound)):
                return value
        return Unresolved(describe(node, source))


def _argument_nodes(node: Node) -> list[Node]:
    arguments = next((c for c in node.children if c.type == "function_arguments"), None)
    if arguments is None:
        return []
    return [child for child in arguments.children if child.type == "expression"]


def refers_outside(node: Node, source: SourceFile, bound: set[str]) -> bool:
    """Return whether an expression refers to a resource, data source or module."""
    pending = [node]
    while pending:
        current = pending.pop()
        if current.type == "variable_expr":
            name = source.node_text(current)
            if name not in _LOCAL_ROOTS and name not in bound:
                return True
        pending.extend(current.children)
    return False


def tries_outside(node: Node, source: SourceFile) -> bool:
    """Return whether an expression contains `try(...)` of a resource, data source or module.

    tfparse 0.6.22 has no value for data sources and resource attributes, so
    such a `try` takes its fallback there, such as "" for
    `try(data.aws_caller_identity.current[0].account_id, var.account_id)`.
    Terraform takes the first argument, so the evaluator computes these.
    """
    # Most expressions have no `try`, and the text test is cheaper than the walk.
    if "try" not in source.node_text(node):
        return False
    pending = [node]
    while pending:
        current = pending.pop()
        if current.type == "function_call" and current.children:
            name = source.node_text(current.children[0])
            if name == "try" and refers_outside(current, source, set()):
                return True
        pending.extend(current.children)
    return False


def _account_data(
    steps: list[Node], source: SourceFile, other_accounts: set[str]
) -> tuple[Any, int] | None:
    """Return the value of `data.<type>.<name>[index].<attribute>` from ACCOUNT_DATA.

    A data source that another provider reads (`other_accounts`) has none.
    """
    names = [
        _attribute_name(step, source) if step.type == "get_attr" else None
        for step in steps
    ]
    if len(names) < 3 or names[0] is None or names[1] is None:
        return None
    if f"{names[0]}.{names[1]}" in other_accounts:
        return None
    # `data.aws_caller_identity.current[0].account_id` when the block has a count.
    used = 2
    while used < len(steps) and steps[used].type == "index":
        used += 1
    attribute = names[used] if used < len(steps) else None
    if attribute is None:
        return None
    value = ACCOUNT_DATA.get((names[0], attribute))
    if value is None:
        return None
    return value, used + 1


def _attribute_name(step: Node, source: SourceFile) -> str:
    return source.node_text(step).lstrip(".").strip()


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)
