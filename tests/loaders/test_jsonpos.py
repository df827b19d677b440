import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mfa_guard.loaders.jsonpos import MAX_DEPTH, JsonError, parse_json

POLICY = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Deny",
      "Effect": "Deny",
      "NotAction": ["iam:GetUser",
                    "iam:ListMFADevices"],
      "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": false}}
    }
  ]
}
"""


def test_parse_json_equals_stdlib():
    assert parse_json(POLICY).value == json.loads(POLICY)


def test_object_and_item_positions():
    value = parse_json(POLICY).value
    assert value.pos == (1, 1, 12, 2)
    assert value["Statement"].item_pos[0] == (4, 5, 10, 6)
    statement = value["Statement"][0]
    assert statement.key_pos["Effect"] == (6, 7, 6, 15)
    assert statement["NotAction"].item_pos == [(7, 21, 7, 34), (8, 21, 8, 41)]
    assert statement["Condition"].key_pos["BoolIfExists"] == (9, 21, 9, 35)


def test_offsets_shift_positions():
    value = parse_json('{"a": 1}', line_offset=9, column_offset=4).value
    assert value.pos == (10, 5, 10, 13)
    assert value.key_pos["a"] == (10, 6, 10, 9)


def test_duplicate_keys_reported():
    parsed = parse_json('{"Effect": "Allow",\n "Effect": "Deny"}')
    assert parsed.value == {"Effect": "Deny"}
    assert len(parsed.duplicates) == 1
    assert parsed.duplicates[0].pos[:2] == (2, 2)
    assert parsed.duplicates[0].first_pos[:2] == (1, 2)


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ('{"a": [1,\n 2,, 3]}', 2, 4),
        ('{"a" 1}', 1, 6),
        ("[1, 2", 1, 6),
        ('{"a": tru}', 1, 7),
        ('{"a": "x\ny"}', 1, 9),
        ("", 1, 1),
        ("{} x", 1, 4),
    ],
)
def test_errors_carry_position(text, line, column):
    with pytest.raises(JsonError) as caught:
        parse_json(text)
    assert (caught.value.line, caught.value.column) == (line, column)


def test_deep_nesting_rejected():
    depth = MAX_DEPTH + 5
    with pytest.raises(JsonError, match="nesting deeper"):
        parse_json("[" * depth + "]" * depth)


def test_number_too_long_rejected():
    with pytest.raises(JsonError) as raised:
        parse_json('{"Version": ' + "1" * 5000 + "}")
    assert (raised.value.line, raised.value.column) == (1, 13)
    assert raised.value.message == "number with 5,000 digits is too long"


def test_crlf_line_numbers():
    value = parse_json('{\r\n  "a": [\r\n    1\r\n  ]\r\n}').value
    assert value.key_pos["a"][:2] == (2, 3)
    assert value["a"].item_pos[0][:2] == (3, 5)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values, st.sampled_from([None, 2]))
def test_roundtrip_matches_stdlib(value, indent):
    text = json.dumps(value, indent=indent)
    assert parse_json(text).value == json.loads(text)
