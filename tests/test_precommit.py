"""The pre-commit hook, run through `pre-commit try-repo` in a throwaway git repository.

pre-commit installs the hook into a fresh virtualenv. Tests run offline, so
this needs a folder of wheels for mfa-guard and its dependencies, named by
MFA_GUARD_WHEELHOUSE; .ci/run builds one during installation. Without it the
tests are skipped.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
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
          {comment}
          - Sid: DenyAllExceptListedIfNoMFA
            Effect: Deny
            NotAction: [{extra}iam:CreateVirtualMFADevice, iam:EnableMFADevice, iam:GetUser, iam:ListMFADevices, iam:ListVirtualMFADevices, iam:ResyncMFADevice, sts:GetSessionToken]
            Resource: "*"
            Condition:
              BoolIfExists:
                aws:MultiFactorAuthPresent: "false"
"""


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory):
    return tmp_path_factory.mktemp("pre-commit-home")


def make_repository(path, text):
    path.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=path, check=True)
    (path / "stack.yaml").write_text(text)
    shutil.copy(ROOT / "examples" / "json" / "s3_read_only.json", path / "s3.json")
    subprocess.run(["git", "add", "-A"], cwd=path, check=True)
    return path


def test_hook_fails_on_documented_policy(tmp_path, pre_commit_home, try_repo):
    repository = make_repository(
        tmp_path / "repo", TEMPLATE.format(comment="", extra="")
    )
    completed = try_repo(
        repository, pre_commit_home, "mfa-guard", "stack.yaml", "s3.json"
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert (
        "stack.yaml:10:13: MFA001 [error] password-change-blocked" in completed.stdout
    )


def test_hook_passes_when_fixed(tmp_path, pre_commit_home, try_repo):
    repository = make_repository(
        tmp_path / "repo", TEMPLATE.format(comment="", extra="iam:ChangePassword, ")
    )
    completed = try_repo(
        repository, pre_commit_home, "mfa-guard", "stack.yaml", "s3.json"
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Passed" in completed.stdout


def test_hook_passes_with_reasoned_suppression(tmp_path, pre_commit_home, try_repo):
    comment = "# mfa-guard: ignore[password-change-blocked] the service desk sets first passwords"
    repository = make_repository(
        tmp_path / "repo", TEMPLATE.format(comment=comment, extra="")
    )
    completed = try_repo(repository, pre_commit_home, "mfa-guard", "stack.yaml")
    assert completed.returncode == 0, completed.stdout + completed.stderr
