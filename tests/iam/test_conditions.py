from __future__ import annotations

from types import MappingProxyType

import pytest

from mfa_guard.iam.conditions import (
    ConditionOutcome,
    Tri,
    evaluate_conditions,
    evaluate_entry,
    is_known_operator,
    parse_operator,
    tri_and,
    tri_or,
)
from mfa_guard.iam.scenarios import Scenario
from mfa_guard.model import ConditionEntry, SourceSpan
from mfa_guard.records import replace
from tests.iam.policies import load_policy, scenario

V2012 = "2012-10-17"
SPAN = SourceSpan.point("policy.json", 1, 1)
MFA = "aws:MultiFactorAuthPresent"
AGE = "aws:MultiFactorAuthAge"

ALL_SCENARIOS = (
    "console-without-mfa",
    "console-with-mfa",
    "access-key",
    "session-with-mfa",
    "role-session-without-mfa",
)


def entry(operator: str, key: str, *values: str) -> ConditionEntry:
    return ConditionEntry(operator, key, values, values, SPAN, SPAN)


def value_of(
    operator: str, key: str, *values: str, scenario_name: str = "access-key"
) -> Tri:
    outcome = evaluate_entry(
        entry(operator, key, *values), scenario(scenario_name), V2012
    )
    return outcome.value


def with_values(base: Scenario, **values: tuple[str, ...]) -> Scenario:
    """Return a scenario with extra multi-valued keys (underscores become colons)."""
    merged = dict(base.values)
    for name, items in values.items():
        merged[name.replace("__", ":").lower()] = items
    return replace(base, values=MappingProxyType(merged))


# Expected results for the MFA key tests, in ALL_SCENARIOS order.
MFA_TABLE = [
    ("Bool", "false", [True, False, False, False, True]),
    ("BoolIfExists", "false", [True, False, True, False, True]),
    ("Bool", "true", [False, True, False, True, False]),
    ("BoolIfExists", "true", [False, True, True, True, False]),
    ("Null", "true", [False, False, True, False, False]),
    ("Null", "false", [True, True, False, True, True]),
    ("ForAnyValue:Bool", "false", [True, False, False, False, True]),
    ("ForAllValues:Bool", "true", [False, True, True, True, False]),
]


@pytest.mark.parametrize(("operator", "value", "expected"), MFA_TABLE)
def test_mfa_present_per_scenario(
    operator: str, value: str, expected: list[bool]
) -> None:
    for name, holds in zip(ALL_SCENARIOS, expected, strict=True):
        result = value_of(operator, MFA, value, scenario_name=name)

        assert result is (Tri.TRUE if holds else Tri.FALSE), name


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("NumericGreaterThan", [False, False, False, False, False]),
        ("NumericGreaterThanIfExists", [True, False, True, False, True]),
        ("NumericLessThan", [False, True, False, True, False]),
        ("NumericLessThanIfExists", [True, True, True, True, True]),
    ],
)
def test_mfa_age_per_scenario(operator: str, expected: list[bool]) -> None:
    for name, holds in zip(ALL_SCENARIOS, expected, strict=True):
        result = value_of(operator, AGE, "3600", scenario_name=name)

        assert result is (Tri.TRUE if holds else Tri.FALSE), name


@pytest.mark.parametrize(
    ("text", "known"),
    [
        ("StringEquals", True),
        ("stringequals", True),
        ("StringNotLikeIfExists", True),
        ("ForAnyValue:StringLike", True),
        ("ForAllValues:ArnNotEqualsIfExists", True),
        ("Null", True),
        ("NullIfExists", False),
        ("StringEqualz", False),
        ("ForSomeValues:StringEquals", False),
        ("IfExists", False),
        ("BinaryEquals", True),
        ("NotIpAddressIfExists", True),
        ("DateGreaterThanEquals", True),
        ("NumericNotEquals", True),
    ],
)
def test_known_operators(text: str, known: bool) -> None:
    assert is_known_operator(text) is known


