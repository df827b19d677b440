"""Variable definitions files: `terraform.tfvars` and `*.auto.tfvars`.

Terraform loads these files from the root module's directory, each setting
variables that override their defaults, later files overriding earlier
ones: `terraform.tfvars`, `terraform.tfvars.json`, then every
`*.auto.tfvars` and `*.auto.tfvars.json` in lexical order of the file name
(Terraform documentation, "Variable Definition Precedence"). tfparse
applies the files passed as `vars_paths` in the order given, so the loader
passes them in this order. It also reads them itself, so the fallback
evaluator uses the same values and a policy set in a `.tfvars` file is
positioned there.

A file with a syntax error is reported and not passed to tfparse, which
would otherwise reject the whole module.
"""

from __future__ import annotations

import os
from pathlib import Path

from mfa_guard.loaders.hcl_source import (
    SourceFile,
    find_deep_nesting,
    find_syntax_error,
    make_parser,
    parse_hcl,
    read_source,
)
from mfa_guard.loaders.jsonpos import JsonError, parse_json
from mfa_guard.loaders.positions import Pos, PosDict, key_position
from mfa_guard.loaders.terraform_blocks import Attribute, hcl_attributes, hcl_blocks
from mfa_guard.loaders.terraform_expressions import (
    Definition,
    Evaluator,
    ModuleScope,
    plain,
)
from mfa_guard.loaders.terraform_files import FileRejected, check_regular_file
from mfa_guard.model import Diagnostic, DiagnosticKind, SourceSpan
from mfa_guard.records import field, record

_FIRST_FILES = ("terraform.tfvars", "terraform.tfvars.json")
_AUTO_SUFFIXES = (".auto.tfvars", ".auto.tfvars.json")


@record(frozen=False)
class VarFiles:
    """The variable definitions files of a root module.

    `names` lists the files tfparse may read, in precedence order, and
    `definitions` the variables they set. `broken` maps a file left out to
    the position and message of its error.
    """

    names: list[str] = field(default_factory=list)
    definitions: dict[str, Definition] = field(default_factory=dict)
    broken: dict[str, tuple[Pos, str]] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)


def var_file_names(entries: list[str]) -> list[str]:
    """Return the variable definitions files among directory entries, in load order."""
    first = [name for name in _FIRST_FILES if name in entries]
    auto = sorted(name for name in entries if name.endswith(_AUTO_SUFFIXES))
    return first + auto


def read_var_files(directory: Path) -> VarFiles:
    """Read the variable definitions files of `directory`."""
    result = VarFiles()
    for name in var_file_names(sorted(os.listdir(directory))):
        path = directory / name
        try:
            check_regular_file(path)
            source = read_source(path, name)
        except (FileRejected, OSError) as error:
            span = SourceSpan.point(str(path), 1, 1)
            message = f"{path} was not read: {error}"
            result.problems.append(
                Diagnostic(DiagnosticKind.PARSE_ERROR, span, message)
            )
            continue

        attributes = _read_json(source) if source.is_json else _read_hcl(source)
        if isinstance(attributes, tuple):
            result.broken[name] = attributes
            continue
        result.names.append(name)
        for variable, attribute in attributes.items():
            result.definitions[variable] = _definition(attribute)
    return result


def _read_hcl(source: SourceFile) -> dict[str, Attribute] | tuple[Pos, str]:
    parse_hcl(source, make_parser())
    found = find_syntax_error(source)
    if found is not None:
        pos, message = found
        return pos, f"invalid HCL syntax: {message}"
    too_deep = find_deep_nesting(source)
    if too_deep is not None:
        return too_deep
    blocks = hcl_blocks(source)
    if blocks:
        name = blocks[0].type
        message = f'invalid variable definitions: unexpected "{name}" block; only arguments such as name = "value" are allowed'
        return blocks[0].span, message
    return hcl_attributes(source)


def _read_json(source: SourceFile) -> dict[str, Attribute] | tuple[Pos, str]:
    try:
        root = parse_json(source.text).value
    except JsonError as error:
        pos = (error.line, error.column, error.line, error.column)
        return pos, f"invalid JSON syntax: {error.message}"
    if not isinstance(root, PosDict):
        message = "invalid variable definitions: expected a JSON object"
        return (1, 1, 1, 1), message
    return {
        name: Attribute(name, key_position(root, name) or root.pos, source, None, value)
        for name, value in root.items()
    }


def _definition(attribute: Attribute) -> Definition:
    if attribute.expression is None:
        return Definition(plain(attribute.json_value), attribute)
    # Values in these files are constants, so an empty scope evaluates them.
    value = Evaluator(ModuleScope()).evaluate(attribute.expression, attribute.source)
    return Definition(value, attribute)
