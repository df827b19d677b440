"""The `mfa-guard-fix` pre-commit hook, run through `pre-commit try-repo`.

pre-commit installs the hook into a fresh virtualenv. Tests run offline, so
this needs a folder of wheels for mfa-guard and its dependencies, named by
MFA_GUARD_WHEELHOUSE, which .ci/run builds during installation. Without it
the test is skipped. try-repo reads committed files and uncommitted changes
to tracked files, so new modules must be committed first.
"""

import os
import subprocess
from pathlib import Path

import pytest

WHEELHOUSE = os.environ.get("MFA_GUARD_WHEELHOUSE", "")

pytestmark = pytest.mark.skipif(
    not WHEELHOUSE or not Path(WHEELHOUSE).is_dir(),
    reason="set MFA_GUARD_WHEELHOUSE to a folder of wheels (see .ci/run) to run pre-commit offline",
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
          - Sid: DenyAllExceptListedIfNoMFA
            Effect: Deny
            NotAction: [iam:CreateVirtualMFADevice, iam:EnableMFADevice, iam:GetUser, iam:ListMFADevices, iam:ListVirtualMFADevices, iam:ResyncMFADevice, sts:GetSessionToken]
            Resource: "*"
            Condition:
              BoolIfExists:
                aws:MultiFactorAuthPresent: "false"
"""
FIXED_LIST = "NotAction: [iam:ChangePassword, iam:GetAccountPasswordPolicy, iam:CreateVirtualMFADevice,"


def test_fix_hook_fixes_then_passes(tmp_path, try_repo):
    home = tmp_path / "pre-commit-home"
    repository = tmp_path / "repo"
    repository.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repository, check=True)
    stack = repository / "stack.yaml"
    stack.write_text(TEMPLATE)
    subprocess.run(["git", "add", "-A"], cwd=repository, check=True)

    first = try_repo(repository, home, "mfa-guard-fix", "stack.yaml")
    assert first.returncode == 1, first.stdout + first.stderr
    assert "files were modified by this hook" in first.stdout
    assert FIXED_LIST in stack.read_text()

    subprocess.run(["git", "add", "-A"], cwd=repository, check=True)
    second = try_repo(repository, home, "mfa-guard-fix", "stack.yaml")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Passed" in second.stdout
