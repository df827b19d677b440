from mfa_guard.loaders.build import build_document
from mfa_guard.loaders.jsonpos import parse_json
from mfa_guard.loaders.positions import Unresolved
from mfa_guard.model import DiagnosticKind, PolicyKind


def build(text):
    return build_document(parse_json(text).value, path="p.json")


def test_single_statement_object_becomes_list():
    document, problems = build(
        '{"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}}'
    )
    assert problems == []
    assert len(document.statements) == 1
    assert document.statements[0].actions == ("*",)
    assert document.statements[0].resources == ("*",)
    assert document.statements[0].not_actions is None
    assert document.version is None


def test_condition_values_normalised():
    text = '{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*",\n "Condition": {"Bool": {"aws:MultiFactorAuthPresent": false}, "NumericLessThan": {"aws:MultiFactorAuthAge": [3600, "60"]}}}]}'
    document, _ = build(text)
    bool_entry, numeric_entry = document.statements[0].conditions
    assert bool_entry.values == ("false",)
    assert bool_entry.raw_values == (False,)
    assert numeric_entry.values == ("3600", "60")
    assert (bool_entry.span.line, bool_entry.span.column) == (2, 16)
    assert (bool_entry.key_span.line, bool_entry.key_span.column) == (2, 25)


def test_statement_span_is_list_item():
    document, _ = build(
        '{"Statement": [\n  {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},\n  {"Sid": "B", "Effect": "Deny", "Action": "*"}\n]}'
    )
    assert [(s.span.line, s.span.column) for s in document.statements] == [
        (2, 3),
        (3, 3),
    ]
    assert document.statements[1].label == '"B"'
    assert document.statements[0].label == "#1"


def test_invalid_effect_reported_and_skipped():
    document, problems = build(
        '{"Statement": [{"Effect": "deny", "Action": "*"}, {"Effect": "Allow", "Action": "*"}]}'
    )
    assert len(document.statements) == 1
    assert document.statements[0].index == 1
    assert len(problems) == 1
    assert problems[0].kind is DiagnosticKind.PARSE_ERROR
    assert "invalid Effect 'deny'" in problems[0].message
    assert problems[0].span.column == 17


def test_non_string_action_reported():
    document, problems = build(
        '{"Statement": [{"Effect": "Allow", "Action": ["s3:*", 7]}]}'
    )
    assert document.statements[0].actions == ("s3:*",)
    assert "invalid Action entry 7" in problems[0].message


def test_not_a_policy_returns_none():
    document, problems = build_document({"Resources": {}}, path="t.json")
    assert document is None
    assert problems == []


def test_unresolved_values_listed():
    value = {
        "Statement": [
            {
                "Effect": "Deny",
                "NotAction": [Unresolved("var.exempt (no default)")],
                "Resource": "*",
            }
        ]
    }
    document, _ = build_document(
        value, path="main.tf", kind=PolicyKind.IDENTITY, fallback=(5, 3, 9, 4)
    )
    assert document.unresolved == ("var.exempt (no default)",)
    assert (document.span.line, document.span.column) == (5, 3)
    assert document.statements[0].span.line == 5


def test_action_and_not_action_rejected():
    document, problems = build(
        '{"Statement": [{"Effect": "Deny", "Action": "*", "NotAction": "iam:*", "Resource": "*"}]}'
    )
    assert document.statements == ()
    assert "both Action and NotAction" in problems[0].message


def test_missing_action_rejected():
    document, problems = build('{"Statement": [{"Effect": "Deny", "Resource": "*"}]}')
    assert document.statements == ()
    assert "neither Action nor NotAction" in problems[0].message


def test_both_resource_forms_rejected():
    _, problems = build(
        '{"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "NotResource": "x"}]}'
    )
    assert "both Resource and NotResource" in problems[0].message


def test_unknown_condition_operator_reported():
    document, problems = build(
        '{"Statement": [{"Effect": "Deny", "Action": "*",\n  "Condition": {"BoolIfExist": {"aws:MultiFactorAuthPresent": "false"}}}]}'
    )
    assert len(document.statements) == 1
    assert (
        problems[0].message
        == "invalid condition operator 'BoolIfExist', which IAM rejects"
    )
    assert (problems[0].span.line, problems[0].span.column) == (2, 17)


def test_unresolved_condition_names_listed():
    operator, key = Unresolved("local.op (unresolved)"), Unresolved("var.key")
    value = {
        "Statement": [
            {
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {
                    operator: {"aws:MultiFactorAuthPresent": "false"},
                    "Bool": {key: "true"},
                },
            }
        ]
    }
    document, problems = build_document(
        value, path="main.tf", kind=PolicyKind.IDENTITY, fallback=(5, 3, 9, 4)
    )
    assert problems == []
    assert document.unresolved == ("local.op (unresolved)", "var.key")
