"""Every rule's documented examples run as tests, and docs/rules.md is current."""

from pathlib import Path

import pytest

from mfa_guard.engine.docs import render_reference
from mfa_guard.engine.rules import load_rules

# Installed rule packs are left out: their docs are not in docs/rules.md.
RULES = load_rules(packs=())
REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "rule", [rule for rule in RULES if rule.docs.failing], ids=lambda rule: rule.name
)
def test_failing_example_reports_rule(tmp_path, run_scan, rule):
    example = rule.docs.failing
    (tmp_path / example.file_name).write_text(example.content)
    result = run_scan(tmp_path)
    assert result.located() == [(rule.name, example.line, example.column)]


@pytest.mark.parametrize(
    "rule", [rule for rule in RULES if rule.docs.passing], ids=lambda rule: rule.name
)
def test_passing_example_reports_nothing(tmp_path, run_scan, rule):
    example = rule.docs.passing
    (tmp_path / example.file_name).write_text(example.content)
    result = run_scan(tmp_path)
    assert result.findings == []
    assert result.data["summary"]["policies"] >= 1


def test_docs_rules_md_is_current():
    expected = render_reference(RULES)
    actual = (REPOSITORY / "docs" / "rules.md").read_text(encoding="utf-8")
    assert actual == expected, (
        "docs/rules.md is stale: run python -m mfa_guard.engine.docs"
    )
