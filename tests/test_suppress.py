"""Suppression comments: read once per unit, carried in reports and the result cache."""

import json
import os
import threading

import pytest

import mfa_guard.suppress as suppress
from mfa_guard.cli import main
from mfa_guard.model import Finding, Severity, SourceSpan
from mfa_guard.suppress import (
    InlineSuppression,
    gather_inline,
    read_file_suppressions,
    read_unit_comments,
)

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  ForceMfa:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          # mfa-guard: ignore[password-change-blocked] passwords come from the service desk
          - Sid: DenyAllExceptListedIfNoMFA
            Effect: Deny
            NotAction: [iam:CreateVirtualMFADevice, iam:EnableMFADevice, iam:GetUser, iam:ListMFADevices, iam:ListVirtualMFADevices, iam:ResyncMFADevice]
            Resource: "*"
            Condition:
              BoolIfExists:
                aws:MultiFactorAuthPresent: "false"
          # mfa-guard: ignore[access-key-bypass] left over
"""


def located(items):
    return [
        (item.span.path, item.span.line, item.span.column, item.rules) for item in items
    ]


def test_module_comments_from_tf_and_hcl(tmp_path):
    module = tmp_path / "module"
    module.mkdir()
    (module / "main.tf").write_text("# mfa-guard: ignore[MFA001] reviewed\n")
    (module / "terragrunt.hcl").write_text("\n// mfa-guard: ignore[MFA002] reviewed\n")
    (module / "vars.tf.json").write_text('{"a": "# mfa-guard: ignore[MFA003] x"}')
    (module / "notes.yaml").write_text("# mfa-guard: ignore[MFA004] x\n")
    comments = read_unit_comments(str(module), terraform=True)
    assert sorted(comments) == [str(module / "main.tf"), str(module / "terragrunt.hcl")]
    assert located(comments[str(module / "main.tf")]) == [
        (str(module / "main.tf"), 1, 1, ("MFA001",))
    ]
    assert located(comments[str(module / "terragrunt.hcl")]) == [
        (str(module / "terragrunt.hcl"), 2, 1, ("MFA002",))
    ]


def test_file_unit_comments(tmp_path):
    template = tmp_path / "stack.yaml"
    template.write_text(TEMPLATE)
    policy = tmp_path / "policy.json"
    policy.write_text("{}")
    comments = read_unit_comments(str(template), terraform=False)
    assert located(comments[str(template)]) == [
        (str(template), 9, 11, ("password-change-blocked",)),
        (str(template), 17, 11, ("access-key-bypass",)),
    ]
    assert read_unit_comments(str(policy), terraform=False) == {}


def test_file_without_marker_has_no_comments(tmp_path):
    path = tmp_path / "stack.yaml"
    path.write_text("Resources: {}\n")
    assert read_unit_comments(str(path), terraform=False) == {str(path): []}


def test_bom_and_crlf_positions(tmp_path):
    path = tmp_path / "stack.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\r\nb: 2  # mfa-guard: ignore[MFA001] why\r\n")
    found = read_file_suppressions(str(path))
    assert [(s.span.line, s.span.column, s.span.end_column) for s in found] == [
        (2, 7, 38)
    ]
    assert found[0].reason == "why"


def test_fifo_not_opened(tmp_path):
    path = tmp_path / "pipe.tf"
    os.mkfifo(path)
    found = []
    reader = threading.Thread(
        target=lambda: found.append(read_file_suppressions(str(path))), daemon=True
    )
    reader.start()
    reader.join(5)
    assert not reader.is_alive()
    assert found == [[]]


def test_gather_reads_only_uncovered_files(tmp_path, monkeypatch):
    outside = tmp_path / "child.tf"
    outside.write_text("# mfa-guard: ignore[MFA001] child module\n")
    covered = tmp_path / "main.tf"
    stored = InlineSuppression(SourceSpan(str(covered), 3, 1, 3, 30), ("MFA002",), "x")
    findings = [
        Finding(str(outside), 1, 1, 1, 2, "MFA001", "a", Severity.ERROR, "m"),
        Finding(str(covered), 4, 1, 4, 2, "MFA002", "b", Severity.ERROR, "m"),
        Finding(
            str(tmp_path / "p.json"), 1, 1, 1, 2, "MFA003", "c", Severity.ERROR, "m"
        ),
    ]
    read = []
    original = suppress.read_file_suppressions

    def recording(path):
        read.append(path)
        return original(path)

    monkeypatch.setattr(suppress, "read_file_suppressions", recording)
    inline = gather_inline(findings, {str(covered): [stored]})
    assert read == [str(outside)]
    assert located(inline) == [
        (str(outside), 1, 1, ("MFA001",)),
        (str(covered), 3, 1, ("MFA002",)),
    ]


def scan_json(capsys, *arguments):
    code = main(["scan", "--format", "json", *map(str, arguments)])
    data = json.loads(capsys.readouterr().out)
    data["summary"].pop("seconds")
    return code, data


def test_warm_scan_reads_no_file_for_comments(tmp_path, capsys, monkeypatch):
    (tmp_path / "stack.yaml").write_text(TEMPLATE)
    cold = scan_json(capsys, "--jobs", "1", tmp_path)

    def fail(path):
        raise AssertionError(f"{path} was read for suppression comments")

    monkeypatch.setattr(suppress, "read_file_suppressions", fail)
    warm = scan_json(capsys, "--jobs", "1", tmp_path)
    assert warm == cold
    assert cold[1]["summary"]["suppressed"] == 1
    assert [(f["rule_name"], f["line"]) for f in cold[1]["findings"]] == [
        ("unused-suppression", 17)
    ]


@pytest.mark.parametrize("cache", [[], ["--no-cache"]])
def test_suppressions_same_for_any_jobs(tmp_path, capsys, cache):
    for index in range(3):
        (tmp_path / f"stack{index}.yaml").write_text(TEMPLATE)
    module = tmp_path / "module"
    module.mkdir()
    (module / "main.tf").write_text(
        '# mfa-guard: ignore[MFA001] reviewed\nresource "aws_iam_policy" "p" {}\n'
    )
    results = [scan_json(capsys, *cache, "--jobs", jobs, tmp_path) for jobs in "1212"]
    assert results[1] == results[0]
    assert results[2] == results[0]
    assert results[3] == results[0]
    assert results[0][1]["summary"]["suppressed"] == 3
    found = [(f["path"], f["rule_name"], f["line"]) for f in results[0][1]["findings"]]
    assert (str(module / "main.tf"), "unused-suppression", 1) in found
