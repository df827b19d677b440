"""Repository layouts shaped like public infrastructure repositories.

Each layout scans without a crash and reports exactly the listed findings:
(rule name, path inside the layout, line, column).
"""

import shutil
from pathlib import Path

import pytest

LAYOUTS = Path(__file__).parent / "fixtures" / "layouts"

EXPECTED = {
    "tf-module-with-policy-files": [
        ("password-change-blocked", "policies/force_mfa.json", 10, 5),
        ("exemption-not-allowed", "policies/force_mfa.json", 10, 5),
    ],
    "tf-partition-aware": [
        ("exemption-not-allowed", "main.tf", 26, 3),
        ("access-key-bypass", "main.tf", 42, 7),
    ],
    "tf-environments": [
        ("password-change-blocked", "envs/dev/iam.tf", 20, 7),
    ],
    "cfn-nested-stacks": [
        ("password-change-blocked", "stacks/iam.yaml", 19, 17),
    ],
    "cdk-output": [
        ("password-change-blocked", "cdk.out/IamStack.template.json", 29, 7),
        ("exemption-not-allowed", "cdk.out/IamStack.template.json", 29, 7),
    ],
    "sam-app": [
        ("console-bypass-null", "template.yaml", 28, 17),
    ],
    "json-policy-library": [
        ("parse-error", "policies/broken.json", 6, 42),
        ("access-key-bypass", "policies/bundle.json", 16, 23),
        ("password-change-blocked", "policies/deny-without-mfa.json", 3, 16),
        ("mfa-enrollment-blocked", "policies/deny-without-mfa.json", 3, 16),
    ],
    "org-scp": [],
    "kubernetes-and-ci": [],
    "monorepo": [
        ("console-bypass-null", "infra/terraform/iam/users.tf", 21, 25),
    ],
}


def test_every_layout_listed():
    assert sorted(path.name for path in LAYOUTS.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("layout", sorted(EXPECTED))
def test_layout_findings(tmp_path, run_scan, layout):
    root = tmp_path / layout
    shutil.copytree(LAYOUTS / layout, root)
    result = run_scan(root, "--disable", "unresolved-policy")
    found = [
        (
            f["rule_name"],
            Path(f["path"]).relative_to(root).as_posix(),
            f["line"],
            f["column"],
        )
        for f in result.findings
    ]
    assert found == EXPECTED[layout]
    assert "Traceback" not in result.stderr
    assert result.code == (1 if EXPECTED[layout] else 0)


def test_vendored_and_asset_folders_skipped(tmp_path, run_scan):
    root = tmp_path / "monorepo"
    shutil.copytree(LAYOUTS / "monorepo", root)
    result = run_scan(root)
    paths = {f["path"] for f in result.findings}
    assert not any(".terraform" in path or "node_modules" in path for path in paths)


def test_fn_if_branch_named_in_finding(tmp_path, run_scan):
    root = tmp_path / "cfn"
    shutil.copytree(LAYOUTS / "cfn-nested-stacks", root)
    result = run_scan(root)
    assert result.findings[0]["policy"] == "Engineers.Policies[0] (Fn::If IsProd=true)"
