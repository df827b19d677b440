"""Run rules over policy documents and loader diagnostics, producing findings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mfa_guard.engine.autofix import build_autofix
from mfa_guard.engine.checks import Hit, run_check
from mfa_guard.engine.context import RunContext
from mfa_guard.engine.policy_sets import PolicySet, build_policy_sets
from mfa_guard.engine.predicates import (
    MFA_KEYS,
    NEEDS_MFA_KEY,
    PREDICATES,
    has_mfa_key,
    is_mfa_requirement,
    is_mfa_test,
)
from mfa_guard.engine.rules import Rule, request_actions
from mfa_guard.engine.schema import MESSAGE_FIELDS
from mfa_guard.engine.scope import DocumentScope
from mfa_guard.engine.subjects import STATEMENTS, USERS
from mfa_guard.engine.user_rules import analyze_user_sets, user_fields
from mfa_guard.iam.actions import action_matches, get_catalogue
from mfa_guard.iam.conditions import Tri, evaluate_entry
from mfa_guard.iam.scenarios import Scenario
from mfa_guard.loaders.base import LoadResult
from mfa_guard.model import (
    Autofix,
    ConditionEntry,
    Diagnostic,
    DiagnosticKind,
    Finding,
    PasswordPolicy,
    PolicyDocument,
    Principal,
    Severity,
    SourceSpan,
    Statement,
)
from mfa_guard.records import replace

# A deny of everything but MFA self-service without MFA, next to an allow,
# as most MFA policies are written.
WARM_UP_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowReadWithMFA",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "iam:Get*"],
            "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        },
        {
            "Sid": "DenyAllExceptListedIfNoMFA",
            "Effect": "Deny",
            "NotAction": [
                "iam:CreateVirtualMFADevice",
                "iam:EnableMFADevice",
                "iam:GetUser",
                "iam:ListMFADevices",
                "iam:ListVirtualMFADevices",
                "iam:ResyncMFADevice",
                "sts:GetSessionToken",
            ],
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        },
    ],
}


def _entry_order(entry: ConditionEntry) -> int:
    if is_mfa_test(entry):
        return 0
    if is_mfa_requirement(entry):
        return 1
    return 2


def _location(
    rule: Rule,
    document: PolicyDocument,
    statement: Statement,
    scenario: Scenario | None = None,
) -> tuple[SourceSpan, dict[str, str]]:
    """Return where a finding of `rule` on `statement` points, with its fields.

    A condition location picks one entry on the location's keys: MFA tests
    first, then MFA requirements, then the others. With `scenario`, an
    entry that does not hold in it comes before all of them, because that
    entry is what makes the condition fail for the scenario's caller.
    """
    if rule.location == "document":
        return document.span, {}

    if rule.location == "mfa-condition":
        keys: tuple[str, ...] = MFA_KEYS
    elif rule.location.startswith("condition:"):
        keys = (rule.location.split(":", 1)[1].lower(),)
    else:
        return statement.span, {}

    entries = [entry for entry in statement.conditions if entry.key.lower() in keys]
    entries.sort(key=_entry_order)
    if scenario is not None:
        entries.sort(key=lambda entry: not _fails(entry, scenario, document.version))
    if not entries:
        return statement.span, {}
    entry = entries[0]
    return entry.span, {"operator": entry.operator, "key": entry.key}


def _fails(entry: ConditionEntry, scenario: Scenario, version: str | None) -> bool:
    return evaluate_entry(entry, scenario, version).value is Tri.FALSE


def _place_hit(
    rule: Rule,
    scope: DocumentScope,
    statement: Statement,
    hit: Hit,
    location: tuple[SourceSpan, dict[str, str]],
) -> tuple[Hit, dict[str, str]]:
    """Point a hit at the condition entry that fails in the hit's scenario.

    `location` is the rule's location for the statement, from `_location`.
    Only a hit at that location that names a scenario moves. A condition
    block can hold several entries on one key, such as `Null` and
    `BoolIfExists`, or one key written in two letter cases, and the first
    of them need not be the one that fails.
    """
    span, extra = location
    scenario = scope.context.scenarios.get(hit.fields.get("scenario", ""))
    if hit.span != span or scenario is None:
        return hit, extra

    span, fields = _location(rule, scope.document, statement, scenario)
    return replace(hit, span=span), {**extra, **fields}


def _severity(rule: Rule, hit: Hit) -> Severity:
    """Return the rule's severity for a hit, applying `severity-by-actions`."""
    if not hit.actions:
        return rule.severity
    for override in rule.severity_by_actions:
        if all(
            any(action_matches(pattern, action) for pattern in override.only)
            for action in hit.actions
        ):
            return override.severity
    return rule.severity


def _finding(
    rule: Rule, hit: Hit, extra: dict[str, str], autofix: Autofix | None = None
) -> Finding:
    fields = dict.fromkeys(MESSAGE_FIELDS, "")
    fields.update(extra)
    fields.update(hit.fields)
    span = hit.span
    return Finding(
        path=span.path,
        line=span.line,
        column=span.column,
        end_line=span.end_line,
        end_column=span.end_column,
        rule_id=rule.id,
        rule_name=rule.name,
        severity=_severity(rule, hit),
        message=rule.message.format_map(fields),
        fix=rule.fix.format_map(fields) if rule.fix else None,
        policy=fields["policy"],
        autofix=autofix,
    )


