"""Rule packs that installed packages register through entry points."""

import sys

import pytest

from mfa_guard.cli import main
from mfa_guard.engine.packs import installed_packs
from mfa_guard.engine.rules import RuleError, load_rules

PACK_RULE = """\
id: ACME001
name: acme-account-alias-blocked
severity: warning
summary: Acme's MFA deny must let users without MFA read the account alias.
select: "$.Statement[?(@.Effect == 'Deny')]"
where: [mfa-deny]
check:
  denies:
    scenarios: [console-without-mfa]
    requests:
      - action: iam:ListAccountAliases
        resource: "*"
message: statement {statement} denies {action} to {who}
docs:
  rationale: The sign-in page shows the account alias.
  fix: List iam:ListAccountAliases in NotAction.
  references: []
"""

FORCE_MFA = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "DenyAllExceptListedIfNoMFA",
      "Effect": "Deny",
      "NotAction": ["iam:ChangePassword", "iam:GetAccountPasswordPolicy", "iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser", "iam:ListMFADevices", "iam:ListVirtualMFADevices", "iam:ResyncMFADevice"],
      "Resource": "*",
      "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    }
  ]
}
"""


def install(site, distribution, entry_points, files):
    """Write a distribution's metadata and files into `site`, a sys.path folder."""
    info = site / f"{distribution}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0\n"
    )
    lines = [f"{name} = {value}" for name, value in entry_points.items()]
    text = "[mfa_guard.rule_packs]\n" + "\n".join(lines) + "\n"
    (info / "entry_points.txt").write_text(text)
    for relative, content in files.items():
        path = site / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


@pytest.fixture
def site(tmp_path, monkeypatch):
    folder = tmp_path / "site-packages"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    return folder


def test_package_pack_listed(site, capsys):
    install(
        site,
        "acme_mfa_rules",
        {"acme": "acme_mfa_rules"},
        {
            "acme_mfa_rules/__init__.py": "",
            "acme_mfa_rules/acme-account-alias-blocked.yaml": PACK_RULE,
        },
    )
    assert main(["rules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    line = next(line for line in lines if line.startswith("ACME001"))
    assert "acme-account-alias-blocked" in line
    assert " acme " in line
    shipped = next(line for line in lines if line.startswith("MFA001"))
    assert " mfa-guard " in shipped


def test_attribute_pack_loaded(site):
    install(
        site,
        "acme_attribute_rules",
        {"acme-attribute": "acme_attribute_rules.config:RULES_DIR"},
        {
            "acme_attribute_rules/__init__.py": "",
            "acme_attribute_rules/config.py": 'RULES_DIR = "shipped"\n',
            "acme_attribute_rules/shipped/rule.yml": PACK_RULE,
        },
    )
    packs = installed_packs()
    assert packs == [
        ("acme-attribute", site / "acme_attribute_rules" / "shipped"),
    ]
    rules = load_rules()
    pack_rule = next(rule for rule in rules if rule.id == "ACME001")
    assert pack_rule.pack == "acme-attribute"


def test_pack_rule_fires_in_scan(site, tmp_path, run_scan):
    install(
        site,
        "acme_mfa_rules",
        {"acme": "acme_mfa_rules"},
        {
            "acme_mfa_rules/__init__.py": "",
            "acme_mfa_rules/acme-account-alias-blocked.yaml": PACK_RULE,
        },
    )
    path = tmp_path / "force_mfa.json"
    path.write_text(FORCE_MFA)
    assert run_scan(path).located() == [("acme-account-alias-blocked", 4, 5)]
    assert run_scan("--disable", "ACME001", path).findings == []


def test_explain_names_pack(site, capsys):
    install(
        site,
        "acme_mfa_rules",
        {"acme": "acme_mfa_rules"},
        {
            "acme_mfa_rules/__init__.py": "",
            "acme_mfa_rules/acme-account-alias-blocked.yaml": PACK_RULE,
        },
    )
    assert main(["explain", "ACME001"]) == 0
    output = capsys.readouterr().out
    assert output.startswith("# ACME001 acme-account-alias-blocked\n")
    assert "acme-account-alias-blocked.yaml (pack acme)." in output


def test_missing_package_stops_run(site, capsys):
    install(site, "acme_broken", {"acme": "acme_not_installed"}, {})
    assert main(["rules"]) == 2
    error = capsys.readouterr().err
    assert "entry point acme = acme_not_installed" in error
    assert "key '(entry point)'" in error
    assert "expected acme_not_installed to be an installed package" in error


def test_attribute_not_a_path_rejected(site):
    install(
        site,
        "acme_number",
        {"acme": "acme_number:RULES_DIR"},
        {"acme_number/__init__.py": "RULES_DIR = 7\n"},
    )
    with pytest.raises(RuleError, match=r"expected acme_number\.RULES_DIR to be a str"):
        installed_packs()


def test_missing_directory_rejected(site):
    install(
        site,
        "acme_missing",
        {"acme": "acme_missing:RULES_DIR"},
        {"acme_missing/__init__.py": 'RULES_DIR = "no-such-folder"\n'},
    )
    with pytest.raises(RuleError, match="is not a directory of rule files"):
        installed_packs()


def test_shipped_pack_name_reserved(site):
    install(
        site,
        "acme_mfa_rules",
        {"mfa-guard": "acme_mfa_rules"},
        {"acme_mfa_rules/__init__.py": ""},
    )
    with pytest.raises(RuleError, match="the pack name 'mfa-guard' is already used"):
        installed_packs()


def test_pack_rule_clashing_with_shipped_id(site):
    install(
        site,
        "acme_mfa_rules",
        {"acme": "acme_mfa_rules"},
        {
            "acme_mfa_rules/__init__.py": "",
            "acme_mfa_rules/rule.yaml": PACK_RULE.replace("ACME001", "MFA001"),
        },
    )
    with pytest.raises(RuleError, match="'MFA001' is already used"):
        load_rules()


def test_no_pack_declared(site):
    install(site, "acme_other", {}, {})
    (site / "acme_other-1.0.dist-info" / "entry_points.txt").write_text(
        "[console_scripts]\nacme = acme_other:main\n"
    )
    assert installed_packs() == []


def test_pack_raising_on_import_rejected(site):
    install(
        site,
        "acme_raising",
        {"acme": "acme_raising:RULES_DIR"},
        {"acme_raising/__init__.py": "raise RuntimeError('no licence')\n"},
    )
    with pytest.raises(
        RuleError, match="could not be imported: RuntimeError: no licence"
    ):
        installed_packs()


def test_empty_module_name_rejected(site):
    install(site, "acme_empty", {"acme": ":RULES_DIR"}, {})
    with pytest.raises(RuleError, match="entry point acme = :RULES_DIR"):
        installed_packs()


def test_unpacked_egg_pack_found(site):
    egg = site / "acme_egg-1.0-py3.11.egg"
    (egg / "EGG-INFO").mkdir(parents=True)
    (egg / "EGG-INFO" / "PKG-INFO").write_text(
        "Metadata-Version: 2.1\nName: acme_egg\nVersion: 1.0\n"
    )
    (egg / "EGG-INFO" / "entry_points.txt").write_text(
        "[mfa_guard.rule_packs]\nacme = acme_egg\n"
    )
    (egg / "acme_egg").mkdir()
    (egg / "acme_egg" / "__init__.py").write_text("")
    (egg / "acme_egg" / "rule.yaml").write_text(PACK_RULE)
    sys.path.insert(0, str(egg))
    try:
        packs = installed_packs()
    finally:
        sys.path.remove(str(egg))

    assert [name for name, _ in packs] == ["acme"]
