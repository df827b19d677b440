"""Validation of the check vocabulary and of the rule keys that go with it."""

import textwrap

import pytest
import yaml

from mfa_guard.engine.rules import RuleError, load_rule_file, load_rules

HEADER = """\
id: HOUSE002
name: house-check
severity: warning
summary: A rule that exercises one check.
message: statement {statement}
docs:
  rationale: Tests the check vocabulary.
  fix: None needed.
  references: []
"""


def write_rule(tmp_path, extra):
    path = tmp_path / "house-check.yaml"
    path.write_text(HEADER + textwrap.dedent(extra))
    return path


@pytest.mark.parametrize(
    ("check", "key", "expected"),
    [
        (
            "denies: {scenarios: [access-key], requests: [{action: iam:GetUser}], at-least: 0}",
            "check.denies.at-least",
            "expected a whole number of 1 or more",
        ),
        (
            "denies: {scenarios: [access-key], requests: statement}",
            "check.denies.requests",
            "expected a non-empty list of {action, resource} mappings",
        ),
        (
            "not-denied: {scenarios: [], requests: statement}",
            "check.not-denied.scenarios",
            "not an empty list",
        ),
        (
            "allow-differs: {scenarios: [access-key], allowed: {action: iam:GetUser}}",
            "check.allow-differs.not-allowed",
            "expected a mapping with action and resource",
        ),
        (
            "allow-differs: {scenarios: [access-key], allowed: {action: GetUser}, not-allowed: {action: iam:GetUser}}",
            "check.allow-differs.allowed.action",
            "expected an action such as iam:ChangePassword",
        ),
        (
            "condition-holds: {scenarios: [access-key], fails-in: [access-key]}",
            "check.condition-holds.fails-in",
            "unknown key; expected one of scenarios",
        ),
        (
            "condition-entries: {keys: aws:MultiFactorAuthPresent}",
            "check.condition-entries.keys",
            "expected a list of condition keys",
        ),
        (
            "condition-entries: {keys: [aws:MultiFactorAuthPresent], operators: [BoolIfExists]}",
            "check.condition-entries.operators",
            "invalid operator 'BoolIfExists'",
        ),
        (
            "condition-entries: {keys: [aws:MultiFactorAuthPresent], operators: [Null]}",
            "check.condition-entries.operators",
            "expected a list of operator names",
        ),
        (
            "condition-entries: {keys: [aws:MultiFactorAuthPresent], values: text}",
            "check.condition-entries.values",
            "expected one of boolean, number",
        ),
        (
            "condition-entries: {keys: [aws:MultiFactorAuthPresent], set-operator: 'yes'}",
            "check.condition-entries.set-operator",
            "expected true or false",
        ),
        (
            "exempts: {actions: [iam:*], scenarios: [access-key], whole-services: 1}",
            "check.exempts.whole-services",
            "expected true or false",
        ),
        (
            "exempts: {scenarios: [access-key]}",
            "check.exempts.actions",
            "expected a list of action patterns",
        ),
        (
            "unknown-actions: {elements: [Resource]}",
            "check.unknown-actions.elements",
            "invalid element 'Resource'",
        ),
        (
            "policy-variables: {elements: [Resource]}",
            "check.policy-variables.elements",
            "unknown key",
        ),
        (
            "all-of: []",
            "check.all-of",
            "expected a non-empty list of checks",
        ),
        (
            "all-of: [{diagnostic: parse-error}]",
            "check.all-of[0]",
            "expected exactly one of denies",
        ),
        (
            "none-of: [{denies: {scenarios: [console], requests: [{action: iam:GetUser}]}}]",
            "check.none-of[0].denies.scenarios",
            "unknown scenario 'console'",
        ),
        (
            "diagnostic: broken-file",
            "check.diagnostic",
            "expected one of parse-error",
        ),
    ],
)
def test_invalid_check_names_key(tmp_path, check, key, expected):
    path = write_rule(tmp_path, f"check:\n  {check}\n")
    with pytest.raises(RuleError) as caught:
        load_rule_file(path)
    assert caught.value.key == key
    assert expected in str(caught.value)
    assert str(path) in str(caught.value)


