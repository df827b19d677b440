"""Which values of a CloudFormation template's conditions can occur together."""

from __future__ import annotations

import pytest

from mfa_guard.cfn_conditions import (
    conjoin,
    definitions_text,
    matches_any,
    possible,
    simplify,
)

PROD = {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
EU = {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]}
DEFINITIONS = definitions_text(
    {
        "IsProd": PROD,
        "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
        "ProdInEu": {"Fn::And": [{"Condition": "IsProd"}, EU]},
        "ProdOrEu": {"Fn::Or": [PROD, EU]},
        "Always": {"Fn::Equals": ["a", "a"]},
    }
)


@pytest.mark.parametrize(
    ("assignment", "expected"),
    [
        ({"IsProd": True, "NotProd": False}, True),
        ({"IsProd": False, "NotProd": False}, False),
        ({"IsProd": True, "NotProd": True}, False),
        ({"IsProd": False, "ProdInEu": True}, False),
        ({"IsProd": True, "ProdInEu": False}, True),
        ({"ProdOrEu": False, "ProdInEu": True}, False),
        ({"Always": False}, False),
        ({"Undeclared": False, "IsProd": True}, True),
    ],
)
def test_possible_combinations(assignment: dict[str, bool], expected: bool) -> None:
    assert possible(assignment, DEFINITIONS) is expected


def test_no_definitions_allow_everything() -> None:
    assert possible({"IsProd": False, "NotProd": False}, "") is True
    assert definitions_text(None) == ""


def test_too_many_facts_allow_everything() -> None:
    # Fn::Equals of two Refs are unknown facts: 2**9 choices, past MAX_CHOICES.
    conditions = {
        f"C{n}": {"Fn::Equals": [{"Ref": f"P{n}"}, {"Ref": f"Q{n}"}]} for n in range(9)
    }
    conditions["All"] = {"Fn::And": [{"Condition": f"C{n}"} for n in range(9)]}
    text = definitions_text(conditions)

    assert possible({"All": True, "C0": False}, text) is True


ENVIRONMENTS = {
    "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
    "IsDev": {"Fn::Equals": ["dev", {"Ref": "Env"}]},
    "IsQa": {"Fn::Equals": [{"Ref": "Env"}, "qa"]},
    "SameStage": {"Fn::Equals": [{"Ref": "Env"}, {"Ref": "Stage"}]},
    "OneCopy": {"Fn::Equals": [{"Ref": "Copies"}, 1]},
    "OneCopyText": {"Fn::Equals": [{"Ref": "Copies"}, "1"]},
    "Enabled": {"Fn::Equals": [{"Ref": "Flag"}, True]},
    "EnabledText": {"Fn::Equals": [{"Ref": "Flag"}, "true"]},
}


@pytest.mark.parametrize(
    ("assignment", "expected"),
    [
        ({"IsProd": True, "IsDev": True}, False),
        ({"IsProd": False, "IsDev": False}, True),
        ({"IsProd": True, "IsDev": False}, True),
        ({"IsProd": True, "SameStage": True}, True),
        ({"IsProd": True, "SameStage": False}, True),
        ({"OneCopy": True, "OneCopyText": False}, False),
        ({"Enabled": True, "EnabledText": False}, False),
    ],
)
def test_one_parameter_one_value(assignment: dict[str, bool], expected: bool) -> None:
    assert possible(assignment, definitions_text(ENVIRONMENTS)) is expected


@pytest.mark.parametrize(
    ("assignment", "expected"),
    [
        ({"IsProd": False, "IsDev": False}, False),
        ({"IsProd": False, "IsDev": True}, True),
        ({"IsQa": True}, False),
        ({"IsQa": False, "IsProd": True}, True),
    ],
)
def test_allowed_values_limit(assignment: dict[str, bool], expected: bool) -> None:
    parameters = {"Env": {"Type": "String", "AllowedValues": ["prod", "dev"]}}
    text = definitions_text(ENVIRONMENTS, parameters)

    assert possible(assignment, text) is expected


def test_numeric_allowed_values_compare_as_text() -> None:
    parameters = {"Copies": {"Type": "Number", "AllowedValues": [1]}}
    text = definitions_text(ENVIRONMENTS, parameters)

    assert possible({"OneCopy": False}, text) is False


def test_too_many_choices_allow_everything() -> None:
    # Nine parameters of two outcomes each need 2**9 choices, past MAX_CHOICES.
    conditions = {f"C{n}": {"Fn::Equals": [{"Ref": f"P{n}"}, "on"]} for n in range(9)}
    conditions["All"] = {"Fn::And": [{"Condition": f"C{n}"} for n in range(9)]}
    text = definitions_text(conditions)

    assert possible({"All": True, "C0": False}, text) is True
    assert possible({"All": True, "C0": False, "C1": True}, text) is True


def test_choices_within_limit_checked() -> None:
    conditions = {f"C{n}": {"Fn::Equals": [{"Ref": f"P{n}"}, "on"]} for n in range(8)}
    conditions["All"] = {"Fn::And": [{"Condition": f"C{n}"} for n in range(8)]}
    text = definitions_text(conditions)

    assert possible({"All": True, "C0": False}, text) is False


PROD_ONLY = (("IsProd", True),)
EU_ONLY = (("InEu", True),)


@pytest.mark.parametrize(
    ("alternatives", "values", "expected"),
    [
        ((), {}, True),
        ((PROD_ONLY,), {"IsProd": True}, True),
        ((PROD_ONLY,), {"IsProd": False}, False),
        ((PROD_ONLY,), {}, False),
        ((PROD_ONLY, EU_ONLY), {"IsProd": False, "InEu": True}, True),
    ],
)
def test_matches_any(alternatives, values, expected) -> None:
    assert matches_any(alternatives, values) is expected


def test_conjoin_merges_alternatives() -> None:
    assert conjoin((PROD_ONLY,), (EU_ONLY,)) == ((("IsProd", True), ("InEu", True)),)
    assert conjoin((), (EU_ONLY,)) == (EU_ONLY,)
    assert conjoin((PROD_ONLY,), ()) == (PROD_ONLY,)


def test_conjoin_contradiction_is_none() -> None:
    assert conjoin((PROD_ONLY,), ((("IsProd", False),),)) is None


def test_simplify_merges_flipped_value() -> None:
    both = (("IsProd", True), ("InEu", True)), (("IsProd", False), ("InEu", True))
    assert simplify(both) == (EU_ONLY,)
    assert simplify((PROD_ONLY, (("IsProd", False),))) == ()
    assert simplify((PROD_ONLY, PROD_ONLY, EU_ONLY)) == (PROD_ONLY, EU_ONLY)
