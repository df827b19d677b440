"""Shipped rules on policies beyond their documented examples."""

import json

import pytest

from tests.policies import ENROLLMENT, FIRST_SIGN_IN

# The NotAction list of the AWS example for self-managed credentials with MFA.
AWS_DOCUMENTED = [*ENROLLMENT, "sts:GetSessionToken"]


def deny_except(entries):
    """Return an MFA deny whose statement starts at 4:5 and whose first
    NotAction entry is at 8:9, one entry per line."""
    listed = ",\n".join(f'        "{entry}"' for entry in entries)
    return f"""{{
  "Version": "2012-10-17",
  "Statement": [
    {{
      "Sid": "DenyAllExceptListedIfNoMFA",
      "Effect": "Deny",
      "NotAction": [
{listed}
      ],
      "Resource": "*",
      "Condition": {{"BoolIfExists": {{"aws:MultiFactorAuthPresent": "false"}}}}
    }}
  ]
}}
"""


NOT_ACTION_IAM = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "DenyAllUsersNotUsingMFA",
      "Effect": "Deny",
      "NotAction": "iam:*",
      "Resource": "*",
      "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    }
  ]
}
"""


def scan_policy(tmp_path, run_scan, text, name="policy.json"):
    path = tmp_path / name
    path.write_text(text)
    return run_scan(path)


def test_not_action_iam_wildcard_exempts_sensitive(tmp_path, run_scan):
    result = scan_policy(tmp_path, run_scan, NOT_ACTION_IAM)
    assert result.located() == [("sensitive-action-exempted", 4, 5)]
    finding = result.findings[0]
    assert finding["severity"] == "error"
    for action in (
        "iam:DeactivateMFADevice",
        "iam:CreateAccessKey",
        "iam:AttachUserPolicy",
        "iam:PutUserPolicy",
        "iam:CreateLoginProfile",
    ):
        assert action in finding["message"]
    assert 'NotAction "iam:*"' in finding["message"]
    assert result.code == 1


def test_mfa_device_glob_exempts_removal(tmp_path, run_scan):
    text = deny_except([*FIRST_SIGN_IN, "iam:*MFADevice", *ENROLLMENT[2:5]])
    result = scan_policy(tmp_path, run_scan, text)
    assert result.located() == [("sensitive-action-exempted", 4, 5)]
    message = result.findings[0]["message"]
    assert "iam:DeactivateMFADevice, iam:DeleteVirtualMFADevice" in message
    assert "iam:CreateAccessKey" not in message
    assert 'NotAction "iam:*MFADevice"' in message


def test_aws_documented_list_exempts_nothing_sensitive(tmp_path, run_scan):
    result = scan_policy(tmp_path, run_scan, deny_except(AWS_DOCUMENTED))
    assert result.located() == [("password-change-blocked", 4, 5)]


def test_aws_list_with_first_sign_in_passes(tmp_path, run_scan):
    text = deny_except([*FIRST_SIGN_IN, *AWS_DOCUMENTED])
    result = scan_policy(tmp_path, run_scan, text)
    assert result.findings == []
    assert result.code == 0


def test_typo_reports_unknown_action_and_lockout(tmp_path, run_scan):
    text = deny_except(["iam:ChangePasword", *AWS_DOCUMENTED])
    result = scan_policy(tmp_path, run_scan, text)
    assert result.located() == [
        ("password-change-blocked", 4, 5),
        ("unknown-action", 8, 9),
    ]
    unknown = result.findings[1]
    assert unknown["severity"] == "warning"
    assert '"iam:ChangePasword"' in unknown["message"]
    assert "did you mean iam:ChangePassword?" in unknown["message"]


@pytest.mark.parametrize(
    ("entry", "detail"),
    [
        ("iam:ChangePasswords*", "matches no action in the catalogue"),
        ("iamx:ChangePassword", 'names the service prefix "iamx"'),
        ("ChangePassword", "is not of the form service:action"),
    ],
)
def test_unknown_action_forms(tmp_path, run_scan, entry, detail):
    text = deny_except([*FIRST_SIGN_IN, *AWS_DOCUMENTED, entry])
    result = scan_policy(tmp_path, run_scan, text)
    assert result.located() == [("unknown-action", 17, 9)]
    assert detail in result.findings[0]["message"]


def test_action_case_is_not_a_typo(tmp_path, run_scan):
    text = deny_except(
        ["IAM:changepassword", "iam:getaccountpasswordpolicy", *AWS_DOCUMENTED]
    )
    result = scan_policy(tmp_path, run_scan, text)
    assert result.findings == []


def test_login_profile_writes_only_warn(tmp_path, run_scan):
    text = deny_except([*FIRST_SIGN_IN, *AWS_DOCUMENTED, "iam:*LoginProfile"])
    result = scan_policy(tmp_path, run_scan, text)
    assert result.located() == [("sensitive-action-exempted", 4, 5)]
    finding = result.findings[0]
    assert finding["severity"] == "warning"
    assert (
        "iam:CreateLoginProfile, iam:DeleteLoginProfile, iam:UpdateLoginProfile"
        in finding["message"]
    )
    assert "iam:GetLoginProfile" not in finding["message"]
    assert result.code == 0


def test_login_profile_and_access_key_error(tmp_path, run_scan):
    entries = [*FIRST_SIGN_IN, *AWS_DOCUMENTED, "iam:UpdateLoginProfile"]
    text = deny_except([*entries, "iam:CreateAccessKey"])
    result = scan_policy(tmp_path, run_scan, text)
    assert result.located() == [("sensitive-action-exempted", 4, 5)]
    assert result.findings[0]["severity"] == "error"


def test_whole_service_exemption_reported(tmp_path, run_scan):
    text = deny_except([*FIRST_SIGN_IN, *AWS_DOCUMENTED, "s3:*"])
    result = scan_policy(tmp_path, run_scan, text)
    assert result.located() == [("sensitive-action-exempted", 4, 5)]
    assert "can call s3:* wherever" in result.findings[0]["message"]


def test_resync_missing_is_warning(tmp_path, run_scan):
    entries = [*FIRST_SIGN_IN, *ENROLLMENT[:5], "sts:GetSessionToken"]
    result = scan_policy(tmp_path, run_scan, deny_except(entries))
    assert result.located() == [("mfa-resync-blocked", 4, 5)]
    finding = result.findings[0]
    assert finding["severity"] == "warning"
    assert finding["message"].startswith(
        'statement "DenyAllExceptListedIfNoMFA" explicitly denies iam:ResyncMFADevice'
        " on the user's own ARN (arn:aws:iam::123456789012:user/alice) to an IAM"
        " user calling with a long-term access key:"
    )


def test_deny_all_reports_enrollment_not_resync(tmp_path, run_scan):
    text = NOT_ACTION_IAM.replace('"NotAction": "iam:*"', '"Action": "*"')
    result = scan_policy(tmp_path, run_scan, text)
    assert result.located() == [
        ("password-change-blocked", 4, 5),
        ("mfa-enrollment-blocked", 4, 5),
    ]


def test_inverted_list_disabled_shows_superseded(tmp_path, run_scan):
    text = deny_except(AWS_DOCUMENTED).replace('"NotAction"', '"Action"')
    path = tmp_path / "inverted.json"
    path.write_text(text)
    assert run_scan(path).located() == [("inverted-exemption-list", 4, 5)]

    result = run_scan(path, "--disable", "inverted-exemption-list")
    assert result.located() == [("mfa-enrollment-blocked", 4, 5)]


def test_targeted_deny_is_not_inverted(tmp_path, run_scan):
    text = NOT_ACTION_IAM.replace(
        '"NotAction": "iam:*"',
        '"Action": ["iam:DeactivateMFADevice", "iam:DeleteVirtualMFADevice"]',
    )
    result = scan_policy(tmp_path, run_scan, text)
    assert result.findings == []


ALLOW_WITH_DENY = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AllowAllWithMFA",
      "Effect": "Allow",
      "Action": "*",
      "Resource": "*",
      "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}
    },
    {
      "Sid": "DenyAllExceptListedIfNoMFA",
      "Effect": "Deny",
      "NotAction": ["iam:ChangePassword", "iam:GetAccountPasswordPolicy", "iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser", "iam:ListMFADevices", "iam:ListVirtualMFADevices", "iam:ResyncMFADevice"],
      "Resource": "*",
      "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    }
  ]
}
"""


