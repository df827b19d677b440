"""Find IAM policies in CloudFormation templates (YAML or JSON, SAM included).

Policies are read from `AWS::IAM::ManagedPolicy`, `AWS::IAM::Policy` and the
`AWS::IAM::*Policy` resources, the inline `Policies` of users, groups and
roles, role trust policies, service control policies
(`AWS::Organizations::Policy`) and the inline policies of SAM functions and
state machines.

Intrinsic functions are resolved where the template alone decides the value:
`Ref` to a parameter with a Default or to a pseudo parameter, `Fn::Sub` and
`Fn::Join`. `Fn::If` gives one document per combination of conditions.
Anything else becomes an `Unresolved` value naming the function, and the
document lists it in `unresolved`. Nothing is deployed or read from AWS.

A resource with a `Condition` attribute exists only in stacks where that
condition is true, so its documents are built for that value alone.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
from typing import Any

from mfa_guard.cfn_conditions import definitions_text, possible
from mfa_guard.loaders.base import LoadResult
from mfa_guard.loaders.build import build_document, is_template
from mfa_guard.loaders.cloudformation_branches import (
    MAX_CONDITIONS,
    NO_VALUE_NAME,
    branches,
    if_arguments,
    intrinsic_name,
    is_no_value,
    resource_condition,
)
from mfa_guard.loaders.cloudformation_principals import template_principals
from mfa_guard.loaders.jsonpos import DuplicateKey, JsonError, parse_json
from mfa_guard.loaders.positions import (
    LiteralText,
    Pos,
    PosDict,
    PosList,
    Unresolved,
    item_position,
    key_position,
    position_of,
)
from mfa_guard.model import (
    Diagnostic,
    DiagnosticKind,
    FnIfAssignment,
    PolicyDocument,
    PolicyKind,
    SourceSpan,
)
from mfa_guard.records import field, record, replace

# Values that stand in for pseudo parameters. The account and region match
# any value, so an ARN built from them still matches the caller's own user.
PSEUDO_PARAMETERS = {
    "AWS::Partition": "aws",
    "AWS::AccountId": "*",
    "AWS::Region": "*",
    "AWS::StackName": "stack",
    "AWS::URLSuffix": "amazonaws.com",
}

_FIRST_POSITION: Pos = (1, 1, 1, 1)
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")

_POLICY_DOCUMENT_TYPES = {
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::Policy",
    "AWS::IAM::UserPolicy",
    "AWS::IAM::GroupPolicy",
    "AWS::IAM::RolePolicy",
}
_INLINE_POLICY_TYPES = {"AWS::IAM::User", "AWS::IAM::Group", "AWS::IAM::Role"}
_SAM_TYPES = {"AWS::Serverless::Function", "AWS::Serverless::StateMachine"}
# Resources whose `Condition` decides a policy or a principal's policy set.
_CONDITIONAL_TYPES = {
    *_POLICY_DOCUMENT_TYPES,
    *_INLINE_POLICY_TYPES,
    *_SAM_TYPES,
    "AWS::IAM::UserToGroupAddition",
    "AWS::Organizations::Policy",
}


class _NoValue:
    """Marker for the result of `Ref AWS::NoValue`, which removes the element it is in."""


_NO_VALUE = _NoValue()


_NOT_A_TEMPLATE = "not a CloudFormation template: no AWSTemplateFormatVersion and no AWS:: resource types"


def looks_like_cloudformation(text: str) -> bool:
    """Return True if `text` mentions CloudFormation (a cheap test before parsing)."""
    return "AWSTemplateFormatVersion" in text or "AWS::" in text


def may_be_template(text: str) -> bool:
    """Return False for YAML text that cannot be a CloudFormation template.

    A template has one of the two markers in its text, unless a quoted
    string spells it with backslash escapes.
    """
    return looks_like_cloudformation(text) or "\\" in text


# Where policies sit in a template


@record
class _PolicySource:
    """One policy property of a resource, before intrinsic functions are resolved.

    `pos` is used for values without a position of their own, such as a
    policy given as a JSON string. `fixed` maps each Fn::If condition decided
    on the way to this property (an `Fn::If` list item, for example) to its value.
    `resource_condition` is the resource's own `Condition`, which is also in
    `fixed` as true, because CloudFormation creates the resource only then.
    """

    name: str
    kind: PolicyKind
    value: Any
    pos: Pos
    fixed: Mapping[str, bool] = field(default_factory=dict)
    resource_condition: str | None = None

    @property
    def if_fixed(self) -> dict[str, bool]:
        """Return `fixed` without the resource's own condition: the Fn::If values."""
        return {
            name: value
            for name, value in self.fixed.items()
            if name != self.resource_condition
        }


