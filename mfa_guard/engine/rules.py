"""Rule files: loading and strict validation.

A rule file is YAML data with a fixed schema. Nothing in it can run code,
import modules or read files: selectors are JSONPath expressions, checks are
names from a fixed vocabulary, and messages are templates whose placeholders
must come from a fixed list.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mfa_guard.model import Severity

RULE_ID = re.compile(r"^[A-Z][A-Z0-9]{1,9}[0-9]{3}$")
RULE_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")

MESSAGE_FIELDS = frozenset(
    {
        "action",
        "actions",
        "conditional",
        "detail",
        "operator",
        "key",
        "policy",
        "resource",
        "scenario",
        "statement",
        "who",
    }
)


class RuleError(ValueError):
    """An invalid rule file, naming the file, the key and what was expected."""

    def __init__(self, path: Path | str, key: str, expected: str) -> None:
        super().__init__(f"{path}: invalid rule: key '{key}': {expected}")
        self.path = str(path)
        self.key = key


@dataclass(frozen=True)
class RuleExample:
    file_name: str
    content: str
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True)
class RuleDocs:
    rationale: str
    fix: str
    references: tuple[str, ...]
    limitations: str = ""
    failing: RuleExample | None = None
    passing: RuleExample | None = None


@dataclass(frozen=True)
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
}
_DOCS_KEYS = {"rationale", "fix", "references", "limitations", "examples"}


def _require(
    data: Mapping[str, Any], key: str, kind: type, path: Path, prefix: str = ""
) -> Any:
    if key not in data:
        raise RuleError(path, prefix + key, f"missing; expected a {kind.__name__}")
    value = data[key]
    if not isinstance(value, kind):
        raise RuleError(
            path,
            prefix + key,
            f"expected a {kind.__name__}, found {type(value).__name__}",
        )
    return value


def _optional(
    data: Mapping[str, Any], key: str, kind: type, path: Path, prefix: str = ""
) -> Any:
    if key not in data or data[key] is None:
        return None
    return _require(data, key, kind, path, prefix)


def _check_unknown(
    data: Mapping[str, Any], allowed: set[str], path: Path, prefix: str = ""
) -> None:
    for key in data:
        if key not in allowed:
            expected = ", ".join(sorted(allowed))
            raise RuleError(
                path, prefix + str(key), f"unknown key; expected one of {expected}"
            )


def check_template(template: str, path: Path, key: str) -> None:
    """Reject placeholders outside MESSAGE_FIELDS, including attribute or index access."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise RuleError(path, key, f"invalid template: {error}") from None
    for _, field_name, conversion, format_spec in parsed:
        if field_name is None:
            continue
        if field_name not in MESSAGE_FIELDS or conversion or format_spec:
            allowed = ", ".join("{" + name + "}" for name in sorted(MESSAGE_FIELDS))
            raise RuleError(
                path,
                key,
                f"invalid placeholder {{{field_name}}}; expected one of {allowed}",
            )


def _example(data: Any, path: Path, key: str, needs_position: bool) -> RuleExample:
    if not isinstance(data, dict):
        raise RuleError(
            path, key, "expected a mapping with file, content, line and column"
        )
    _check_unknown(data, {"file", "content", "line", "column"}, path, key + ".")
    file_name = _require(data, "file", str, path, key + ".")
    content = _require(data, "content", str, path, key + ".")
    line = _optional(data, "line", int, path, key + ".")
    column = _optional(data, "column", int, path, key + ".")
    if needs_position and (line is None or column is None):
        raise RuleError(
            path, key, "a failing example needs the line and column it reports"
        )
    return RuleExample(file_name, content, line, column)


def _docs(data: Any, path: Path) -> RuleDocs:
    if not isinstance(data, dict):
        raise RuleError(path, "docs", "expected a mapping")
    _check_unknown(data, _DOCS_KEYS, path, "docs.")
    references = _optional(data, "references", list, path, "docs.") or []
    if not all(isinstance(item, str) for item in references):
        raise RuleError(path, "docs.references", "expected a list of URLs")
    examples = _optional(data, "examples", dict, path, "docs.") or {}
    _check_unknown(examples, {"failing", "passing"}, path, "docs.examples.")
    failing = examples.get("failing")
    passing = examples.get("passing")
    return RuleDocs(
        rationale=_require(data, "rationale", str, path, "docs.").strip(),
        fix=_require(data, "fix", str, path, "docs.").strip(),
        references=tuple(references),
        limitations=(_optional(data, "limitations", str, path, "docs.") or "").strip(),
        failing=_example(failing, path, "docs.examples.failing", True)
        if failing
        else None,
        passing=_example(passing, path, "docs.examples.passing", False)
        if passing
        else None,
    )


