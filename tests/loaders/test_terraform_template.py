from __future__ import annotations

from pathlib import Path

import pytest
import tfparse

from mfa_guard.loaders.hcl_source import SourceFile, make_parser, parse_hcl
from mfa_guard.loaders.hcl_template import (
    TemplateText,
    parse_template_json,
    template_text,
)
from mfa_guard.loaders.jsonpos import JsonError
from mfa_guard.loaders.terraform import load_terraform_module
from mfa_guard.loaders.terraform_blocks import hcl_blocks, unwrap

# Local values whose text tfparse evaluates without any interpolation, so the
# rebuilt template text must equal tfparse's value exactly.
LOCALS = {
    "plain": "<<EOF\n  x\nEOF",
    "indented": "<<-EOT\n      x\n    y\n  EOT",
    "blank_lines": "<<-EOT\n      x\n\n          \n      y\n  EOT",
    "tabs": "<<-EOT\n\t\tx\n\t  y\n   EOT",
    "escapes": "<<-EOT\n      x $${a} %%{b} \\n\n    EOT",
    "quoted": '"a\\\\b\\tc$${x}\\u00e9\\U0001F600 %%{y} \\"q\\""',
    "empty": '""',
}


def parse_source(text: str, name: str = "main.tf") -> SourceFile:
    data = text.encode("utf-8")
    source = SourceFile(name, name, text, data)
    parse_hcl(source, make_parser())
    return source


def local_templates(source: SourceFile) -> dict[str, TemplateText]:
    (block,) = hcl_blocks(source)
    templates = {}
    for name, attribute in block.attributes.items():
        assert attribute.expression is not None
        template = template_text(unwrap(attribute.expression), source)
        assert template is not None, name
        templates[name] = template
    return templates


def locals_file() -> str:
    lines = ["locals {"]
    lines.extend(f"  {name} = {value}" for name, value in LOCALS.items())
    lines.append("}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def evaluated_locals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    directory = tmp_path_factory.mktemp("locals")
    (directory / "main.tf").write_text(locals_file(), encoding="utf-8")
    output = tfparse.load_from_path(str(directory))
    values: dict[str, str] = output["locals"][0]
    return values


@pytest.mark.parametrize("name", sorted(LOCALS))
def test_template_text_matches_tfparse(
    name: str, evaluated_locals: dict[str, str]
) -> None:
    templates = local_templates(parse_source(locals_file()))

    assert templates[name].text == evaluated_locals[name]


def test_template_origins_follow_dedent() -> None:
    source = parse_source("locals {\n  a = <<-EOT\n      xy\n    z\n  EOT\n}\n")
    template = local_templates(source)["a"]

    assert template.text == "  xy\nz\n"
    assert [source.location(origin) for origin in template.origins[:3]] == [
        (3, 5),
        (3, 6),
        (3, 7),
    ]
    assert source.location(template.origins[5]) == (4, 5)


def test_template_json_positions_in_quoted_string() -> None:
    source = parse_source('locals {\n  p = "{\\"a\\": [1, {\\"b\\": 2}]}"\n}\n')
    template = local_templates(source)["p"]
    value = parse_template_json(template, source)

    assert value == {"a": [1, {"b": 2}]}
    assert value.pos[:2] == (2, 8)
    assert value.key_pos["a"][:2] == (2, 9)
    assert value["a"].item_pos[1][:2] == (2, 20)
    assert value["a"][1].key_pos["b"][:2] == (2, 21)


def test_template_json_error_position() -> None:
    source = parse_source(
        'locals {\n  p = <<-EOT\n    {"a": 1,\n     "b" 2}\n  EOT\n}\n'
    )
    template = local_templates(source)["p"]

    with pytest.raises(JsonError) as caught:
        parse_template_json(template, source)

    assert (caught.value.line, caught.value.column) == (4, 10)


def test_template_keeps_interpolations() -> None:
    source = parse_source('locals {\n  p = "a ${var.x} $${y}"\n}\n')
    template = local_templates(source)["p"]

    assert template.text == "a ${var.x} ${y}"
    assert [source.node_text(part) for part in template.parts] == ["${var.x}"]


def test_columns_count_characters(tmp_path: Path) -> None:
    policy = (
        'resource "aws_iam_policy" "p" {\n'
        '  policy = jsonencode({ Statement = [{ Sid = "Überprüfung", '
        'Effect = "Deny", NotAction = ["iam:GetUser"], Resource = "*", '
        'Condition = { BoolIfExists = { "aws:MultiFactorAuthPresent" = "false" } } }] })\n'
        "}\n"
    )
    (tmp_path / "main.tf").write_text(policy, encoding="utf-8")
    result = load_terraform_module(tmp_path, [tmp_path / "main.tf"])
    statement = result.documents[0].statements[0]
    condition = statement.conditions[0]
    line = policy.split("\n")[1]

    assert statement.sid == "Überprüfung"
    assert (statement.span.line, statement.span.column) == (2, line.index("{ Sid") + 1)
    assert condition.span.column == line.index("BoolIfExists") + 1
    assert condition.key_span.column == line.index('"aws:Multi') + 1


def test_byte_order_mark_ignored(tmp_path: Path) -> None:
    policy = (
        'resource "aws_iam_policy" "p" {\n'
        '  policy = jsonencode({ Statement = { Effect = "Deny", Action = "*", '
        'Resource = "*" } })\n'
        "}\n"
    )
    (tmp_path / "main.tf").write_bytes(b"\xef\xbb\xbf" + policy.encode("utf-8"))
    result = load_terraform_module(tmp_path, [tmp_path / "main.tf"])
    statement = result.documents[0].statements[0]

    assert result.diagnostics == []
    assert (statement.span.line, statement.span.column) == (2, 37)


def test_tfparse_unescapes_template_escapes(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'locals {\n  a = "$${aws:username}"\n  b = <<EOF\n$${aws:username}\nEOF\n}\n',
        encoding="utf-8",
    )
    output = tfparse.load_from_path(str(tmp_path))

    assert output["locals"][0]["a"] == "${aws:username}"
    assert output["locals"][0]["b"] == "${aws:username}\n"


def test_tfparse_jsonencode_nulls_known_values(tmp_path: Path) -> None:
    """tfparse 0.6.22 sets every reference to null once one is unknown.

    The loader's own evaluator exists because of this. If the test fails
    after an upgrade, the evaluator may no longer be needed.
    """
    (tmp_path / "main.tf").write_text(
        'variable "known" {\n  default = "a"\n}\nvariable "unknown" {}\n'
        "locals {\n  p = jsonencode({ A = var.known, B = var.unknown })\n}\n",
        encoding="utf-8",
    )
    output = tfparse.load_from_path(str(tmp_path))

    assert output["locals"][0]["p"] == '{"A":null,"B":null}'
