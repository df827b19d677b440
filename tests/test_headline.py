"""The documented self-service MFA policy in every input format.

AWS's example denies everything but MFA enrollment without MFA, and leaves
iam:ChangePassword off the NotAction list, so a user who must set a new
password at first sign-in is locked out.
"""

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"

# (fixture, file name in the scanned folder, line and column of the Deny statement)
FORMATS = [
    ("policy.json", "policy.json", 10, 5),
    ("heredoc.tf", "main.tf", 13, 5),
    ("indented_heredoc.tf", "main.tf", 9, 9),
    ("jsonencode.tf", "main.tf", 12, 7),
    ("policy_document.tf", "main.tf", 8, 3),
    ("cloudformation.yaml", "template.yaml", 15, 13),
    ("cloudformation.json", "template.json", 13, 17),
]

FIXED = [
    '"iam:ChangePassword",',
    '"iam:Change*",',
    '"iam:changepassword",',
    '"iam:???ngePassword",',
]


def materialise(tmp_path, fixture, name, extra):
    folder = tmp_path / fixture.replace(".", "_")
    folder.mkdir()
    text = (FIXTURES / "headline" / fixture).read_text()
    assert "@EXTRA@" in text
    (folder / name).write_text(text.replace("@EXTRA@", extra))
    return folder


@pytest.mark.parametrize(("fixture", "name", "line", "column"), FORMATS)
def test_documented_policy_blocks_password_change(
    tmp_path, run_scan, fixture, name, line, column
):
    folder = materialise(tmp_path, fixture, name, "")
    result = run_scan(folder)
    assert result.located() == [("password-change-blocked", line, column)]
    assert result.findings[0]["path"] == str(folder / name)
    assert result.findings[0]["rule_id"] == "MFA001"
    assert result.findings[0]["severity"] == "error"
    assert '"DenyAllExceptListedIfNoMFA"' in result.findings[0]["message"]
    assert result.code == 1


@pytest.mark.parametrize("extra", FIXED)
@pytest.mark.parametrize(("fixture", "name", "line", "column"), FORMATS)
def test_exempted_password_change_passes(
    tmp_path, run_scan, fixture, name, line, column, extra
):
    folder = materialise(tmp_path, fixture, name, extra)
    result = run_scan(folder)
    assert result.findings == []
    assert result.data["summary"]["policies"] >= 1
    assert result.code == 0


def test_examples_folder_scans(tmp_path, run_scan):
    target = tmp_path / "examples"
    shutil.copytree(FIXTURES.parent.parent / "examples", target)
    result = run_scan(target)
    rules = sorted({finding["rule_name"] for finding in result.findings})
    assert rules == [
        "access-key-bypass",
        "console-bypass-null",
        "console-user-not-covered",
        "exemption-not-allowed",
        "password-change-blocked",
        "user-path-not-matched",
    ]
    assert result.code == 1
