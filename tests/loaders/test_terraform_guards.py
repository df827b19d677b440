"""Configurations that crash or hang tfparse 0.6.22, loaded in a subprocess.

Each case runs the loader in a child Python, so a guard that stops working
fails one test instead of ending the whole test run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mfa_guard.loaders.hcl_source import (
    MAX_SYNTAX_DEPTH,
    SourceFile,
    find_deep_nesting,
    make_parser,
    parse_hcl,
)
from mfa_guard.loaders.terraform import load_terraform_module
from mfa_guard.loaders.terraform_blocks import hcl_blocks
from mfa_guard.loaders.terraform_references import reference_graph, self_reference
from mfa_guard.model import DiagnosticKind

REPOSITORY = Path(__file__).parent.parent.parent
# Maximum seconds one load may take; a guard that fails makes tfparse hang.
LOAD_TIMEOUT = 60

LOADER = """
import json, sys
from pathlib import Path
from mfa_guard.loaders.terraform import load_terraform_module

result = load_terraform_module(Path(sys.argv[1]), [])
print(json.dumps({
    "documents": [document.name for document in result.documents],
    "diagnostics": [
        [d.kind.value, Path(d.span.path).name, d.span.line, d.span.column, d.message]
        for d in result.diagnostics
    ],
}))
"""

POLICY = (
    'resource "aws_iam_policy" "ok" {\n'
    '  policy = jsonencode({ Statement = [{ Effect = "Deny", Action = "*", '
    'Resource = "*" }] })\n'
    "}\n"
)


def load_isolated(directory: Path, files: dict[str, str]) -> dict[str, Any]:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "-c", LOADER, str(directory)],
        capture_output=True,
        text=True,
        timeout=LOAD_TIMEOUT,
        cwd=REPOSITORY,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    output: dict[str, Any] = json.loads(completed.stdout)
    return output


def test_scalar_dynamic_for_each(tmp_path: Path) -> None:
    # tfparse would panic on the block, so it reads the file without it,
    # and the file's other blocks are still checked.
    output = load_isolated(
        tmp_path,
        {
            "main.tf": 'data "aws_iam_policy_document" "d" {\n'
            '  dynamic "statement" {\n    for_each = "abc"\n'
            '    content {\n      actions = ["s3:GetObject"]\n    }\n  }\n}\n' + POLICY,
        },
    )

    assert output["documents"] == ["aws_iam_policy.ok"]
    assert output["diagnostics"] == [
        [
            "parse-error",
            "main.tf",
            3,
            5,
            'invalid for_each in dynamic "statement": a string is not a collection; '
            'Terraform rejects this, so data "aws_iam_policy_document" "d" was not'
            " checked",
        ]
    ]


def test_hidden_block_not_reported_twice(tmp_path: Path) -> None:
    # The data source's own for_each is scalar too, but it is reported once,
    # at the dynamic block that made tfparse skip it.
    output = load_isolated(
        tmp_path,
        {
            "main.tf": 'data "aws_iam_policy_document" "d" {\n  for_each = 7\n'
            '  dynamic "statement" {\n    for_each = 5\n    content {}\n  }\n}\n'
            'resource "aws_iam_policy" "p" {\n'
            "  policy = data.aws_iam_policy_document.d.json\n}\n",
        },
    )

    assert [d[:4] for d in output["diagnostics"]] == [
        ["parse-error", "main.tf", 4, 5],
        ["unresolved-policy", "main.tf", 9, 3],
    ]
    assert output["diagnostics"][1][4] == (
        "policy of aws_iam_policy.p could not be resolved:"
        " data.aws_iam_policy_document.d is not declared in a file of this module"
        " that parses, or was not checked"
    )


def test_scalar_resource_for_each(tmp_path: Path) -> None:
    # tfparse drops such a resource without an error, so its policy would
    # be skipped as if the module had none. The other blocks of its file
    # are still checked.
    output = load_isolated(
        tmp_path,
        {
            "main.tf": "locals {\n  sizes = { a = 2 }\n}\n"
            'resource "aws_iam_policy" "p" {\n'
            '  for_each = local.sizes["a"]\n'
            '  policy   = "{}"\n}\n' + POLICY,
        },
    )

    assert output["documents"] == ["aws_iam_policy.ok"]
    assert output["diagnostics"] == [
        [
            "parse-error",
            "main.tf",
            5,
            3,
            'invalid for_each in resource "aws_iam_policy" "p": a number is not '
            "a collection; Terraform rejects this, so the block was not checked",
        ]
    ]


@pytest.mark.parametrize(
    ("block", "expression", "kind"),
    [
        ('data "aws_iam_policy_document" "d"', '"abc"', "string"),
        ('module "m"', "true", "bool"),
        ('resource "aws_iam_role_policy" "r"', 'lookup(local.cfg, "a", 1)', "number"),
    ],
)
def test_scalar_block_for_each_keeps_file(
    tmp_path: Path, block: str, expression: str, kind: str
) -> None:
    source = '  source = "./m"\n' if block.startswith("module") else ""
    output = load_isolated(
        tmp_path,
        {
            "main.tf": "locals {\n  cfg = { b = 2 }\n}\n"
            f"{block} {{\n{source}  for_each = {expression}\n}}\n" + POLICY,
            "m/main.tf": POLICY,
        },
    )

    assert "aws_iam_policy.ok" in output["documents"]
    line = 6 if source else 5
    assert [d[:4] for d in output["diagnostics"]] == [
        ["parse-error", "main.tf", line, 3]
    ]
    assert f"a {kind} is not a collection" in output["diagnostics"][0][4]


def test_collection_resource_for_each_kept(tmp_path: Path) -> None:
    output = load_isolated(
        tmp_path,
        {
            "main.tf": 'resource "aws_iam_policy" "p" {\n'
            '  for_each = toset(["a"])\n'
            '  policy   = jsonencode({ Statement = [{ Effect = "Deny", '
            'Action = "*", Resource = "*" }] })\n}\n',
        },
    )

    assert output["diagnostics"] == []
    assert len(output["documents"]) == 1


def test_scalar_for_each_from_tfvars(tmp_path: Path) -> None:
    output = load_isolated(
        tmp_path,
        {
            "main.tf": 'variable "items" {\n  default = ["a"]\n}\n'
            'data "aws_iam_policy_document" "d" {\n'
            '  dynamic "statement" {\n    for_each = var.items\n'
            "    content {}\n  }\n}\n",
            "terraform.tfvars": "items = true\n",
        },
    )

    assert [d[2:4] for d in output["diagnostics"]] == [[6, 5]]
    assert "a bool is not a collection" in output["diagnostics"][0][4]


@pytest.mark.parametrize(
    ("expression", "kind"),
    [
        ("path.root", "string"),
        ("terraform.workspace", "string"),
        ("count.index", "number"),
    ],
)
def test_scalar_reference_for_each(tmp_path: Path, expression: str, kind: str) -> None:
    output = load_isolated(
        tmp_path,
        {
            "main.tf": 'data "aws_iam_policy_document" "d" {\n'
            f'  dynamic "statement" {{\n    for_each = {expression}\n'
            "    content {}\n  }\n}\n",
        },
    )

    assert f"a {kind} is not a collection" in output["diagnostics"][0][4]


def test_self_referring_for_each(tmp_path: Path) -> None:
    output = load_isolated(
        tmp_path,
        {
            "ok.tf": POLICY,
            "main.tf": 'resource "aws_iam_policy" "p" {\n'
            "  for_each = aws_iam_policy.p.arn\n}\n"
            'output "o" {\n  value = 1\n}\n',
        },
    )

    assert output["documents"] == ["aws_iam_policy.ok"]
    assert output["diagnostics"] == [
        [
            "parse-error",
            "main.tf",
            2,
            3,
            "the for_each of aws_iam_policy.p depends on aws_iam_policy.p itself; "
            "Terraform rejects this dependency cycle, so the file was left out",
        ]
    ]


def test_module_calling_itself(tmp_path: Path) -> None:
    output = load_isolated(
        tmp_path,
        {"ok.tf": POLICY, "main.tf": 'module "again" {\n  source = "./"\n}\n'},
    )

    assert output["documents"] == ["aws_iam_policy.ok"]
    assert output["diagnostics"][0][:4] == ["parse-error", "main.tf", 1, 1]
    assert "module cycle" in output["diagnostics"][0][4]


def test_child_module_invalid_type(tmp_path: Path) -> None:
    output = load_isolated(
        tmp_path,
        {
            "main.tf": 'module "c" {\n  source = "./child"\n}\n',
            "child/types.tf": 'variable "x" {\n  type = lsit(string)\n}\n',
            "child/main.tf": POLICY,
        },
    )

    assert output["documents"] == ["module.c.aws_iam_policy.ok"]
    assert output["diagnostics"] == []


def test_child_module_scalar_for_each(tmp_path: Path) -> None:
    output = load_isolated(
        tmp_path,
        {
            "main.tf": 'module "c" {\n  source = "./child"\n}\n',
            "child/iam.tf": 'data "aws_iam_policy_document" "d" {\n'
            '  dynamic "statement" {\n    for_each = "abc"\n    content {}\n  }\n}\n'
            + POLICY,
        },
    )
    (diagnostic,) = output["diagnostics"]

    assert output["documents"] == ["module.c.aws_iam_policy.ok"]
    assert diagnostic[:4] == ["parse-error", "iam.tf", 3, 5]
    assert "a string is not a collection" in diagnostic[4]


def test_child_module_scalar_resource_for_each(tmp_path: Path) -> None:
    # Reported once at the child's own block, however often it is called.
    output = load_isolated(
        tmp_path,
        {
            "main.tf": 'module "a" {\n  source = "./child"\n}\n'
            'module "b" {\n  source = "./child"\n}\n',
            "child/iam.tf": POLICY + 'resource "aws_iam_policy" "p" {\n'
            '  for_each = 3\n  policy   = "{}"\n}\n',
        },
    )

    assert output["documents"] == [
        "module.a.aws_iam_policy.ok",
        "module.b.aws_iam_policy.ok",
    ]
    assert [d[:4] for d in output["diagnostics"]] == [["parse-error", "iam.tf", 5, 3]]
    assert "a number is not a collection" in output["diagnostics"][0][4]


def test_child_module_for_each_from_caller(tmp_path: Path) -> None:
    # The default is a string, but the caller passes a map, which tfparse uses.
    output = load_isolated(
        tmp_path,
        {
            "main.tf": 'module "c" {\n  source   = "./child"\n'
            '  policies = { a = "x" }\n}\n',
            "child/iam.tf": 'variable "policies" {\n  default = ""\n}\n'
            'resource "aws_iam_policy" "p" {\n'
            "  for_each = var.policies\n"
            '  policy   = jsonencode({ Statement = [{ Effect = "Deny", '
            'Action = "*", Resource = "*" }] })\n}\n',
        },
    )

    assert output["diagnostics"] == []
    assert output["documents"] == ['module.c.aws_iam_policy.p["a"]']


def test_invalid_counts(tmp_path: Path) -> None:
    counts = ["true", "null", "1.5", '"abc"', '"2"', "2.0", "var.n", "0"]
    blocks = "".join(
        f'resource "aws_iam_policy" "p{index}" {{\n  count  = {count}\n'
        '  policy = "{}"\n}\n'
        for index, count in enumerate(counts)
    )
    output = load_isolated(tmp_path, {"main.tf": 'variable "n" {}\n' + blocks})

    invalid = [d for d in output["diagnostics"] if d[0] == "parse-error"]
    messages = [d[4] for d in invalid if "invalid count" in d[4]]
    assert [d[2:4] for d in invalid if "invalid count" in d[4]] == [
        [3, 3],
        [7, 3],
        [11, 3],
        [15, 3],
    ]
    assert messages[0] == (
        'invalid count in resource "aws_iam_policy" "p0": a bool is not a number;'
        " Terraform rejects this, and the block was checked as a single instance"
    )
    assert "the value is null" in messages[1]
    assert "1.5 is not a whole number" in messages[2]
    assert 'the string "abc" is not a number' in messages[3]


INVALID = ("invalid for_each", "invalid count")


def test_json_syntax_expansions(tmp_path: Path) -> None:
    resources = {
        "fe": {"for_each": "abc", "policy": "{}"},
        "bool": {"for_each": True, "policy": "{}"},
        "template": {"for_each": "${local.items}", "policy": "{}"},
        "half": {"count": 1.5, "policy": "{}"},
        "negative": {"count": -1, "policy": "{}"},
    }
    text = json.dumps({"resource": {"aws_iam_policy": resources}}, indent=2)
    output = load_isolated(tmp_path, {"main.tf.json": text})

    invalid = [d for d in output["diagnostics"] if d[4].startswith(INVALID)]
    assert [d[2:4] for d in invalid] == [[5, 9], [9, 9], [17, 9], [21, 9]]
    assert "a string is not a collection" in invalid[0][4]
    assert "a bool is not a collection" in invalid[1][4]
    assert "1.5 is not a whole number" in invalid[2][4]
    assert invalid[3][4] == (
        'invalid count in resource "aws_iam_policy" "negative": -1 is negative;'
        " Terraform rejects this, and the block was not checked"
    )


def test_count_and_for_each_together(tmp_path: Path) -> None:
    output = load_isolated(
        tmp_path,
        {
            "main.tf": 'resource "aws_iam_policy" "p" {\n  count    = 1\n'
            '  for_each = { a = 1 }\n  policy   = "{}"\n}\n'
        },
    )

    assert output["diagnostics"][0] == [
        "parse-error",
        "main.tf",
        3,
        3,
        'invalid resource "aws_iam_policy" "p": count and for_each cannot both be'
        " set; Terraform rejects this",
    ]


def test_scalar_default_not_invalid(tmp_path: Path) -> None:
    # A folder scanned on its own may be another module's child, whose
    # caller sets the variable, so its default proves nothing.
    output = load_isolated(
        tmp_path,
        {
            "main.tf": 'variable "policies" {\n  default = ""\n}\n'
            'resource "aws_iam_policy" "p" {\n  for_each = var.policies\n'
            '  policy   = "{}"\n}\n'
        },
    )

    assert [d[:4] for d in output["diagnostics"]] == [
        ["unresolved-policy", "main.tf", 5, 3]
    ]


CHILD_DYNAMIC = (
    'variable "extra" {\n  default = []\n}\n'
    'data "aws_iam_policy_document" "d" {\n'
    '  dynamic "statement" {\n    for_each = var.extra\n'
    '    content {\n      actions = ["s3:GetObject"]\n    }\n  }\n}\n'
)


def test_caller_scalar_for_dynamic_block(tmp_path: Path) -> None:
    # The default is a list, but the caller's string would crash tfparse.
    output = load_isolated(
        tmp_path,
        {
            "main.tf": 'module "a" {\n  source = "./child"\n  extra  = "none"\n}\n'
            + POLICY,
            "child/iam.tf": CHILD_DYNAMIC,
        },
    )

    assert output["documents"] == ["aws_iam_policy.ok"]
    (diagnostic,) = output["diagnostics"]
    assert diagnostic[:4] == ["unresolved-policy", "iam.tf", 6, 5]
    assert diagnostic[4] == (
        'the for_each of dynamic "statement": a string is not a collection; with'
        " the values its variables get here, the Terraform evaluator (tfparse)"
        ' would crash on it, so data "aws_iam_policy_document" "d" was not checked'
    )


def test_caller_list_for_dynamic_block(tmp_path: Path) -> None:
    # The default is a string, but the caller passes a list, which is valid.
    child = CHILD_DYNAMIC.replace("default = []", 'default = "none"')
    output = load_isolated(
        tmp_path,
        {
            "main.tf": 'module "a" {\n  source = "./child"\n  extra  = ["x"]\n}\n'
            + POLICY,
            "child/iam.tf": child,
        },
    )

    assert output["diagnostics"] == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_file_of_named_pipe(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "policy.json")
    output = load_isolated(
        tmp_path,
        {
            "main.tf": 'resource "aws_iam_policy" "p" {\n  policy = file("policy.json")\n}\n'
            + POLICY,
        },
    )

    assert output["documents"] == ["aws_iam_policy.ok"]
    assert output["diagnostics"] == [
        [
            "parse-error",
            "main.tf",
            2,
            3,
            '"policy.json" is not a regular file; reading it would block, '
            'so resource "aws_iam_policy" "p" was not checked',
        ]
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_named_pipe_from_caller(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    output = load_isolated(
        tmp_path,
        {
            "main.tf": 'module "a" {\n  source = "./child"\n  name   = "pipe"\n}\n'
            + POLICY,
            "child/iam.tf": 'variable "name" {\n  default = "ok.json"\n}\n'
            'resource "aws_iam_policy" "p" {\n  policy = file(var.name)\n}\n',
        },
    )

    assert output["documents"] == ["aws_iam_policy.ok"]
    assert [d[:4] for d in output["diagnostics"]] == [["parse-error", "iam.tf", 5, 3]]
    assert output["diagnostics"][0][4] == (
        '"pipe" is not a regular file; reading it would block, so resource'
        ' "aws_iam_policy" "p" was not checked'
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize(
    "name", ['"${path.root}/pipe"', 'format("%s", "pipe")', '"${path.module}/pipe"']
)
def test_named_pipe_computed_name(tmp_path: Path, name: str) -> None:
    os.mkfifo(tmp_path / "pipe")
    output = load_isolated(
        tmp_path,
        {
            "main.tf": f'resource "aws_iam_policy" "p" {{\n  policy = file({name})\n}}\n'
            + POLICY
        },
    )

    assert output["documents"] == ["aws_iam_policy.ok"]
    assert [d[:4] for d in output["diagnostics"]] == [["parse-error", "main.tf", 2, 3]]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_terraform_file_named_pipe(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.tf")
    output = load_isolated(tmp_path, {"ok.tf": POLICY})

    assert output["documents"] == ["aws_iam_policy.ok"]
    assert output["diagnostics"] == [
        [
            "parse-error",
            "pipe.tf",
            1,
            1,
            f"{tmp_path / 'pipe.tf'} was not read: it is not a regular file",
        ]
    ]


def test_cycle_through_other_block_named() -> None:
    text = (
        'resource "aws_iam_policy" "a" {\n  for_each = aws_iam_policy.b\n}\n'
        'resource "aws_iam_policy" "b" {\n  for_each = aws_iam_policy.a\n}\n'
    )
    source = SourceFile("main.tf", "main.tf", text, text.encode("utf-8"))
    parse_hcl(source, make_parser())
    blocks = hcl_blocks(source)
    problem = self_reference(blocks[0], reference_graph(blocks))

    assert problem is not None
    assert problem[1].startswith(
        "the for_each of aws_iam_policy.a depends on aws_iam_policy.a itself "
        "through aws_iam_policy.b;"
    )


def test_for_each_on_other_block_allowed() -> None:
    text = (
        'resource "aws_iam_policy" "a" {\n  for_each = aws_iam_policy.b\n}\n'
        'resource "aws_iam_policy" "b" {\n  name = aws_iam_policy.a\n}\n'
    )
    source = SourceFile("main.tf", "main.tf", text, text.encode("utf-8"))
    parse_hcl(source, make_parser())
    blocks = hcl_blocks(source)

    assert self_reference(blocks[0], reference_graph(blocks)) is None


def nested_policy(depth: int) -> str:
    action = "[" * depth + '"s3:GetObject"' + "]" * depth
    return (
        'resource "aws_iam_policy" "deep" {\n'
        '  policy = jsonencode({ Statement = [{ Effect = "Deny", '
        f'Action = {action}, Resource = "*" }}] }})\n'
        "}\n"
    )


def test_deep_nesting_left_out(tmp_path: Path) -> None:
    # An operator chain nests the syntax tree without brackets.
    chain = "locals {\n  total = " + " + ".join(["1"] * 1000) + "\n}\n"
    (tmp_path / "ok.tf").write_text(POLICY, encoding="utf-8")
    (tmp_path / "deep.tf").write_text(chain, encoding="utf-8")
    result = load_terraform_module(tmp_path, [])
    (diagnostic,) = result.diagnostics

    assert [d.name for d in result.documents] == ["aws_iam_policy.ok"]
    assert diagnostic.span.path == str(tmp_path / "deep.tf")
    assert diagnostic.message == (
        "expressions nested too deeply (a syntax tree deeper than 320 levels); "
        "the file was left out"
    )


def test_nesting_below_limit_loaded(tmp_path: Path) -> None:
    (tmp_path / "deep.tf").write_text(nested_policy(90), encoding="utf-8")
    result = load_terraform_module(tmp_path, [])

    assert [d.name for d in result.documents] == ["aws_iam_policy.deep"]
    assert result.diagnostics[0].kind is DiagnosticKind.PARSE_ERROR
    assert "expected a string" in result.diagnostics[0].message


def test_deep_tfvars_left_out(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(POLICY, encoding="utf-8")
    (tmp_path / "terraform.tfvars").write_text(
        "actions = " + "[" * 1000 + "]" * 1000 + "\n", encoding="utf-8"
    )
    result = load_terraform_module(tmp_path, [])
    (diagnostic,) = result.diagnostics

    assert diagnostic.span.path == str(tmp_path / "terraform.tfvars")
    assert diagnostic.message.startswith("expressions nested too deeply")
    assert [d.name for d in result.documents] == ["aws_iam_policy.ok"]


def test_deep_template_reported(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "aws_iam_policy" "p" {\n  policy = templatefile("p.tpl", {})\n}\n',
        encoding="utf-8",
    )
    (tmp_path / "p.tpl").write_text(
        "%{ if true }" * 400 + "[]" + "%{ endif }" * 400, encoding="utf-8"
    )
    result = load_terraform_module(tmp_path, [])
    (diagnostic,) = result.diagnostics

    assert diagnostic.kind is DiagnosticKind.PARSE_ERROR
    assert diagnostic.span.path == str(tmp_path / "p.tpl")
    assert diagnostic.message.startswith(
        "invalid template: expressions nested too deeply"
    )


def test_deep_json_syntax_reported(tmp_path: Path) -> None:
    action: object = "s3:GetObject"
    for _ in range(200):
        action = [action]
    document = {
        "data": {"aws_iam_policy_document": {"d": {"statement": [{"actions": action}]}}}
    }
    (tmp_path / "main.tf.json").write_text(json.dumps(document), encoding="utf-8")
    result = load_terraform_module(tmp_path, [])
    (diagnostic,) = result.diagnostics

    assert diagnostic.kind is DiagnosticKind.PARSE_ERROR
    assert diagnostic.message == "invalid JSON syntax: nesting deeper than 200 levels"


def heredoc_policy(depth: int) -> str:
    nested = "[" * depth + '"s3:GetObject"' + "]" * depth
    return (
        'resource "aws_iam_policy" "deep" {\n  policy = <<EOF\n'
        '{"Statement": [{"Effect": "Deny", "NotAction": '
        + nested
        + ', "Resource": "*"}]}\n'
        "EOF\n}\n"
    )


def test_heredoc_json_nested_too_deeply(tmp_path: Path) -> None:
    output = load_isolated(tmp_path, {"main.tf": heredoc_policy(3000)})

    # Level 101 is the 97th bracket of the NotAction list, at column 48 + 96.
    assert output["documents"] == []
    assert output["diagnostics"] == [
        [
            "parse-error",
            "main.tf",
            3,
            144,
            "brackets nested too deeply (more than 100 levels); the file was left out",
        ]
    ]


def test_deep_policy_reported_without_bracket_guard(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(heredoc_policy(3000), encoding="utf-8")
    # Without the bracket guard, tfparse's output is too deep for json.loads,
    # and the policy's own parser reports the depth where it is exceeded.
    script = (
        "import mfa_guard.loaders.hcl_source as source\n"
        "source.MAX_BRACKET_DEPTH = 10**9\n" + LOADER
    )
    completed = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=LOAD_TIMEOUT,
        cwd=REPOSITORY,
        check=True,
    )
    output = json.loads(completed.stdout)

    assert output["diagnostics"] == [
        [
            "parse-error",
            "main.tf",
            3,
            245,
            "invalid JSON in policy of aws_iam_policy.deep: nesting deeper than"
            " 200 levels",
        ]
    ]


@pytest.mark.parametrize("terms", [200, 2000])
def test_deep_operator_chain_matches_full_walk(tmp_path: Path, terms: int) -> None:
    text = "locals {\n  total = " + " + ".join(["1"] * terms) + "\n}\n"
    source = SourceFile(
        path=str(tmp_path / "chain.tf"),
        name="chain.tf",
        text=text,
        data=text.encode("utf-8"),
    )
    parse_hcl(source, make_parser())

    assert find_deep_nesting(source) == _deepest_by_full_walk(source)


def _deepest_by_full_walk(source: SourceFile) -> tuple[object, str] | None:
    """Return the first node deeper than the limit, found by visiting every node."""
    assert source.tree is not None
    stack = [(source.tree.root_node, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_SYNTAX_DEPTH:
            message = (
                "expressions nested too deeply (a syntax tree deeper than "
                f"{MAX_SYNTAX_DEPTH} levels)"
            )
            return source.node_span(node), message
        stack.extend((child, depth + 1) for child in node.children)
    return None


def test_deep_brackets_left_out(tmp_path: Path) -> None:
    deep = "locals {\n  x = " + "[" * 150 + "]" * 150 + "\n}\n"
    output = load_isolated(tmp_path, {"ok.tf": POLICY, "deep.tf": deep})

    assert output["documents"] == ["aws_iam_policy.ok"]
    assert output["diagnostics"] == [
        [
            "parse-error",
            "deep.tf",
            2,
            106,
            "brackets nested too deeply (more than 100 levels); the file was left out",
        ]
    ]


def test_module_calling_dot_source(tmp_path: Path) -> None:
    # Terraform requires "./", but tfparse follows "." into itself forever.
    output = load_isolated(
        tmp_path,
        {"ok.tf": POLICY, "main.tf": 'module "again" {\n  source = "."\n}\n'},
    )

    assert output["documents"] == ["aws_iam_policy.ok"]
    assert output["diagnostics"][0][:4] == ["parse-error", "main.tf", 1, 1]
    assert "module cycle" in output["diagnostics"][0][4]


def test_module_calling_link_to_itself(tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    output = load_isolated(
        tmp_path,
        {"ok.tf": POLICY, "main.tf": 'module "again" {\n  source = "./loop"\n}\n'},
    )

    assert output["documents"] == ["aws_iam_policy.ok"]
    assert output["diagnostics"][0][:4] == ["parse-error", "main.tf", 1, 1]
    assert "module cycle" in output["diagnostics"][0][4]


def test_file_unreadable_past_nul_reported(tmp_path: Path) -> None:
    output = load_isolated(tmp_path, {"main.tf": "# \0 comment\n" + POLICY})

    assert output["diagnostics"] == [
        [
            "parse-error",
            "main.tf",
            1,
            3,
            "mfa-guard cannot read this file from here (invalid HCL syntax:"
            " unexpected '\\x00 comment'), so its blocks after this point were not"
            " checked, although Terraform's parser accepts the file",
        ]
    ]