def test_ifexists_allow_covered_by_deny(tmp_path, run_scan):
    result = scan_policy(tmp_path, run_scan, ALLOW_WITH_DENY)
    # The only Allow requires MFA, so the exemptions grant nothing without MFA.
    assert [f["rule_name"] for f in result.findings] == ["exemption-not-allowed"]


def test_ifexists_allow_alone_reported(tmp_path, run_scan):
    text = ALLOW_WITH_DENY.replace('"Effect": "Deny"', '"Effect": "Allow"').replace(
        '"aws:MultiFactorAuthPresent": "false"', '"aws:SecureTransport": "true"'
    )
    result = scan_policy(tmp_path, run_scan, text)
    assert result.located() == [("allow-ifexists-mfa", 9, 21)]
    message = result.findings[0]["message"]
    assert message.startswith(
        "an IAM user calling with a long-term access key sends no MFA keys"
    )
    assert 'no statement of the policy denies * on "*"' in message


def test_age_ifexists_allow_reported(tmp_path, run_scan):
    text = NOT_ACTION_IAM.replace('"Effect": "Deny"', '"Effect": "Allow"').replace(
        '"NotAction": "iam:*"', '"Action": "ec2:TerminateInstances"'
    )
    text = text.replace(
        '{"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}',
        '{"NumericLessThanIfExists": {"aws:MultiFactorAuthAge": "3600"}}',
    )
    result = scan_policy(tmp_path, run_scan, text)
    assert result.located() == [("allow-ifexists-mfa", 9, 21)]
    message = result.findings[0]["message"]
    assert "NumericLessThanIfExists test on aws:MultiFactorAuthAge" in message


