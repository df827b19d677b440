"""The check vocabulary of rule files.

A rule's `check` has exactly one key, the check's name. Scenario names are
`console-without-mfa`, `console-with-mfa`, `access-key`, `session-with-mfa`
and `role-session-without-mfa`. A request is `{action, resource}`, where
the resource is an ARN, `"*"`, or a keyword: `own-user` (the caller's own
IAM user), `mfa-device` (a virtual MFA device named "phone") or
`user-named-mfa-device` (a virtual MFA device named after the caller's
user). An action without resource-level permissions is always evaluated
against `"*"`.

Requests and scenarios:

- `denies` {`scenarios`, `requests`, `at-least`}: the selected statement
  explicitly denies at least `at-least` (default 1) of the `requests`, in
  one of `scenarios`. Fields: `action` (the first denied), `actions` (all
  denied), `resource`, `scenario`, `who`, `conditional`.
- `not-denied` {`scenarios`, `requests`}: in one of `scenarios`, no
  statement of the document explicitly denies one of the `requests`; the
  finding is placed at the selected statement. `requests` is a list, or the
  word `statement` for the selected statement's own Action entries on its
  first Resource entry (for a NotAction statement, the action `*`, which no
  specific pattern names). Fields: `action`, `resource`, `scenario`, `who`,
  `conditional`.
- `allow-differs` {`scenarios`, `allowed`, `not-allowed`}: the selected
  Allow statement grants the `allowed` request in a scenario, but no Allow
  statement of the document grants the `not-allowed` request there.
  Fields: `action` (of `allowed`), `resource` (of `not-allowed`),
  `resources` (the statement's Resource entries that grant `allowed`),
  `scenario`, `who`.

Policy sets. A policy set is the policies that apply to one principal. For
an IAM user of a Terraform module or CloudFormation template, it is the
user's own policies, those of its groups and the bundled AWS managed
policies attached by ARN. A document that reaches no known user is checked
in the set of its group or role, or alone:

- `set-decision` {`scenarios`, `requests`, `decision`, `exempted`,
  `ignore-user-path`}: for some policy set that contains the statement, a
  request evaluated against the whole set, for the set's user, gets the
  `decision`: `allowed`, `explicitly-denied` or `implicitly-denied`. With
  `exempted: true`, only requests that the statement's NotAction exempts,
  and that the statement would otherwise match, are evaluated. With
  `ignore-user-path: true`, users are evaluated as if their IAM path were
  `/`. A request whose decision depends on a value the scan could not
  resolve, or on a condition key the scenario does not set, is not
  reported. Fields: `action` (the first reported), `actions`, `resource`,
  `scenario`, `who`, `users`, `set`, `partial`.
- `user-path-differs` {`scenarios`, `requests`}: for a user whose IAM path
  is not `/`, the statement matches a request for the user at `/` but not
  for the user's real ARN, and the user's policy set decides the two
  differently for certain. Fields: as `set-decision`, and `detail` (the
  paths and the real outcome).

The `users` field names the users of the reported sets, `set` describes the
sets ("the policies of users alice and bob", or "this policy"), and
`partial` is empty unless a set may be incomplete: an attached ARN that is
neither defined in the module or template nor a bundled AWS managed policy,
a group that is not declared, or a value that could not be resolved.

Users (rules with `subject: users`, one finding per IAM user at the user's
resource):

- `set-lacks-statement` {`where`}: no statement of the user's policy set
  satisfies every statement predicate in `where`. When the set is partial,
  the rule is not checked and an `unresolved-policy` report says why.
  Fields: `users`, `detail` (the set's policies and how they reach the
  user).
- `set-decision` {`scenarios`, `requests`, `decision`, `ignore-user-path`}:
  a request evaluated against the user's policy set gets the `decision`.
  Fields: as the statement check of the same name.

Conditions:

- `condition-differs` {`holds-in`, `fails-in`, `unless-covered`}: the
  statement's condition holds in every scenario of `holds-in` but not in
  some scenario of `fails-in`. A deny whose condition holds for console
  users without MFA but not for access keys is the access-key bypass. With
  `unless-covered: true`, a failing scenario does not count when another
  Deny of the document, with the same Action or NotAction and Resource
  lists, holds in it. Fields: `scenario` and `who` (of the failing
  scenario), `conditional`, `detail`.
- `condition-holds` {`scenarios`}: the statement's condition holds, or may
  hold, in one of `scenarios`. Fields: `scenario`, `who`, `conditional`,
  `detail` (the engine's explanation).
- `condition-entries` {`keys`, `operators`, `set-operator`, `values`}: one
  finding per condition entry on one of `keys` (case-insensitive) whose
  operator, without prefix and IfExists, is in `operators` (any when
  omitted). `set-operator: true` keeps only entries with a `ForAnyValue:`
  or `ForAllValues:` prefix, and `false` only entries without one.
  `values: boolean` (or `number`) keeps only entries whose values are not
  exactly one boolean (or number). `values: mfa-boolean` treats a `String...`
  entry on aws:MultiFactorAuthPresent differently: it is kept when its
  result is the same for the key "true" as for "false" and one of its
  values looks like a boolean ("True", "yes", "0"). Any other `String...`
  entry is dropped, and entries with other operators are checked as
  `boolean`. A value finding points at the condition key, any other at the
  operator. Fields: `operator`, `key`, `detail`.

Entries:

- `exempts` {`actions` or `outside`, `whole-services`, `scenarios`}: the
  statement's NotAction exempts actions that match `actions`, after
  expanding the wildcards of both against the IAM action catalogue, while
  its condition holds in one of `scenarios`. With `outside` instead, it
  exempts catalogue actions that match none of the patterns of `outside`,
  through entries that do not cover a whole service.
  With `whole-services: true`, a NotAction entry that covers every action
  of a service (`s3:*`) is reported too. Fields: `actions` (the exempted
  ones; with `outside`, at most eight are named), `patterns` (the
  NotAction entries that exempt them), `scenario`, `who`.
- `unknown-actions` {`elements`}: one finding per Action or NotAction entry
  (or only those of `elements`) that names no action in the catalogue,
  placed at the entry. Fields: `action`, `detail`, which suggests a close
  action name when there is one.
- `policy-variables` {}: the statement uses `${...}` policy variables in
  Resource, NotResource or condition values. The finding points at the
  first entry that does. Fields: `detail` (the variables).
- `resource-limited` {}: the statement has NotAction that exempts a
  self-service action such as iam:EnableMFADevice, or an Action of `*` on
  IAM resources only, and a Resource without the entry `*`, so it enforces
  MFA on only some resources. A statement with NotResource, or one whose
  every policy set also has an MFA deny over every action on `*`, is not
  reported. The finding points at the first Resource entry. Fields:
  `resources` (the entries), `detail` (which requests the deny leaves out).

Problem reports:

- `diagnostic`: the kind of a problem report about a file or a suppression
  rather than a policy (`parse-error`, `unresolved-policy`,
  `suppression-without-reason`, `unused-suppression`), whose reports become
  findings of the rule. Field: `detail`.

Combinations:

- `all-of` [checks]: every listed check reports the statement. The finding
  takes the first check's position and every check's fields, the earlier
  check winning when two set the same field.
- `none-of` [checks]: no listed check reports the statement. The finding
  is placed by the rule's `location` and adds no fields.

Every statement finding also has the fields `statement` (its Sid or
position) and `policy` (the document's name), and condition locations add
`operator` and `key`. It also has `users` and `affected`, which name the
users of the policy sets that contain the statement, filtered by the
rule's `users` predicates. `users` is a plain list ("alice and bob") and
`affected` a clause for the end of a message ("; affected users: alice (must
set a new password at the next sign-in)"), empty when no user is known.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mfa_guard.engine import (
    check_actions,
    check_conditions,
    check_requests,
    check_resources,
    check_sets,
)
from mfa_guard.engine.schema import RuleError
from mfa_guard.engine.scope import DocumentScope, Hit
from mfa_guard.model import DiagnosticKind, SourceSpan, Statement
from mfa_guard.records import record

__all__ = ["CHECKS", "DIAGNOSTIC_KINDS", "Hit", "run_check", "validate_check"]

DIAGNOSTIC_KINDS = tuple(kind.value for kind in DiagnosticKind)

Validator = Callable[[Any, Path, str], None]
Runner = Callable[[Mapping[str, Any], Statement, DocumentScope, SourceSpan], list[Hit]]


@record
class CheckKind:
    validate: Validator
    run: Runner


def _validate_diagnostic(body: Any, path: Path, key: str) -> None:
    if body not in DIAGNOSTIC_KINDS:
        raise RuleError(path, key, f"expected one of {', '.join(DIAGNOSTIC_KINDS)}")


def _run_nothing(
    body: Mapping[str, Any],
    statement: Statement,
    scope: DocumentScope,
    span: SourceSpan,
) -> list[Hit]:
    # Diagnostic rules check no statement, because they turn problem reports
    # into findings.
    return []


def _validate_list(body: Any, path: Path, key: str) -> None:
    if not isinstance(body, list) or not body:
        raise RuleError(path, key, "expected a non-empty list of checks")
    for index, check in enumerate(body):
        _validate(check, path, f"{key}[{index}]", nested=True)


def _run_all_of(
    body: Any, statement: Statement, scope: DocumentScope, span: SourceSpan
) -> list[Hit]:
    hits = []
    for check in body:
        found = run_check(check, statement, scope, span)
        if not found:
            return []
        hits.append(found[0])

    fields: dict[str, str] = {}
    actions: list[str] = []
    for hit in hits:
        for name, value in hit.fields.items():
            if value and not fields.get(name):
                fields[name] = value
        actions.extend(hit.actions)
    return [Hit(hits[0].span, fields, tuple(dict.fromkeys(actions)))]


def _run_none_of(
    body: Any, statement: Statement, scope: DocumentScope, span: SourceSpan
) -> list[Hit]:
    for check in body:
        if run_check(check, statement, scope, span):
            return []
    return [Hit(span, {})]


CHECKS: dict[str, CheckKind] = {
    "denies": CheckKind(check_requests.validate_denies, check_requests.run_denies),
    "not-denied": CheckKind(
        check_requests.validate_not_denied, check_requests.run_not_denied
    ),
    "allow-differs": CheckKind(
        check_requests.validate_allow_differs, check_requests.run_allow_differs
    ),
    "set-decision": CheckKind(
        check_sets.validate_set_decision, check_sets.run_set_decision
    ),
    "user-path-differs": CheckKind(
        check_sets.validate_user_path_differs, check_sets.run_user_path_differs
    ),
    "condition-differs": CheckKind(
        check_conditions.validate_condition_differs,
        check_conditions.run_condition_differs,
    ),
    "condition-holds": CheckKind(
        check_conditions.validate_condition_holds,
        check_conditions.run_condition_holds,
    ),
    "condition-entries": CheckKind(
        check_conditions.validate_condition_entries,
        check_conditions.run_condition_entries,
    ),
    "exempts": CheckKind(check_actions.validate_exempts, check_actions.run_exempts),
    "unknown-actions": CheckKind(
        check_actions.validate_unknown_actions, check_actions.run_unknown_actions
    ),
    "policy-variables": CheckKind(
        check_actions.validate_policy_variables, check_actions.run_policy_variables
    ),
    "resource-limited": CheckKind(
        check_resources.validate_resource_limited,
        check_resources.run_resource_limited,
    ),
    "diagnostic": CheckKind(_validate_diagnostic, _run_nothing),
    "all-of": CheckKind(_validate_list, _run_all_of),
    "none-of": CheckKind(_validate_list, _run_none_of),
}


def _validate(check: Any, path: Path, key: str, nested: bool) -> None:
    names = [name for name in CHECKS if not (nested and name == "diagnostic")]
    if not isinstance(check, dict) or len(check) != 1 or next(iter(check)) not in names:
        raise RuleError(path, key, f"expected exactly one of {', '.join(names)}")
    name, body = next(iter(check.items()))
    CHECKS[name].validate(body, path, f"{key}.{name}")


def validate_check(check: Mapping[str, Any], path: Path) -> None:
    """Validate a rule's `check` mapping, or raise RuleError naming the key."""
    _validate(check, path, "check", nested=False)


def run_check(
    check: Mapping[str, Any],
    statement: Statement,
    scope: DocumentScope,
    span: SourceSpan,
) -> list[Hit]:
    """Run a validated check on one statement. `span` is the rule's location."""
    name, body = next(iter(check.items()))
    return CHECKS[name].run(body, statement, scope, span)
