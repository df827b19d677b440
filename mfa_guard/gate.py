"""Turn configuration and command-line options into one scan, then gate its findings.

Command-line options override the configuration file: `--fail-on` replaces
`fail-on`, while `--disable`, `--rules` and `--exclude` add to the file's
lists. Exclude globs in the file are relative to its folder, and those on
the command line are relative to the current folder. After the scan,
suppressions and the baseline remove findings, and problems with
suppressions become findings of their own.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mfa_guard.baseline import (
    SourceCache,
    filter_baselined,
    read_baseline,
    write_baseline,
)
from mfa_guard.config import Config, find_config, load_config
from mfa_guard.discover import anchor_patterns, file_patterns
from mfa_guard.engine.context import RunContext, scenario_settings
from mfa_guard.engine.rules import Rule, load_rules
from mfa_guard.errors import UsageError
from mfa_guard.loaders.base import DEFAULT_MAX_BYTES
from mfa_guard.model import Finding
from mfa_guard.records import record
from mfa_guard.scan import ScanResult


@record(frozen=False)
class ScanSettings:
    config: Config
    rules: list[Rule]
    context: RunContext
    fail_on: str
    excludes: list[str]
    max_bytes: int


def _config(args: argparse.Namespace) -> Config:
    if args.config is not None:
        if not args.config.is_file():
            raise UsageError(f"configuration file not found: {args.config}")
        return load_config(args.config)
    found = find_config(Path.cwd())
    return load_config(found) if found else Config()


def _check_names(
    names: tuple[str, ...] | list[str], known: set[str], where: str
) -> None:
    for name in names:
        if name not in known:
            raise UsageError(
                f"{where} {name}: no rule has this name or id; run 'mfa-guard rules' for the list"
            )


def select_rules(
    rules: list[Rule], config: Config, disabled: list[str], where: str = "--disable"
) -> list[Rule]:
    known = {rule.id for rule in rules} | {rule.name for rule in rules}
    config_where = f"{config.path}:" if config.path else "configuration:"
    _check_names(disabled, known, where)
    _check_names(config.disable, known, f"{config_where} disable")
    _check_names(config.enable, known, f"{config_where} enable")
    _check_names(tuple(config.severity), known, f"{config_where} severity")

    off = set(disabled) | set(config.disable)
    selected = []
    for rule in rules:
        if rule.id in off or rule.name in off:
            continue
        if (
            config.enable
            and rule.id not in config.enable
            and rule.name not in config.enable
        ):
            continue
        severity = config.severity.get(rule.id) or config.severity.get(rule.name)
        selected.append(rule.with_severity(severity) if severity else rule)
    return selected


def exclude_patterns(config: Config, command_line: list[str]) -> list[str]:
    """Return the exclude globs of the configuration file and the command line.

    The file's globs match paths relative to the folder that contains it.
    The command line's globs match paths relative to the current folder,
    and the paths as the command line gave them. A glob without a slash
    matches the file name in any folder.
    """
    patterns = list(config.exclude)
    if config.path is not None:
        patterns = file_patterns(config.exclude, config.path.absolute().parent)
    patterns += command_line
    patterns += anchor_patterns(command_line, Path.cwd())
    return patterns


def prepare(args: argparse.Namespace) -> ScanSettings:
    config = _config(args)
    rules = select_rules(
        load_rules([*config.rule_dirs, *args.rules]), config, args.disable
    )
    settings = scenario_settings(config.scenarios)
    max_bytes = (
        getattr(args, "max_file_size", None)
        or config.max_file_size
        or DEFAULT_MAX_BYTES
    )
    return ScanSettings(
        config=config,
        rules=rules,
        context=RunContext(settings),
        fail_on=args.fail_on or config.fail_on or "error",
        excludes=exclude_patterns(config, args.exclude),
        max_bytes=max_bytes,
    )


def gate(result: ScanResult, settings: ScanSettings, args: argparse.Namespace) -> None:
    """Apply suppressions and the baseline to `result.findings`, in place."""
    from mfa_guard.engine.runner import Analyzer
    from mfa_guard.suppress import apply_suppressions, gather_inline

    inline = gather_inline(result.findings, result.comments)
    known = {rule.id for rule in settings.rules} | {
        rule.name for rule in settings.rules
    }
    config_path = str(settings.config.path) if settings.config.path else None
    suppressed = apply_suppressions(
        result.findings, inline, settings.config.ignore, known, config_path
    )
    problems = Analyzer(settings.rules, settings.context).analyze(
        [], suppressed.problems
    )
    findings: list[Finding] = sorted([*suppressed.findings, *problems])
    result.suppressed = suppressed.suppressed

    sources = SourceCache()
    if args.baseline is not None:
        findings, result.baselined = filter_baselined(
            findings, read_baseline(args.baseline), sources
        )
    if args.write_baseline is not None:
        write_baseline(args.write_baseline, findings, sources)
    result.findings = findings
