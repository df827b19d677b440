"""Per-run settings shared by every rule: the scenarios requests are evaluated in."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from mfa_guard.iam.scenarios import SCENARIO_NAMES, Scenario, build_scenario

NO_MFA_SCENARIOS = ("console-without-mfa", "access-key", "role-session-without-mfa")


@dataclass(frozen=True)
class ScenarioSettings:
    account: str = "123456789012"
    region: str = "us-east-1"
    user_name: str = "alice"
    user_path: str = "/"


@dataclass
class RunContext:
    settings: ScenarioSettings = field(default_factory=ScenarioSettings)

    @cached_property
    def scenarios(self) -> dict[str, Scenario]:
        return {
            name: build_scenario(
                name,
                account=self.settings.account,
                region=self.settings.region,
                user_name=self.settings.user_name,
                user_path=self.settings.user_path,
            )
            for name in SCENARIO_NAMES
        }