def test_parse_operator_fields() -> None:
    operator = parse_operator("ForAllValues:StringNotLikeIfExists")

    assert operator is not None
    assert operator.set_operator == "ForAllValues"
    assert operator.comparison == "string-like"
    assert operator.negated is True
    assert operator.if_exists is True


def test_bool_ignores_value_case() -> None:
    assert (
        value_of("Bool", MFA, "FALSE", scenario_name="console-without-mfa") is Tri.TRUE
    )


def test_bool_invalid_value_never_holds() -> None:
    for name in ("console-without-mfa", "console-with-mfa"):
        assert value_of("Bool", MFA, "yes", scenario_name=name) is Tri.FALSE
        assert value_of("Bool", MFA, "False ", scenario_name=name) is Tri.FALSE


def test_bool_several_values_ored() -> None:
    result = value_of("Bool", MFA, "true", "false", scenario_name="console-with-mfa")

    assert result is Tri.TRUE


def test_key_name_case_insensitive() -> None:
    result = value_of(
        "Bool",
        "AWS:MULTIFACTORAUTHPRESENT",
        "false",
        scenario_name="console-without-mfa",
    )

    assert result is Tri.TRUE


@pytest.mark.parametrize(
    ("operator", "values", "expected"),
    [
        ("StringEquals", ("alice",), Tri.TRUE),
        ("StringEquals", ("Alice",), Tri.FALSE),
        ("StringEquals", ("bob", "alice"), Tri.TRUE),
        ("StringEquals", ("ali*",), Tri.FALSE),
        ("StringNotEquals", ("bob", "carol"), Tri.TRUE),
        ("StringNotEquals", ("bob", "alice"), Tri.FALSE),
        ("StringEqualsIgnoreCase", ("ALICE",), Tri.TRUE),
        ("StringNotEqualsIgnoreCase", ("ALICE",), Tri.FALSE),
        ("StringNotEqualsIgnoreCase", ("BOB",), Tri.TRUE),
        ("StringLike", ("al*",), Tri.TRUE),
        ("StringLike", ("a?ice",), Tri.TRUE),
        ("StringLike", ("a?lice",), Tri.FALSE),
        ("StringLike", ("Al*",), Tri.FALSE),
        ("StringLike", ("a.ice",), Tri.FALSE),
        ("StringNotLike", ("b*", "c*"), Tri.TRUE),
        ("StringNotLike", ("b*", "a*"), Tri.FALSE),
    ],
)
def test_string_operators(
    operator: str, values: tuple[str, ...], expected: Tri
) -> None:
    assert value_of(operator, "aws:username", *values) is expected


def test_string_like_crosses_slash() -> None:
    result = value_of(
        "StringLike",
        "aws:PrincipalArn",
        "arn:aws:iam::*",
        scenario_name="console-with-mfa",
    )

    assert result is Tri.TRUE


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("NumericEquals", "300", Tri.TRUE),
        ("NumericEquals", "300.0", Tri.TRUE),
        ("NumericNotEquals", "300", Tri.FALSE),
        ("NumericNotEquals", "301", Tri.TRUE),
        ("NumericLessThan", "300", Tri.FALSE),
        ("NumericLessThanEquals", "300", Tri.TRUE),
        ("NumericGreaterThan", "299.5", Tri.TRUE),
        ("NumericGreaterThanEquals", "300", Tri.TRUE),
        ("NumericGreaterThanEquals", "301", Tri.FALSE),
        ("NumericEquals", "abc", Tri.FALSE),
        ("NumericEquals", "NaN", Tri.FALSE),
    ],
)
def test_numeric_operators(operator: str, value: str, expected: Tri) -> None:
    result = value_of(operator, AGE, value, scenario_name="console-with-mfa")

    assert result is expected


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("DateEquals", "2024-05-01T12:00:00Z", Tri.TRUE),
        ("DateEquals", "1714564800", Tri.TRUE),
        ("DateNotEquals", "2024-05-01T12:00:00Z", Tri.FALSE),
        ("DateNotEquals", "2024-05-01T12:00:01Z", Tri.TRUE),
        ("DateLessThan", "2024-05-01T12:00:01Z", Tri.TRUE),
        ("DateLessThan", "1700000000", Tri.FALSE),
        ("DateLessThanEquals", "2024-05-01T14:00:00+02:00", Tri.TRUE),
        ("DateGreaterThan", "2024-05-01", Tri.TRUE),
        ("DateGreaterThan", "2024-05-02", Tri.FALSE),
        ("DateGreaterThanEquals", "1714564800", Tri.TRUE),
        ("DateGreaterThan", "not a date", Tri.FALSE),
    ],
)
def test_date_operators(operator: str, value: str, expected: Tri) -> None:
    assert value_of(operator, "aws:CurrentTime", value) is expected


