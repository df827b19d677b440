"""Per-run settings shared by every rule: the scenarios requests are evaluated in."""

from __future__ import annotations

from functools import cached_property

from mfa_guard.iam.scenarios import (
    DEFAULT_ACCOUNT,
    SCENARIO_NAMES,
    Scenario,
    build_scenario,
)
from mfa_guard.records import field, record

NO_MFA_SCENARIOS = ("console-without-mfa", "access-key", "role-session-without-mfa")


@record
class ScenarioSettings:
    account: str = DEFAULT_ACCOUNT
    region: str = "us-east-1"
    user_name: str = "alice"
    user_path: str = "/"


# Configuration keys of the scenario settings, and their ScenarioSettings fields.
SETTING_FIELDS = {
    "account": "account",
    "region": "region",
    "user-name": "user_name",
    "user-path": "user_path",
}


def scenario_settings(configured: dict[str, str]) -> ScenarioSettings:
    """Build the settings from a configuration's `scenarios` mapping."""
    return ScenarioSettings(
        **{SETTING_FIELDS[key]: value for key, value in configured.items()}
    )


@record(frozen=False)
class RunContext:
    settings: ScenarioSettings = field(default_factory=ScenarioSettings)
    # Scenarios for the users of policy sets, built on first use. The field
    # is left out of repr and comparison, so it changes no cache key.
    _user_scenarios: dict[tuple[str, str, str], Scenario] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

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

    def user_scenario(self, name: str, user_name: str, user_path: str) -> Scenario:
        """Return scenario `name` for the IAM user `user_name` with path `user_path`.

        A role scenario does not depend on the user, so it is the run's own.
        """
        scenario = self.scenarios[name]
        if scenario.user_name is None:
            return scenario
        key = (name, user_name, user_path)
        if key not in self._user_scenarios:
            self._user_scenarios[key] = build_scenario(
                name,
                account=self.settings.account,
                region=self.settings.region,
                user_name=user_name,
                user_path=user_path,
            )
        return self._user_scenarios[key]

    def __getstate__(self) -> dict[str, ScenarioSettings]:
        # Scenarios hold mapping proxies, which cannot be pickled, and are
        # rebuilt on first use.
        return {"settings": self.settings}

    def __setstate__(self, state: dict[str, ScenarioSettings]) -> None:
        self.settings = state["settings"]
        self._user_scenarios = {}
