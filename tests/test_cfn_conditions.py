"""Which values of a CloudFormation template's conditions can occur together."""

from __future__ import annotations

import pytest

from mfa_guard.cfn_conditions import definitions_text, possible

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
    conditions = {f"C{n}": {"Fn::Equals": [{"Ref": f"P{n}"}, "on"]} for n in range(20)}
    conditions["All"] = {"Fn::And": [{"Condition": f"C{n}"} for n in range(20)]}
    text = definitions_text(conditions)

    assert possible({"All": True, "C0": False}, text) is True
