"""`mfa-guard simulate --condition`: the Fn::If branch of each CloudFormation policy."""

import json

import pytest

from mfa_guard.cli import main
from tests.policies import DENY_AND_ALLOW_APART


@pytest.fixture
def template(tmp_path):
    path = tmp_path / "users.yaml"
    path.write_text(DENY_AND_ALLOW_APART)
    return path


def simulate(capsys, path, *arguments):
    code = main(
        [
            "simulate",
            str(path),
            "--format",
            "json",
            "--action",
            "iam:ChangePassword",
            "--scenario",
            "console-without-mfa",
            *arguments,
        ]
    )
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out else None, captured.err


def test_conditions_default_to_true(capsys, template):
    code, data, _ = simulate(capsys, template, "--principal", "dave")

    assert code == 0
    assert data["decision"] == "implicitly denied"
    policies = [item["policy"] for item in data["principal"]["policies"]]
    assert policies == ["ForceMfa (Fn::If IsProd=true)"]
    assert data["notes"] == [
        "evaluated with Fn::If IsProd=true; IsProd not set with --condition,"
        " so taken as true"
    ]


def test_condition_chooses_branch(capsys, template):
    code, data, _ = simulate(
        capsys, template, "--principal", "dave", "--condition", "IsProd=false"
    )

    assert code == 0
    assert data["decision"] == "allowed"
    policies = [item["policy"] for item in data["principal"]["policies"]]
    assert policies == [
        "ForceMfa (Fn::If IsProd=false)",
        "ChangePassword (Fn::If IsProd=false)",
    ]
    deciding = data["deciding"]
    assert [(d["statement"], d["line"], d["column"]) for d in deciding] == [
        ("ChangeOwnPassword", 51, 15)
    ]
    assert data["notes"] == ["evaluated with Fn::If IsProd=false"]


def test_condition_without_principal(capsys, template):
    code, data, _ = simulate(capsys, template, "--condition", "isprod=FALSE")

    assert code == 0
    assert data["notes"][0] == (
        "evaluated with Fn::If IsProd=true; IsProd not set with --condition,"
        " so taken as true"
    )
    assert data["notes"][1] == (
        "--condition isprod: no policy here depends on this condition"
    )
    assert data["decision"] == "implicitly denied"


def test_condition_value_case_ignored(capsys, template):
    _, data, _ = simulate(capsys, template, "--condition", "IsProd=FALSE")

    assert data["decision"] == "allowed"


@pytest.mark.parametrize("value", ["IsProd", "IsProd=maybe", "=true"])
def test_invalid_condition(capsys, template, value):
    code, data, err = simulate(capsys, template, "--condition", value)

    assert code == 2
    assert data is None
    assert err == (
        f"mfa-guard: error: invalid --condition {value!r}: expected NAME=true or"
        " NAME=false, such as IsProduction=false\n"
    )


def test_condition_given_twice(capsys, template):
    code, _, err = simulate(
        capsys, template, "--condition", "IsProd=false", "--condition", "IsProd=true"
    )

    assert code == 2
    assert err == "mfa-guard: error: --condition IsProd is given both true and false\n"
