"""Result cache entries: every report field survives the round trip, bad types are rejected."""

import json

import pytest

from mfa_guard.cache_codec import decode_entry, encode_entry
from mfa_guard.model import Autofix, Finding, Severity, SourceSpan
from mfa_guard.parallel import UnitReport
from mfa_guard.suppress import InlineSuppression

AUTOFIX = Autofix(
    kind="add-to-list",
    statement=SourceSpan("stack.yaml", 9, 11, 16, 40),
    element="NotAction",
    old="",
    new=("iam:ChangePassword", "iam:GetAccountPasswordPolicy"),
    description="exempt password changes",
)

FINDING = Finding(
    "stack.yaml",
    10,
    13,
    16,
    40,
    "MFA001",
    "password-change-blocked",
    Severity.ERROR,
    "denied",
    fix="exempt iam:ChangePassword",
    policy="ForceMfa",
    autofix=AUTOFIX,
)


def full_report():
    suppression = InlineSuppression(
        SourceSpan("stack.yaml", 9, 11, 9, 60), ("MFA001", "access-key-bypass"), "ok"
    )
    return UnitReport(
        name="stack.yaml",
        read=True,
        note="",
        documents=2,
        unresolved=[("stack.yaml", "ForceMfa: !ImportValue")],
        findings=[
            FINDING,
            Finding("b.yaml", 1, 1, 1, 2, "MFA101", "x", Severity.INFO, "m"),
        ],
        complete=True,
        comments={"stack.yaml": [suppression], "other.tf": []},
    )


def test_report_round_trip():
    report = full_report()
    decoded = decode_entry(encode_entry(report))
    assert decoded == report
    assert decoded.findings[0].autofix == AUTOFIX
    assert decoded.findings[0].severity is Severity.ERROR
    assert decoded.findings[1].autofix is None
    assert decoded.findings[1].fix is None
    assert decoded.comments["stack.yaml"][0].span.path == "stack.yaml"
    assert decoded.comments["stack.yaml"][0].used is False


def test_entry_is_one_ascii_line():
    report = UnitReport(name="zürich/\udcff.json", read=False, note="no IAM policies")
    text = encode_entry(report)
    assert "\n" not in text
    assert text.isascii()
    assert decode_entry(text).name == "zürich/\udcff.json"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda data: data.pop(), ValueError),
        (lambda data: data.__setitem__(3, "2"), TypeError),
        (lambda data: data[5][0].__setitem__(3, "3"), TypeError),
        (lambda data: data[5][0].__setitem__(3, 7), ValueError),
        (lambda data: data[5][0][0].pop(), ValueError),
        (lambda data: data[7]["stack.yaml"][0].__setitem__(4, "MFA001"), TypeError),
    ],
)
def test_wrong_field_rejected(change, error):
    data = json.loads(encode_entry(full_report()))
    change(data)
    with pytest.raises(error):
        decode_entry(json.dumps(data))


def test_non_array_rejected():
    with pytest.raises(TypeError, match="expected list, got dict"):
        decode_entry("{}")