def test_set_operator_allow_reported_once(tmp_path, run_scan):
    text = NOT_ACTION_IAM.replace('"Effect": "Deny"', '"Effect": "Allow"').replace(
        '"NotAction": "iam:*"', '"Action": "ec2:TerminateInstances"'
    )
    text = text.replace(
        '{"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}',
        '{"ForAllValues:Bool": {"aws:MultiFactorAuthPresent": "true"}}',
    )
    result = scan_policy(tmp_path, run_scan, text)
    assert result.located() == [("set-operator-on-mfa-key", 9, 21)]
    assert "it is true for a request without the key" in result.findings[0]["message"]


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ('"False "', 'has the value "False ", which is not "true" or "false"'),
        ('["true", "false"]', 'has 2 values, ["true", "false"], and IAM ORs them'),
        ("[]", "has no value"),
        ("1", 'has the value 1, which is not "true" or "false"'),
    ],
)
def test_invalid_boolean_values(tmp_path, run_scan, value, detail):
    text = deny_except([*FIRST_SIGN_IN, *AWS_DOCUMENTED]).replace(
        '"aws:MultiFactorAuthPresent": "false"',
        f'"aws:MultiFactorAuthPresent": {value}',
    )
    result = scan_policy(tmp_path, run_scan, text)
    names = [name for name, _, _ in result.located()]
    assert ("invalid-mfa-condition-value", 19, 38) in result.located()
    assert names.count("invalid-mfa-condition-value") == 1
    finding = result.findings[names.index("invalid-mfa-condition-value")]
    assert detail in finding["message"]