def test_date_against_epoch_key() -> None:
    result = value_of("DateLessThan", "aws:EpochTime", "2024-05-02T00:00:00Z")

    assert result is Tri.TRUE


@pytest.mark.parametrize(
    ("operator", "values", "expected"),
    [
        ("IpAddress", ("203.0.113.0/24",), Tri.TRUE),
        ("IpAddress", ("198.51.100.0/24",), Tri.FALSE),
        ("IpAddress", ("198.51.100.0/24", "203.0.113.7/32"), Tri.TRUE),
        ("IpAddress", ("203.0.113.7",), Tri.TRUE),
        ("IpAddress", ("2001:db8::/32",), Tri.FALSE),
        ("IpAddress", ("not-an-ip",), Tri.FALSE),
        ("NotIpAddress", ("198.51.100.0/24", "192.0.2.0/24"), Tri.TRUE),
        ("NotIpAddress", ("198.51.100.0/24", "203.0.113.0/24"), Tri.FALSE),
    ],
)
def test_ip_operators(operator: str, values: tuple[str, ...], expected: Tri) -> None:
    built = scenario("access-key").with_overrides({"aws:SourceIp": "203.0.113.7"})
    outcome = evaluate_entry(entry(operator, "aws:SourceIp", *values), built, V2012)

    assert outcome.value is expected


def test_ip_address_ipv6() -> None:
    built = scenario("access-key").with_overrides({"aws:SourceIp": "2001:db8::1"})
    outcome = evaluate_entry(
        entry("IpAddress", "aws:SourceIp", "2001:db8::/32"), built, V2012
    )

    assert outcome.value is Tri.TRUE


@pytest.mark.parametrize(
    ("operator", "values", "user", "role"),
    [
        ("ArnLike", ("arn:aws:iam::*:user/*",), Tri.TRUE, Tri.FALSE),
        ("ArnEquals", ("arn:aws:iam::*:user/*",), Tri.TRUE, Tri.FALSE),
        ("ArnEquals", ("arn:aws:iam::123456789012:role/ci",), Tri.FALSE, Tri.TRUE),
        ("ArnNotLike", ("arn:aws:iam::*:user/*",), Tri.FALSE, Tri.TRUE),
        (
            "ArnNotEquals",
            ("arn:aws:iam::*:user/*", "arn:aws:iam::*:role/*"),
            Tri.FALSE,
            Tri.FALSE,
        ),
        ("ArnLike", ("arn:aws:iam::*:user/${aws:username}",), Tri.TRUE, Tri.FALSE),
    ],
)
def test_arn_operators(
    operator: str, values: tuple[str, ...], user: Tri, role: Tri
) -> None:
    condition = entry(operator, "aws:PrincipalArn", *values)

    assert evaluate_entry(condition, scenario("access-key"), V2012).value is user
    assert (
        evaluate_entry(condition, scenario("role-session-without-mfa"), V2012).value
        is role
    )


