"""A `count` Terraform rejects: a collection, a bool type, or a number too large."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mfa_guard.loaders.hcl_source import SourceFile, make_parser, parse_hcl
from mfa_guard.loaders.terraform import load_terraform_module
from mfa_guard.loaders.terraform_blocks import hcl_attributes, unwrap

# A Deny of every action without MFA. Its statement starts on line 7 of a
# resource written by `policy_resource`, at column 5.
POLICY = """  policy = <<EOF
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Deny",
      "Action": "*",
      "Resource": "*",
      "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    }
  ]
}
EOF
"""
VARIABLES = (
    'variable "flag" {\n  type = bool\n}\n'
    'variable "names" {\n  type = list(string)\n}\n'
    'variable "tags" {\n  type = map(string)\n}\n'
    'variable "untyped" {\n  default = ["a"]\n}\n'
)


def policy_resource(name: str, count: str) -> str:
    return f'resource "aws_iam_policy" "{name}" {{\n  count = {count}\n{POLICY}}}\n'


def test_count_of_wrong_type(tmp_path: Path) -> None:
    counts = [
        '["a"]',
        "{ a = 1 }",
        'toset(["a"])',
        "var.flag",
        "var.names",
        "var.tags",
        "var.untyped",
    ]
    blocks = "".join(
        policy_resource(f"p{index}", count) for index, count in enumerate(counts)
    )
    (tmp_path / "main.tf").write_text(VARIABLES + blocks, encoding="utf-8")
    result = load_terraform_module(tmp_path, [])
    invalid = [d for d in result.diagnostics if d.kind.value == "parse-error"]

    # Each resource is 16 lines long, after the 12 lines of variables.
    assert [(d.span.line, d.span.column) for d in invalid] == [
        (14, 3),
        (30, 3),
        (46, 3),
        (62, 3),
        (78, 3),
        (94, 3),
    ]
    assert invalid[0].message == (
        'invalid count in resource "aws_iam_policy" "p0": a list is not a number;'
        " Terraform rejects this, and the block was checked as a single instance"
    )
    assert 'p1": a map is not a number' in invalid[1].message
    assert 'p2": a set is not a number' in invalid[2].message
    assert 'p3": a bool is not a number' in invalid[3].message
    assert 'p4": a list is not a number' in invalid[4].message
    assert 'p5": a map is not a number' in invalid[5].message


def test_count_exponent_too_large(run_scan: Any, tmp_path: Path) -> None:
    # tree-sitter-hcl 1.2.0 cannot parse 1e400 on its own. Terraform's
    # parser accepts the file and rejects the count, and tfparse drops the
    # block. The next block keeps its finding and position.
    text = policy_resource("big", "1e400") + policy_resource("one", "1e0")
    (tmp_path / "main.tf").write_text(text, encoding="utf-8")
    run = run_scan(tmp_path)

    assert run.located() == [
        ("parse-error", 2, 3),
        ("password-change-blocked", 23, 5),
        ("mfa-enrollment-blocked", 23, 5),
    ]
    assert run.findings[0]["message"] == (
        'invalid count in resource "aws_iam_policy" "big": 1e400 is larger than'
        " the maximum, 9223372036854775807; Terraform rejects this, and the"
        " block was not checked"
    )


def test_exponent_number_parsed() -> None:
    text = 'x = 1e+4\ny = "2e4"\nz = a-1e4\n'
    source = SourceFile("m.tf", "m.tf", text, text.encode("utf-8"))
    parse_hcl(source, make_parser())
    attributes = hcl_attributes(source)
    expressions = {
        name: attribute.expression
        for name, attribute in attributes.items()
        if attribute.expression is not None
    }
    written = {name: source.node_text(node) for name, node in expressions.items()}

    assert source.tree is not None
    assert not source.tree.root_node.has_error
    assert written == {"x": "1e+4", "y": '"2e4"', "z": "a-1e4"}
    assert unwrap(expressions["x"]).type == "numeric_lit"
    assert attributes["z"].span == (3, 1, 3, 10)
