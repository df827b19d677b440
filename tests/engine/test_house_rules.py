"""House rules in a `--rules` directory, run through `mfa-guard scan`."""

import textwrap

import pytest

from mfa_guard.cli import main

# The house rule of the README's "Rules" section.
ACCOUNT_ALIAS_RULE = """\
id: HOUSE001
name: account-alias-blocked
severity: warning
summary: Our MFA deny must let users without MFA read the account alias.
select: "$.Statement[?(@.Effect == 'Deny')]"
where: [mfa-deny]
check:
  denies:
    scenarios: [console-without-mfa]
    requests:
      - action: iam:ListAccountAliases
        resource: "*"
message: statement {statement} denies {action} to {who}
fix: add "iam:ListAccountAliases" to the NotAction of statement {statement}
docs:
  rationale: The sign-in page shows the account alias.
  fix: List iam:ListAccountAliases in NotAction.
  references: []
"""

# The AWS example deny with the first-sign-in exemptions; the statement
# starts at 4:5.
FORCE_MFA = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "DenyAllExceptListedIfNoMFA",
      "Effect": "Deny",
      "NotAction": ["iam:ChangePassword", "iam:GetAccountPasswordPolicy", "iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser", "iam:ListMFADevices", "iam:ListVirtualMFADevices", "iam:ResyncMFADevice", "sts:GetSessionToken"],
      "Resource": "*",
      "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    }
  ]
}
"""


@pytest.fixture
def house(tmp_path):
    """Return a function that writes one rule file into a fresh rule directory."""
    directory = tmp_path / "house-rules"
    directory.mkdir()

    def write(text, name="rule.yaml"):
        (directory / name).write_text(textwrap.dedent(text))
        return directory

    return write


@pytest.fixture
def policy(tmp_path):
    path = tmp_path / "policies" / "force_mfa.json"
    path.parent.mkdir()
    path.write_text(FORCE_MFA)
    return path


def test_readme_house_rule_fires(house, policy, run_scan):
    rules = house(ACCOUNT_ALIAS_RULE)
    result = run_scan("--rules", rules, policy)
    assert result.located() == [("account-alias-blocked", 4, 5)]
    finding = result.findings[0]
    assert finding["rule_id"] == "HOUSE001"
    assert finding["severity"] == "warning"
    assert finding["message"] == (
        'statement "DenyAllExceptListedIfNoMFA" denies iam:ListAccountAliases'
        " to an IAM user signed in to the console without MFA"
    )
    assert result.code == 0


@pytest.mark.parametrize("name", ["account-alias-blocked", "HOUSE001"])
def test_house_rule_disabled(house, policy, run_scan, name):
    rules = house(ACCOUNT_ALIAS_RULE)
    result = run_scan("--rules", rules, "--disable", name, policy)
    assert result.findings == []
    assert result.code == 0


def test_malformed_rule_stops_run(house, policy, capsys):
    rules = house(ACCOUNT_ALIAS_RULE.replace("      - action:", "      - acton:"))
    code = main(["scan", "--rules", str(rules), str(policy)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert str(rules / "rule.yaml") in captured.err
    assert "key 'check.denies.requests[0]'" in captured.err
    assert "expected a mapping with action and resource" in captured.err


def test_malformed_rule_stops_rules_command(house, capsys):
    rules = house(ACCOUNT_ALIAS_RULE.replace("severity: warning", "severity: loud"))
    code = main(["rules", "--rules", str(rules)])
    captured = capsys.readouterr()
    assert code == 2
    assert f"{rules / 'rule.yaml'}: invalid rule: key 'severity'" in captured.err
    assert "expected one of info, warning, error" in captured.err


def test_house_rule_supersedes_shipped(house, tmp_path, run_scan):
    rules = house(
        ACCOUNT_ALIAS_RULE.replace(
            "where: [mfa-deny]", "where: [mfa-deny]\nsupersedes: [MFA001]"
        ).replace("iam:ListAccountAliases", "iam:ChangePassword")
    )
    path = tmp_path / "no_password.json"
    path.write_text(
        FORCE_MFA.replace('"iam:ChangePassword", ', "").replace(
            '"iam:GetAccountPasswordPolicy", ', ""
        )
    )
    assert run_scan("--rules", rules, path).located() == [
        ("account-alias-blocked", 4, 5)
    ]
    result = run_scan("--rules", rules, "--disable", "HOUSE001", path)
    assert result.located() == [("password-change-blocked", 4, 5)]


NOT_DENIED_RULE = """\
id: HOUSE003
name: s3-delete-without-mfa
severity: error
summary: Deleting objects must need MFA.
select: "$.Statement[?(@.Effect == 'Deny')]"
where: [mfa-deny]
check:
  not-denied:
    scenarios: [access-key]
    requests:
      - action: s3:DeleteObject
        resource: arn:aws:s3:::reports/2024.csv
message: "{who} can call {action} on {resource}{conditional}"
docs:
  rationale: Deletes are destructive.
  fix: Deny them without MFA.
  references: []
