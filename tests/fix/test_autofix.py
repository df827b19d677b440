"""The `autofix` key of rule files, and the fixes the engine attaches to findings."""

import json
import textwrap

import pytest

from mfa_guard.engine.autofix import parse_autofix
from mfa_guard.engine.rules import RuleError, load_rule_file, load_rules
from mfa_guard.engine.runner import Analyzer
from mfa_guard.loaders.dispatch import load_file
from mfa_guard.model import SourceSpan

RULE = """\
id: HOUSE001
name: account-alias-blocked
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
autofix:
  add-to-list:
    element: NotAction
    values: [iam:ListAccountAliases]
docs:
  rationale: The sign-in page shows the account alias.
  fix: Add iam:ListAccountAliases to NotAction.
  references: []
"""


def write_rule(tmp_path, text):
    path = tmp_path / "rule.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_house_rule_autofix_loads(tmp_path):
    rule = load_rule_file(write_rule(tmp_path, RULE))
    assert rule.autofix is not None
    assert rule.autofix.kind == "add-to-list"
    assert rule.autofix.element == "NotAction"
    assert rule.autofix.values == ("iam:ListAccountAliases",)


@pytest.mark.parametrize(
    ("data", "key", "expected"),
    [
        ({"rename": {}}, "autofix", "expected exactly one of"),
        ({"add-to-list": []}, "autofix.add-to-list", "expected a mapping"),
        (
            {"add-to-list": {"element": "Principal", "values": ["a"]}},
            "autofix.add-to-list.element",
            "expected one of Action, NotAction",
        ),
        (
            {"add-to-list": {"element": "NotAction", "values": []}},
            "autofix.add-to-list.values",
            "not an empty list",
        ),
        (
            {"add-to-list": {"element": "NotAction", "values": ['a"b']}},
            "autofix.add-to-list.values[0]",
            "invalid entry",
        ),
        (
            {"add-to-list": {"element": "Resource", "values": "reported-actions"}},
            "autofix.add-to-list.values",
            "needs element Action or NotAction",
        ),
        (
            {"add-to-list": {"element": "NotAction", "values": ["a"], "at": 1}},
            "autofix.add-to-list.at",
            "unknown key",
        ),
        (
            {"replace-operator": {"from": "Bool", "to": "Bool"}},
            "autofix.replace-operator.to",
            "other than 'from'",
        ),
        (
            {"replace-operator": {"from": "Bool If", "to": "BoolIfExists"}},
            "autofix.replace-operator.from",
            "expected a condition operator",
        ),
        (
            {"replace-resource-variable": {"find": "mfa/phone", "replace": "mfa/*"}},
            "autofix.replace-resource-variable.find",
            "ends with one policy variable",
        ),
        (
            {
                "replace-resource-variable": {
                    "find": "mfa/${aws:username}",
                    "replace": "mfa/${aws:userid}",
                }
            },
            "autofix.replace-resource-variable.replace",
            "expected text without",
        ),
        (
            {
                "replace-resource-variable": {
                    "find": "mfa/${aws:username}",
                    "replace": "mfa/*",
                    "only-actions": "iam:CreateVirtualMFADevice",
                }
            },
            "autofix.replace-resource-variable.only-actions",
            "expected a list of actions",
        ),
    ],
)
def test_invalid_autofix_names_key(tmp_path, data, key, expected):
    path = tmp_path / "rule.yaml"
    with pytest.raises(RuleError) as caught:
        parse_autofix(data, path)
    assert caught.value.key == key
    assert expected in str(caught.value)


def test_invalid_autofix_in_rule_file(tmp_path):
    text = RULE.replace("element: NotAction", "element: Statement")
    with pytest.raises(RuleError, match=r"autofix\.add-to-list\.element"):
        load_rule_file(write_rule(tmp_path, text))


def policy(*statements):
    return json.dumps(
        {"Version": "2012-10-17", "Statement": list(statements)}, indent=2
    )


def deny(condition, **elements):
    return {
        "Effect": "Deny",
        **elements,
        "Resource": "*",
        "Condition": condition,
    }