def test_json_boolean_value_valid(tmp_path, run_scan):
    text = deny_except([*FIRST_SIGN_IN, *AWS_DOCUMENTED]).replace(
        '"aws:MultiFactorAuthPresent": "false"', '"aws:MultiFactorAuthPresent": false'
    )
    result = scan_policy(tmp_path, run_scan, text)
    assert result.findings == []


POLICY_DOCUMENT_TF = """data "aws_iam_policy_document" "own_password" {
  statement {
    sid       = "AllowManageOwnPasswords"
    actions   = ["iam:ChangePassword", "iam:GetUser"]
    resources = ["arn:aws:iam::*:user/$${aws:username}"]
  }
}

resource "aws_iam_policy" "own_password" {
  name   = "own-password"
  policy = data.aws_iam_policy_document.own_password.json
}
"""


def test_policy_document_version_defaults(tmp_path, run_scan):
    (tmp_path / "main.tf").write_text(POLICY_DOCUMENT_TF)
    result = run_scan(tmp_path)
    assert result.findings == []
    assert result.data["summary"]["policies"] == 1


def test_old_version_variables_literal(tmp_path, run_scan):
    text = POLICY_DOCUMENT_TF.replace(
        "  statement {\n", '  version = "2008-10-17"\n\n  statement {\n', 1
    )
    (tmp_path / "main.tf").write_text(text)
    result = run_scan(tmp_path)
    assert result.located() == [("policy-variables-literal", 7, 18)]
    assert "uses ${aws:username}" in result.findings[0]["message"]


def test_template_references_are_not_variables(tmp_path, run_scan):
    text = NOT_ACTION_IAM.replace('  "Version": "2012-10-17",\n', "").replace(
        '"NotAction": "iam:*",\n      "Resource": "*"',
        '"Action": "s3:GetObject",\n      "Resource": "arn:aws:s3:::${AWS::AccountId}-logs/*"',
    )
    text = text.replace(
        '"Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}',
        '"Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}',
    )
    result = scan_policy(tmp_path, run_scan, text)
    assert result.findings == []


