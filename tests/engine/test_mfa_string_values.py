"""The invalid-mfa-condition-value rule on string tests of aws:MultiFactorAuthPresent.

The key's value is the lowercase text "true" or "false". A string test whose
result is the same for both values cannot tell a caller with MFA from one
without, and the rule reports it at the condition key.
"""

import json

import pytest

from mfa_guard.engine.check_mfa_strings import is_string_operator, string_test_problem
from mfa_guard.model import ConditionEntry, SourceSpan
from tests.policies import ENROLLMENT, FIRST_SIGN_IN

KEY = "aws:MultiFactorAuthPresent"

# The operator of the one Condition entry is at 9:21, and its key at column
# 26 plus the operator's length.
OPERATOR = (9, 21)


def key_column(operator):
    return 26 + len(operator)


def policy(operator, value, effect="Deny", key=KEY):
    """Return a one-statement policy with one condition entry on line 9.

    A Deny exempts the first sign-in and enrollment actions, so a working
    MFA test in it gives no finding. An Allow grants one action.
    """
    condition = json.dumps({operator: {key: value}})
    if effect == "Deny":
        element, actions = "NotAction", [*FIRST_SIGN_IN, *ENROLLMENT]
    else:
        element, actions = "Action", ["ec2:TerminateInstances"]
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


def scan_text(tmp_path, run_scan, text):
    path = tmp_path / "policy.json"
    path.write_text(text)
    return run_scan(path)


def reported(result):
    """Return (rule id, line, column) for each finding, in report order."""
    return [(f["rule_id"], f["line"], f["column"]) for f in result.findings]


def entry(operator, values, key=KEY):
    span = SourceSpan.point("policy.json", 1, 1)
    return ConditionEntry(operator, key, tuple(values), tuple(values), span, span)


HOLDS = "so the test holds for every request that has the key, with MFA or without"
FAILS = "so the test fails for every request that has the key, with MFA or without"
CASE_TRUE = """compares "True" case-sensitively, and the key's value is lowercase"""
BOTH = (
    """lists both "true" and "false", and the key's value always matches one of them"""
)

# Tests that no other rule reports: (effect, operator, value, detail).
REPORTED_ALONE = [
    ("Deny", "StringNotEquals", "True", f"{CASE_TRUE}, {HOLDS}"),
    (
        "Deny",
        "StringNotEqualsIfExists",
        "FALSE",
        """compares "FALSE" case-sensitively, and the key's value is lowercase, """
        + HOLDS,
    ),
    ("Deny", "StringEquals", ["false", "true"], f"{BOTH}, {HOLDS}"),
    (
        "Deny",
        "StringEquals",
        "False",
        f"""compares "False" case-sensitively, and the key's value is lowercase, {FAILS}""",
    ),
    (
        "Deny",
        "StringEquals",
        "yes",
        f'compares "yes", which is neither "true" nor "false", {FAILS}',
    ),
    (
        "Deny",
        "StringEquals",
        "false ",
        f"""compares "false ", and the key's value has no spaces, {FAILS}""",
    ),
    (
        "Deny",
        "StringLike",
        "F*",
        f"""compares "F*" case-sensitively, and the key's value is lowercase, {FAILS}""",
    ),
    (
        "Deny",
        "StringEqualsIgnoreCase",
        "no",
        f'compares "no", which is neither "true" nor "false", {FAILS}',
    ),
    (
        "Deny",
        "StringNotEqualsIgnoreCase",
        "0",
        f'compares "0", which is neither "true" nor "false", {HOLDS}',
    ),
    ("Allow", "StringEquals", "True", f"{CASE_TRUE}, {FAILS}"),
    ("Allow", "StringEquals", ["true", "false"], f"{BOTH}, {HOLDS}"),
    (
        "Allow",
        "StringEquals",
        1,
        f'compares "1", which is neither "true" nor "false", {FAILS}',
    ),
    (
        "Allow",
        "StringLike",
        ["t*", "f*"],
        """lists ["t*", "f*"], and the key's value always matches one of them, """
        + HOLDS,
    ),
]


@pytest.mark.parametrize(("effect", "operator", "value", "detail"), REPORTED_ALONE)
def test_string_test_reported(tmp_path, run_scan, effect, operator, value, detail):
    text = policy(operator, value, effect)

    result = scan_text(tmp_path, run_scan, text)

    assert reported(result) == [("MFA108", 9, key_column(operator))]
    message = result.findings[0]["message"]
    assert f"the {operator} test on {KEY} in statement" in message
    assert detail in message


def test_string_message_exact(tmp_path, run_scan):
    result = scan_text(tmp_path, run_scan, policy("StringNotEquals", "True"))

    assert result.findings[0]["message"] == (
        "the StringNotEquals test on aws:MultiFactorAuthPresent in statement "
        '"MfaStatement" compares "True" case-sensitively, and the key\'s value is '
        "lowercase, so the test holds for every request that has the key, with "
        'MFA or without: IAM compares boolean keys with the values "true" and '
        '"false", so the condition does not match as intended'
    )
    assert result.findings[0]["fix"] == (
        "give aws:MultiFactorAuthPresent in statement "
        '"MfaStatement" exactly one value, "true" or "false" (a JSON boolean works too)'
    )