def test_arn_like_account_segment_no_colon() -> None:
    condition = entry(
        "ArnLike", "aws:PrincipalArn", "arn:aws:iam::1234*6789012:user/alice"
    )

    assert evaluate_entry(condition, scenario("access-key"), V2012).value is Tri.TRUE


def test_binary_equals() -> None:
    built = scenario("access-key").with_overrides({"s3:binary": "QmluYXJ5"})

    assert (
        evaluate_entry(
            entry("BinaryEquals", "s3:binary", "QmluYXJ5"), built, V2012
        ).value
        is Tri.TRUE
    )
    assert (
        evaluate_entry(
            entry("BinaryEquals", "s3:binary", "QmluYXJ6"), built, V2012
        ).value
        is Tri.FALSE
    )


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("StringEquals", Tri.FALSE),
        ("StringNotEquals", Tri.TRUE),
        ("StringLike", Tri.FALSE),
        ("StringNotLike", Tri.TRUE),
        ("StringEqualsIfExists", Tri.TRUE),
        ("StringNotEqualsIfExists", Tri.TRUE),
        ("NumericLessThan", Tri.FALSE),
        ("NumericNotEquals", Tri.TRUE),
        ("DateGreaterThan", Tri.FALSE),
        ("IpAddress", Tri.FALSE),
        ("NotIpAddress", Tri.TRUE),
        ("ArnLike", Tri.FALSE),
        ("ArnNotLike", Tri.TRUE),
        ("ArnEqualsIfExists", Tri.TRUE),
        ("Bool", Tri.FALSE),
        ("BinaryEquals", Tri.FALSE),
        ("ForAnyValue:StringEquals", Tri.FALSE),
        ("ForAnyValue:StringNotEquals", Tri.FALSE),
        ("ForAllValues:StringEquals", Tri.TRUE),
        ("ForAllValues:StringNotEquals", Tri.TRUE),
        ("ForAnyValue:StringEqualsIfExists", Tri.TRUE),
    ],
)
def test_absent_key_semantics(operator: str, expected: Tri) -> None:
    built = scenario("access-key").with_overrides({"aws:SourceIp": None})
    outcome = evaluate_entry(entry(operator, "aws:SourceIp", "x"), built, V2012)

    assert outcome.value is expected
    assert outcome.unknown_keys == frozenset()


@pytest.mark.parametrize(
    ("operator", "values", "expected"),
    [
        ("ForAllValues:StringEquals", ("a", "b", "c"), Tri.TRUE),
        ("ForAllValues:StringEquals", ("a",), Tri.FALSE),
        ("ForAnyValue:StringEquals", ("b",), Tri.TRUE),
        ("ForAnyValue:StringEquals", ("z",), Tri.FALSE),
        ("ForAnyValue:StringNotEquals", ("a",), Tri.TRUE),
        ("ForAllValues:StringNotEquals", ("a",), Tri.FALSE),
        ("ForAllValues:StringNotEquals", ("y", "z"), Tri.TRUE),
        ("ForAnyValue:StringLike", ("?",), Tri.TRUE),
        ("StringEquals", ("b",), Tri.TRUE),
    ],
)
def test_set_operators_many_values(
    operator: str, values: tuple[str, ...], expected: Tri
) -> None:
    built = with_values(scenario("access-key"), aws__TagKeys=("a", "b"))
    outcome = evaluate_entry(entry(operator, "aws:TagKeys", *values), built, V2012)

    assert outcome.value is expected


def test_set_operator_empty_values_absent() -> None:
    built = with_values(scenario("access-key"), aws__TagKeys=())
    any_value = evaluate_entry(
        entry("ForAnyValue:StringEquals", "aws:TagKeys", "a"), built, V2012
    )
    all_values = evaluate_entry(
        entry("ForAllValues:StringEquals", "aws:TagKeys", "a"), built, V2012
    )

    assert any_value.value is Tri.FALSE
    assert all_values.value is Tri.TRUE


