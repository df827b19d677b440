import json
from pathlib import Path

import pytest

from mfa_guard.loaders.dispatch import load_file
from mfa_guard.loaders.plan_json import is_plan, load_plan
from mfa_guard.model import DiagnosticKind, PolicyKind

PLAN = Path(__file__).parent.parent / "fixtures" / "plan" / "plan.json"


def test_plan_detected():
    assert is_plan(json.loads(PLAN.read_text()))
    assert not is_plan({"format_version": "1.0"})
    assert not is_plan({"resource_changes": []})


def test_plan_policies_named_by_address():
    result = load_file(PLAN)
    names = sorted((document.name, document.kind) for document in result.documents)
    assert names == [
        ("aws_iam_role.ci", PolicyKind.TRUST),
        ("module.iam.aws_iam_policy.force_mfa", PolicyKind.IDENTITY),
    ]


def test_plan_statements_located_at_attribute():
    result = load_file(PLAN)
    document = next(d for d in result.documents if d.name.endswith("force_mfa"))
    text = PLAN.read_text()
    column = text.index('"policy":"{', text.index('"resource_changes"')) + 1
    assert [(s.span.line, s.span.column) for s in document.statements] == [
        (1, column),
        (1, column),
    ]
    assert document.statements[1].not_actions[0] == "iam:CreateVirtualMFADevice"


def test_unknown_policy_is_unresolved():
    result = load_file(PLAN)
    unresolved = [d for d in result.diagnostics if d.kind is DiagnosticKind.UNRESOLVED]
    assert len(unresolved) == 1
    assert (
        "aws_iam_user_policy.late.policy is known only after apply"
        in unresolved[0].message
    )


def test_deleted_resources_skipped():
    result = load_file(PLAN)
    assert all(document.name != "aws_iam_policy.old" for document in result.documents)


def test_state_json_values_read():
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}],
        }
    )
    state = {
        "format_version": "1.0",
        "values": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_organizations_policy.mfa",
                        "mode": "managed",
                        "type": "aws_organizations_policy",
                        "values": {"content": policy, "type": "SERVICE_CONTROL_POLICY"},
                    }
                ]
            }
        },
    }
    result = load_plan(state, "state.json")
    assert [(d.name, d.kind) for d in result.documents] == [
        ("aws_organizations_policy.mfa", PolicyKind.SCP)
    ]


def test_invalid_policy_string_is_parse_error():
    plan = {
        "format_version": "1.2",
        "resource_changes": [
            {
                "address": "aws_iam_policy.p",
                "mode": "managed",
                "type": "aws_iam_policy",
                "change": {"actions": ["create"], "after": {"policy": "{not json"}},
            }
        ],
    }
    result = load_plan(plan, "plan.json")
    assert [d.kind for d in result.diagnostics] == [DiagnosticKind.PARSE_ERROR]
    assert "aws_iam_policy.p is not valid JSON" in result.diagnostics[0].message


def test_plan_scan_reports_headline_by_address(run_scan):
    result = run_scan(PLAN)
    blocked = [
        f for f in result.findings if f["rule_name"] == "password-change-blocked"
    ]
    assert len(blocked) == 1
    assert blocked[0]["policy"] == "module.iam.aws_iam_policy.force_mfa"
    assert blocked[0]["line"] == 1


def test_fixed_plan_reports_no_lockout(run_scan):
    result = run_scan(PLAN.with_name("plan_fixed.json"))
    # The policy exempts the enrollment actions but grants only GetUser.
    assert [f["rule_name"] for f in result.findings] == [
        "exemption-not-allowed",
        "unresolved-policy",
    ]


def plan_with_policy(policy):
    return {
        "format_version": "1.2",
        "resource_changes": [
            {
                "address": "aws_iam_policy.p",
                "mode": "managed",
                "type": "aws_iam_policy",
                "change": {"actions": ["create"], "after": {"policy": policy}},
            }
        ],
    }


def test_deeply_nested_policy_is_parse_error():
    # json.loads raises RecursionError at about 1,000 levels.
    policy = '{"Statement": ' + "[" * 5000 + "]" * 5000 + "}"

    result = load_plan(plan_with_policy(policy), "plan.json")

    assert [d.kind for d in result.diagnostics] == [DiagnosticKind.PARSE_ERROR]
    assert "nesting deeper than 200 levels" in result.diagnostics[0].message


@pytest.mark.parametrize("key", ["planned_values", "values"])
@pytest.mark.parametrize("damaged", ["A" * 10, 7, [1, 2]])
def test_damaged_plan_sections_skipped(key, damaged):
    plan = {"format_version": "1.2", key: damaged}

    assert load_plan(plan, "plan.json").documents == []


def test_damaged_module_lists_skipped():
    plan = {
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": 7, "child_modules": "x"}},
    }

    assert load_plan(plan, "plan.json").documents == []
