"""The collection kind of a `for_each` or `count`, inferred from the syntax alone."""

from __future__ import annotations

import pytest

from mfa_guard.loaders.hcl_source import SourceFile, make_parser, parse_hcl
from mfa_guard.loaders.terraform_blocks import hcl_attributes, hcl_blocks
from mfa_guard.loaders.terraform_collections import collection_kind
from mfa_guard.loaders.terraform_primitives import PrimitiveContext
from mfa_guard.loaders.terraform_scope import Definition

DECLARATIONS = """
variable "names" {
  type = list(string)
}
variable "ids" {
  type = set(string)
}
variable "settings" {
  type = object({ a = string })
}
variable "legacy" {
  type = "list"
}
variable "untyped" {
  default = ["a"]
}
variable "assigned" {}
locals {
  items = concat(var.names, ["b"])
  keyed = { a = 1 }
}
"""


def parse(name: str, text: str) -> SourceFile:
    source = SourceFile(name, name, text, text.encode("utf-8"))
    parse_hcl(source, make_parser())
    return source


def kind_of(expression: str) -> str | None:
    source = parse(
        "main.tf", f'{DECLARATIONS}resource "r" "x" {{\n  for_each = {expression}\n}}\n'
    )
    blocks = hcl_blocks(source)
    tfvars = hcl_attributes(parse("terraform.tfvars", 'assigned = ["a"]\n'))
    variables = {"assigned": Definition(["a"], tfvars["assigned"])}
    return collection_kind(
        blocks[-1].attributes["for_each"], PrimitiveContext.of_blocks(blocks), variables
    )


@pytest.mark.parametrize(
    ("expression", "kind"),
    [
        ('["a"]', "list"),
        ("[for k in var.ids : k]", "list"),
        ("{ for k in var.ids : k => k }", "map"),
        ("{ a = 1 }", "map"),
        ('split(",", "a,b")', "list"),
        ("keys(local.keyed)", "list"),
        ('toset(["a"])', "set"),
        ("merge(local.keyed)", "map"),
        ('var.names == [] ? [] : ["a"]', "list"),
        ('var.names == [] ? toset([]) : ["a"]', None),
        ('try(var.names, ["a"])', "list"),
        ("local.items", "list"),
        ("local.keyed", "map"),
        ("var.names", "list"),
        ("var.ids", "set"),
        ("var.settings", "map"),
        ("var.legacy", "list"),
        ("var.untyped", None),
        ("var.assigned", "list"),
        ("var.missing", None),
        ('lookup(local.keyed, "a")', None),
    ],
)
def test_collection_kind(expression: str, kind: str | None) -> None:
    assert kind_of(expression) == kind
