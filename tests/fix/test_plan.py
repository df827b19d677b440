"""Planning fixes: merging, conflicts, files that would not parse, and writing."""

import shutil
import stat
from pathlib import Path

import pytest

from mfa_guard.engine.rules import load_rules
from mfa_guard.engine.runner import Analyzer
from mfa_guard.fix import FixError, finding_replacements, json_syntax, plan_fixes
from mfa_guard.fix.plan import FileFix, Replacement
from mfa_guard.fix.source import SourceText
from mfa_guard.records import replace
from mfa_guard.scan import scan

HERE = Path(__file__).parent


@pytest.fixture
def policy(tmp_path):
    path = tmp_path / "policy.json"
    shutil.copy(HERE / "fixtures" / "policy.json", path)
    return path


def findings_of(path):
    result = scan([str(path)], Analyzer(load_rules(packs=())))
    return result.findings


def by_rule(findings, rule_id):
    return next(finding for finding in findings if finding.rule_id == rule_id)


def test_fixes_of_one_list_merged(policy):
    plan = plan_fixes(findings_of(policy))
    assert len(plan.files) == 1
    assert plan.skipped == []
    fixed = sorted(finding.rule_id for finding in plan.fixed)
    assert fixed == ["MFA001", "MFA002", "MFA005", "MFA101"]
    text = plan.files[0].text
    assert text.count('"iam:ChangePassword",\n') == 1
    assert text.count('"iam:GetUser",\n        "iam:ListVirtualMFADevices",') == 1


def test_unparsable_result_skipped(policy, monkeypatch):
    monkeypatch.setattr(json_syntax, "render_json", lambda value: f'"{value}" "')
    before = policy.read_text()
    plan = plan_fixes(findings_of(policy))
    assert plan.files == []
    assert len(plan.skipped) == 4
    for skipped in plan.skipped:
        assert skipped.reason.startswith("the fixed file is not valid JSON")
    assert policy.read_text() == before


def test_overlapping_fix_skipped(policy):
    findings = findings_of(policy)
    bool_fix = by_rule(findings, "MFA101")
    assert bool_fix.autofix is not None
    other = replace(
        bool_fix,
        rule_id="HOUSE001",
        autofix=replace(bool_fix.autofix, new=("BoolIfExistsAgain",)),
    )
    plan = plan_fixes([bool_fix, other])
    assert [finding.rule_id for finding in plan.fixed] == ["MFA101"]
    assert len(plan.skipped) == 1
    assert plan.skipped[0].finding.rule_id == "HOUSE001"
    assert plan.skipped[0].reason == (
        "overlaps another fix in the file; run the fix again"
    )


def test_missing_file_skipped(policy):
    findings = findings_of(policy)
    policy.unlink()
    plan = plan_fixes(findings)
    assert plan.files == []
    assert len(plan.skipped) == 4
    assert plan.skipped[0].reason.startswith("could not be read")


def test_findings_without_fix_ignored(policy):
    findings = [replace(finding, autofix=None) for finding in findings_of(policy)]
    plan = plan_fixes(findings)
    assert plan.files == []
    assert plan.skipped == []


def test_replacements_planned_alone(policy):
    replacements = finding_replacements(findings_of(policy))
    by_id = {finding.rule_id: edits for finding, edits in replacements.items()}
    assert by_id["MFA001"] == [
        Replacement(
            26,
            9,
            26,
            9,
            '"iam:ChangePassword",\n        "iam:GetAccountPasswordPolicy",\n        ',
        )
    ]
    assert by_id["MFA002"] == [
        Replacement(
            26,
            9,
            26,
            9,
            '"iam:GetUser",\n        "iam:ListVirtualMFADevices",\n        ',
        )
    ]
    assert by_id["MFA005"] == [Replacement(8, 35, 8, 54, "mfa/*")]
    assert by_id["MFA101"] == [Replacement(34, 10, 34, 14, "BoolIfExists")]
    assert "MFA004" not in by_id


def test_changed_file_not_written(policy):
    plan = plan_fixes(findings_of(policy))
    policy.write_text(policy.read_text() + "\n")
    edited = policy.read_text()
    with pytest.raises(FixError, match="changed after it was read"):
        plan.files[0].write()
    assert policy.read_text() == edited


def test_write_keeps_permissions(policy):
    policy.chmod(0o640)
    plan = plan_fixes(findings_of(policy))
    plan.files[0].write()
    assert stat.S_IMODE(policy.stat().st_mode) == 0o640
    assert '"iam:ChangePassword",' in policy.read_text()
    assert [path.name for path in policy.parent.iterdir()] == ["policy.json"]


def test_write_follows_symbolic_link(policy, tmp_path):
    link = tmp_path / "link.json"
    link.symlink_to(policy)
    plan = plan_fixes(findings_of(link))
    plan.files[0].write()
    assert link.is_symlink()
    assert '"iam:ChangePassword",' in policy.read_text()


def test_diff_marks_missing_final_newline(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text("a\nb")
    fix = FileFix("policy.json", SourceText.read(str(path)), "a\nc")
    assert fix.unified_diff() == (
        "--- policy.json\n"
        "+++ policy.json\n"
        "@@ -1,2 +1,2 @@\n"
        " a\n"
        "-b\n"
        "\\ No newline at end of file\n"
        "+c\n"
        "\\ No newline at end of file\n"
    )


def test_fixer_bug_skips_fix(policy, monkeypatch):
    def broken(*arguments):
        raise RuntimeError("boom")

    monkeypatch.setattr("mfa_guard.fix.plan.add_to_list", broken)
    plan = plan_fixes(findings_of(policy))
    reasons = {skipped.finding.rule_id: skipped.reason for skipped in plan.skipped}
    assert reasons == {
        "MFA001": "the fixer failed (RuntimeError: boom). Please report this file.",
        "MFA002": "the fixer failed (RuntimeError: boom). Please report this file.",
    }
    assert sorted(finding.rule_id for finding in plan.fixed) == ["MFA005", "MFA101"]