def _property_sources(
    properties: dict[str, Any], key: str, name: str, kind: PolicyKind, pos: Pos
) -> list[_PolicySource]:
    if key not in properties:
        return []
    value = properties[key]
    where = position_of(value) or key_position(properties, key) or pos
    return [_PolicySource(name, kind, value, where)]


def _inline_policy_sources(
    properties: dict[str, Any], logical_id: str, pos: Pos
) -> list[_PolicySource]:
    """Read the `Policies` list of an IAM user, group or role."""
    if "Policies" not in properties:
        return []
    policies = properties["Policies"]
    where = key_position(properties, "Policies") or pos
    sources = []
    for fixed, items in branches(policies, {}):
        if is_no_value(items):
            continue
        if not isinstance(items, list):
            name = f"{logical_id}.Policies"
            sources.append(
                _PolicySource(name, PolicyKind.IDENTITY, items, where, fixed)
            )
            continue
        for index, item in enumerate(items):
            name = f"{logical_id}.Policies[{index}]"
            item_pos = item_position(items, index) or where
            for item_fixed, entry in branches(item, fixed):
                if is_no_value(entry):
                    continue
                value = entry
                if isinstance(entry, dict) and "PolicyDocument" in entry:
                    value = entry["PolicyDocument"]
                value_pos = position_of(value) or item_pos
                source = _PolicySource(
                    name, PolicyKind.IDENTITY, value, value_pos, item_fixed
                )
                sources.append(source)
    return sources


def _is_sam_inline_policy(entry: Any) -> bool:
    """Tell a SAM inline policy document from a managed policy or a SAM template.

    Strings name managed policies and `Ref`/`Fn::GetAtt` give their ARNs. A
    single-key mapping such as `S3ReadPolicy: {...}` is a SAM policy template,
    which SAM expands at deploy time. All of these are skipped. An Fn::If left
    by `branches` is kept, so it is reported as unresolved.
    """
    if not isinstance(entry, dict):
        return False
    if "Statement" in entry:
        return True
    return if_arguments(entry) is not None


def _sam_policy_sources(
    properties: dict[str, Any], logical_id: str, pos: Pos
) -> list[_PolicySource]:
    """Read the `Policies` of a SAM function or state machine."""
    if "Policies" not in properties:
        return []
    where = key_position(properties, "Policies") or pos
    sources = []
    for fixed, policies in branches(properties["Policies"], {}):
        items = policies if isinstance(policies, list) else [policies]
        for index, item in enumerate(items):
            name = f"{logical_id}.Policies"
            if isinstance(policies, list):
                name = f"{logical_id}.Policies[{index}]"
            item_pos = item_position(items, index) or where
            for item_fixed, entry in branches(item, fixed):
                if _is_sam_inline_policy(entry):
                    value_pos = position_of(entry) or item_pos
                    kind = PolicyKind.IDENTITY
                    sources.append(
                        _PolicySource(name, kind, entry, value_pos, item_fixed)
                    )
    return sources


def _resource_sources(
    logical_id: str, resource_type: str, properties: dict[str, Any], pos: Pos
) -> list[_PolicySource]:
    identity = PolicyKind.IDENTITY
    if resource_type in _POLICY_DOCUMENT_TYPES:
        return _property_sources(
            properties, "PolicyDocument", logical_id, identity, pos
        )
    if resource_type in _INLINE_POLICY_TYPES:
        sources = _inline_policy_sources(properties, logical_id, pos)
        if resource_type == "AWS::IAM::Role":
            name = f"{logical_id}.AssumeRolePolicyDocument"
            trust = PolicyKind.TRUST
            key = "AssumeRolePolicyDocument"
            sources.extend(_property_sources(properties, key, name, trust, pos))
        return sources
    if resource_type == "AWS::Organizations::Policy":
        # Tag, backup and AI opt-out policies are not IAM policies.
        # NOTE: resource control policies are IAM policies but not read yet.
        if properties.get("Type") != "SERVICE_CONTROL_POLICY":
            return []
        return _property_sources(properties, "Content", logical_id, PolicyKind.SCP, pos)
    if resource_type in _SAM_TYPES:
        return _sam_policy_sources(properties, logical_id, pos)
    return []


