"""`for` expressions in the fallback evaluator, without tfparse."""

from __future__ import annotations

from typing import Any

import pytest

from mfa_guard.loaders.hcl_render import TemplateEvaluator
from mfa_guard.loaders.hcl_source import SourceFile, make_parser, parse_hcl
from mfa_guard.loaders.positions import Unresolved
from mfa_guard.loaders.terraform_blocks import hcl_blocks
from mfa_guard.loaders.terraform_expressions import (
    UNKNOWN,
    Definition,
    Evaluator,
    ModuleScope,
)
from mfa_guard.loaders.terraform_scope import MAX_DEFINITION_DEPTH, MAX_ITEMS

NAMES = {
    "m": {"b": {"on": True, "n": 2}, "a": {"on": False, "n": 1}},
    "l": ["x", "y", "x"],
    "flags": ["true", "no"],
}


def evaluate(expression: str) -> Any:
    """Evaluate `expression` with the template variables NAMES."""
    text = f"locals {{\n  value = {expression}\n}}\n"
    source = SourceFile("main.tf", "main.tf", text, text.encode("utf-8"))
    parse_hcl(source, make_parser())
    (block,) = hcl_blocks(source)
    node = block.attributes["value"].expression
    assert node is not None
    return TemplateEvaluator(NAMES).evaluate(node, source)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("[for v in l : upper(v)]", ["X", "Y", "X"]),
        ('[for i, v in l : i if v == "x"]', [0, 2]),
        ("[for k, v in m : k if v.on]", ["b"]),
        ("[for v in m : v.n]", [1, 2]),
        ("{ for k, v in m : k => v.n if v.on }", {"b": 2}),
        ("{ for k, v in m : k => v if v.n > 5 }", {}),
        ("{ for v in l : v => v... }", {"x": ["x", "x"], "y": ["y"]}),
        ("{ for i, v in l : i => v }", {"0": "x", "1": "y", "2": "x"}),
        ("{ for k, v in toset(l) : k => v }", {"x": "x", "y": "y"}),
        ('[for v in flags : v if v == "true"]', ["true"]),
        ("[for v in [] : missing.value]", []),
        (
            '[for k, v in m : [for w in l : w if v.on] if k == "b"]',
            [["x", "y", "x"]],
        ),
    ],
)
def test_for_computed(expression: str, expected: Any) -> None:
    assert evaluate(expression) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "[for v in missing : v]",
        "[for v in l : v if missing]",
        "[for v in l : missing]",
        "{ for v in l : v => v }",
        "[for v in flags : v if v]",
        "{ for k, v in m : v => k }",
        "[for v in concat(l, missing) : v]",
        '[for v in "text" : v]',
    ],
)
def test_for_unresolved(expression: str) -> None:
    value = evaluate(expression)

    assert isinstance(value, Unresolved)
    assert value == expression


def test_for_keeps_outer_names() -> None:
    assert evaluate("[for l in m : l.n] == [1, 2] ? l : []") == ["x", "y", "x"]


def evaluate_locals(lines: list[str], name: str) -> Any:
    """Evaluate local value `name` of a `locals` block with `lines`."""
    text = "locals {\n" + "\n".join(lines) + f"\n  result = local.{name}\n}}\n"
    source = SourceFile("main.tf", "main.tf", text, text.encode("utf-8"))
    parse_hcl(source, make_parser())
    (block,) = hcl_blocks(source)
    scope = ModuleScope()
    for local, attribute in block.attributes.items():
        scope.locals[local] = Definition(UNKNOWN, attribute)
    node = block.attributes["result"].expression
    assert node is not None
    return Evaluator(scope).evaluate(node, source)


def test_local_chain_evaluated_once() -> None:
    # Each value refers to the one before twice: 2**30 evaluations without
    # remembering the values, one each with it.
    lines = ["  a0 = 1"]
    lines += [f"  a{n} = local.a{n - 1} + local.a{n - 1}" for n in range(1, 31)]

    assert evaluate_locals(lines, "a30") == 2**30


def test_doubled_list_too_large() -> None:
    # concat keeps an Unresolved argument as one item, so the list of
    # markers doubles again, up to the limit.
    lines = ['  a0 = ["x"]']
    lines += [f"  a{n} = concat(local.a{n - 1}, local.a{n - 1})" for n in range(1, 41)]

    value = evaluate_locals(lines, "a40")

    assert len(value) <= MAX_ITEMS
    assert f"more than {MAX_ITEMS} items" in value[0]


def test_nested_loops_stop_at_budget() -> None:
    items = ", ".join(f'"i{n}"' for n in range(1000))
    lines = [
        f"  big = [{items}]",
        "  pairs = [for a in local.big : [for b in local.big : b if b != a]]",
    ]

    value = evaluate_locals(lines, "pairs")

    assert isinstance(value, Unresolved)


def test_long_local_chain_unresolved() -> None:
    # Deeper chains would exceed Python's recursion limit.
    lines = ["  a0 = 1"] + [f"  a{n} = local.a{n - 1}" for n in range(1, 201)]

    value = evaluate_locals(lines, "a200")

    assert isinstance(value, Unresolved)
    assert value.endswith(f"(defined through more than {MAX_DEFINITION_DEPTH} values)")