@pytest.mark.parametrize(
    "operator",
    [
        "StringEquals",
        "StringNotEqualsIfExists",
        "Null",
        "ForAllValues:StringLike",
        "Bool",
    ],
)
def test_unknown_key_names_key(operator: str) -> None:
    outcome = evaluate_entry(
        entry(operator, "aws:PrincipalTag/team", "dev"), scenario("access-key"), V2012
    )

    assert outcome.value is Tri.UNKNOWN
    assert outcome.unknown_keys == frozenset({"aws:PrincipalTag/team"})


def test_unknown_operator_names_key() -> None:
    outcome = evaluate_entry(
        entry("BoolIfExist", MFA, "false"), scenario("access-key"), V2012
    )

    assert outcome.value is Tri.UNKNOWN
    assert outcome.unknown_keys == frozenset({MFA})
    assert (
        outcome.explanation
        == 'unknown condition operator "BoolIfExist" on aws:MultiFactorAuthPresent'
    )


def test_unknown_variable_in_value() -> None:
    condition = entry("StringEquals", "aws:username", "${aws:PrincipalTag/login}")
    outcome = evaluate_entry(condition, scenario("access-key"), V2012)

    assert outcome.value is Tri.UNKNOWN
    assert outcome.unknown_keys == frozenset({"aws:PrincipalTag/login"})


def test_unknown_variable_decided_by_other_value() -> None:
    condition = entry(
        "StringEquals", "aws:username", "${aws:PrincipalTag/login}", "alice"
    )
    outcome = evaluate_entry(condition, scenario("access-key"), V2012)

    assert outcome.value is Tri.TRUE
    assert outcome.unknown_keys == frozenset()


def test_missing_variable_positive_false() -> None:
    condition = entry("StringLike", "aws:userid", "*${aws:username}")
    outcome = evaluate_entry(condition, scenario("role-session-without-mfa"), V2012)

    assert outcome.value is Tri.FALSE


def test_missing_variable_negated_true() -> None:
    condition = entry("StringNotLike", "aws:userid", "*${aws:username}")
    outcome = evaluate_entry(condition, scenario("role-session-without-mfa"), V2012)

    assert outcome.value is Tri.TRUE


def test_variable_value_literal_in_like() -> None:
    built = scenario("access-key").with_overrides(
        {"aws:username": "a*", "aws:PrincipalTag/team": "abc"}
    )
    literal = evaluate_entry(
        entry("StringLike", "aws:PrincipalTag/team", "${aws:username}"), built, V2012
    )
    wildcard = evaluate_entry(
        entry("StringLike", "aws:PrincipalTag/team", "${aws:username}*"), built, V2012
    )

    assert literal.value is Tri.FALSE
    assert wildcard.value is Tri.FALSE


def test_variable_value_then_wildcard() -> None:
    built = scenario("access-key").with_overrides(
        {"aws:PrincipalTag/team": "alice-ops"}
    )
    condition = entry("StringLike", "aws:PrincipalTag/team", "${aws:username}-*")

    assert evaluate_entry(condition, built, V2012).value is Tri.TRUE


def test_variables_literal_without_version() -> None:
    condition = entry("StringEquals", "aws:username", "${aws:username}")

    assert evaluate_entry(condition, scenario("access-key"), None).value is Tri.FALSE
    assert evaluate_entry(condition, scenario("access-key"), V2012).value is Tri.TRUE


def test_numeric_takes_no_variables() -> None:
    condition = entry("NumericEquals", AGE, "${aws:MultiFactorAuthAge}")

    assert (
        evaluate_entry(condition, scenario("console-with-mfa"), V2012).value
        is Tri.FALSE
    )


def test_explanation_names_key_value() -> None:
    condition = entry("BoolIfExists", MFA, "false")
    present = evaluate_entry(condition, scenario("console-without-mfa"), V2012)
    absent = evaluate_entry(condition, scenario("access-key"), V2012)
    mfa = evaluate_entry(condition, scenario("console-with-mfa"), V2012)

    assert (
        present.explanation
        == 'BoolIfExists aws:MultiFactorAuthPresent = false holds because the key is "false"'
    )
    assert (
        absent.explanation
        == "BoolIfExists aws:MultiFactorAuthPresent = false holds because the key is absent"
    )
    assert (
        mfa.explanation
        == 'BoolIfExists aws:MultiFactorAuthPresent = false does not hold because the key is "true"'
    )