def _policy_sources(template: dict[str, Any]) -> list[_PolicySource]:
    # NOTE: resources generated by `Fn::ForEach` (AWS::LanguageExtensions)
    # are not expanded, so policies inside them are not found.
    resources = template.get("Resources")
    if not isinstance(resources, dict):
        return []
    sources = []
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict):
            continue
        resource_type = resource.get("Type")
        properties = resource.get("Properties")
        if not isinstance(resource_type, str) or not isinstance(properties, dict):
            continue
        pos = position_of(resource) or key_position(resources, logical_id)
        found = _resource_sources(
            logical_id, resource_type, properties, pos or _FIRST_POSITION
        )
        condition = resource_condition(resource)
        if condition is not None:
            found = _created_only_when(found, condition)
        sources.extend(found)
    return sources


def _created_only_when(
    sources: list[_PolicySource], condition: str
) -> list[_PolicySource]:
    """Fix `condition` to true in the sources of a resource that has it.

    A source that an Fn::If branch keeps only when the condition is false is
    dropped, because no stack has both.
    """
    return [
        replace(
            source,
            fixed={**source.fixed, condition: True},
            resource_condition=condition,
        )
        for source in sources
        if source.fixed.get(condition, True)
    ]


# Intrinsic functions


def _as_text(value: Any) -> str | None:
    """Return `value` as the text CloudFormation substitutes, or None."""
    if isinstance(value, Unresolved):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return None


def _describe_call(function: str, argument: Any) -> str:
    names = isinstance(argument, list) and all(isinstance(p, str) for p in argument)
    if function == "Fn::GetAtt" and names:
        return f"Fn::GetAtt {'.'.join(argument)}"
    if isinstance(argument, str):
        return f"{function} {argument}"
    return function