PINNED_DEVICE = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AllowOwnMfa",
      "Effect": "Allow",
      "Action": [
        "iam:ChangePassword",
        "iam:CreateVirtualMFADevice",
        "iam:EnableMFADevice",
        "iam:GetUser",
        "iam:ListMFADevices",
        "iam:ResyncMFADevice"
      ],
      "Resource": [
        "arn:aws:iam::*:mfa/${aws:username}",
        "arn:aws:iam::*:user/${aws:username}"
      ]
    },
    {
      "Sid": "AllowAccountInfo",
      "Effect": "Allow",
      "Action": ["iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"],
      "Resource": "*"
    },
    {
      "Sid": "DenyAllExceptListedIfNoMFA",
      "Effect": "Deny",
      "NotAction": [
        "iam:ChangePassword",
        "iam:CreateVirtualMFADevice",
        "iam:EnableMFADevice",
        "iam:GetAccountPasswordPolicy",
        "iam:GetUser",
        "iam:ListMFADevices",
        "iam:ListVirtualMFADevices",
        "iam:ResyncMFADevice",
        "sts:GetSessionToken"
      ],
      "Resource": "*",
      "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    }
  ]
}
"""


def test_pinned_device_name_reported_once(tmp_path, run_scan):
    # The Allow on mfa/${aws:username} grants the exemption for a device
    # named after the user, so only mfa-device-name-pinned reports the limit.
    result = scan_policy(tmp_path, run_scan, PINNED_DEVICE)
    assert result.located() == [("mfa-device-name-pinned", 4, 5)]


def test_other_device_names_not_granted(tmp_path, run_scan):
    text = PINNED_DEVICE.replace("mfa/${aws:username}", "mfa/admin-*")
    result = scan_policy(tmp_path, run_scan, text)
    assert result.located() == [("exemption-not-allowed", 26, 5)]


def deny_pair(second_not_actions):
    """Return a Bool deny at 4:5 and a Null deny at 10:5, each with one condition line."""
    first = json.dumps(["iam:EnableMFADevice", "sts:GetSessionToken"])
    second = json.dumps(second_not_actions)
    return f"""{{
  "Version": "2012-10-17",
  "Statement": [
    {{
      "Sid": "DenyConsoleWithoutMfa",
      "Effect": "Deny",
      "NotAction": {first},
      "Resource": "*",
      "Condition": {{"Bool": {{"aws:MultiFactorAuthPresent": "false"}}}}
    }},
    {{
      "Sid": "DenyKeysWithoutMfa",
      "Effect": "Deny",
      "NotAction": {second},
      "Resource": "*",
      "Condition": {{"Null": {{"aws:MultiFactorAuthPresent": "true"}}}}
    }}
  ]
}}
"""


def test_bool_and_null_pair_passes(tmp_path, run_scan):
    # Together the two denies hold whenever MFA is missing or false, as one
    # BoolIfExists deny does.
    text = deny_pair(["sts:GetSessionToken", "iam:EnableMFADevice"])
    result = scan_policy(tmp_path, run_scan, text)
    bypasses = [
        finding
        for finding in result.located()
        if finding[0] in ("access-key-bypass", "console-bypass-null")
    ]
    assert bypasses == []


def test_bool_and_narrower_null_pair(tmp_path, run_scan):
    # The Null deny exempts s3:GetObject as well, so it does not cover the
    # Bool deny. Only a deny with the same lists counts as covering, so the
    # Null deny is reported too.
    text = deny_pair(["sts:GetSessionToken", "iam:EnableMFADevice", "s3:GetObject"])
    result = scan_policy(tmp_path, run_scan, text)
    bypasses = [
        finding
        for finding in result.located()
        if finding[0] in ("access-key-bypass", "console-bypass-null")
    ]
    assert bypasses == [
        ("access-key-bypass", 9, 21),
        ("console-bypass-null", 16, 21),
    ]


@pytest.mark.parametrize(
    ("partition", "account"), [("aws-us-gov", "*"), ("aws", "111122223333")]
)
def test_own_arns_of_other_deployments(tmp_path, run_scan, partition, account):
    # The Allows name the partition or account the policy is deployed in.
    text = PINNED_DEVICE.replace("mfa/${aws:username}", "mfa/*").replace(
        "arn:aws:iam::*:", f"arn:{partition}:iam::{account}:"
    )
    assert f"arn:{partition}:iam::{account}:user/" in text

    result = scan_policy(tmp_path, run_scan, text)
    assert result.located() == []


def test_configured_account_must_match(tmp_path, run_scan):
    text = PINNED_DEVICE.replace("mfa/${aws:username}", "mfa/*").replace(
        "arn:aws:iam::*:", "arn:aws:iam::111122223333:"
    )
    config = tmp_path / "config.yaml"
    config.write_text('scenarios:\n  account: "444455556666"\n')

    path = tmp_path / "policy.json"
    path.write_text(text)

    result = run_scan("--config", config, path)
    assert result.located() == [("exemption-not-allowed", 26, 5)]


def resource_deny(action_element, resource_element):
    """Return an MFA deny whose statement starts at 4:5, with its Resource on line 7."""
    return f"""{{
  "Version": "2012-10-17",
  "Statement": [
    {{
      "Effect": "Deny",
      {action_element},
      {resource_element},
      "Condition": {{"BoolIfExists": {{"aws:MultiFactorAuthPresent": "false"}}}}
    }}
  ]
}}
"""


@pytest.mark.parametrize(
    ("action_element", "resource_element", "expected"),
    [
        ('"Action": "*"', '"Resource": ["arn:aws:iam::*:user/*"]', [(7, 20)]),
        # A Resource given as one string is placed at its key.
        (
            '"NotAction": "sts:GetSessionToken"',
            '"Resource": "arn:aws:s3:::*"',
            [(7, 7)],
        ),
        ('"Action": "*"', '"Resource": ["arn:aws:iam::*:user/*", "*"]', []),
        # Denies that protect one bucket, on purpose.
        ('"Action": "*"', '"Resource": "arn:aws:s3:::prod/*"', []),
        ('"NotAction": "s3:GetObject"', '"Resource": "arn:aws:s3:::prod/*"', []),
        ('"Action": "s3:DeleteObject"', '"Resource": "arn:aws:s3:::prod/*"', []),
        # NotResource names the resources it leaves out.
        ('"Action": "*"', '"NotResource": "arn:aws:s3:::public/*"', []),
    ],
)
def test_mfa_deny_resource_limited(
    tmp_path, run_scan, action_element, resource_element, expected
):
    text = resource_deny(action_element, resource_element)
    result = scan_policy(tmp_path, run_scan, text)
    located = [
        (line, column)
        for rule, line, column in result.located()
        if rule == "mfa-deny-resource-limited"
    ]
    assert located == expected


def test_region_null_deny_covers_nothing(tmp_path, run_scan):
    # Access keys are denied only in us-east-1, so the Bool deny still lets
    # them in everywhere else.
    text = deny_pair(["sts:GetSessionToken", "iam:EnableMFADevice"]).replace(
        '{"Null": {"aws:MultiFactorAuthPresent": "true"}}',
        '{"Null": {"aws:MultiFactorAuthPresent": "true"},'
        ' "StringEquals": {"aws:RequestedRegion": "us-east-1"}}',
    )
    result = scan_policy(tmp_path, run_scan, text)
    bypasses = [
        finding
        for finding in result.located()
        if finding[0] in ("access-key-bypass", "console-bypass-null")
    ]
    assert bypasses == [("access-key-bypass", 9, 21)]


def test_true_deny_beside_mfa_deny_passes(tmp_path, run_scan):
    # A deny of MFA sessions outside the office network, in a policy whose
    # other deny already denies every caller without MFA.
    text = deny_pair(["sts:GetSessionToken", "iam:EnableMFADevice"]).replace(
        '{"Null": {"aws:MultiFactorAuthPresent": "true"}}',
        '{"Bool": {"aws:MultiFactorAuthPresent": "true"},'
        ' "NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}',
    )
    result = scan_policy(tmp_path, run_scan, text)
    assert "mfa-deny-inverted" not in [rule for rule, _, _ in result.located()]


def test_narrow_deny_beside_full_deny_passes(tmp_path, run_scan):
    # The Bool deny on "*" already denies every resource to callers without
    # MFA, so the narrower copy only repeats it for the user's own ARN.
    text = deny_pair(["sts:GetSessionToken", "iam:EnableMFADevice"]).replace(
        '"Resource": "*",\n      "Condition": {"Null"',
        '"Resource": "arn:aws:iam::*:user/${aws:username}",\n      "Condition": {"Null"',
    )
    assert "arn:aws:iam::*:user/${aws:username}" in text

    result = scan_policy(tmp_path, run_scan, text)
    assert "mfa-deny-resource-limited" not in [rule for rule, _, _ in result.located()]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        # Both rules name their own entries on the statement.
        (
            ["iam:CreateAccessKey", "s3:Get*"],
            [
                ("sensitive-action-exempted", 4, 5),
                ("exemption-beyond-self-service", 4, 5),
            ],
        ),
        # A whole service is left to sensitive-action-exempted.
        (["s3:*"], [("sensitive-action-exempted", 4, 5)]),
    ],
)
def test_sensitive_and_other_exemptions(tmp_path, run_scan, extra, expected):
    text = deny_except([*FIRST_SIGN_IN, *AWS_DOCUMENTED, *extra])
    result = scan_policy(tmp_path, run_scan, text)
    assert result.located() == expected
