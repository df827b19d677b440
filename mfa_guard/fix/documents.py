"""Open a file in the format the loaders read it in, to find and check statements."""

from __future__ import annotations

from typing import Protocol

from mfa_guard.fix.hcl_syntax import HclDocument
from mfa_guard.fix.json_syntax import JsonStatement, find_object
from mfa_guard.fix.source import FixError, LineIndex
from mfa_guard.fix.syntax import StatementSyntax
from mfa_guard.fix.yaml_syntax import YamlStatement, compose, find_mapping
from mfa_guard.loaders.jsonpos import JsonError, parse_json
from mfa_guard.loaders.yamlpos import YamlError, parse_yaml


class Document(Protocol):
    """A parsed file in which the fixer finds statements."""

    def statement(self, line: int, column: int) -> StatementSyntax:
        """Return the statement that starts at `line` and `column`, or raise FixError."""

    def check(self, text: str) -> None:
        """Raise FixError when `text`, the fixed file, does not parse as this file did."""


class JsonDocument:
    """A JSON file. With `terraform`, a `.tf.json` file in Terraform's JSON syntax."""

    def __init__(self, text: str, terraform: bool = False) -> None:
        try:
            self.value = parse_json(text).value
        except JsonError as error:
            raise FixError(f"invalid JSON: {error}") from None
        self.index = LineIndex(text)
        self.terraform = terraform

    def statement(self, line: int, column: int) -> StatementSyntax:
        node = find_object(self.value, line, column)
        if node is None:
            raise FixError("no statement object starts at the finding")
        return JsonStatement(self.index, node, self.terraform)

    def check(self, text: str) -> None:
        try:
            parse_json(text)
        except JsonError as error:
            raise FixError(f"the fixed file is not valid JSON: {error}") from None


class YamlDocument:
    def __init__(self, text: str) -> None:
        self.text = text
        self.root = compose(text)

    def statement(self, line: int, column: int) -> StatementSyntax:
        node = find_mapping(self.root, line, column)
        if node is None:
            raise FixError("no statement mapping starts at the finding")
        return YamlStatement(self.text, node)

    def check(self, text: str) -> None:
        try:
            parse_yaml(text)
        except YamlError as error:
            raise FixError(f"the fixed file is not valid YAML: {error}") from None


class TerraformDocument:
    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.hcl = HclDocument(path, text)
        self.heredocs = self.hcl.heredoc_json_count()

    def statement(self, line: int, column: int) -> StatementSyntax:
        return self.hcl.statement(line, column)

    def check(self, text: str) -> None:
        fixed = HclDocument(self.path, text)
        if fixed.has_syntax_error() and not self.hcl.has_syntax_error():
            raise FixError("the fixed file is not valid HCL")
        if fixed.heredoc_json_count() != self.heredocs:
            raise FixError("a heredoc of the fixed file is not valid JSON")


def open_document(path: str, text: str) -> Document:
    """Parse `text` as the format the loaders read `path` in, or raise FixError."""
    name = path.lower()
    if name.endswith(".tf"):
        return TerraformDocument(path, text)
    if name.endswith(".tf.json"):
        return JsonDocument(text, terraform=True)
    is_json_template = name.endswith(".template") and text.lstrip()[:1] in ("{", "[")
    if name.endswith(".json") or is_json_template:
        return JsonDocument(text)
    if name.endswith((".yaml", ".yml", ".template")):
        return YamlDocument(text)
    raise FixError("the file is not JSON, YAML or Terraform")