class _Resolver:
    """Resolve the intrinsic functions in one variant of a policy value.

    `assignment` decides each `Fn::If` condition for this variant. Resolved
    mappings and sequences are new PosDict and PosList values that keep the
    positions of the originals.
    """

    def __init__(
        self, parameters: Mapping[str, Any], assignment: Mapping[str, bool]
    ) -> None:
        self.parameters = parameters
        self.assignment = assignment

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            function = intrinsic_name(value)
            if function is not None:
                return self.call(function, value[function])
            return self.resolve_mapping(value)
        if isinstance(value, list):
            return self.resolve_sequence(value)
        return value

    def resolve_mapping(self, mapping: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if isinstance(mapping, PosDict):
            result = PosDict(mapping.pos)
        for key, child in mapping.items():
            resolved = self.resolve(child)
            if resolved is _NO_VALUE:
                continue
            result[key] = resolved
            pos = key_position(mapping, key)
            if isinstance(result, PosDict) and pos is not None:
                result.key_pos[key] = pos
        return result

    def resolve_sequence(self, sequence: list[Any]) -> list[Any]:
        result: list[Any] = []
        if isinstance(sequence, PosList):
            result = PosList(sequence.pos)
        for index, child in enumerate(sequence):
            resolved = self.resolve(child)
            if resolved is _NO_VALUE:
                continue
            result.append(resolved)
            if isinstance(result, PosList):
                # A chosen Fn::If branch has a position of its own.
                pos = position_of(resolved) or item_position(sequence, index)
                result.item_pos.append(pos or result.pos)
        return result

    def call(self, function: str, argument: Any) -> Any:
        if function == "Ref":
            return self.ref(argument)
        if function == "Fn::If":
            return self.choose_branch(argument)
        if function == "Fn::Sub":
            return self.substitute(argument)
        if function == "Fn::Join":
            return self.join(argument)
        return Unresolved(_describe_call(function, argument))

    def ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            return Unresolved("Ref (invalid argument)")
        if name == NO_VALUE_NAME:
            return _NO_VALUE
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if name in self.parameters:
            return self.parameter_value(name)
        return Unresolved(f"Ref {name}")

    def parameter_value(self, name: str) -> Any:
        """Return the Default of parameter `name`, as the deployed stack would see it."""
        spec = self.parameters[name]
        if not isinstance(spec, dict) or "Default" not in spec:
            return Unresolved(f"Ref {name} (parameter without Default)")
        parameter_type = spec.get("Type")
        parameter_type = parameter_type if isinstance(parameter_type, str) else ""
        if parameter_type.startswith("AWS::SSM::Parameter::Value"):
            # The Default of an SSM parameter type is the parameter's name.
            return Unresolved(f"Ref {name} (value read from SSM Parameter Store)")

        default = spec["Default"]
        is_list = parameter_type == "CommaDelimitedList"
        if is_list or parameter_type.startswith("List<"):
            # NOTE: trimming spaces around list members is assumed here.
            # CloudFormation's exact handling was not checked.
            if isinstance(default, str):
                return [part.strip() for part in default.split(",")]
            return Unresolved(f"Ref {name} (invalid list Default)")
        text = _as_text(default)
        if text is None:
            return Unresolved(f"Ref {name} (invalid Default)")
        return text

    def choose_branch(self, argument: Any) -> Any:
        arguments = if_arguments({"Fn::If": argument})
        if arguments is None:
            return Unresolved("Fn::If (invalid arguments)")
        condition, when_true, when_false = arguments
        if condition not in self.assignment:
            limit = 2**MAX_CONDITIONS
            return Unresolved(f"Fn::If {condition} (more than {limit} variants)")
        chosen = when_true if self.assignment[condition] else when_false
        return self.resolve(chosen)

    def substitute(self, argument: Any) -> Any:
        template = argument
        variables: dict[str, Any] = {}
        if isinstance(argument, list) and len(argument) == 2:
            template, variables = argument
        if not isinstance(template, str) or not isinstance(variables, dict):
            return Unresolved("Fn::Sub (invalid arguments)")

        missing: list[str] = []

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                # `${!Literal}` is the escape for a literal `${Literal}`.
                return "${" + name[1:] + "}"
            value = self.sub_variable(name, variables)
            text = _as_text(value)
            if text is None:
                reason = str(value) if isinstance(value, Unresolved) else None
                missing.append(reason or f"Fn::Sub ${{{name}}} (not a string)")
                return match.group(0)
            return text

        result = _SUB_VARIABLE.sub(replace, template)
        if missing:
            return Unresolved(", ".join(dict.fromkeys(missing)))
        return result

    def sub_variable(self, name: str, variables: dict[str, Any]) -> Any:
        if name in variables:
            return self.resolve(variables[name])
        if "." in name and not name.startswith("AWS::"):
            # `${Resource.Attribute}` is the Fn::GetAtt form.
            return Unresolved(f"Fn::GetAtt {name}")
        return self.ref(name)

    def join(self, argument: Any) -> Any:
        invalid = Unresolved("Fn::Join (invalid arguments)")
        if not isinstance(argument, list) or len(argument) != 2:
            return invalid
        separator, parts = argument
        if not isinstance(separator, str):
            return invalid
        resolved = self.resolve(parts)
        if isinstance(resolved, Unresolved):
            return resolved
        if not isinstance(resolved, list):
            return invalid

        texts = []
        for part in resolved:
            text = _as_text(part)
            if text is None:
                return part if isinstance(part, Unresolved) else invalid
            texts.append(text)
        return separator.join(texts)


# Variants from Fn::If


def _condition_names(value: Any, names: dict[str, None]) -> None:
    """Add the Fn::If conditions used in `value` to `names`, in order of use."""
    if isinstance(value, dict):
        arguments = if_arguments(value)
        if arguments is not None:
            names.setdefault(arguments[0])
        for child in value.values():
            _condition_names(child, names)
    elif isinstance(value, list):
        for child in value:
            _condition_names(child, names)


def _undefined_conditions(
    sources: list[_PolicySource], defined: set[str], path: str
) -> list[Diagnostic]:
    """Report each Fn::If condition of a policy that the template does not define."""
    found: dict[str, Pos] = {}
    for source in sources:
        for name in source.if_fixed:
            found.setdefault(name, source.pos)
        _condition_positions(source.value, source.pos, found)
    diagnostics = []
    for name, pos in found.items():
        if name in defined:
            continue
        message = (
            f"Fn::If names condition {name!r}, which the template's Conditions"
            " section does not define; CloudFormation rejects this template"
        )
        span = SourceSpan(path, *pos)
        diagnostics.append(Diagnostic(DiagnosticKind.PARSE_ERROR, span, message))
    return diagnostics


def _undefined_resource_conditions(
    resources: Any, defined: set[str], path: str
) -> list[Diagnostic]:
    """Report each IAM resource whose `Condition` the template does not define."""
    if not isinstance(resources, dict):
        return []
    diagnostics = []
    for logical_id, resource in resources.items():
        condition = resource_condition(resource)
        if condition is None or condition in defined:
            continue
        if resource.get("Type") not in _CONDITIONAL_TYPES:
            continue
        message = (
            f"resource {logical_id} has Condition {condition!r}, which the"
            " template's Conditions section does not define; CloudFormation"
            " rejects this template"
        )
        pos = position_of(resource["Condition"]) or key_position(resource, "Condition")
        span = SourceSpan(path, *(pos or _FIRST_POSITION))
        diagnostics.append(Diagnostic(DiagnosticKind.PARSE_ERROR, span, message))
    return diagnostics


def _condition_positions(value: Any, pos: Pos, found: dict[str, Pos]) -> None:
    """Add the first position of each Fn::If condition used in `value` to `found`."""
    pending = [(value, pos)]
    while pending:
        item, where = pending.pop()
        where = position_of(item) or where
        if isinstance(item, dict):
            arguments = if_arguments(item)
            if arguments is not None:
                found.setdefault(arguments[0], where)
            pending.extend((child, where) for child in reversed(list(item.values())))
        elif isinstance(item, list):
            pending.extend((child, where) for child in reversed(item))


def _assignments(source: _PolicySource, conditions: str = "") -> list[dict[str, bool]]:
    """Return each possible combination of the Fn::If conditions in a source, up to the cap.

    `conditions` is the template's Conditions section as `definitions_text`
    gives it; a combination its definitions rule out is left out. The
    resource's own condition does not count towards MAX_CONDITIONS.
    """
    names: dict[str, None] = {}
    _condition_names(source.value, names)
    fixed = source.fixed
    free = [name for name in names if name not in fixed]
    free = free[: max(0, MAX_CONDITIONS - len(source.if_fixed))]
    choices = itertools.product((True, False), repeat=len(free))
    combinations = [
        {**fixed, **dict(zip(free, choice, strict=True))} for choice in choices
    ]
    return [item for item in combinations if possible(item, conditions)]


def _variant_label(
    assignment: Mapping[str, bool], leave_out: str | None = None
) -> str | None:
    """Name the Fn::If values of a variant, leaving out the resource's own condition."""
    parts = [
        f"{name}={'true' if chosen else 'false'}"
        for name, chosen in assignment.items()
        if name != leave_out
    ]
    if not parts:
        return None
    return "Fn::If " + ", ".join(parts)


@record
class _Variant:
    """One distinct value of a policy, and the Fn::If combinations that give it.

    `label` names the first combination, for messages.
    """

    label: str | None
    assignments: tuple[FnIfAssignment, ...]
    value: Any


def _resolved_variants(
    source: _PolicySource, parameters: Mapping[str, Any], conditions: str
) -> list[_Variant]:
    """Resolve `source` once per possible Fn::If combination, merging equal results."""
    results: list[tuple[list[dict[str, bool]], Any]] = []
    for assignment in _assignments(source, conditions):
        resolved = _Resolver(parameters, assignment).resolve(source.value)
        for matching, earlier in results:
            if resolved == earlier:
                matching.append(assignment)
                break
        else:
            results.append(([assignment], resolved))

    if not results:
        # The conditions that lead to this policy can never hold together.
        return []
    if len(results) == 1:
        # Every combination gave the same value, so no condition matters.
        fixed = tuple(source.fixed.items())
        assignments = (fixed,) if fixed else ()
        label = _variant_label(source.fixed, source.resource_condition)
        return [_Variant(label, assignments, results[0][1])]
    return [
        _Variant(
            _variant_label(matching[0], source.resource_condition),
            tuple(tuple(assignment.items()) for assignment in matching),
            value,
        )
        for matching, value in results
    ]


# Building documents


def _span(path: str, pos: Pos) -> SourceSpan:
    line, column, end_line, end_column = pos
    return SourceSpan(path, line, column, end_line, end_column)


def _duplicate_diagnostic(duplicate: DuplicateKey, path: str) -> Diagnostic:
    message = (
        f"duplicate key {duplicate.key!r} (first at line {duplicate.first_pos[0]}):"
        " only the last value is used"
    )
    return Diagnostic(DiagnosticKind.PARSE_ERROR, _span(path, duplicate.pos), message)


def _map_positions(value: Any, move: Callable[[Pos], Pos]) -> None:
    """Replace every position in a parsed value with `move(position)`."""
    if isinstance(value, PosDict):
        value.pos = move(value.pos)
        value.key_pos = {key: move(pos) for key, pos in value.key_pos.items()}
        for child in value.values():
            _map_positions(child, move)
    elif isinstance(value, PosList):
        value.pos = move(value.pos)
        value.item_pos = [move(pos) for pos in value.item_pos]
        for child in value:
            _map_positions(child, move)


def _parse_policy_text(
    text: str, source: _PolicySource, path: str
) -> tuple[Any, list[Diagnostic]]:
    """Parse a policy given as a JSON string, with positions in the template.

    Text from a YAML literal block (`|`) keeps exact positions. Any other
    string (quoted, escaped or built by Fn::Sub) gives every value the
    position of the string itself.
    """
    line_offset = 0
    column_offset = 0
    exact = isinstance(text, LiteralText)
    if isinstance(text, LiteralText):
        line_offset = text.line_offset
        column_offset = text.column_offset

    def move(pos: Pos) -> Pos:
        if not exact:
            return source.pos
        line, column, end_line, end_column = pos
        return (line, column + column_offset, end_line, end_column + column_offset)

    try:
        parsed = parse_json(text, line_offset=line_offset)
    except JsonError as error:
        pos = move((error.line, error.column, error.line, error.column))
        message = f"invalid JSON in policy {source.name}: {error.message}"
        return None, [Diagnostic(DiagnosticKind.PARSE_ERROR, _span(path, pos), message)]

    _map_positions(parsed.value, move)
    diagnostics = []
    for duplicate in parsed.duplicates:
        moved = DuplicateKey(
            duplicate.key, move(duplicate.pos), move(duplicate.first_pos)
        )
        diagnostics.append(_duplicate_diagnostic(moved, path))
    return parsed.value, diagnostics


def _unresolved_structure(statement: Any) -> str | None:
    """Return why a statement cannot be checked, if its shape is unresolved.

    A statement that is unresolved as a whole, or whose Condition block or
    operator is, cannot be evaluated, because keeping it without the
    condition would change what it denies.
    """
    if isinstance(statement, Unresolved):
        return str(statement)
    if not isinstance(statement, dict):
        return None
    block = statement.get("Condition")
    if isinstance(block, Unresolved):
        return str(block)
    if isinstance(block, dict):
        for tests in block.values():
            if isinstance(tests, Unresolved):
                return str(tests)
    return None


def _remove_unresolved_statements(document: dict[str, Any]) -> list[str]:
    """Remove statements whose shape is unresolved from `document`, in place.

    Returns a note for each removed statement, for `PolicyDocument.unresolved`.
    """
    statements = document.get("Statement")
    if isinstance(statements, Unresolved):
        document["Statement"] = []
        return [f"{statements} (Statement)"]
    if isinstance(statements, dict):
        reason = _unresolved_structure(statements)
        if reason is None:
            return []
        document["Statement"] = []
        return [f"{reason} (statement #1 left out)"]
    if not isinstance(statements, list):
        return []

    notes = []
    kept: list[Any] = PosList(statements.pos) if isinstance(statements, PosList) else []
    for index, statement in enumerate(statements):
        reason = _unresolved_structure(statement)
        if reason is not None:
            notes.append(f"{reason} (statement #{index + 1} left out)")
            continue
        kept.append(statement)
        pos = item_position(statements, index)
        if isinstance(kept, PosList):
            kept.item_pos.append(pos or kept.pos)
    document["Statement"] = kept
    return notes


def _build_variant(
    value: Any, source: _PolicySource, variant: str | None, path: str
) -> tuple[PolicyDocument | None, list[Diagnostic]]:
    label = source.name if variant is None else f"{source.name} ({variant})"
    if isinstance(value, Unresolved):
        message = f"policy {label} could not be resolved: {value}"
        return None, [
            Diagnostic(DiagnosticKind.UNRESOLVED, _span(path, source.pos), message)
        ]

    diagnostics: list[Diagnostic] = []
    if isinstance(value, str):
        value, diagnostics = _parse_policy_text(value, source, path)
        if value is None:
            return None, diagnostics
    if not isinstance(value, dict) or "Statement" not in value:
        message = f"invalid policy {label}: expected an object with a Statement"
        diagnostic = Diagnostic(
            DiagnosticKind.PARSE_ERROR, _span(path, source.pos), message
        )
        return None, [*diagnostics, diagnostic]

    notes = _remove_unresolved_statements(value)
    document, problems = build_document(
        value,
        path=path,
        name=source.name,
        kind=source.kind,
        fallback=position_of(value) or source.pos,
        variant=variant,
        unresolved=tuple(notes),
    )
    return document, [*diagnostics, *problems]


def _load_source(
    source: _PolicySource, parameters: Mapping[str, Any], path: str, conditions: str
) -> LoadResult:
    result = LoadResult()
    for variant in _resolved_variants(source, parameters, conditions):
        if variant.value is _NO_VALUE:
            continue
        document, diagnostics = _build_variant(
            variant.value, source, variant.label, path
        )
        if document is not None:
            document = replace(
                document,
                variant_assignments=variant.assignments,
                template_conditions=conditions,
            )
            result.documents.append(document)
        result.diagnostics.extend(diagnostics)
    return result


def load_template(value: Any, path: str) -> LoadResult:
    """Load the IAM policies of a parsed template (from jsonpos or yamlpos).

    Duplicate keys are for the caller to report, because only the parser
    records them. A template without IAM policies, users, groups or roles
    gives `relevant=False`.
    """
    if not is_template(value):
        return LoadResult(relevant=False, note=_NOT_A_TEMPLATE)

    parameters = value.get("Parameters")
    if not isinstance(parameters, dict):
        parameters = {}
    sources = _policy_sources(value)
    conditions = value.get("Conditions")
    text = definitions_text(conditions, parameters)
    result = LoadResult()
    for source in sources:
        result.extend(_load_source(source, parameters, path, text))
    defined = set(conditions) if isinstance(conditions, dict) else set()
    result.diagnostics.extend(_undefined_conditions(sources, defined, path))
    resources = value.get("Resources")
    result.diagnostics.extend(_undefined_resource_conditions(resources, defined, path))

    def resolve(item: Any) -> Any:
        return _Resolver(parameters, {}).resolve(item)

    result.principals = [
        replace(principal, conditions=text)
        for principal in template_principals(value, result.documents, path, resolve)
    ]
    if not sources and not result.principals:
        return LoadResult(
            relevant=False, note="CloudFormation template without IAM policies"
        )
    return result


def load_cloudformation_yaml(text: str, path: str) -> LoadResult:
    """Parse a YAML (or JSON) template and load its IAM policies.

    Invalid YAML is a parse error when the text mentions CloudFormation, and
    is skipped quietly otherwise (a Helm template, for example). Duplicate
    keys in a template are reported as parse errors at the second key.
    """
    from mfa_guard.loaders.yamlpos import YamlError, parse_yaml

    # Most YAML in a repository (Kubernetes manifests, CI settings) is not a
    # template. Skipping its parse cut YAML loading of the benchmark tree
    # from 0.54 s to 0.31 s.
    if not may_be_template(text):
        return LoadResult(relevant=False, note=_NOT_A_TEMPLATE)

    try:
        parsed = parse_yaml(text)
    except YamlError as error:
        if not looks_like_cloudformation(text):
            note = (
                "not a CloudFormation template: invalid YAML at line"
                f" {error.line}, column {error.column}: {error.message}"
            )
            return LoadResult(relevant=False, note=note)
        span = SourceSpan.point(path, error.line, error.column)
        message = f"invalid YAML: {error.message}"
        diagnostic = Diagnostic(DiagnosticKind.PARSE_ERROR, span, message)
        return LoadResult(diagnostics=[diagnostic])

    result = load_template(parsed.value, path)
    if is_template(parsed.value):
        duplicates = [_duplicate_diagnostic(d, path) for d in parsed.duplicates]
        result.diagnostics[:0] = duplicates
        result.relevant = result.relevant or bool(duplicates)
        if duplicates:
            result.note = None
    return result
