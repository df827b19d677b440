"""A local value that reads a named pipe: hidden from tfparse on its own.

The scan runs in a child process with a timeout, because tfparse would
block forever reading the pipe if the guard stopped working.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPOSITORY = Path(__file__).parent.parent.parent
# Maximum seconds one scan may take; a guard that fails makes tfparse hang.
SCAN_TIMEOUT = 60

# The exemptions of the AWS self-service MFA policy's Deny, without
# iam:ChangePassword, which reports password-change-blocked when checked.
LOCALS = """locals {
  raw     = file("pipe")
  derived = "${local.raw}-x"
  exempt = ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser",
    "iam:ListMFADevices", "iam:ListVirtualMFADevices", "iam:ResyncMFADevice",
  "sts:GetSessionToken"]
}
"""
# Line 8: a policy that uses local.exempt, with its statement at line 11,
# column 18. Line 19: a policy that uses local.derived, on line 20.
POLICIES = """resource "aws_iam_policy" "uses_exempt" {
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Deny"
      NotAction = local.exempt
      Resource  = "*"
      Condition = { BoolIfExists = { "aws:MultiFactorAuthPresent" = "false" } }
    }]
  })
}
resource "aws_iam_policy" "uses_raw" {
  policy = local.derived
}
"""


def scan_isolated(directory: Path) -> list[dict[str, Any]]:
    completed = subprocess.run(
        [sys.executable, "-m", "mfa_guard", "scan", "--format", "json", str(directory)],
        capture_output=True,
        text=True,
        timeout=SCAN_TIMEOUT,
        cwd=REPOSITORY,
        check=False,
    )
    findings: list[dict[str, Any]] = json.loads(completed.stdout)["findings"]
    return findings


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_pipe_local_hidden_alone(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "main.tf").write_text(LOCALS + POLICIES, encoding="utf-8")
    findings = scan_isolated(tmp_path)
    located = [(f["rule_name"], f["line"], f["column"]) for f in findings]

    # The other local values are still evaluated, so the first policy is
    # checked with its exemptions.
    assert located == [
        ("parse-error", 2, 3),
        ("password-change-blocked", 11, 18),
        ("unresolved-policy", 20, 3),
    ]
    assert findings[0]["message"] == (
        '"pipe" is not a regular file; reading it would block, so local.raw was'
        " not evaluated"
    )
    assert findings[2]["message"] == (
        "policy of aws_iam_policy.uses_raw could not be resolved: ${local.raw}"
        " could not be evaluated"
    )
