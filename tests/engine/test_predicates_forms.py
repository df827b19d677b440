"""MFA tests written with string operators, and findings on the failing entry.

IAM evaluates a string operator on aws:MultiFactorAuthPresent against the
text "true" or "false", and a negated or IfExists operator holds when the key
is missing. So `"StringNotEqualsIfExists": {"aws:MultiFactorAuthPresent":
"true"}` in a Deny denies the same callers as `BoolIfExists` "false".
"""

import json

import pytest

from mfa_guard.engine.predicates import (
    ALLOW_FORM,
    DENY_FORM,
    is_mfa_requirement,
    is_mfa_test,
    presence_form,
)
from mfa_guard.model import ConditionEntry, SourceSpan
from tests.policies import ENROLLMENT, FIRST_SIGN_IN

# The statement starts at 4:5 and the first operator of its Condition at 9:21.
STATEMENT = (4, 5)
CONDITION = (9, 21)


def policy(condition, effect="Deny", element="NotAction", actions=None):
    """Return a one-statement policy with `condition` written on line 9."""
    if actions is None:
        actions = [*FIRST_SIGN_IN, *ENROLLMENT]
    return f"""{{
  "Version": "2012-10-17",
  "Statement": [
    {{
      "Sid": "MfaStatement",
      "Effect": "{effect}",
      "{element}": {json.dumps(actions)},
      "Resource": "*",
      "Condition": {condition}
    }}
  ]
}}
"""


def present(operator, value):
    """Return a Condition block with one test on aws:MultiFactorAuthPresent."""
    return json.dumps({operator: {"aws:MultiFactorAuthPresent": value}})


def allow(operator, value):
    return policy(
        present(operator, value),
        effect="Allow",
        element="Action",
        actions=["ec2:TerminateInstances"],
    )


def scan_text(tmp_path, run_scan, text):
    path = tmp_path / "policy.json"
    path.write_text(text)
    return run_scan(path)


def reported(result):
    """Return (rule id, line, column) for each finding, in report order."""
    return [(f["rule_id"], f["line"], f["column"]) for f in result.findings]


def entry(operator, value, key="aws:MultiFactorAuthPresent"):
    span = SourceSpan.point("policy.json", 1, 1)
    return ConditionEntry(operator, key, (value,), (value,), span, span)


# Deny forms that hold when the key is "false" and when it is missing, as
# BoolIfExists "false" does.
COMPLETE_DENY_FORMS = [
    ("StringNotEqualsIfExists", "true"),
    ("StringNotEquals", "true"),
    ("StringEqualsIfExists", "false"),
    ("StringEqualsIgnoreCaseIfExists", "FALSE"),
    ("StringNotEqualsIgnoreCase", "TRUE"),
    ("StringNotLike", "t*"),
]

# Deny forms that fail when the key is missing, as Bool "false" does.
KEY_REQUIRED_DENY_FORMS = [
    ("StringEquals", "false"),
    ("StringEqualsIgnoreCase", "False"),
    ("StringLike", "f*"),
]


@pytest.mark.parametrize(("operator", "value"), COMPLETE_DENY_FORMS)
def test_deny_form_blocks_password_change(tmp_path, run_scan, operator, value):
    text = policy(present(operator, value), actions=ENROLLMENT)

    result = scan_text(tmp_path, run_scan, text)

    assert reported(result) == [("MFA001", *STATEMENT)]
    assert (
        f"on their own user ({'arn:aws:iam::123456789012:user/alice'})"
        in (result.findings[0]["message"])
    )


@pytest.mark.parametrize(("operator", "value"), COMPLETE_DENY_FORMS)
def test_deny_form_with_exemption_passes(tmp_path, run_scan, operator, value):
    text = policy(present(operator, value))

    result = scan_text(tmp_path, run_scan, text)

    assert reported(result) == []


def test_string_not_equals_if_exists_message(tmp_path, run_scan):
    text = policy(present("StringNotEqualsIfExists", "true"), actions=ENROLLMENT)

    result = scan_text(tmp_path, run_scan, text)

    message = result.findings[0]["message"]
    assert message.startswith(
        "an IAM user signed in to the console without MFA calling iam:ChangePassword"
    )
    assert 'explicitly denied by statement "MfaStatement"' in message


@pytest.mark.parametrize(("operator", "value"), KEY_REQUIRED_DENY_FORMS)
def test_key_required_deny_reports_access_keys(tmp_path, run_scan, operator, value):
    result = scan_text(tmp_path, run_scan, policy(present(operator, value)))

    assert reported(result) == [("MFA101", *CONDITION)]
    finding = result.findings[0]
    assert f"so the {operator} condition of statement" in finding["message"]
    assert finding["fix"] == (
        f'replace the "{operator}" test in statement "MfaStatement" with '
        '"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}'
    )


def test_string_equals_false_has_no_autofix(tmp_path, run_scan):
    # The rule's automatic fix renames only a Bool operator.
    result = scan_text(tmp_path, run_scan, policy(present("StringEquals", "false")))

    assert "autofix" not in result.findings[0]


def test_not_like_any_value_reports_console(tmp_path, run_scan):
    # StringNotLike "*" holds only when the key is missing, like Null "true".
    result = scan_text(tmp_path, run_scan, policy(present("StringNotLike", "*")))

    assert reported(result) == [("MFA102", *CONDITION)]
    assert "so the StringNotLike condition" in result.findings[0]["message"]


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        # StringEquals compares case-sensitively, and the key is "false", so
        # only the invalid-value rule reports the test, at its key.
        ("StringEquals", "False", [("MFA108", 9, 38)]),
        # Holds when MFA was used, so the Deny is no MFA deny, and only
        # mfa-deny-inverted reports it.
        ("StringNotEquals", "false", [("MFA109", 9, 21)]),
        ("StringEquals", "true", [("MFA109", 9, 21)]),
    ],
)
def test_non_mfa_deny_not_checked(tmp_path, run_scan, operator, value, expected):
    text = policy(present(operator, value), actions=ENROLLMENT)

    result = scan_text(tmp_path, run_scan, text)

    assert reported(result) == expected


