"""The analyzer's warm-up: the catalogue entries that the rules' requests need."""

from mfa_guard.engine.context import RunContext
from mfa_guard.engine.rules import load_rules, request_actions
from mfa_guard.engine.runner import Analyzer
from mfa_guard.iam.actions import ActionCatalogue


def test_request_actions_found_at_any_depth():
    check = {
        "all-of": [
            {"denies": {"requests": [{"action": "s3:GetObject", "resource": "*"}]}},
            {"not-denied": {"requests": [{"action": "iam:GetUser"}]}},
        ]
    }

    assert list(request_actions(check)) == ["s3:GetObject", "iam:GetUser"]


def test_request_actions_skip_other_values():
    check = {"action": 3, "statement": {"actions": ["ec2:RunInstances"]}}

    assert list(request_actions(check)) == []


def test_warm_up_readsrequest_actions(monkeypatch):
    requested = []
    original = ActionCatalogue.exists

    def exists(self, action):
        requested.append(action)
        return original(self, action)

    monkeypatch.setattr(ActionCatalogue, "exists", exists)
    analyzer = Analyzer(load_rules(packs=[]), RunContext())

    analyzer.warm_up()

    assert "ec2:TerminateInstances" in requested