"""


def test_not_denied_list_requests(house, policy, tmp_path, run_scan):
    rules = house(NOT_DENIED_RULE)
    assert run_scan("--rules", rules, policy).findings == []

    path = tmp_path / "s3_only.json"
    path.write_text(
        FORCE_MFA.replace('"NotAction": [', '"Action": ["s3:GetObject", ').replace(
            "iam:ChangePassword", "s3:ListBucket"
        )
    )
    result = run_scan("--rules", rules, path)
    assert result.located() == [
        ("s3-delete-without-mfa", 4, 5),
        ("mfa-enrollment-blocked", 4, 5),
    ]

    path.write_text(FORCE_MFA.replace('"NotAction": [', '"NotAction": ["s3:Delete*", '))
    result = run_scan("--rules", rules, path)
    assert result.located() == [
        ("s3-delete-without-mfa", 4, 5),
        ("exemption-beyond-self-service", 4, 5),
    ]

    path.write_text(
        FORCE_MFA.replace(
            '{"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}',
            '{"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}, "IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}',
        )
    )
    result = run_scan("--rules", rules, path)
    assert result.located() == [("s3-delete-without-mfa", 4, 5)]
    assert result.findings[0]["message"] == (
        "an IAM user calling with a long-term access key can call s3:DeleteObject"
        " on arn:aws:s3:::reports/2024.csv (unless the condition on aws:SourceIp holds)"
    )


CONDITION_HOLDS_RULE = """\
id: HOUSE004
name: region-deny-skips-keys
severity: info
summary: Our region deny must also apply to access keys.
where: [deny]
location: condition:aws:RequestedRegion
check:
  all-of:
    - condition-holds:
        scenarios: [console-with-mfa]
    - none-of:
        - condition-holds:
            scenarios: [access-key]
message: "{operator} on {key} in statement {statement} holds for {who}: {detail}"
docs:
  rationale: Example of condition checks.
  fix: None.
  references: []
"""

REGION_DENY = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "DenyOtherRegions",
      "Effect": "Deny",
      "Action": "*",
      "Resource": "*",
      "Condition": {
        "StringNotEquals": {"aws:RequestedRegion": "eu-west-1"},
        "Bool": {"aws:MultiFactorAuthPresent": "true"}
      }
    }
  ]
}
"""


def test_condition_holds_and_none_of(house, tmp_path, run_scan):
    rules = house(CONDITION_HOLDS_RULE)
    path = tmp_path / "regions.json"
    path.write_text(REGION_DENY)
    result = run_scan("--rules", rules, path)
    # The deny limits MFA sessions to one region on purpose: it tests another
    # key besides MFA, so mfa-deny-inverted does not report it.
    assert result.located() == [("region-deny-skips-keys", 10, 9)]
    assert result.findings[0]["severity"] == "info"
    assert result.findings[0]["message"].startswith(
        "StringNotEquals on aws:RequestedRegion in statement"
        ' "DenyOtherRegions" holds for an IAM user signed in to the console with MFA:'
    )

    path.write_text(
        REGION_DENY.replace(
            '"Bool": {"aws:MultiFactorAuthPresent": "true"}',
            '"Bool": {"aws:SecureTransport": "true"}',
        )
    )
    assert run_scan("--rules", rules, path).findings == []


AGE_VALUE_RULE = """\
id: HOUSE005
name: mfa-age-not-a-number
severity: error
summary: MFA age limits must be numbers of seconds.
check:
  condition-entries:
    keys: [aws:MultiFactorAuthAge]
    set-operator: false
    values: number
message: "{operator} on {key} in statement {statement} {detail}"
docs:
  rationale: Numeric operators compare numbers.
  fix: Write the age in seconds.
  references: []
"""

AGE_DENY = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "DenyStaleMFA",
      "Effect": "Deny",
      "Action": "ec2:TerminateInstances",
      "Resource": "*",
      "Condition": {"NumericGreaterThanIfExists": {"aws:MultiFactorAuthAge": "one hour"}}
    }
  ]
}
"""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"one hour"', [("mfa-age-not-a-number", 9, 52)]),
        ('"3600"', []),
        ("3600", []),
        ("[3600, 7200]", [("mfa-age-not-a-number", 9, 52)]),
    ],
)
def test_condition_entries_number_values(house, tmp_path, run_scan, value, expected):
    rules = house(AGE_VALUE_RULE)
    path = tmp_path / "age.json"
    path.write_text(AGE_DENY.replace('"one hour"', value))
    result = run_scan("--rules", rules, "--disable", "MFA104", path)
    assert result.located() == expected


def test_condition_entries_skip_set_operator(house, tmp_path, run_scan):
    rules = house(AGE_VALUE_RULE)
    path = tmp_path / "age.json"
    path.write_text(
        AGE_DENY.replace(
            '"NumericGreaterThanIfExists"', '"ForAnyValue:NumericGreaterThan"'
        )
    )
    result = run_scan("--rules", rules, path)
    assert result.located() == [
        ("mfa-age-bypass", 9, 21),
        ("set-operator-on-mfa-key", 9, 21),
    ]


UNKNOWN_IN_ACTION_RULE = """\
id: HOUSE006
name: unknown-allowed-action
severity: info
summary: Allowed actions must exist.
select: "$.Statement[?(@.Effect == 'Allow')]"
check:
  unknown-actions:
    elements: [Action]
message: "statement {statement} allows {action}, which {detail}"
docs:
  rationale: A typo grants nothing.
  fix: Correct it.
  references: []
"""

ALLOW_TYPO = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AllowOwnMFA",
      "Effect": "Allow",
      "Action": [
        "iam:EnableMFADevice",
        "iam:ListMFADevice"
      ],
      "Resource": "arn:aws:iam::*:user/${aws:username}"
    }
  ]
}
"""


def test_unknown_actions_in_allow(house, tmp_path, run_scan):
    rules = house(UNKNOWN_IN_ACTION_RULE)
    path = tmp_path / "allow.json"
    path.write_text(ALLOW_TYPO)
    result = run_scan("--rules", rules, path)
    assert result.located() == [("unknown-allowed-action", 9, 9)]
    assert result.findings[0]["message"] == (
        'statement "AllowOwnMFA" allows iam:ListMFADevice, which is not an action'
        " of iam (did you mean iam:ListMFADevices?)"
    )