@pytest.mark.parametrize(
    ("operator", "value"),
    [
        ("StringEqualsIfExists", "true"),
        ("StringNotEquals", "false"),
        ("StringNotEqualsIfExists", "false"),
        ("StringEqualsIgnoreCaseIfExists", "TRUE"),
    ],
)
def test_allow_form_holding_without_key(tmp_path, run_scan, operator, value):
    result = scan_text(tmp_path, run_scan, allow(operator, value))

    assert reported(result) == [("MFA103", *CONDITION)]
    message = result.findings[0]["message"]
    assert f"the {operator} test on aws:MultiFactorAuthPresent" in message


@pytest.mark.parametrize(
    ("operator", "value"),
    [("StringEquals", "true"), ("StringEqualsIgnoreCase", "TRUE")],
)
def test_allow_form_needing_key_passes(tmp_path, run_scan, operator, value):
    result = scan_text(tmp_path, run_scan, allow(operator, value))

    assert reported(result) == []


def test_null_beside_bool_if_exists(tmp_path, run_scan):
    # The finding names the Null test, which fails for console users, and
    # not the BoolIfExists test written before it.
    condition = (
        '{"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}, '
        '"Null": {"aws:multifactorauthpresent": "true"}}'
    )

    result = scan_text(tmp_path, run_scan, policy(condition))

    assert reported(result) == [("MFA102", 9, 78)]
    finding = result.findings[0]
    assert "so the Null condition of statement" in finding["message"]
    assert finding["fix"].startswith('replace the "Null" test')


def test_null_first_same_finding(tmp_path, run_scan):
    condition = (
        '{"Null": {"aws:multifactorauthpresent": "true"}, '
        '"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}'
    )

    result = scan_text(tmp_path, run_scan, policy(condition))

    assert reported(result) == [("MFA102", *CONDITION)]
    assert "so the Null condition of statement" in result.findings[0]["message"]


def test_bool_beside_bool_if_exists(tmp_path, run_scan):
    condition = (
        '{"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}, '
        '"Bool": {"aws:multifactorauthpresent": "false"}}'
    )

    result = scan_text(tmp_path, run_scan, policy(condition))

    assert reported(result) == [("MFA101", 9, 78)]
    assert "so the Bool condition of statement" in result.findings[0]["message"]


def test_key_in_two_cases_one_block(tmp_path, run_scan):
    # Both tests apply, so only a request without the key is denied.
    condition = (
        '{"BoolIfExists": {"aws:MultiFactorAuthPresent": "false", '
        '"aws:multifactorauthpresent": "true"}}'
    )

    result = scan_text(tmp_path, run_scan, policy(condition))

    assert reported(result) == [("MFA102", *CONDITION)]


def test_same_test_in_two_cases_passes(tmp_path, run_scan):
    condition = (
        '{"BoolIfExists": {"aws:MultiFactorAuthPresent": "false", '
        '"aws:multifactorauthpresent": "false"}}'
    )

    result = scan_text(tmp_path, run_scan, policy(condition))

    assert reported(result) == []


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("StringNotEqualsIfExists", "true", DENY_FORM),
        ("StringEquals", "false", DENY_FORM),
        ("ForAnyValue:StringEquals", "false", DENY_FORM),
        ("StringEquals", "true", ALLOW_FORM),
        ("StringNotEquals", "false", ALLOW_FORM),
        ("BoolIfExists", "false", DENY_FORM),
        ("Bool", "true", ALLOW_FORM),
        ("StringEquals", "False", None),
        # Holds whenever the key is present, like Null "false".
        ("StringLike", "*", ALLOW_FORM),
        ("StringNotEquals", "${aws:username}", None),
        ("NumericEquals", "1", None),
    ],
)
def test_presence_form_table(operator, value, expected):
    assert presence_form(entry(operator, value)) == expected


def test_presence_form_other_key():
    form = presence_form(entry("StringEquals", "false", key="aws:SecureTransport"))

    assert form is None


def test_presence_form_key_case():
    form = presence_form(entry("StringEquals", "false", "AWS:MULTIFACTORAUTHPRESENT"))

    assert form == DENY_FORM


@pytest.mark.parametrize("value", ["no", "0", "yes"])
def test_bool_odd_value_not_evaluated(value):
    # The invalid-value rule reports these values, so Bool tests are
    # matched by operator and value and not evaluated.
    assert not is_mfa_test(entry("BoolIfExists", value))


def test_bool_false_among_values_is_test():
    span = SourceSpan.point("policy.json", 1, 1)
    values = ("true", "false")
    test = ConditionEntry(
        "Bool", "aws:MultiFactorAuthPresent", values, values, span, span
    )

    assert is_mfa_test(test)
    assert is_mfa_requirement(test)


def test_null_false_stays_mfa_test():
    assert is_mfa_test(entry("Null", "false"))


def test_string_deny_form_not_requirement():
    assert not is_mfa_requirement(entry("StringNotEqualsIfExists", "true"))


def test_string_allow_form_not_test():
    assert not is_mfa_test(entry("StringEquals", "true"))