def test_explanation_unknown_key() -> None:
    outcome = evaluate_entry(
        entry("IpAddress", "aws:SourceIp", "10.0.0.0/8"), scenario("access-key"), V2012
    )

    assert (
        outcome.explanation
        == "IpAddress aws:SourceIp = 10.0.0.0/8 is unknown because the scenario does not set aws:SourceIp"
    )


def test_conditions_and_of_keys() -> None:
    statement = load_policy(
        {
            "Version": V2012,
            "Statement": [
                {
                    "Effect": "Deny",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {
                        "BoolIfExists": {MFA: "false", "aws:ViaAWSService": "true"}
                    },
                }
            ],
        }
    ).statements[0]

    assert (
        evaluate_conditions(statement, scenario("access-key"), V2012).value is Tri.FALSE
    )


def test_conditions_false_beats_unknown() -> None:
    statement = load_policy(
        {
            "Version": V2012,
            "Statement": [
                {
                    "Effect": "Deny",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {
                        "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                        "Bool": {MFA: "false"},
                    },
                }
            ],
        }
    ).statements[0]
    outcome = evaluate_conditions(statement, scenario("console-with-mfa"), V2012)

    assert outcome == ConditionOutcome(Tri.FALSE, frozenset())


def test_conditions_unknown_collects_keys() -> None:
    statement = load_policy(
        {
            "Version": V2012,
            "Statement": [
                {
                    "Effect": "Deny",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {
                        "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                        "StringEquals": {"aws:PrincipalTag/team": "ops"},
                        "Bool": {MFA: "false"},
                    },
                }
            ],
        }
    ).statements[0]
    outcome = evaluate_conditions(statement, scenario("console-without-mfa"), V2012)

    assert outcome.value is Tri.UNKNOWN
    assert outcome.unknown_keys == frozenset({"aws:SourceIp", "aws:PrincipalTag/team"})


def test_conditions_empty_true() -> None:
    statement = load_policy(
        {
            "Version": V2012,
            "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}],
        }
    ).statements[0]

    assert (
        evaluate_conditions(statement, scenario("access-key"), V2012).value is Tri.TRUE
    )


def test_json_boolean_value_normalised() -> None:
    statement = load_policy(
        {
            "Version": V2012,
            "Statement": [
                {
                    "Effect": "Deny",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"BoolIfExists": {MFA: False}},
                }
            ],
        }
    ).statements[0]

    assert (
        evaluate_conditions(statement, scenario("access-key"), V2012).value is Tri.TRUE
    )
    assert (
        evaluate_conditions(statement, scenario("console-with-mfa"), V2012).value
        is Tri.FALSE
    )


@pytest.mark.parametrize(
    ("values", "conjunction", "disjunction"),
    [
        ((), Tri.TRUE, Tri.FALSE),
        ((Tri.TRUE, Tri.TRUE), Tri.TRUE, Tri.TRUE),
        ((Tri.TRUE, Tri.UNKNOWN), Tri.UNKNOWN, Tri.TRUE),
        ((Tri.UNKNOWN, Tri.FALSE), Tri.FALSE, Tri.UNKNOWN),
        ((Tri.FALSE, Tri.TRUE), Tri.FALSE, Tri.TRUE),
        ((Tri.UNKNOWN, Tri.UNKNOWN), Tri.UNKNOWN, Tri.UNKNOWN),
    ],
)
def test_three_valued_logic(
    values: tuple[Tri, ...], conjunction: Tri, disjunction: Tri
) -> None:
    assert tri_and(values) is conjunction
    assert tri_or(values) is disjunction
