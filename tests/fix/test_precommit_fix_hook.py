"""The `mfa-guard-fix` pre-commit hook, run through `pre-commit try-repo`.

pre-commit installs the hook into a fresh virtualenv. Tests run offline, so
this needs a folder of wheels for mfa-guard and its dependencies, named by
MFA_GUARD_WHEELHOUSE, which .ci/run builds during installation. Without it
the test is skipped. try-repo reads committed files and uncommitted changes
to tracked files, so new modules must be committed first.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
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


def try_fix_hook(repository, home):
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("GIT_")
    }
    environment.update(
        {
            "PRE_COMMIT_HOME": str(home),
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": WHEELHOUSE,
            "NO_COLOR": "1",
            "XDG_CACHE_HOME": str(home / "cache"),
        }
    )
    command = [
        sys.executable,
        "-m",
        "pre_commit",
        "try-repo",
        str(ROOT),
        "mfa-guard-fix",
        "--files",
        "stack.yaml",
    ]
    return subprocess.run(
        command,
        cwd=repository,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_fix_hook_fixes_then_passes(tmp_path):
    home = tmp_path / "pre-commit-home"
    repository = tmp_path / "repo"
    repository.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repository, check=True)
    stack = repository / "stack.yaml"
    stack.write_text(TEMPLATE)
    subprocess.run(["git", "add", "-A"], cwd=repository, check=True)

    first = try_fix_hook(repository, home)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "files were modified by this hook" in first.stdout
    assert FIXED_LIST in stack.read_text()

    subprocess.run(["git", "add", "-A"], cwd=repository, check=True)
    second = try_fix_hook(repository, home)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Passed" in second.stdout
