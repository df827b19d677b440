"""Edits of lists, operators and resource text in each format's own style."""

import pytest

from mfa_guard.fix.documents import open_document
from mfa_guard.fix.source import FixError, apply_edits
from mfa_guard.fix.syntax import add_to_list, replace_operator, replace_variable_end

JSONENCODE = """\
locals {
  policy = jsonencode({
    NotAction = %s
  })
}
"""
POLICY_DOCUMENT = """\
data "aws_iam_policy_document" "mfa" {
  statement {
    not_actions = %s
  }
}
"""


def added(name, text, line, column, values=("x:New",)):
    document = open_document(name, text)
    statement = document.statement(line, column)
    edits = add_to_list(text, statement.element_list("NotAction"), tuple(values))
    return apply_edits(text, edits)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('{"NotAction": ["a:B", "c:D"]}', '{"NotAction": ["x:New", "a:B", "c:D"]}'),
        ('{"NotAction": ["a:B","c:D"]}', '{"NotAction": ["x:New","a:B","c:D"]}'),
        ('{"NotAction": ["a:B"]}', '{"NotAction": ["x:New", "a:B"]}'),
        ('{"NotAction": []}', '{"NotAction": ["x:New"]}'),
        ('{"NotAction": "a:B"}', '{"NotAction": ["x:New", "a:B"]}'),
        (
            '{"NotAction": [\n  "a:B"\n]}',
            '{"NotAction": [\n  "x:New",\n  "a:B"\n]}',
        ),
        (
            '{"NotAction": [\r\n    "a:B",\r\n    "c:D"\r\n]}',
            '{"NotAction": [\r\n    "x:New",\r\n    "a:B",\r\n    "c:D"\r\n]}',
        ),
        (
            '{"NotAction": ["a:B",\n               "c:D"]}',
            '{"NotAction": ["x:New",\n               "a:B",\n               "c:D"]}',
        ),
    ],
)
def test_json_list_style_kept(before, after):
    assert added("policy.json", before, 1, 1) == after


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("NotAction:\n  - a:B\n  - c:D\n", "NotAction:\n  - x:New\n  - a:B\n  - c:D\n"),
        ("NotAction:\n- a:B\n", "NotAction:\n- x:New\n- a:B\n"),
        ('NotAction:\n  - "a:B"\n', 'NotAction:\n  - "x:New"\n  - "a:B"\n'),
        (
            "NotAction:\n  # exempt\n  - a:B  # note\n",
            "NotAction:\n  # exempt\n  - x:New\n  - a:B  # note\n",
        ),
        ("NotAction: [a:B, c:D]\n", "NotAction: [x:New, a:B, c:D]\n"),
        ("NotAction: ['a:B']\n", "NotAction: ['x:New', 'a:B']\n"),
        ("NotAction: [\n    a:B]\n", "NotAction: [\n    x:New,\n    a:B]\n"),
        ("NotAction: a:B\n", "NotAction: [x:New, a:B]\n"),
        ("NotAction: 'a:B'\n", "NotAction: ['x:New', 'a:B']\n"),
        ("NotAction:\r\n  - a:B\r\n", "NotAction:\r\n  - x:New\r\n  - a:B\r\n"),
    ],
)
def test_yaml_list_style_kept(before, after):
    assert added("template.yaml", before, 1, 1) == after


def test_yaml_reserved_word_quoted():
    text = "NotAction:\n  - a:B\n"
    result = added("template.yaml", text, 1, 1, values=("on", "x:New"))
    assert result == 'NotAction:\n  - "on"\n  - x:New\n  - a:B\n'


def test_yaml_block_scalar_not_a_list():
    text = "NotAction: |\n  a:B\n"
    with pytest.raises(FixError, match="NotAction is not a plain YAML list or string"):
        added("template.yaml", text, 1, 1)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("policy.json", '{"Action": "*"}'),
        ("template.yaml", "Action: '*'\n"),
    ],
)
def test_missing_element_rejected(name, text):
    with pytest.raises(FixError, match="the statement has no NotAction"):
        added(name, text, 1, 1)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('["a:B", "c:D"]', '["x:New", "a:B", "c:D"]'),
        ("[]", '["x:New"]'),
        ('"a:B"', '["x:New", "a:B"]'),
        (
            '[\n      "a:B",\n      "c:D",\n    ]',
            '[\n      "x:New",\n      "a:B",\n      "c:D",\n    ]',
        ),
    ],
)
def test_jsonencode_list_style_kept(before, after):
    text = JSONENCODE % before
    assert added("main.tf", text, 2, 23) == JSONENCODE % after


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('["a:B"]', '["x:New", "a:B"]'),
        ('[\n      "a:B"\n    ]', '[\n      "x:New",\n      "a:B"\n    ]'),
    ],
)
def test_policy_document_list_style_kept(before, after):
    text = POLICY_DOCUMENT % before
    assert added("main.tf", text, 2, 3) == POLICY_DOCUMENT % after


def test_policy_document_reference_rejected():
    text = POLICY_DOCUMENT % "local.exempt_actions"
    with pytest.raises(FixError) as caught:
        added("main.tf", text, 2, 3)
    assert str(caught.value) == (
        "not_actions is 'local.exempt_actions', not a list written in the statement"
    )


def test_terraform_json_list_style_kept():
    text = '{"statement": [{"not_actions": ["a:B"], "resources": ["*"]}]}'
    assert added("main.tf.json", text, 1, 16) == (
        '{"statement": [{"not_actions": ["x:New", "a:B"], "resources": ["*"]}]}'
    )


def test_terraform_json_condition_renamed():
    text = (
        '{"condition": [{"test": "Bool", "variable": "aws:MultiFactorAuthPresent",'
        ' "values": ["false"]}]}'
    )
    assert renamed("main.tf.json", text, 1, 1) == text.replace(
        '"Bool"', '"BoolIfExists"'
    )