def parse_rule(data: Any, path: Path, pack: str = "mfa-guard") -> Rule:
    """Validate one rule file's data and build a Rule, or raise RuleError."""
    from mfa_guard.engine.checks import validate_check
    from mfa_guard.engine.predicates import PREDICATES

    if not isinstance(data, dict):
        raise RuleError(path, "(top level)", "expected a mapping of rule keys")
    _check_unknown(data, _TOP_KEYS, path)

    rule_id = _require(data, "id", str, path)
    if not RULE_ID.match(rule_id):
        raise RuleError(
            path,
            "id",
            f"invalid id {rule_id!r}; expected letters then three digits, such as MFA001",
        )
    name = _require(data, "name", str, path)
    if not RULE_NAME.match(name):
        raise RuleError(
            path,
            "name",
            f"invalid name {name!r}; expected lower-case words joined by '-'",
        )
    try:
        severity = Severity.parse(_require(data, "severity", str, path))
    except ValueError as error:
        raise RuleError(path, "severity", str(error)) from None

    message = _require(data, "message", str, path).strip()
    check_template(message, path, "message")
    fix = _optional(data, "fix", str, path)
    if fix is not None:
        fix = fix.strip()
        check_template(fix, path, "fix")

    where = _optional(data, "where", list, path) or []
    for index, predicate in enumerate(where):
        if predicate not in PREDICATES:
            expected = ", ".join(sorted(PREDICATES))
            raise RuleError(
                path,
                f"where[{index}]",
                f"unknown predicate {predicate!r}; expected one of {expected}",
            )

    check = _require(data, "check", dict, path)
    validate_check(check, path)

    select = _optional(data, "select", str, path)
    if select is not None:
        from mfa_guard.engine.selectors import compile_selector

        try:
            compile_selector(select)
        except ValueError as error:
            raise RuleError(path, "select", f"invalid JSONPath: {error}") from None

    location = _optional(data, "location", str, path) or "statement"
    if location not in ("statement", "document") and not location.startswith(
        "condition:"
    ):
        raise RuleError(
            path, "location", "expected 'statement', 'document' or 'condition:<key>'"
        )

    return Rule(
        id=rule_id,
        name=name,
        severity=severity,
        summary=_require(data, "summary", str, path).strip(),
        message=message,
        check=check,
        docs=_docs(_require(data, "docs", dict, path), path),
        source=str(path),
        select=select,
        where=tuple(where),
        location=location,
        fix=fix,
        pack=pack,
    )


def load_rule_file(path: Path, pack: str = "mfa-guard") -> Rule:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RuleError(path, "(file)", f"could not be read: {error}") from None
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as error:
        raise RuleError(path, "(file)", f"invalid YAML: {error}") from None
    return parse_rule(data, path, pack)


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
    extra_dirs: Iterable[Path] = (), packs: Iterable[tuple[str, Path]] = ()
) -> list[Rule]:
    """Load the shipped rules, then rule packs and user directories.

    Raises RuleError for an invalid file, and for two rules that share an id
    or a name, since names and ids are what users suppress by.
    """
    sources: list[tuple[str, Path]] = [("mfa-guard", shipped_rules_dir())]
    sources.extend(packs)
    sources.extend((str(directory), directory) for directory in extra_dirs)

    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for pack, directory in sources:
        if not directory.is_dir():
            raise RuleError(directory, "(directory)", "not found or not a directory")
        for path in sorted(directory.glob("*.y*ml")):
            rule = load_rule_file(path, pack)
            for identifier in (rule.id, rule.name):
                if identifier in seen:
                    raise RuleError(
                        path,
                        "id" if identifier == rule.id else "name",
                        f"{identifier!r} is already used by {seen[identifier]}",
                    )
                seen[identifier] = str(path)
            rules.append(rule)
    return rules
