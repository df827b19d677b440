"""Selectors: the `Effect` filter, evaluated without jsonpath-ng, agrees with it."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mfa_guard.engine.selectors import (
    compile_selector,
    document_view,
    effect_filter,
    select_statements,
    select_with_jsonpath,
)
from mfa_guard.loaders.dispatch import load_json_text


def document(effects, sids=None):
    statements = []
    for index, effect in enumerate(effects):
        statement = {"Effect": effect, "Action": "s3:GetObject", "Resource": "*"}
        if sids and sids[index]:
            statement["Sid"] = sids[index]
        statements.append(statement)
    text = json.dumps({"Version": "2012-10-17", "Statement": statements})
    return load_json_text(text, "policy.json").documents[0]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("$.Statement[?(@.Effect == 'Deny')]", "Deny"),
        ("$.Statement[?(@.Effect == 'Allow')]", "Allow"),
        ("$.Statement[?(@.Effect=='Deny')]", "Deny"),
        (' $.Statement[?( @.Effect == "Deny" )] ', "Deny"),
        ("$.Statement[?(@.Effect == 'deny')]", "deny"),
        ("$.Statement[?(@.Effect != 'Deny')]", None),
        ("$.Statement[?(@.Sid == 'Deny')]", None),
        ("$.Statement[*]", None),
        ("$.Statement[?(@.Effect == 'Deny')].Condition", None),
    ],
)
def test_effect_filter_forms(expression, expected):
    assert effect_filter(expression) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "$.Statement[?(@.Effect == 'Deny')]",
        "$.Statement[?(@.Effect=='Deny')]",
        ' $.Statement[?( @.Effect == "Deny" )] ',
        "$.Statement[?(@.Effect == 'deny')]",
    ],
)
def test_effect_filter_forms_are_jsonpath(expression):
    assert compile_selector(expression) is not None


@settings(max_examples=60, deadline=None)
@given(
    effects=st.lists(st.sampled_from(["Allow", "Deny"]), min_size=1, max_size=6),
    sids=st.lists(
        st.sampled_from([None, "Deny", "Allow", "x"]), min_size=6, max_size=6
    ),
    wanted=st.sampled_from(["Allow", "Deny", "deny", ""]),
)
def test_effect_filter_agrees_with_jsonpath(effects, sids, wanted):
    policy = document(effects, sids)
    expression = f"$.Statement[?(@.Effect == '{wanted}')]"
    fast = select_statements(expression, policy)
    slow = select_with_jsonpath(expression, document_view(policy))
    assert [s.index for s in fast] == [s.index for s in slow]


def test_other_selectors_use_jsonpath():
    policy = document(["Allow", "Deny", "Deny"], ["a", None, "c"])
    selected = select_statements("$.Statement[?(@.Sid == 'c')]", policy)
    assert [s.index for s in selected] == [2]


def test_view_built_only_when_needed():
    policy = document(["Allow", "Deny"])
    calls = []

    def view():
        calls.append(1)
        return document_view(policy)

    select_statements("$.Statement[?(@.Effect == 'Deny')]", policy, view)
    assert calls == []