def test_every_check_validates(tmp_path):
    checks = [
        "denies: {scenarios: [access-key], requests: [{action: iam:GetUser, resource: own-user}], at-least: 1}",
        "not-denied: {scenarios: [access-key], requests: statement}",
        "not-denied: {scenarios: [access-key], requests: [{action: s3:GetObject}]}",
        "allow-differs: {scenarios: [console-with-mfa], allowed: {action: iam:CreateVirtualMFADevice, resource: user-named-mfa-device}, not-allowed: {action: iam:CreateVirtualMFADevice, resource: mfa-device}}",
        "condition-differs: {holds-in: [access-key], fails-in: [console-without-mfa]}",
        "condition-holds: {scenarios: [access-key]}",
        "condition-entries: {keys: [aws:MultiFactorAuthAge], operators: [NumericLessThan], set-operator: false, values: number}",
        "exempts: {actions: ['iam:*'], scenarios: [access-key], whole-services: true}",
        "unknown-actions: {elements: [NotAction]}",
        "policy-variables: {}",
        "all-of: [{policy-variables: {}}, {none-of: [{unknown-actions: {}}]}]",
    ]
    for check in checks:
        rule = load_rule_file(write_rule(tmp_path, f"check:\n  {check}\n"))
        assert rule.check == yaml.safe_load(check)


@pytest.mark.parametrize(
    ("extra", "key", "expected"),
    [
        (
            "severity-by-actions: [{only: [iam:CreateLoginProfile], severity: low}]",
            "severity-by-actions[0].severity",
            "invalid severity 'low'",
        ),
        (
            "severity-by-actions: [{only: iam:CreateLoginProfile, severity: warning}]",
            "severity-by-actions[0].only",
            "expected a list of action patterns",
        ),
        (
            "severity-by-actions: {only: [iam:CreateLoginProfile]}",
            "severity-by-actions",
            "expected a list of {only, severity} mappings",
        ),
        (
            "supersedes: [Password Change]",
            "supersedes[0]",
            "invalid rule reference 'Password Change'",
        ),
        (
            "location: condition",
            "location",
            "expected 'statement', 'document', 'mfa-condition' or 'condition:<key>'",
        ),
    ],
)
def test_invalid_rule_key_named(tmp_path, extra, key, expected):
    path = write_rule(tmp_path, f"check:\n  policy-variables: {{}}\n{extra}\n")
    with pytest.raises(RuleError) as caught:
        load_rule_file(path)
    assert caught.value.key == key
    assert expected in str(caught.value)


def test_severity_by_actions_loaded(tmp_path):
    extra = (
        "severity-by-actions:\n  - only: [iam:CreateLoginProfile]\n    severity: info\n"
    )
    rule = load_rule_file(
        write_rule(tmp_path, f"check:\n  policy-variables: {{}}\n{extra}")
    )
    assert rule.severity_by_actions[0].only == ("iam:CreateLoginProfile",)
    assert str(rule.severity_by_actions[0].severity) == "info"
    assert rule.with_severity(rule.severity).severity_by_actions == ()


def test_supersedes_unknown_rule_rejected(tmp_path):
    directory = tmp_path / "house"
    directory.mkdir()
    path = write_rule(
        directory, "check:\n  policy-variables: {}\nsupersedes: [no-such-rule]\n"
    )
    with pytest.raises(RuleError) as caught:
        load_rules([directory], packs=())
    assert caught.value.key == "supersedes[0]"
    assert str(path) in str(caught.value)
    assert "no loaded rule has the name or id 'no-such-rule'" in str(caught.value)


def test_supersedes_by_id_accepted(tmp_path):
    directory = tmp_path / "house"
    directory.mkdir()
    write_rule(directory, "check:\n  policy-variables: {}\nsupersedes: [MFA001]\n")
    rules = load_rules([directory], packs=())
    house = next(rule for rule in rules if rule.id == "HOUSE002")
    assert house.supersedes == ("MFA001",)