def _drop_superseded(
    reported: Sequence[tuple[Rule, int, Finding]],
) -> list[Finding]:
    """Drop findings of rules that a rule reporting the same statement supersedes."""
    superseded = {
        (index, name) for rule, index, _ in reported for name in rule.supersedes
    }
    return [
        finding
        for rule, index, finding in reported
        if (index, rule.id) not in superseded and (index, rule.name) not in superseded
    ]


class Analyzer:
    """The rules of one run. Call `analyze` once per file or Terraform module."""

    def __init__(
        self, rules: Sequence[Rule], context: RunContext | None = None
    ) -> None:
        self.rules = list(rules)
        self.context = context or RunContext()
        self.statement_rules = [
            rule
            for rule in self.rules
            if "diagnostic" not in rule.check and rule.subject == STATEMENTS
        ]
        self.user_rules = [rule for rule in self.rules if rule.subject == USERS]
        self.diagnostic_rules = {
            rule.check["diagnostic"]: rule
            for rule in self.rules
            if "diagnostic" in rule.check
        }

    def analyze(
        self,
        documents: Iterable[PolicyDocument],
        diagnostics: Iterable[Diagnostic] = (),
        principals: Iterable[Principal] = (),
        password_policy: PasswordPolicy | None = None,
    ) -> list[Finding]:
        """Analyze the documents, principals and diagnostics of one file or module.

        Without `principals` each document is a policy set of its own, and
        rules about users report nothing.
        """
        findings: set[Finding] = set()
        all_diagnostics = list(diagnostics)
        documents = list(documents)
        sets = build_policy_sets(documents, principals, password_policy)
        all_diagnostics.extend(sets.diagnostics)
        for document in documents:
            findings.update(self._analyze_document(document, sets.containing(document)))
            if document.unresolved:
                message = f"policy {document.label} depends on values that could not be resolved: {', '.join(document.unresolved)}; the resolvable parts were checked"
                all_diagnostics.append(
                    Diagnostic(DiagnosticKind.UNRESOLVED, document.span, message)
                )

        user_hits, user_diagnostics = analyze_user_sets(
            self.user_rules, sets.user_sets, self.context
        )
        findings.update(_finding(rule, hit, {}) for rule, hit in user_hits)
        all_diagnostics.extend(user_diagnostics)

        for diagnostic in all_diagnostics:
            rule = self.diagnostic_rules.get(diagnostic.kind.value)
            if rule is not None:
                hit = Hit(diagnostic.span, {"detail": diagnostic.message})
                findings.add(_finding(rule, hit, {}))
        return sorted(findings)

    def warm_up(self) -> None:
        """Analyze a small built-in MFA policy and discard the findings.

        The first analysis of a run pays once for building the scenarios,
        reading the IAM action catalogue and compiling patterns: about 20 ms
        of a one-file run on the benchmark machine. A caller that waits for
        another process anyway can pay it while waiting. The catalogue is
        also read for every service whose actions the rules' requests name
        (ec2 alone took 8 ms), as the first policy that denies them would.
        """
        from mfa_guard.loaders.build import build_document

        document, _ = build_document(WARM_UP_POLICY, path="(warm-up)")
        if document is not None:
            self.analyze([document])
        catalogue = get_catalogue()
        for rule in self.rules:
            for action in request_actions(rule.check):
                catalogue.exists(action)

    def analyze_result(self, result: LoadResult) -> list[Finding]:
        """Analyze everything one loader returned, principals included."""
        return self.analyze(
            result.documents,
            result.diagnostics,
            result.principals,
            result.password_policy,
        )

    def _analyze_document(
        self, document: PolicyDocument, sets: tuple[PolicySet, ...] = ()
    ) -> list[Finding]:
        scope = DocumentScope(document, self.context, sets)
        mfa_key = has_mfa_key(document)
        reported: list[tuple[Rule, int, Finding]] = []
        # Several rules test the same predicate on a statement ("mfa-deny"
        # most), and a predicate depends only on the statement and the scope.
        decided: dict[tuple[str, int], bool] = {}

        def holds(name: str, statement: Statement) -> bool:
            key = (name, statement.index)
            value = decided.get(key)
            if value is None:
                value = decided[key] = PREDICATES[name](statement, scope)
            return value

        for rule in self.statement_rules:
            if not mfa_key and NEEDS_MFA_KEY.intersection(rule.where):
                continue
            for statement in scope.select(rule.select):
                if not all(holds(name, statement) for name in rule.where):
                    continue
                span, extra = _location(rule, document, statement)
                extra["statement"] = statement.label
                extra["policy"] = document.label
                extra.update(user_fields(rule.users, scope.sets))
                for found in run_check(rule.check, statement, scope, span):
                    hit, hit_extra = _place_hit(
                        rule, scope, statement, found, (span, extra)
                    )
                    autofix = None
                    if rule.autofix is not None:
                        autofix = build_autofix(
                            rule.autofix, statement, hit.span, hit.actions
                        )
                    finding = _finding(rule, hit, hit_extra, autofix)
                    reported.append((rule, statement.index, finding))
        return _drop_superseded(reported)