def test_bool_message_unchanged(tmp_path, run_scan):
    result = scan_text(tmp_path, run_scan, policy("BoolIfExists", "no"))

    assert reported(result) == [("MFA108", 9, 38)]
    assert result.findings[0]["message"] == (
        "the BoolIfExists test on aws:MultiFactorAuthPresent in statement "
        '"MfaStatement" has the value "no", which is not "true" or "false": IAM '
        'compares boolean keys with the values "true" and "false", so the '
        "condition does not match as intended"
    )


@pytest.mark.parametrize(
    ("operator", "value", "other"),
    [
        # The deny holds only for requests without the key, like Null "true".
        ("StringEqualsIfExists", "True", ("MFA102", 9, 21)),
        ("StringNotEquals", ["true", "false"], ("MFA102", 9, 21)),
    ],
)
def test_string_test_beside_bypass(tmp_path, run_scan, operator, value, other):
    result = scan_text(tmp_path, run_scan, policy(operator, value))

    assert reported(result) == [other, ("MFA108", 9, key_column(operator))]


def test_set_operator_prefix_reported_twice(tmp_path, run_scan):
    # The prefix changes only the result for a request without the key, which
    # the set-operator rule reports, so both rules report the entry.
    operator = "ForAnyValue:StringEquals"

    result = scan_text(tmp_path, run_scan, policy(operator, "False"))

    assert reported(result) == [("MFA107", *OPERATOR), ("MFA108", 9, 50)]


@pytest.mark.parametrize(
    ("effect", "operator", "value"),
    [
        ("Deny", "StringNotEqualsIfExists", "true"),
        ("Deny", "StringNotEquals", "true"),
        ("Deny", "StringNotLike", "t*"),
        ("Allow", "StringEqualsIgnoreCase", "TRUE"),
        ("Allow", "StringEquals", "true"),
        # "*" only tests whether the key is present, as Null "false" does.
        ("Allow", "StringLike", "*"),
        # The user name never matches the key, but it looks like no boolean.
        ("Deny", "StringEquals", "${aws:username}"),
    ],
)
def test_working_string_test_passes(tmp_path, run_scan, effect, operator, value):
    result = scan_text(tmp_path, run_scan, policy(operator, value, effect))

    assert reported(result) == []


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        # The first two fail for access keys and the last holds only for
        # them, which the bypass rules report at the operator. No value is
        # invalid.
        ("StringEquals", "false", [("MFA101", *OPERATOR)]),
        ("StringLike", "f*", [("MFA101", *OPERATOR)]),
        ("StringNotLike", "*", [("MFA102", *OPERATOR)]),
    ],
)
def test_bypass_rules_unchanged(tmp_path, run_scan, operator, value, expected):
    result = scan_text(tmp_path, run_scan, policy(operator, value))

    assert reported(result) == expected


def test_age_string_test_not_reported(tmp_path, run_scan):
    text = policy("StringEquals", "True", key="aws:MultiFactorAuthAge")

    result = scan_text(tmp_path, run_scan, text)

    assert "MFA108" not in [rule for rule, _, _ in reported(result)]


def test_problem_for_bool_is_none():
    assert string_test_problem(entry("Bool", ["True"]), "2012-10-17") is None


def test_problem_other_key_is_none():
    test = entry("StringEquals", ["True"], key="aws:SecureTransport")

    assert string_test_problem(test, "2012-10-17") is None


def test_problem_key_any_case():
    test = entry("StringEquals", ["yes"], key="AWS:MULTIFACTORAUTHPRESENT")

    assert string_test_problem(test, "2012-10-17") == (
        f'compares "yes", which is neither "true" nor "false", {FAILS}'
    )


def test_problem_unknown_variable_is_none():
    # The scenario sets no principal tag, so the result is unknown.
    test = entry("StringNotEquals", ["True", "${aws:PrincipalTag/team}"])

    assert string_test_problem(test, "2012-10-17") is None


def test_problem_old_version_literal_variable():
    # Without Version 2012-10-17 the variable is literal text, so the test
    # gives the same result for "true" and "false".
    test = entry("StringNotEquals", ["True", "${aws:PrincipalTag/team}"])

    assert string_test_problem(test, None) == f"{CASE_TRUE}, {HOLDS}"


def test_problem_spaces_and_case():
    test = entry("StringEquals", [" True "])

    assert string_test_problem(test, "2012-10-17") == (
        f"""compares " True ", and the key's value has no spaces, {FAILS}"""
    )


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("StringEquals", True),
        ("ForAllValues:StringNotLikeIfExists", True),
        ("stringequalsignorecase", True),
        ("Bool", False),
        ("NumericEquals", False),
        ("NoSuchOperator", False),
    ],
)
def test_is_string_operator(operator, expected):
    assert is_string_operator(operator) is expected