ENROLLMENT = [
    "iam:CreateVirtualMFADevice",
    "iam:EnableMFADevice",
    "iam:GetUser",
    "iam:ListMFADevices",
    "iam:ListVirtualMFADevices",
]
IF_NO_MFA = {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}


def autofixes(tmp_path, text):
    path = tmp_path / "policy.json"
    path.write_text(text)
    loaded = load_file(path)
    findings = Analyzer(load_rules(packs=())).analyze(loaded.documents)
    return {finding.rule_name: finding.autofix for finding in findings}


def test_password_change_fix_attached(tmp_path):
    text = policy(deny(IF_NO_MFA, NotAction=ENROLLMENT))
    autofix = autofixes(tmp_path, text)["password-change-blocked"]
    assert autofix.kind == "add-to-list"
    assert autofix.element == "NotAction"
    assert autofix.new == ("iam:ChangePassword", "iam:GetAccountPasswordPolicy")
    assert autofix.statement == SourceSpan(str(tmp_path / "policy.json"), 4, 5, 19, 6)
    assert autofix.description == (
        'add "iam:ChangePassword", "iam:GetAccountPasswordPolicy" to NotAction'
    )


def test_covered_value_not_added(tmp_path):
    text = policy(deny(IF_NO_MFA, NotAction=[*ENROLLMENT, "iam:GetAccount*"]))
    autofix = autofixes(tmp_path, text)["password-change-blocked"]
    assert autofix.new == ("iam:ChangePassword",)


def test_enrollment_fix_adds_reported_actions(tmp_path):
    text = policy(deny(IF_NO_MFA, NotAction=["iam:ChangePassword", "iam:GetUser"]))
    autofix = autofixes(tmp_path, text)["mfa-enrollment-blocked"]
    assert autofix.new == (
        "iam:CreateVirtualMFADevice",
        "iam:EnableMFADevice",
        "iam:ListMFADevices",
        "iam:ListVirtualMFADevices",
    )


def test_deny_on_all_actions_has_no_fix(tmp_path):
    found = autofixes(tmp_path, policy(deny(IF_NO_MFA, Action="*")))
    assert found["password-change-blocked"] is None
    assert found["mfa-enrollment-blocked"] is None


def test_bool_fix_attached(tmp_path):
    condition = {"Bool": {"aws:MultiFactorAuthPresent": "false"}}
    text = policy(deny(condition, NotAction=["iam:*", "sts:GetSessionToken"]))
    autofix = autofixes(tmp_path, text)["access-key-bypass"]
    assert autofix.kind == "replace-operator"
    assert autofix.old == "Bool"
    assert autofix.new == ("BoolIfExists",)


def test_shared_bool_operator_has_no_fix(tmp_path):
    condition = {
        "Bool": {"aws:MultiFactorAuthPresent": "false", "aws:SecureTransport": "true"}
    }
    text = policy(deny(condition, NotAction=["iam:*", "sts:GetSessionToken"]))
    assert autofixes(tmp_path, text)["access-key-bypass"] is None


def test_existing_target_operator_has_no_fix(tmp_path):
    condition = {
        "Bool": {"aws:MultiFactorAuthPresent": "false"},
        "BoolIfExists": {"aws:SecureTransport": "true"},
    }
    text = policy(deny(condition, NotAction=["iam:*", "sts:GetSessionToken"]))
    assert autofixes(tmp_path, text)["access-key-bypass"] is None


def allow_devices(actions):
    return {
        "Effect": "Allow",
        "Action": actions,
        "Resource": "arn:aws:iam::*:mfa/${aws:username}",
    }


def test_pinned_device_fix_attached(tmp_path):
    text = policy(allow_devices(["iam:CreateVirtualMFADevice"]))
    autofix = autofixes(tmp_path, text)["mfa-device-name-pinned"]
    assert autofix.kind == "replace-resource-variable"
    assert autofix.old == "mfa/${aws:username}"
    assert autofix.new == ("mfa/*",)


def test_pinned_device_with_delete_has_no_fix(tmp_path):
    actions = ["iam:CreateVirtualMFADevice", "iam:DeleteVirtualMFADevice"]
    text = policy(allow_devices(actions))
    assert autofixes(tmp_path, text)["mfa-device-name-pinned"] is None
