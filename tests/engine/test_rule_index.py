"""The JSON index of the shipped rules: current, and never used for edited files."""

import json
import shutil

import pytest

from mfa_guard.engine import rule_index
from mfa_guard.engine.rule_index import INDEX_NAME, build_index, indexed_data
from mfa_guard.engine.rules import load_rule_file, load_rules, shipped_rules_dir

RULE_FILE = "access-key-bypass.yaml"


@pytest.fixture
def rules_copy(tmp_path):
    directory = tmp_path / "rules"
    shutil.copytree(shipped_rules_dir(), directory)
    rule_index._entries.cache_clear()
    yield directory
    rule_index._entries.cache_clear()


def test_shipped_index_is_current():
    written = (shipped_rules_dir() / INDEX_NAME).read_text(encoding="utf-8")
    assert written == build_index(shipped_rules_dir()), (
        "rules/index.json is stale: run python -m mfa_guard.engine.rule_index"
    )


def test_shipped_rules_load_without_yaml(monkeypatch):
    calls = []
    monkeypatch.setattr(
        "mfa_guard.engine.rules._parse_yaml", lambda *a: calls.append(a)
    )
    load_rules(packs=[])
    assert calls == []


def test_unchanged_file_found(rules_copy):
    path = rules_copy / RULE_FILE
    found, data = indexed_data(path, path.read_text(encoding="utf-8"))
    assert found
    assert data["id"] == "MFA101"


def test_edited_file_parsed_again(rules_copy):
    path = rules_copy / RULE_FILE
    path.write_text(path.read_text().replace("severity: error", "severity: info"))
    rule = load_rule_file(path, indexed=True)
    assert str(rule.severity) == "info"


@pytest.mark.parametrize("content", ["{not json", '{"format": 99, "rules": {}}', "[]"])
def test_unusable_index_ignored(rules_copy, content):
    (rules_copy / INDEX_NAME).write_text(content)
    path = rules_copy / RULE_FILE
    assert indexed_data(path, path.read_text(encoding="utf-8")) == (False, None)


def test_missing_index_ignored(rules_copy):
    (rules_copy / INDEX_NAME).unlink()
    rule = load_rule_file(rules_copy / RULE_FILE, indexed=True)
    assert rule.id == "MFA101"


def test_data_without_json_form_rejected(tmp_path):
    (tmp_path / "dated.yaml").write_text("id: X001\nwhen: 2024-01-01\n")
    with pytest.raises(ValueError, match=r"dated\.yaml"):
        build_index(tmp_path)


def test_index_lists_every_shipped_file():
    index = json.loads((shipped_rules_dir() / INDEX_NAME).read_text(encoding="utf-8"))
    names = sorted(path.name for path in shipped_rules_dir().glob("*.y*ml"))
    assert sorted(index["rules"]) == names