def test_statement_not_found():
    with pytest.raises(FixError, match="no statement object starts"):
        added("policy.json", '{"NotAction": []}', 1, 2)


def renamed(name, text, line, column):
    statement = open_document(name, text).statement(line, column)
    return apply_edits(text, replace_operator(statement, "Bool", "BoolIfExists"))


@pytest.mark.parametrize(
    ("name", "before", "after"),
    [
        (
            "policy.json",
            '{"Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}',
            '{"Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}',
        ),
        (
            "template.yaml",
            "Condition:\n  Bool:\n    aws:MultiFactorAuthPresent: 'false'\n",
            "Condition:\n  BoolIfExists:\n    aws:MultiFactorAuthPresent: 'false'\n",
        ),
        (
            "template.yaml",
            'Condition: {"Bool": {aws:MultiFactorAuthPresent: false}}\n',
            'Condition: {"BoolIfExists": {aws:MultiFactorAuthPresent: false}}\n',
        ),
    ],
)
def test_operator_renamed(name, before, after):
    assert renamed(name, before, 1, 1) == after


def test_jsonencode_operator_renamed():
    text = JSONENCODE % '"x"'
    text = text.replace(
        'NotAction = "x"',
        'Condition = { "Bool" = { "aws:MultiFactorAuthPresent" = "false" } }',
    )
    assert '"BoolIfExists" = {' in renamed("main.tf", text, 2, 23)


def test_policy_document_operator_renamed():
    text = POLICY_DOCUMENT.replace(
        "not_actions = %s",
        'condition {\n      test = "Bool"\n      variable = "aws:MultiFactorAuthPresent"\n      values = ["false"]\n    }',
    )
    assert 'test = "BoolIfExists"' in renamed("main.tf", text, 2, 3)


def test_escaped_operator_left_alone():
    text = '{"Condition": {"Bo\\u006fl": {"aws:MultiFactorAuthPresent": "false"}}}'
    with pytest.raises(FixError, match="no 'Bool' condition operators"):
        renamed("policy.json", text, 1, 1)


def test_two_condition_blocks_rejected():
    block = 'condition {\n      test = "Bool"\n      variable = "%s"\n      values = ["false"]\n    }'
    text = POLICY_DOCUMENT.replace(
        "not_actions = %s",
        block % "aws:MultiFactorAuthPresent" + "\n    " + block % "aws:SecureTransport",
    )
    with pytest.raises(FixError, match="has 2 'Bool' condition operators"):
        renamed("main.tf", text, 2, 3)


def pinned(name, text, line, column):
    statement = open_document(name, text).statement(line, column)
    edits = replace_variable_end(
        text, statement, "Resource", "mfa/${aws:username}", "mfa/*"
    )
    return apply_edits(text, edits)


@pytest.mark.parametrize(
    ("name", "before", "after"),
    [
        (
            "policy.json",
            '{"Resource": "arn:aws:iam::*:mfa/${aws:username}"}',
            '{"Resource": "arn:aws:iam::*:mfa/*"}',
        ),
        (
            "policy.json",
            '{"Resource": ["arn:aws:iam::*:user/${aws:username}", "arn:aws:iam::*:mfa/${aws:username}"]}',
            '{"Resource": ["arn:aws:iam::*:user/${aws:username}", "arn:aws:iam::*:mfa/*"]}',
        ),
        (
            "template.json",
            '{"Resource": {"Fn::Sub": ["arn:aws:iam::${A}:mfa/${!aws:username}", {"A": "1"}]}}',
            '{"Resource": {"Fn::Sub": ["arn:aws:iam::${A}:mfa/*", {"A": "1"}]}}',
        ),
        (
            "template.json",
            '{"Resource": {"Fn::Join": ["", ["arn:aws:iam::", {"Ref": "AWS::AccountId"}, ":mfa/${aws:username}"]]}}',
            '{"Resource": {"Fn::Join": ["", ["arn:aws:iam::", {"Ref": "AWS::AccountId"}, ":mfa/*"]]}}',
        ),
        (
            "template.yaml",
            "Resource: arn:aws:iam::*:mfa/${aws:username}\n",
            "Resource: arn:aws:iam::*:mfa/*\n",
        ),
        (
            "template.yaml",
            "Resource:\n  - !Sub 'arn:aws:iam::${AWS::AccountId}:mfa/${!aws:username}'\n",
            "Resource:\n  - !Sub 'arn:aws:iam::${AWS::AccountId}:mfa/*'\n",
        ),
        (
            "template.yaml",
            'Resource: !Join ["", ["arn:aws:iam::", !Ref AWS::AccountId, ":mfa/${aws:username}"]]\n',
            'Resource: !Join ["", ["arn:aws:iam::", !Ref AWS::AccountId, ":mfa/*"]]\n',
        ),
    ],
)
def test_variable_end_replaced(name, before, after):
    assert pinned(name, before, 1, 1) == after


@pytest.mark.parametrize(
    "resource",
    [
        '"arn:aws:iam::${var.account}:mfa/$${aws:username}"',
        '"arn:aws:iam::*:mfa/&{aws:username}"',
    ],
)
def test_terraform_variable_end_replaced(resource):
    text = POLICY_DOCUMENT.replace("not_actions = %s", f"resources = [{resource}]")
    result = pinned("main.tf", text, 2, 3)
    assert resource.rsplit("/", 1)[0] + '/*"' in result


def test_variable_not_at_end_rejected():
    text = '{"Resource": "arn:aws:iam::*:mfa/${aws:username}-phone"}'
    with pytest.raises(FixError, match="no Resource entry is written to end in"):
        pinned("policy.json", text, 1, 1)
