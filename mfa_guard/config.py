"""The `.mfa-guard.yaml` configuration file: discovery and strict validation.

An unknown key or a wrong type stops the run with exit code 2 and a message
naming the file, the line and the key, so a typo never silently turns a
setting off. Paths and globs in the file (rule directories, excludes and
ignores) are relative to the folder that contains it.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mfa_guard.checkout import checkout_root
from mfa_guard.errors import UsageError
from mfa_guard.loaders.positions import key_position, position_of
from mfa_guard.model import Severity
from mfa_guard.records import field, record

CONFIG_NAME = ".mfa-guard.yaml"
FAIL_ON_CHOICES = ("error", "warning", "info", "never")

_TOP_KEYS = (
    "fail-on",
    "enable",
    "disable",
    "severity",
    "rule-dirs",
    "exclude",
    "ignore",
    "scenarios",
    "max-file-size",
)
_IGNORE_KEYS = ("paths", "rules", "reason", "until")
_SCENARIO_KEYS = ("account", "region", "user-name", "user-path")


class ConfigError(UsageError):
    """An invalid configuration file; the message names the file, line and key."""


@record
class IgnoreEntry:
    """A path- and rule-based ignore for files that cannot carry comments."""

    paths: tuple[str, ...]
    rules: tuple[str, ...]
    reason: str
    until: datetime.date | None
    line: int


@record(frozen=False)
class Config:
    path: Path | None = None
    fail_on: str | None = None
    enable: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    severity: dict[str, Severity] = field(default_factory=dict)
    rule_dirs: tuple[Path, ...] = ()
    exclude: tuple[str, ...] = ()
    ignore: tuple[IgnoreEntry, ...] = ()
    scenarios: dict[str, str] = field(default_factory=dict)
    max_file_size: int | None = None


class _Validator:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, container: Any, key: str | None, message: str) -> ConfigError:
        pos = key_position(container, key) if key is not None else None
        pos = pos or position_of(container) or (1, 1, 1, 1)
        name = f"key '{key}': " if key is not None else ""
        return ConfigError(
            f"{self.path}:{pos[0]}: invalid configuration: {name}{message}"
        )

    def mapping(
        self, value: Any, parent: Any, key: str | None, allowed: tuple[str, ...]
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(parent, key, "expected a mapping")
        for name in value:
            if name not in allowed:
                raise self.fail(
                    value, name, f"unknown key; expected one of {', '.join(allowed)}"
                )
        return value

    def string(self, container: dict[str, Any], key: str) -> str:
        value = container[key]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(container, key, "expected a non-empty string")
        return value

    def strings(self, container: dict[str, Any], key: str) -> tuple[str, ...]:
        value = container[key]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(
            isinstance(item, str) and item for item in value
        ):
            raise self.fail(container, key, "expected a list of strings")
        return tuple(value)


# The form of each scenario setting, and the message for a value without it.
_SCENARIO_FORMS = {
    "account": (re.compile(r"\d{12}"), "expected a 12-digit account id"),
    "region": (
        re.compile(r"[a-z]{2,4}(-[a-z]+)+-\d+"),
        "expected a region name such as us-east-1",
    ),
    "user-name": (
        re.compile(r"[A-Za-z0-9_+=,.@-]{1,64}"),
        "expected an IAM user name: 1 to 64 letters, digits and +=,.@_-",
    ),
    "user-path": (
        re.compile(r"/([\x21-\x7e]*/)?"),
        "expected an IAM path that starts and ends with /, such as /developers/",
    ),
}


def _scenario_setting(
    validator: _Validator, scenarios: dict[str, Any], key: str
) -> str:
    value = validator.string(scenarios, key)
    pattern, expected = _SCENARIO_FORMS[key]
    if not pattern.fullmatch(value):
        raise validator.fail(scenarios, key, f"{expected}, found {value!r}")
    return value


def _ignore_entries(
    validator: _Validator, data: dict[str, Any]
) -> tuple[IgnoreEntry, ...]:
    items = data["ignore"]
    if not isinstance(items, list):
        raise validator.fail(
            data, "ignore", "expected a list of {paths, rules, reason, until} mappings"
        )
    entries = []
    for item in items:
        entry = validator.mapping(item, data, "ignore", _IGNORE_KEYS)
        if "paths" not in entry:
            raise validator.fail(
                entry, None, "key 'paths' is missing in an ignore entry"
            )
        until = None
        if "until" in entry:
            try:
                until = datetime.date.fromisoformat(validator.string(entry, "until"))
            except ValueError:
                raise validator.fail(
                    entry, "until", "expected a date as YYYY-MM-DD"
                ) from None
        entries.append(
            IgnoreEntry(
                paths=validator.strings(entry, "paths"),
                rules=validator.strings(entry, "rules") if "rules" in entry else (),
                reason=validator.string(entry, "reason") if "reason" in entry else "",
                until=until,
                line=(position_of(entry) or (0, 0, 0, 0))[0],
            )
        )
    return tuple(entries)


def _severities(validator: _Validator, data: dict[str, Any]) -> dict[str, Severity]:
    overrides = data["severity"]
    if not isinstance(overrides, dict):
        raise validator.fail(
            data,
            "severity",
            "expected a mapping of rule name or id to error, warning or info",
        )
    result = {}
    for rule, value in overrides.items():
        try:
            result[rule] = Severity.parse(str(value))
        except ValueError as error:
            raise validator.fail(overrides, rule, str(error)) from None
    return result


def parse_config(data: Any, path: Path) -> Config:
    """Validate parsed configuration data (from `yamlpos.parse_yaml`) into a Config."""
    validator = _Validator(path)
    if data is None:
        return Config(path=path)
    data = validator.mapping(data, data, None, _TOP_KEYS)
    config = Config(path=path)

    if "fail-on" in data:
        config.fail_on = validator.string(data, "fail-on")
        if config.fail_on not in FAIL_ON_CHOICES:
            raise validator.fail(
                data, "fail-on", f"expected one of {', '.join(FAIL_ON_CHOICES)}"
            )
    for key in ("enable", "disable", "exclude"):
        if key in data:
            setattr(config, key, validator.strings(data, key))
    if "rule-dirs" in data:
        config.rule_dirs = tuple(
            path.parent / directory
            for directory in validator.strings(data, "rule-dirs")
        )

    if "severity" in data:
        config.severity = _severities(validator, data)
    if "ignore" in data:
        config.ignore = _ignore_entries(validator, data)

    if "scenarios" in data:
        scenarios = validator.mapping(
            data["scenarios"], data, "scenarios", _SCENARIO_KEYS
        )
        config.scenarios = {
            key: _scenario_setting(validator, scenarios, key) for key in scenarios
        }
    if "max-file-size" in data:
        text = validator.string(data, "max-file-size")
        if not text.isdigit() or int(text) <= 0:
            raise validator.fail(
                data, "max-file-size", "expected a positive number of bytes"
            )
        config.max_file_size = int(text)
    return config


def load_config(path: Path) -> Config:
    from mfa_guard.loaders.yamlpos import YamlError, parse_yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(
            f"{path}: could not read the configuration file: {error}"
        ) from None
    try:
        parsed = parse_yaml(text)
    except YamlError as error:
        raise ConfigError(
            f"{path}:{error.line}: invalid configuration: {error.message}"
        ) from None
    for duplicate in parsed.duplicates:
        raise ConfigError(
            f"{path}:{duplicate.pos[0]}: invalid configuration: key '{duplicate.key}' appears twice"
        )
    return parse_config(parsed.value, path)


def find_config(start: Path) -> Path | None:
    """Find the `.mfa-guard.yaml` that applies to scans started in the folder `start`.

    Inside a git checkout, only the file at the checkout root counts. The
    root is the nearest folder, from `start` upwards, that contains a `.git`
    folder or file (a worktree or a submodule has a file). Looking for it
    costs a few `stat` calls, where running `git rev-parse` cost a process
    start on every scan.

    Outside a checkout, the nearest file in `start` or a parent folder
    counts. The search ends with the user's home folder, or with the
    filesystem root when `start` is not under the home folder.
    """
    root = checkout_root(start)
    if root is not None:
        candidate = Path(root) / CONFIG_NAME
        return candidate if candidate.is_file() else None

    for folder in _folders_up_to_home(os.path.abspath(start)):
        candidate = Path(folder) / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def _folders_up_to_home(start: str) -> Iterator[str]:
    """Yield `start` and its parents, up to the home folder or the filesystem root."""
    home = os.path.expanduser("~")
    # A home folder reached through a symbolic link is still where the search ends.
    homes = {os.path.abspath(home), os.path.realpath(home)}
    current = start
    while True:
        yield current
        parent = os.path.dirname(current)
        if current in homes or parent == current:
            return
        current = parent


STARTER = """\
# mfa-guard configuration. Every key is optional; run `mfa-guard rules` for rule names.

# Exit with 1 when a finding has this severity or higher: error, warning, info or never.
fail-on: error

# Rules to turn off, by name or id.
disable: []

# When not empty, only these rules run, by name or id.
enable: []

# Per-rule severity overrides.
severity: {}
#   mfa-device-name-pinned: error

# Folders of house rules, relative to this file.
rule-dirs: []

# Files to skip, as globs matched against the path relative to this file. A glob
# without a slash matches the file name in any folder. `--exclude` on the command
# line is relative to the current folder instead.
exclude: []

# Ignores for files that cannot carry comments (JSON), with `paths` globs as in
# `exclude`. Each needs a reason; after `until` the findings come back.
ignore: []
#   - paths: ["policies/legacy/*.json"]
#     rules: [password-change-blocked]
#     reason: legacy accounts are closed in Q1
#     until: 2027-03-31

# The account and user that scenarios evaluate requests for. While the
# account is 123456789012, the default, a literal account in an IAM ARN reads
# as the caller's own. Set your account to compare them strictly.
scenarios:
  account: "123456789012"
  region: us-east-1
  user-name: alice
  user-path: /

# Files larger than this many bytes are skipped with a note.
max-file-size: 10485760
"""
