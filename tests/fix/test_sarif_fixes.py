"""SARIF results carry the fixes that `--fix` would make, valid against the schema.

tests/fixtures/sarif-schema-2.1.0.json is the OASIS SARIF 2.1.0 schema, kept
in the repository so the test runs offline.
"""

import json
import shutil
from pathlib import Path

import jsonschema

from mfa_guard.cli import main

HERE = Path(__file__).parent
SCHEMA = json.loads((HERE.parent / "fixtures" / "sarif-schema-2.1.0.json").read_text())
DENY_ALL = """\
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Deny",
      "Action": "*",
      "Resource": "*",
      "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    }
  ]
}
"""


def sarif_results(capsys, monkeypatch, folder):
    monkeypatch.chdir(folder)
    code = main(["scan", "--no-cache", "--format", "sarif", "."])
    document = json.loads(capsys.readouterr().out)
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft4Validator)
    assert code == 1
    return document["runs"][0]["results"]


def result_for(results, path, rule_id):
    return next(
        result
        for result in results
        if result["ruleId"] == rule_id
        and result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        == path
    )


def test_fixes_valid_and_exact(tmp_path, capsys, monkeypatch):
    shutil.copy(HERE / "fixtures" / "block_list.yaml", tmp_path / "stack.yaml")
    results = sarif_results(capsys, monkeypatch, tmp_path)

    fix = result_for(results, "stack.yaml", "MFA101")["fixes"]
    assert fix == [
        {
            "description": {
                "text": 'change the condition operator "Bool" to "BoolIfExists"'
            },
            "artifactChanges": [
                {
                    "artifactLocation": {"uri": "stack.yaml", "uriBaseId": "%SRCROOT%"},
                    "replacements": [
                        {
                            "deletedRegion": {
                                "startLine": 39,
                                "startColumn": 15,
                                "endLine": 39,
                                "endColumn": 19,
                            },
                            "insertedContent": {"text": "BoolIfExists"},
                        }
                    ],
                }
            ],
        }
    ]


def test_insertion_is_empty_region(tmp_path, capsys, monkeypatch):
    shutil.copy(HERE / "fixtures" / "policy.json", tmp_path / "policy.json")
    results = sarif_results(capsys, monkeypatch, tmp_path)
    change = result_for(results, "policy.json", "MFA001")["fixes"][0]
    replacement = change["artifactChanges"][0]["replacements"][0]
    assert replacement["deletedRegion"] == {
        "startLine": 26,
        "startColumn": 9,
        "endLine": 26,
        "endColumn": 9,
    }
    assert replacement["insertedContent"]["text"] == (
        '"iam:ChangePassword",\n        "iam:GetAccountPasswordPolicy",\n        '
    )


def test_result_without_safe_fix_has_none(tmp_path, capsys, monkeypatch):
    (tmp_path / "deny_all.json").write_text(DENY_ALL)
    results = sarif_results(capsys, monkeypatch, tmp_path)
    result = result_for(results, "deny_all.json", "MFA002")
    assert "fixes" not in result
