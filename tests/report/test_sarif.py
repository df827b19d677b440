"""SARIF output validates against the official SARIF 2.1.0 schema.

tests/fixtures/sarif-schema-2.1.0.json is the OASIS schema
(https://docs.oasis-open.org/sarif/sarif/v2.1.0/), kept here so the test
runs offline.
"""

import json
import shutil
from pathlib import Path

import jsonschema

from mfa_guard.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads(
    (ROOT / "tests" / "fixtures" / "sarif-schema-2.1.0.json").read_text()
)


def sarif_for(capsys, *arguments):
    code = main(["scan", "--format", "sarif", *map(str, arguments)])
    return code, json.loads(capsys.readouterr().out)


def test_examples_sarif_is_valid(tmp_path, capsys):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    code, document = sarif_for(capsys, tmp_path / "examples")
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft4Validator)
    assert code == 1
    run = document["runs"][0]
    assert run["results"]


def test_every_result_rule_in_driver(tmp_path, capsys):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    _, document = sarif_for(capsys, tmp_path / "examples")
    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [rule["id"] for rule in rules]
    for result in run["results"]:
        assert result["ruleId"] in ids
        assert ids[result["ruleIndex"]] == result["ruleId"]


def test_driver_rule_metadata(tmp_path, capsys):
    _, document = sarif_for(capsys, tmp_path)
    rule = next(
        r for r in document["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "MFA001"
    )
    assert rule["name"] == "password-change-blocked"
    assert rule["shortDescription"]["text"]
    assert rule["fullDescription"]["text"]
    assert rule["help"]["text"]
    assert rule["helpUri"] == "docs/rules.md#mfa001-password-change-blocked"
    assert rule["defaultConfiguration"]["level"] == "error"


def test_result_region_and_fingerprint(tmp_path, capsys):
    shutil.copytree(ROOT / "examples" / "json", tmp_path / "json")
    _, document = sarif_for(capsys, tmp_path / "json" / "force_mfa.json")
    result = document["runs"][0]["results"][0]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (39, 5)
    assert (region["endLine"], region["endColumn"]) == (57, 6)
    assert len(result["partialFingerprints"]["mfaGuardFinding/v1"]) == 32


def test_output_file_written(tmp_path, capsys):
    target = tmp_path / "report.sarif"
    code = main(
        [
            "scan",
            "--format",
            "sarif",
            "--output",
            str(target),
            str(ROOT / "examples" / "json"),
        ]
    )
    assert code == 1
    assert capsys.readouterr().out == ""
    jsonschema.validate(
        json.loads(target.read_text()), SCHEMA, cls=jsonschema.Draft4Validator
    )
    assert [path.name for path in tmp_path.iterdir()] == ["report.sarif"]


def test_artifact_uris(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "two words"
    shutil.copytree(ROOT / "examples" / "json", folder)
    monkeypatch.chdir(tmp_path)

    _, relative = sarif_for(capsys, Path("two words") / "force_mfa.json")
    _, absolute = sarif_for(capsys, folder / "force_mfa.json")

    run = relative["runs"][0]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": tmp_path.as_uri() + "/"}}
    location = run["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {
        "uri": "two%20words/force_mfa.json",
        "uriBaseId": "%SRCROOT%",
    }
    location = absolute["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": (folder / "force_mfa.json").as_uri()}
    jsonschema.validate(relative, SCHEMA, cls=jsonschema.Draft4Validator)
