"""Rule files: loading and strict validation.

A rule file is YAML data with a fixed schema. Nothing in it can run code,
import modules or read files: selectors are JSONPath expressions, checks are
names from a fixed vocabulary, and messages are templates whose placeholders
must come from a fixed list.

Keys of a rule file:

- `id`, `name`, `severity` (`error`, `warning` or `info`), `summary`: required.
- `message` and the optional `fix`: templates whose placeholders are
  `{action}`, `{actions}`, `{affected}`, `{conditional}`, `{detail}`,
  `{key}`, `{operator}`, `{partial}`, `{patterns}`, `{policy}`,
  `{resource}`, `{resources}`, `{scenario}`, `{set}`, `{statement}`,
  `{users}` and `{who}`. The documentation of each check lists the ones it
  fills in, and the others are empty. Write `{{` and `}}` for literal
  braces.
- `subject`: `statements` (the default) or `users`. A `users` rule checks
  each IAM user that a Terraform module or CloudFormation template
  declares: its `where` lists user predicates, its `check` is a user check,
  and it takes no `select`, `location` or `users`.
- `select`: a JSONPath expression over the policy document that picks the
  statements to check. Without it every statement is checked.
- `where`: names of predicates that each selected statement must satisfy.
- `users`: names of user predicates. The `{users}` and `{affected}` fields
  of a statement rule's findings then name only the users for which every
  one holds.
- `check`: exactly one check from the vocabulary.
- `location`: where a finding points when the check does not place it:
  `statement` (the default), `document`, `condition:<key>` (the first
  condition entry on that key) or `mfa-condition` (the first condition
  entry on aws:MultiFactorAuthPresent or aws:MultiFactorAuthAge). When the
  finding names a scenario, an entry that does not hold in that scenario
  comes first, so the finding points at the test that fails.
- `severity-by-actions`: a list of `{only: [action patterns], severity}`.
  A finding whose reported actions all match `only` gets that severity
  instead of the default. The first entry that applies wins.
- `supersedes`: names or ids of rules whose findings on the same statement
  are dropped when this rule reports it, because its fix covers theirs.
- `autofix`: the edit that `mfa-guard scan --fix` makes to fix a finding,
  described under "Automatic fixes".
- `docs`: `rationale`, `fix`, `references`, optional `limitations` and
  `examples` (`failing`, with the `line` and `column` it reports, and
  `passing`), which run as tests.

YAML reads some bare words as other types: quote `Null`, `yes`, `no`, `on`
and `off` where a string is meant.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from mfa_guard.engine.autofix import AutofixSpec, parse_autofix
from mfa_guard.engine.rule_index import indexed_data
from mfa_guard.engine.schema import (
    MESSAGE_FIELDS,
    RuleError,
    check_template,
    check_unknown,
    optional,
    require,
    string_list,
)
from mfa_guard.engine.subjects import USERS, parse_subject, user_predicate_names
from mfa_guard.log import get_logger
from mfa_guard.model import Severity
from mfa_guard.records import field, record, replace

logger = get_logger(__name__)

__all__ = [
    "MESSAGE_FIELDS",
    "Rule",
    "RuleDocs",
    "RuleError",
    "RuleExample",
    "SeverityByActions",
    "check_template",
    "load_rule_file",
    "load_rules",
    "parse_rule",
    "shipped_rules_dir",
]

RULE_ID = re.compile(r"^[A-Z][A-Z0-9]{1,9}[0-9]{3}$")
RULE_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
LOCATIONS = ("statement", "document", "mfa-condition")


@record
class RuleExample:
    file_name: str
    content: str
    line: int | None = None
    column: int | None = None


@record
class RuleDocs:
    rationale: str
    fix: str
    references: tuple[str, ...]
    limitations: str = ""
    failing: RuleExample | None = None
    passing: RuleExample | None = None


@record
class SeverityByActions:
    """A severity for findings whose reported actions all match `only`."""

    only: tuple[str, ...]
    severity: Severity


@record
class Rule:
    id: str
    name: str
    severity: Severity
    summary: str
    message: str
    check: Mapping[str, Any]
    docs: RuleDocs
    source: str
    select: str | None = None
    where: tuple[str, ...] = ()
    location: str = "statement"
    fix: str | None = None
    pack: str = "mfa-guard"
    extra: Mapping[str, Any] = field(default_factory=dict)
    severity_by_actions: tuple[SeverityByActions, ...] = ()
    supersedes: tuple[str, ...] = ()
    autofix: AutofixSpec | None = None
    subject: str = "statements"
    users: tuple[str, ...] = ()

    def with_severity(self, severity: Severity) -> Rule:
        """Return a copy whose findings all have `severity`, as configuration sets it.

        The copy drops `severity_by_actions`, so a configured severity applies
        to every finding of the rule.
        """
        return replace(self, severity=severity, severity_by_actions=())


_TOP_KEYS = {
    "id",
    "name",
    "severity",
    "summary",
    "message",
    "select",
    "where",
    "check",
    "location",
    "fix",
    "docs",
    "severity-by-actions",
    "supersedes",
    "autofix",
    "subject",
    "users",
}
_DOCS_KEYS = {"rationale", "fix", "references", "limitations", "examples"}


def _example(data: Any, path: Path, key: str, needs_position: bool) -> RuleExample:
    if not isinstance(data, dict):
        raise RuleError(
            path, key, "expected a mapping with file, content, line and column"
        )
    check_unknown(data, {"file", "content", "line", "column"}, path, key + ".")
    file_name = require(data, "file", str, path, key + ".")
    content = require(data, "content", str, path, key + ".")
    line = optional(data, "line", int, path, key + ".")
    column = optional(data, "column", int, path, key + ".")
    if needs_position and (line is None or column is None):
        raise RuleError(
            path, key, "a failing example needs the line and column it reports"
        )
    return RuleExample(file_name, content, line, column)


def _docs(data: Any, path: Path) -> RuleDocs:
    if not isinstance(data, dict):
        raise RuleError(path, "docs", "expected a mapping")
    check_unknown(data, _DOCS_KEYS, path, "docs.")
    references = optional(data, "references", list, path, "docs.") or []
    if not all(isinstance(item, str) for item in references):
        raise RuleError(path, "docs.references", "expected a list of URLs")

    examples = optional(data, "examples", dict, path, "docs.") or {}
    check_unknown(examples, {"failing", "passing"}, path, "docs.examples.")
    failing = examples.get("failing")
    passing = examples.get("passing")
    return RuleDocs(
        rationale=require(data, "rationale", str, path, "docs.").strip(),
        fix=require(data, "fix", str, path, "docs.").strip(),
        references=tuple(references),
        limitations=(optional(data, "limitations", str, path, "docs.") or "").strip(),
        failing=_example(failing, path, "docs.examples.failing", True)
        if failing
        else None,
        passing=_example(passing, path, "docs.examples.passing", False)
        if passing
        else None,
    )


def _severity_by_actions(data: Any, path: Path) -> tuple[SeverityByActions, ...]:
    key = "severity-by-actions"
    if data is None:
        return ()
    if not isinstance(data, list):
        raise RuleError(path, key, "expected a list of {only, severity} mappings")

    entries = []
    for index, item in enumerate(data):
        item_key = f"{key}[{index}]"
        if not isinstance(item, dict):
            raise RuleError(path, item_key, "expected a mapping with only and severity")
        check_unknown(item, {"only", "severity"}, path, item_key + ".")
        only = string_list(
            item.get("only"),
            path,
            f"{item_key}.only",
            "expected a list of action patterns such as iam:CreateLoginProfile",
        )
        try:
            severity = Severity.parse(
                require(item, "severity", str, path, item_key + ".")
            )
        except ValueError as error:
            raise RuleError(path, f"{item_key}.severity", str(error)) from None
        entries.append(SeverityByActions(tuple(only), severity))
    return tuple(entries)


def _supersedes(data: Any, path: Path) -> tuple[str, ...]:
    if data is None:
        return ()
    names = string_list(
        data, path, "supersedes", "expected a list of rule names or ids"
    )
    for index, name in enumerate(names):
        if not (RULE_ID.match(name) or RULE_NAME.match(name)):
            raise RuleError(
                path,
                f"supersedes[{index}]",
                f"invalid rule reference {name!r}; expected a rule name or id",
            )
    return tuple(names)


def _location(data: Mapping[str, Any], path: Path) -> str:
    location: str = optional(data, "location", str, path) or "statement"
    if location in LOCATIONS or location.startswith("condition:"):
        return location
    raise RuleError(
        path,
        "location",
        "expected 'statement', 'document', 'mfa-condition' or 'condition:<key>'",
    )


def _identity(data: Mapping[str, Any], path: Path) -> tuple[str, str, Severity]:
    rule_id = require(data, "id", str, path)
    if not RULE_ID.match(rule_id):
        raise RuleError(
            path,
            "id",
            f"invalid id {rule_id!r}; expected letters then three digits, such as MFA001",
        )

    name = require(data, "name", str, path)
    if not RULE_NAME.match(name):
        raise RuleError(
            path,
            "name",
            f"invalid name {name!r}; expected lower-case words joined by '-'",
        )

    try:
        severity = Severity.parse(require(data, "severity", str, path))
    except ValueError as error:
        raise RuleError(path, "severity", str(error)) from None
    return rule_id, name, severity


def _where(data: Mapping[str, Any], path: Path) -> tuple[str, ...]:
    from mfa_guard.engine.predicates import PREDICATES

    where = optional(data, "where", list, path) or []
    for index, predicate in enumerate(where):
        if predicate not in PREDICATES:
            expected = ", ".join(sorted(PREDICATES))
            raise RuleError(
                path,
                f"where[{index}]",
                f"unknown predicate {predicate!r}; expected one of {expected}",
            )
    return tuple(where)


def _select(data: Mapping[str, Any], path: Path) -> str | None:
    from mfa_guard.engine.selectors import compile_selector, effect_filter

    select: str | None = optional(data, "select", str, path)
    if select is None or effect_filter(select) is not None:
        return select
    try:
        compile_selector(select)
    except ValueError as error:
        raise RuleError(path, "select", f"invalid JSONPath: {error}") from None
    return select


def parse_rule(data: Any, path: Path, pack: str = "mfa-guard") -> Rule:
    """Validate one rule file's data and build a Rule, or raise RuleError."""
    from mfa_guard.engine.checks import validate_check
    from mfa_guard.engine.user_checks import validate_user_check

    if not isinstance(data, dict):
        raise RuleError(path, "(top level)", "expected a mapping of rule keys")
    check_unknown(data, _TOP_KEYS, path)
    rule_id, name, severity = _identity(data, path)

    message = require(data, "message", str, path).strip()
    check_template(message, path, "message")
    fix = optional(data, "fix", str, path)
    if fix is not None:
        fix = fix.strip()
        check_template(fix, path, "fix")

    subject = parse_subject(data, path)
    check = require(data, "check", dict, path)
    if subject == USERS:
        where = user_predicate_names(data.get("where"), path, "where")
        validate_user_check(check, path)
    else:
        where = _where(data, path)
        validate_check(check, path)
    select = _select(data, path)

    return Rule(
        id=rule_id,
        name=name,
        severity=severity,
        summary=require(data, "summary", str, path).strip(),
        message=message,
        check=check,
        docs=_docs(require(data, "docs", dict, path), path),
        source=str(path),
        select=select,
        where=where,
        location=_location(data, path),
        fix=fix,
        pack=pack,
        severity_by_actions=_severity_by_actions(data.get("severity-by-actions"), path),
        supersedes=_supersedes(data.get("supersedes"), path),
        autofix=parse_autofix(data.get("autofix"), path),
        subject=subject,
        users=user_predicate_names(data.get("users"), path, "users"),
    )


