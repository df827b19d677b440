"""Rules about users (`subject: users`) and the `users` filter, as house rules."""

import shutil
import textwrap
from pathlib import Path

import pytest

from mfa_guard.engine.rules import RuleError, load_rule_file

FIXTURES = Path(__file__).parents[1] / "fixtures" / "policy_sets"

# Console users who cannot change their own password even with MFA.
PASSWORD_RULE = """\
id: HOUSE101
name: console-user-cannot-change-password
severity: warning
summary: A console user's policies do not allow changing the password with MFA.
subject: users
where: [console-user]
check:
  set-decision:
    scenarios: [console-with-mfa]
    decision: implicitly-denied
    requests:
      - action: iam:ChangePassword
        resource: own-user
message: user {users} cannot change its password ({detail})
docs:
  rationale: Users rotate their own passwords.
  fix: Grant iam:ChangePassword on the user's own ARN.
  references: []
"""

# A statement rule that names only the users with an IAM path.
PATH_USERS_RULE = """\
id: HOUSE102
name: deny-reaches-path-users
severity: info
summary: Lists the users with a path that an MFA deny reaches.
select: "$.Statement[?(@.Effect == 'Deny')]"
where: [mfa-deny]
users: [has-path]
check:
  denies:
    scenarios: [console-without-mfa]
    requests:
      - action: s3:ListAllMyBuckets
        resource: "*"
message: statement {statement} reaches {users}{affected}
docs:
  rationale: Users with a path need path-aware own-user statements.
  fix: Nothing to fix.
  references: []
"""


def write_rule(tmp_path, text):
    directory = tmp_path / "house-rules"
    directory.mkdir(exist_ok=True)
    (directory / "rule.yaml").write_text(textwrap.dedent(text))
    return directory


def copy_layout(tmp_path, name):
    root = tmp_path / name
    shutil.copytree(FIXTURES / name, root)
    return root


def house_findings(result, rule_id):
    return [f for f in result.findings if f["rule_id"] == rule_id]


def test_user_rule_reports_at_user(tmp_path, run_scan):
    rules = write_rule(tmp_path, PASSWORD_RULE)
    root = copy_layout(tmp_path, "terraform")
    result = run_scan(root, "--no-cache", "--rules", rules)
    found = house_findings(result, "HOUSE101")
    assert [(f["line"], f["column"]) for f in found] == [(8, 1), (17, 1)]
    assert found[0]["message"] == (
        "user alice cannot change its password (policies that reach the user:"
        " data.aws_iam_policy_document.force_mfa through group engineers)"
    )
    assert found[1]["message"] == (
        "user carol cannot change its password (no policy reaches the user)"
    )


def test_users_filter_names_matching_users(tmp_path, run_scan):
    rules = write_rule(tmp_path, PATH_USERS_RULE)
    root = copy_layout(tmp_path, "cloudformation")
    result = run_scan(root, "--no-cache", "--rules", rules)
    found = house_findings(result, "HOUSE102")
    assert len(found) == 1
    assert found[0]["message"] == (
        'statement "DenyAllExceptListedIfNoMFA" reaches alice; affected users:'
        " alice (has the path /engineering/)"
    )


@pytest.mark.parametrize(
    ("old", "new", "key", "expected"),
    [
        ("subject: users", "subject: principals", "subject", "invalid subject"),
        (
            "where: [console-user]",
            "where: [mfa-deny]",
            "where[0]",
            "unknown user predicate 'mfa-deny'",
        ),
        (
            "subject: users",
            'subject: users\nselect: "$.Statement[*]"',
            "select",
            "not allowed with subject: users",
        ),
        (
            "  set-decision:",
            "  denies:",
            "check",
            "expected exactly one of set-lacks-statement, set-decision",
        ),
        (
            "    decision: implicitly-denied",
            "    decision: denied",
            "check.set-decision.decision",
            "expected one of allowed, explicitly-denied, implicitly-denied",
        ),
        (
            "    decision: implicitly-denied",
            "    decision: implicitly-denied\n    exempted: true",
            "check.set-decision.exempted",
            "unknown key",
        ),
    ],
)
def test_user_rule_validation(tmp_path, old, new, key, expected):
    text = PASSWORD_RULE.replace(old, new, 1)
    path = tmp_path / "rule.yaml"
    path.write_text(text)
    with pytest.raises(RuleError) as raised:
        load_rule_file(path)
    assert raised.value.key == key
    assert expected in str(raised.value)


def test_users_filter_validation(tmp_path):
    path = tmp_path / "rule.yaml"
    path.write_text(PATH_USERS_RULE.replace("[has-path]", "[admin]"))
    with pytest.raises(RuleError) as raised:
        load_rule_file(path)
    assert raised.value.key == "users[0]"
    assert "unknown user predicate 'admin'" in str(raised.value)


def test_set_lacks_statement_validation(tmp_path):
    text = PASSWORD_RULE.replace(
        """  set-decision:
    scenarios: [console-with-mfa]
    decision: implicitly-denied
    requests:
      - action: iam:ChangePassword
        resource: own-user
""",
        """  set-lacks-statement:
    where: [console-user]
""",
    )
    path = tmp_path / "rule.yaml"
    path.write_text(text)
    with pytest.raises(RuleError) as raised:
        load_rule_file(path)
    assert raised.value.key == "check.set-lacks-statement.where[0]"
    assert "unknown predicate 'console-user'" in str(raised.value)


def test_statement_set_decision_validation(tmp_path):
    text = PATH_USERS_RULE.replace(
        """  denies:
    scenarios: [console-without-mfa]
""",
        """  set-decision:
    scenarios: [console-without-mfa]
    decision: allowed
    exempted: "yes"
""",
    )
    path = tmp_path / "rule.yaml"
    path.write_text(text)
    with pytest.raises(RuleError) as raised:
        load_rule_file(path)
    assert raised.value.key == "check.set-decision.exempted"
    assert "expected true or false, found 'yes'" in str(raised.value)
