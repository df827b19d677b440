import textwrap

import pytest

from mfa_guard.engine.rules import (
    RuleError,
    load_rule_file,
    load_rules,
    shipped_rules_dir,
)
from mfa_guard.model import Severity

VALID = """\
id: HOUSE001
name: list-account-aliases-blocked
severity: warning
summary: Our MFA deny must exempt iam:ListAccountAliases.
select: "$.Statement[?(@.Effect == 'Deny')]"
where: [mfa-deny]
check:
  denies:
    scenarios: [console-without-mfa]
    requests:
      - action: iam:ListAccountAliases
        resource: "*"
message: statement {statement} denies {action} to {who}
docs:
  rationale: The sign-in page shows the account alias.
  fix: Add iam:ListAccountAliases to NotAction.
  references: []
"""


def write_rule(tmp_path, text, name="rule.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_valid_rule_loads(tmp_path):
    rule = load_rule_file(write_rule(tmp_path, VALID))
    assert rule.id == "HOUSE001"
    assert rule.severity is Severity.WARNING
    assert rule.where == ("mfa-deny",)


@pytest.mark.parametrize(
    ("old", "new", "key", "expected"),
    [
        (
            "severity: warning",
            "severity: fatal",
            "severity",
            "invalid severity 'fatal'",
        ),
        ("id: HOUSE001", "id: house-1", "id", "invalid id"),
        (
            "name: list-account-aliases-blocked",
            "name: List Aliases",
            "name",
            "invalid name",
        ),
        (
            "where: [mfa-deny]",
            "where: [mfa-denny]",
            "where[0]",
            "unknown predicate 'mfa-denny'",
        ),
        (
            "scenarios: [console-without-mfa]",
            "scenarios: [console]",
            "check.denies.scenarios",
            "unknown scenario 'console'",
        ),
        (
            "message: statement {statement}",
            "message: statement {statement.__class__}",
            "message",
            "invalid placeholder",
        ),
        (
            "select: \"$.Statement[?(@.Effect == 'Deny')]\"",
            'select: "$.Statement[?("',
            "select",
            "invalid JSONPath",
        ),
        (
            "check:\n  denies:",
            "check:\n  run_python:",
            "check",
            "expected exactly one of",
        ),
        ("summary:", "sumary:", "sumary", "unknown key"),
        (
            '        resource: "*"',
            "        resource: 7",
            "check.denies.requests[0].resource",
            "expected an ARN",
        ),
    ],
)
def test_invalid_rule_names_file_and_key(tmp_path, old, new, key, expected):
    assert old in VALID
    path = write_rule(tmp_path, VALID.replace(old, new))
    with pytest.raises(RuleError) as caught:
        load_rule_file(path)
    assert caught.value.key == key
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_missing_key_named(tmp_path):
    path = write_rule(tmp_path, VALID.replace("severity: warning\n", ""))
    with pytest.raises(RuleError, match="key 'severity': missing"):
        load_rule_file(path)


def test_invalid_yaml_named(tmp_path):
    path = write_rule(tmp_path, "id: [unclosed\n")
    with pytest.raises(RuleError, match="invalid YAML"):
        load_rule_file(path)


def test_python_tags_rejected(tmp_path):
    path = write_rule(
        tmp_path, VALID + "extra: !!python/object/apply:os.system ['true']\n"
    )
    with pytest.raises(RuleError):
        load_rule_file(path)


def test_duplicate_rule_id_rejected(tmp_path):
    directory = tmp_path / "house"
    directory.mkdir()
    write_rule(directory, VALID.replace("HOUSE001", "MFA001"))
    with pytest.raises(RuleError, match="'MFA001' is already used"):
        load_rules([directory])


def test_user_directory_rules_added(tmp_path):
    directory = tmp_path / "house"
    directory.mkdir()
    write_rule(directory, VALID)
    rules = load_rules([directory])
    assert "HOUSE001" in [rule.id for rule in rules]
    assert next(rule for rule in rules if rule.id == "HOUSE001").pack == str(directory)


def test_shipped_rules_complete():
    rules = load_rules(packs=())
    assert len(rules) == len(list(shipped_rules_dir().glob("*.yaml")))
    for rule in rules:
        assert rule.docs.rationale, rule.id
        assert rule.docs.fix, rule.id
        assert rule.docs.references, rule.id
        assert rule.source.endswith(f"{rule.name}.yaml"), rule.id


def test_misspelt_request_action_warned(tmp_path, caplog):
    write_rule(
        tmp_path, VALID.replace("iam:ListAccountAliases", "iam:ListAcountAliases")
    )

    rules = load_rules([tmp_path], packs=[])

    assert "HOUSE001" in [rule.id for rule in rules]
    assert (
        "rule HOUSE001 requests iam:ListAcountAliases, which is not an action in the"
        " IAM action catalogue; check its spelling"
    ) in caplog.text


def test_known_request_action_not_warned(tmp_path, caplog):
    write_rule(tmp_path, VALID)

    load_rules([tmp_path], packs=[])

    assert "not an action in the IAM action catalogue" not in caplog.text


def test_empty_rule_folder_warned(tmp_path, caplog):
    load_rules([tmp_path], packs=[])

    assert f"{tmp_path}: no rule files (*.yaml or *.yml) in this rule folder" in (
        caplog.text
    )