def load_rule_file(path: Path, pack: str = "mfa-guard", indexed: bool = False) -> Rule:
    """Load one rule file; with `indexed`, take its data from the shipped rule index when it is current."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RuleError(path, "(file)", f"could not be read: {error}") from None

    found, data = indexed_data(path, text) if indexed else (False, None)
    if not found:
        data = _parse_yaml(text, path)
    return parse_rule(data, path, pack)


def _parse_yaml(text: str, path: Path) -> Any:
    import yaml

    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as error:
        raise RuleError(path, "(file)", f"invalid YAML: {error}") from None


def shipped_rules_dir() -> Path:
    """Return the directory of the shipped rule files.

    The repository keeps them in `rules/`. Installation copies that folder to
    `mfa_guard/rules/`, so an installed package finds them there, and a source
    checkout (or an editable install) finds the repository folder.
    """
    package = Path(__file__).resolve().parents[1]
    installed = package / "rules"
    if installed.is_dir():
        return installed
    return package.parent / "rules"


def load_rules(
    extra_dirs: Iterable[Path] = (),
    packs: Iterable[tuple[str, Path]] | None = None,
) -> list[Rule]:
    """Load the shipped rules, then rule packs and user directories.

    `packs` lists (pack name, directory) pairs. When it is None, the packs
    of installed packages are loaded (see `mfa_guard.engine.packs`). Raises
    RuleError for an invalid file, for two rules that share an id or a
    name (names and ids are what users suppress by), and for a `supersedes`
    entry that names no loaded rule.
    """
    from mfa_guard.engine.packs import SHIPPED_PACK, installed_packs

    if packs is None:
        packs = installed_packs()
    sources: list[tuple[str, Path]] = [(SHIPPED_PACK, shipped_rules_dir())]
    sources.extend(packs)
    sources.extend((str(directory), directory) for directory in extra_dirs)

    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for pack, directory in sources:
        if not directory.is_dir():
            raise RuleError(directory, "(directory)", "not found or not a directory")
        paths = sorted(directory.glob("*.y*ml"))
        if not paths:
            logger.warning(
                "%s: no rule files (*.yaml or *.yml) in this rule folder", directory
            )
        for path in paths:
            rule = load_rule_file(path, pack, indexed=pack == SHIPPED_PACK)
            for identifier in (rule.id, rule.name):
                if identifier in seen:
                    raise RuleError(
                        path,
                        "id" if identifier == rule.id else "name",
                        f"{identifier!r} is already used by {seen[identifier]}",
                    )
                seen[identifier] = str(path)
            if pack != SHIPPED_PACK:
                _warn_unknown_actions(rule)
            rules.append(rule)

    _check_supersedes(rules, seen)
    return rules


def request_actions(value: object) -> Iterator[str]:
    """Yield the `action` of every request listed anywhere in a rule's check."""
    if isinstance(value, dict):
        action = value.get("action")
        if isinstance(action, str):
            yield action
        for item in value.values():
            yield from request_actions(item)
    elif isinstance(value, list):
        for item in value:
            yield from request_actions(item)


def _warn_unknown_actions(rule: Rule) -> None:
    """Warn about each request action of a rule that the IAM catalogue does not list.

    A misspelt action never matches a policy, so the rule would quietly
    never report. It is a warning, not an error, because the bundled
    catalogue can lag behind actions that AWS adds.
    """
    from mfa_guard.iam.actions import get_catalogue, has_wildcard

    catalogue = get_catalogue()
    for action in request_actions(rule.check):
        if not has_wildcard(action) and not catalogue.exists(action):
            logger.warning(
                "%s: rule %s requests %s, which is not an action in the IAM action"
                " catalogue; check its spelling",
                rule.source,
                rule.id,
                action,
            )


def _check_supersedes(rules: Iterable[Rule], seen: Mapping[str, str]) -> None:
    for rule in rules:
        for index, name in enumerate(rule.supersedes):
            if name not in seen:
                raise RuleError(
                    rule.source,
                    f"supersedes[{index}]",
                    f"no loaded rule has the name or id {name!r}",
                )
