from __future__ import annotations

import pytest

from mfa_guard.loaders import yamlpos
from mfa_guard.loaders.positions import PosDict, PosList
from mfa_guard.loaders.yamlpos import LiteralText, YamlError, parse_yaml

POLICY = """\
PolicyDocument:
  Version: 2012-10-17
  Statement:
    - Sid: DenyWithoutMfa
      Effect: Deny
      NotAction:
        - iam:EnableMFADevice
        - sts:GetSessionToken
      Resource: "*"
      Condition:
        BoolIfExists:
          aws:MultiFactorAuthPresent: false
    - {Effect: Allow, Action: [s3:GetObject, s3:ListBucket], Resource: "*"}
"""


@pytest.fixture(params=["libyaml", "pure-python"])
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with each parser, because both must give the same positions."""
    if request.param == "pure-python":
        monkeypatch.setattr(yamlpos, "_LOADER", yamlpos._PurePythonLoader)
    return str(request.param)


def test_block_statement_positions(loader: str) -> None:
    statements = parse_yaml(POLICY).value["PolicyDocument"]["Statement"]

    assert isinstance(statements, PosList)
    assert statements.pos[:2] == (4, 5)
    assert statements.item_pos[0] == (4, 7, 12, 44)
    assert statements[0].pos == (4, 7, 12, 44)


def test_block_key_positions(loader: str) -> None:
    statement = parse_yaml(POLICY).value["PolicyDocument"]["Statement"][0]

    assert statement.key_pos["Effect"] == (5, 7, 5, 13)
    assert statement.key_pos["Condition"] == (10, 7, 10, 16)
    assert statement["Condition"].key_pos["BoolIfExists"] == (11, 9, 11, 21)
    tests = statement["Condition"]["BoolIfExists"]
    assert tests.key_pos["aws:MultiFactorAuthPresent"] == (12, 11, 12, 37)


def test_block_list_item_positions(loader: str) -> None:
    not_action = parse_yaml(POLICY).value["PolicyDocument"]["Statement"][0]["NotAction"]

    assert not_action == ["iam:EnableMFADevice", "sts:GetSessionToken"]
    assert not_action.item_pos == [(7, 11, 7, 30), (8, 11, 8, 30)]


def test_flow_positions(loader: str) -> None:
    statements = parse_yaml(POLICY).value["PolicyDocument"]["Statement"]
    statement = statements[1]

    assert statements.item_pos[1] == (13, 7, 13, 76)
    assert statement.key_pos["Action"] == (13, 23, 13, 29)
    assert statement["Action"].item_pos == [(13, 32, 13, 44), (13, 46, 13, 59)]


def test_columns_count_characters(loader: str) -> None:
    value = parse_yaml("x: {é: 1, b: 2}\n").value

    assert value["x"].key_pos["b"] == (1, 11, 1, 12)


def test_plain_scalars_stay_text(loader: str) -> None:
    text = "Version: 2012-10-17\nAge: 0600\nFlag: false\nNone: ~\nEmpty:\nYes: yes\n"
    value = parse_yaml(text).value

    assert value["Version"] == "2012-10-17"
    assert value["Age"] == "0600"
    assert value["Flag"] == "false"
    assert value["None"] == "~"
    assert value["Empty"] == ""
    assert value["Yes"] == "yes"


def test_values_compare_like_plain_data(loader: str) -> None:
    value = parse_yaml("a: [1, {b: c}]\n").value

    assert isinstance(value, PosDict)
    assert value == {"a": ["1", {"b": "c"}]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("!Ref Bucket", {"Ref": "Bucket"}),
        ("!Condition IsProd", {"Condition": "IsProd"}),
        ("!GetAtt Role.Arn", {"Fn::GetAtt": ["Role", "Arn"]}),
        ("!GetAtt Stack.Outputs.Arn", {"Fn::GetAtt": ["Stack", "Outputs.Arn"]}),
        ("!GetAtt [Role, Arn]", {"Fn::GetAtt": ["Role", "Arn"]}),
        (
            "!Sub arn:${AWS::Partition}:s3:::x",
            {"Fn::Sub": "arn:${AWS::Partition}:s3:::x"},
        ),
        ("!Sub ['a-${X}', {X: b}]", {"Fn::Sub": ["a-${X}", {"X": "b"}]}),
        ("!Join ['', [a, b]]", {"Fn::Join": ["", ["a", "b"]]}),
        (
            "!If [IsProd, a, !Ref AWS::NoValue]",
            {"Fn::If": ["IsProd", "a", {"Ref": "AWS::NoValue"}]},
        ),
        ("!ImportValue shared-arn", {"Fn::ImportValue": "shared-arn"}),
        (
            "!Select [0, !Split [',', !Ref L]]",
            {"Fn::Select": ["0", {"Fn::Split": [",", {"Ref": "L"}]}]},
        ),
        ("!Base64 {a: b}", {"Fn::Base64": {"a": "b"}}),
    ],
)
def test_short_form_tags(loader: str, text: str, expected: object) -> None:
    assert parse_yaml(f"v: {text}\n").value["v"] == expected


def test_short_form_tag_positions(loader: str) -> None:
    value = parse_yaml("Resource:\n  - !Sub 'arn:${AWS::Partition}:s3:::b'\n").value
    item = value["Resource"][0]

    assert isinstance(item, PosDict)
    assert item.pos == (2, 5, 2, 40)
    assert item.key_pos["Fn::Sub"] == (2, 5, 2, 40)
    assert value["Resource"].item_pos[0] == (2, 5, 2, 40)


def test_duplicate_key_listed(loader: str) -> None:
    text = "Statement:\n  - Effect: Allow\n    Action: '*'\n    Effect: Deny\n"
    parsed = parse_yaml(text)

    assert parsed.value["Statement"][0]["Effect"] == "Deny"
    assert len(parsed.duplicates) == 1
    duplicate = parsed.duplicates[0]
    assert duplicate.key == "Effect"
    assert duplicate.pos == (4, 5, 4, 11)
    assert duplicate.first_pos == (2, 5, 2, 11)


def test_merge_key_override_allowed(loader: str) -> None:
    text = "base: &base {a: '1', b: '2'}\nitem:\n  <<: *base\n  b: '3'\n"
    parsed = parse_yaml(text)

    assert parsed.value["item"] == {"a": "1", "b": "3"}
    assert parsed.duplicates == []


def test_merge_key_own_duplicate(loader: str) -> None:
    text = "base: &base {a: '1'}\nitem:\n  <<: *base\n  b: '2'\n  b: '3'\n"
    parsed = parse_yaml(text)

    assert parsed.value["item"] == {"a": "1", "b": "3"}
    assert [d.pos[0] for d in parsed.duplicates] == [5]


def test_alias_bomb_rejected(loader: str) -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 10):
        aliases = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{aliases}]")

    with pytest.raises(YamlError) as caught:
        parse_yaml("\n".join(lines) + "\n")

    assert "more than 100,000 nodes" in caught.value.message
    assert caught.value.line == 6


def test_recursive_alias_rejected(loader: str) -> None:
    with pytest.raises(YamlError) as caught:
        parse_yaml("a: &x [*x]\n")

    assert caught.value.message == "recursive YAML alias"
    assert (caught.value.line, caught.value.column) == (1, 4)


def test_tab_indentation_error(loader: str) -> None:
    with pytest.raises(YamlError) as caught:
        parse_yaml("Resources:\n\tBucket: x\n")

    assert (caught.value.line, caught.value.column) == (2, 1)


def test_flow_nesting_limit(loader: str) -> None:
    depth = yamlpos.MAX_DEPTH + 1

    with pytest.raises(YamlError) as caught:
        parse_yaml("[" * depth + "]" * depth + "\n")

    assert caught.value.message == "nesting deeper than 200 levels"
    assert (caught.value.line, caught.value.column) == (1, 201)


def test_block_nesting_limit(loader: str) -> None:
    lines = [" " * level + f"k{level}:" for level in range(yamlpos.MAX_DEPTH + 1)]
    text = "\n".join(lines) + " v\n"

    with pytest.raises(YamlError) as caught:
        parse_yaml(text)

    assert caught.value.line == 201


def test_nesting_limit_allows_limit(loader: str) -> None:
    depth = yamlpos.MAX_DEPTH

    value = parse_yaml("[" * depth + "]" * depth + "\n").value

    assert isinstance(value, list)


def test_alias_nesting_limit(loader: str) -> None:
    half = yamlpos.MAX_DEPTH // 2 + 1
    text = f"a: &a {'[' * half}x{']' * half}\nb: &b {'[' * half}*a{']' * half}\n"

    with pytest.raises(YamlError) as caught:
        parse_yaml(text)

    assert "through YAML aliases" in caught.value.message
    assert caught.value.line == 2


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("a: !!python/object:os.system x\n", 1, 4),
        ("a: !!python/name:os.system ''\n", 1, 4),
        ("a: !!float abc\n", 1, 4),
        ("a: !!int x\n", 1, 4),
        ("a: !!timestamp nope\n", 1, 4),
        ("a: !!binary aGk=\n", 1, 4),
        ("a: !!set {x}\n", 1, 4),
        ("? [a, b]\n: c\n", 1, 3),
        ("!!int 1: a\n", 1, 1),
        ("a: *nosuch\n", 1, 4),
        ("<<: x\n", 1, 5),
        ("a: 'x\n", 2, 1),
        ("a: [1, 2\n", 2, 1),
        ("a: \x00\n", 1, 4),
        ("a: \ud800\n", 1, 4),
    ],
)
def test_hostile_input_raises_yaml_error(
    loader: str, text: str, line: int, column: int
) -> None:
    with pytest.raises(YamlError) as caught:
        parse_yaml(text)

    assert (caught.value.line, caught.value.column) == (line, column)


def test_error_message_has_position() -> None:
    with pytest.raises(YamlError) as caught:
        parse_yaml("a: *nosuch\n")

    assert str(caught.value) == "found undefined alias (line 1, column 4)"


def test_literal_block_offsets(loader: str) -> None:
    text = 'Doc: |\n    {\n      "a": 1\n    }\nNext: x\n'
    value = parse_yaml(text).value["Doc"]

    assert isinstance(value, LiteralText)
    assert value == '{\n  "a": 1\n}\n'
    assert value.line_offset == 1
    assert value.column_offset == 4


def test_literal_block_with_indent_indicator(loader: str) -> None:
    text = "Doc: |2\n     x\n   y\n"
    value = parse_yaml(text).value["Doc"]

    assert value == "   x\n y\n"
    assert isinstance(value, LiteralText)
    assert value.column_offset == 2


def test_quoted_scalar_is_plain_text(loader: str) -> None:
    value = parse_yaml("Doc: '{}'\n").value["Doc"]

    assert type(value) is str


def test_empty_text_is_none(loader: str) -> None:
    assert parse_yaml("").value is None
    assert parse_yaml("# comment only\n").value is None


def test_first_document_only(loader: str) -> None:
    parsed = parse_yaml("a: b\n---\nc: [unclosed\n")

    assert parsed.value == {"a": "b"}


def test_byte_order_mark_ignored(loader: str) -> None:
    value = parse_yaml("\ufeffa: b\n").value

    assert value == {"a": "b"}
    assert value.key_pos["a"] == (1, 1, 1, 2)
