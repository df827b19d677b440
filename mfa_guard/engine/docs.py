"""Render rule documentation from rule files, for `explain` and docs/rules.md."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from types import ModuleType

from mfa_guard.engine.autofix import describe_autofix
from mfa_guard.engine.rules import Rule, RuleExample

_FENCES = {
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".tf": "hcl",
    ".template": "yaml",
}


def _example(title: str, example: RuleExample) -> list[str]:
    language = next(
        (
            fence
            for suffix, fence in _FENCES.items()
            if example.file_name.endswith(suffix)
        ),
        "",
    )
    where = (
        f" (reported at line {example.line}, column {example.column})"
        if example.line
        else ""
    )
    return [
        f"{title}, `{example.file_name}`{where}:",
        "",
        f"```{language}",
        example.content.rstrip("\n"),
        "```",
        "",
    ]


def _severity_text(rule: Rule) -> str:
    text = f"Default severity: {rule.severity}"
    for override in rule.severity_by_actions:
        actions = ", ".join(f"`{action}`" for action in override.only)
        text += f"; {override.severity} when a finding reports only {actions}"
    return text + "."


def render_rule(rule: Rule, heading: str = "#") -> str:
    lines = [
        f"{heading} {rule.id} {rule.name}",
        "",
        _severity_text(rule),
        "",
        rule.summary,
        "",
    ]
    if rule.supersedes:
        names = ", ".join(f"`{name}`" for name in rule.supersedes)
        lines += [f"Replaces the findings of {names} on the same statement.", ""]
    lines += [
        f"{heading}# Why",
        "",
        rule.docs.rationale,
        "",
        f"{heading}# Fix",
        "",
        rule.docs.fix,
        "",
    ]
    if rule.autofix is not None:
        lines += [describe_autofix(rule.autofix), ""]
    if rule.docs.limitations:
        lines += [f"{heading}# Limitations", "", rule.docs.limitations, ""]
    if rule.docs.failing or rule.docs.passing:
        lines += [f"{heading}# Examples", ""]
        if rule.docs.failing:
            lines += _example("Reported", rule.docs.failing)
        if rule.docs.passing:
            lines += _example("Not reported", rule.docs.passing)
    if rule.docs.references:
        lines += [f"{heading}# References", ""]
        lines += [f"- <{url}>" for url in rule.docs.references]
        lines.append("")
    return "\n".join(lines)


def _module_text(module: ModuleType) -> str:
    """Return a module docstring without its summary paragraph."""
    text = inspect.cleandoc(module.__doc__ or "")
    return text.split("\n\n", 1)[-1]


def render_rule_format() -> str:
    """Render the reference for rule authors from the engine's module docstrings."""
    from mfa_guard.engine import (
        autofix,
        checks,
        packs,
        predicates,
        rules,
        user_predicates,
    )

    sections = [
        ("Rule files", rules),
        ("Predicates", predicates),
        ("User predicates", user_predicates),
        ("Checks", checks),
        ("Automatic fixes", autofix),
        ("Rule packs", packs),
    ]
    lines = ["# Writing rules", ""]
    for title, module in sections:
        lines += [f"## {title}", "", _module_text(module), ""]
    return "\n".join(lines)


def render_reference(rules: Sequence[Rule]) -> str:
    """Render docs/rules.md: an index table, each rule's documentation, then the rule format."""
    ordered = sorted(rules, key=lambda rule: rule.id)
    lines = [
        "# Rule reference",
        "",
        "Generated from the files in `rules/` and the engine's documentation by `python -m mfa_guard.engine.docs`; do not edit by hand.",
        "How to write your own rules is described under [Writing rules](#writing-rules).",
        "",
        "| id | name | severity | summary |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| {rule.id} | [`{rule.name}`](#{rule.id.lower()}-{rule.name}) | {rule.severity} | {rule.summary} |"
        for rule in ordered
    ]
    lines.append("")
    for rule in ordered:
        lines.append(render_rule(rule, heading="##"))
    lines.append(render_rule_format())
    return "\n".join(lines).rstrip("\n") + "\n"


if __name__ == "__main__":
    import sys
    from pathlib import Path

    from mfa_guard.engine.rules import load_rules

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/rules.md")
    target.write_text(render_reference(load_rules(packs=())), encoding="utf-8")
    print(f"wrote {target}")
