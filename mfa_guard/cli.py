"""Command-line entry point: `mfa-guard scan`, `simulate`, `rules` and `explain`.

Exit codes: 0 no finding at or above the `--fail-on` threshold, 1 findings,
2 usage or configuration error, 3 internal error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from mfa_guard import __version__, log
from mfa_guard.engine.schema import RuleError
from mfa_guard.entry import EXIT_INTERRUPTED
from mfa_guard.errors import UsageError

if TYPE_CHECKING:
    from mfa_guard.engine.rules import Rule
    from mfa_guard.prefetch import Prefetch
    from mfa_guard.scan import ScanResult

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3

FAIL_ON_CHOICES = ("error", "warning", "info", "never")


def _add_rule_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rules",
        metavar="DIR",
        action="append",
        default=[],
        type=Path,
        help="also load the rule files in DIR (repeatable)",
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid number {text!r}: expected a whole number of 1 or more"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"invalid value {value}: expected 1 or more")
    return value


def _add_speed_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--jobs",
        metavar="N",
        type=_positive_int,
        help="number of worker processes that load and analyze files (default: one per CPU); with 1 and no Terraform files, the scan runs in the main process",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="neither read nor write the result cache in $XDG_CACHE_HOME/mfa-guard (default: ~/.cache/mfa-guard)",
    )
    parser.add_argument(
        "--max-file-size",
        metavar="BYTES",
        type=_positive_int,
        help="skip files larger than BYTES and list them with --verbose (default: the configuration's max-file-size, else 10485760)",
    )
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=_positive_int,
        default=DEFAULT_TIMEOUT,
        help=f"report a file or Terraform module that takes longer than SECONDS to load and analyze as not checked, and go on (default: {DEFAULT_TIMEOUT}; applies to worker processes, which run whenever Terraform files are scanned, and with --jobs 2 or more)",
    )


def _add_fix_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fix",
        action="store_true",
        help="rewrite files to apply the safe fixes that rules declare, then report the findings that remain",
    )
    parser.add_argument(
        "--diff",
        action="store_true",
        help="print the safe fixes as a unified diff instead of writing files. The report goes only to --output, and the exit code counts the findings that the fixes do not cover",
    )


def _terminal_width() -> int:
    """Return the terminal width as `shutil.get_terminal_size` finds it: COLUMNS, the terminal, or 80."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    stream = sys.__stdout__
    if stream is None:
        return 80
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's help layout, sized without importing `shutil`.

    argparse builds a formatter for every option it adds, and the default
    one imports `shutil` (about 10 ms) to size itself, although parsing
    the command line prints no help.
    """

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = _terminal_width() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose help uses `_HelpFormatter`. Subcommand parsers get the same class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)
        # The parser of each command, by name; set on the top-level parser.
        self.commands: dict[str, argparse.ArgumentParser] = {}

    def parse_command_line(self, argv: list[str]) -> argparse.Namespace:
        """Parse `argv`, in which a command's options may come between its paths.

        argparse fills a list of positional arguments only up to the first
        option, so `scan a.tf --jobs 2 b.tf` left `b.tf` over. The command's
        own parser then reads its arguments in any order. Anything else
        left over is reported as argparse reports it.
        """
        args, extra = self.parse_known_args(argv)
        if not extra:
            return args
        command = self.commands.get(args.command or "")
        if command is None or argv[:1] != [args.command]:
            self.error(f"unrecognized arguments: {' '.join(extra)}")
        vars(args).update(vars(command.parse_intermixed_args(argv[1:])))
        return args


def _build_parser() -> _Parser:
    parser = _Parser(
        prog="mfa-guard",
        description="Find AWS IAM MFA policies that lock users out or let them in without MFA.",
    )
    parser.add_argument(
        "--version", action="version", version=f"mfa-guard {__version__}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    scan = commands.add_parser(
        "scan", help="scan files and directories for MFA policy mistakes"
    )
    scan.add_argument(
        "paths",
        nargs="*",
        default=["."],
        metavar="PATH",
        help="files or directories to scan (default: .)",
    )
    scan.add_argument(
        "--format",
        choices=("text", "json", "sarif", "github"),
        default="text",
        help="output format: text, json, sarif (SARIF 2.1.0) or github (workflow annotations); default: text",
    )
    scan.add_argument(
        "--output",
        metavar="FILE",
        type=Path,
        help="write the report to FILE instead of standard output",
    )
    scan.add_argument(
        "--fail-on",
        choices=FAIL_ON_CHOICES,
        help="exit with 1 when a finding has this severity or higher (default: the configuration's fail-on, else error)",
    )
    scan.add_argument(
        "--config",
        metavar="FILE",
        type=Path,
        help="read this configuration file instead of the .mfa-guard.yaml at the git checkout root, or outside a checkout in the current folder or the nearest parent folder up to the home folder",
    )
    scan.add_argument(
        "--baseline",
        metavar="FILE",
        type=Path,
        help="report only findings that are not in this baseline file",
    )
    scan.add_argument(
        "--write-baseline",
        metavar="FILE",
        type=Path,
        help="record the findings of this run in FILE, for later --baseline runs, and exit 0",
    )
    scan.add_argument(
        "--disable",
        metavar="RULE",
        action="append",
        default=[],
        help="turn off a rule by name or id (repeatable)",
    )
    scan.add_argument(
        "--exclude",
        metavar="GLOB",
        action="append",
        default=[],
        help="skip files whose path relative to the current folder, or whose name, matches GLOB (repeatable)",
    )
    scan.add_argument(
        "--verbose",
        action="store_true",
        help="list every file read or skipped, and why, on standard error",
    )
    scan.add_argument(
        "--debug", action="store_true", help="show tracebacks for internal errors"
    )
    _add_speed_options(scan)
    _add_fix_options(scan)
    _add_rule_options(scan)

    simulate = commands.add_parser(
        "simulate", help="decide one request against the policies in the given files"
    )
    simulate.add_argument(
        "paths",
        nargs="+",
        metavar="POLICY_FILE",
        help="policy files or directories (any format scan reads)",
    )
    simulate.add_argument(
        "--action",
        required=True,
        help="the action to request, such as iam:ChangePassword",
    )
    simulate.add_argument(
        "--resource",
        help="the resource ARN (default: the caller's own user for user actions, a device named 'phone' for MFA device actions, otherwise \"*\")",
    )
    simulate.add_argument(
        "--principal",
        metavar="USER",
        help="make the request as this IAM user: its Terraform address (aws_iam_user.NAME), CloudFormation logical id or IAM name; the request is evaluated against the policies that reach the user, and the default resource is the user's own ARN",
    )
    simulate.add_argument(
        "--scenario",
        help="the kind of caller: console-without-mfa, console-with-mfa, access-key, session-with-mfa or role-session-without-mfa",
    )
    simulate.add_argument(
        "--context",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="set a request context key (repeatable); VALUE 'absent' removes the key; without --scenario the keys override console-without-mfa",
    )
    simulate.add_argument(
        "--condition",
        metavar="NAME=true|false",
        action="append",
        default=[],
        help="the value of a CloudFormation condition, which chooses the Fn::If branch of each policy (repeatable; default: true where the template allows it)",
    )
    simulate.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="output format (default: text)",
    )
    simulate.add_argument(
        "--debug", action="store_true", help="show tracebacks for internal errors"
    )

    init = commands.add_parser(
        "init", help="write a commented starter .mfa-guard.yaml in the current folder"
    )
    init.add_argument("--force", action="store_true", help="overwrite an existing file")

    rules = commands.add_parser(
        "rules", help="list the rules with id, name, severity and summary"
    )
    _add_rule_options(rules)

    explain = commands.add_parser("explain", help="print one rule's documentation")
    explain.add_argument("rule", metavar="NAME_OR_ID")
    _add_rule_options(explain)
    parser.commands = dict(commands.choices)
    return parser


def _use_colour(target: Path | None) -> bool:
    """Return True when text output goes to a terminal and NO_COLOR is not set."""
    if target is not None or sys.stdout is None:
        return False
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _run_scan(args: argparse.Namespace) -> int:
    for option, target in (
        ("--output", args.output),
        ("--write-baseline", args.write_baseline),
    ):
        if target is not None:
            _check_output_folder(option, target)
    prefetch = None
    if not (args.fix or args.diff):
        from mfa_guard.loaders.base import DEFAULT_MAX_BYTES
        from mfa_guard.parallel import default_jobs
        from mfa_guard.prefetch import Prefetch

        # Before the engine is imported, so that the two overlap.
        max_bytes = args.max_file_size or DEFAULT_MAX_BYTES
        jobs = args.jobs or default_jobs()
        prefetch = Prefetch.start(
            args.paths, jobs, max_bytes, args.debug, timeout=args.timeout
        )
    try:
        return _scan_and_report(args, prefetch)
    finally:
        if prefetch is not None:
            prefetch.close()


def _scan_and_report(args: argparse.Namespace, prefetch: Prefetch | None) -> int:
    from mfa_guard.engine.runner import Analyzer
    from mfa_guard.gate import gate, prepare
    from mfa_guard.parallel import default_jobs
    from mfa_guard.scan import scan

    settings = prepare(args)
    analyzer = Analyzer(settings.rules, settings.context)
    cache = None
    if not args.no_cache:
        from mfa_guard.cache import ResultCache

        cache = ResultCache.open(analyzer, settings.max_bytes)

    def run() -> ScanResult:
        result = scan(
            args.paths,
            analyzer,
            excludes=settings.excludes,
            max_bytes=settings.max_bytes,
            debug=args.debug,
            jobs=args.jobs or default_jobs(),
            cache=cache,
            prefetch=prefetch,
            timeout=args.timeout,
        )
        if result.missing:
            raise UsageError(f"path not found: {', '.join(result.missing)}")
        gate(result, settings, args)
        return result

    result = run()
    if args.fix or args.diff:
        result = _apply_fixes(args, result, run)
    if args.verbose:
        for path in result.files_read:
            print(f"read: {path}", file=sys.stderr)
        for path, reason in result.skipped:
            print(f"skipped: {path}: {reason}", file=sys.stderr)
        for path, reason in result.unresolved:
            print(f"unresolved: {path}: {reason}", file=sys.stderr)

    if not args.diff or args.output is not None:
        colour = _use_colour(args.output)
        rendered = _render_scan(args.format, settings.rules, result, colour)
        _write_output(rendered, args.output)

    # Writing a baseline accepts the findings it records.
    if settings.fail_on == "never" or args.write_baseline is not None:
        return EXIT_OK
    from mfa_guard.model import Severity

    threshold = Severity.parse(settings.fail_on)
    failing = any(finding.severity >= threshold for finding in result.findings)
    return EXIT_FINDINGS if failing else EXIT_OK


def _apply_fixes(
    args: argparse.Namespace, result: ScanResult, rescan: Callable[[], ScanResult]
) -> ScanResult:
    """Apply the safe fixes, or print them with --diff, and return what remains."""
    from mfa_guard.fix.command import run_fixes

    outcome = run_fixes(result, write=not args.diff, rescan=rescan)
    sys.stdout.write(outcome.diff)
    for message in outcome.messages:
        print(f"mfa-guard: {message}", file=sys.stderr)
    return outcome.result


def _run_init(args: argparse.Namespace) -> int:
    from mfa_guard.checkout import checkout_root
    from mfa_guard.config import CONFIG_NAME, STARTER

    target = Path(CONFIG_NAME)
    if target.exists() and not args.force:
        raise UsageError(f"{CONFIG_NAME} already exists; pass --force to overwrite it")
    target.write_text(STARTER, encoding="utf-8")
    print(f"wrote {CONFIG_NAME}")
    root = checkout_root(Path.cwd())
    if root is not None and Path(root) != Path.cwd().absolute():
        print(
            f"note: scans read {Path(root) / CONFIG_NAME}, the file at the root of this"
            f" git checkout; move the file there or pass --config {target.absolute()}",
            file=sys.stderr,
        )
    return EXIT_OK


def _render_scan(
    output_format: str, rules: list[Rule], result: ScanResult, colour: bool
) -> str:
    files, policies = len(result.files_read), result.documents
    if output_format == "json":
        from mfa_guard.report import json as json_report

        return json_report.render(
            result.findings,
            files,
            policies,
            result.seconds,
            result.suppressed,
            result.baselined,
        )
    if output_format == "sarif":
        from mfa_guard.report import sarif

        return sarif.render(result.findings, rules)
    if output_format == "github":
        from mfa_guard.report import github

        return github.render(result.findings)
    from mfa_guard.report import text

    return text.render(
        result.findings,
        files,
        policies,
        result.seconds,
        colour,
        result.suppressed,
        result.baselined,
    )


def _check_output_folder(option: str, target: Path) -> None:
    """Reject a file to write whose folder does not exist, before the scan runs."""
    folder = target.parent
    if not folder.is_dir():
        raise UsageError(f"{option}: folder not found: {folder}")


def _write_output(output: str, target: Path | None) -> None:
    """Print `output`, or write it to `target`.

    A regular file is replaced atomically, so no partial file is left, and
    keeps its permissions; a symbolic link is followed. Anything else at
    `target`, such as a named pipe or /dev/stdout, is written to in place.
    """
    if target is None:
        if sys.stdout is None:
            raise UsageError("standard output is closed; name a file with --output")
        sys.stdout.write(output)
        return

    import stat

    try:
        mode: int | None = os.stat(target).st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        with open(target, "w", encoding="utf-8", errors="backslashreplace") as stream:
            stream.write(output)
        return
    # Resolved only now: /dev/stdout leads to a name such as "pipe:[1234]",
    # which is not a path, while a link to a file leads to the file.
    try:
        _replace_file(output, Path(os.path.realpath(target)), mode)
    except OSError as error:
        raise UsageError(
            f"--output: failed to write {target}: {error.strerror or error}"
        ) from None


def _replace_file(output: str, target: Path, mode: int | None) -> None:
    """Write `output` to a temporary file beside `target`, then rename it over `target`.

    The new file gets the permissions of the file it replaces (`mode`), or
    for a new file those that `open` would give it under the current umask.
    """
    import tempfile

    if mode is None:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(
            handle, "w", encoding="utf-8", errors="backslashreplace"
        ) as stream:
            stream.write(output)
            os.fchmod(stream.fileno(), mode & 0o7777)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _run_rules(args: argparse.Namespace) -> int:
    """Print one line per rule: id, name, severity, pack and summary.

    The pack is "mfa-guard" for shipped rules, the entry point name for an
    installed rule pack, and the directory for `--rules DIR`.
    """
    from mfa_guard.engine.rules import load_rules

    rules = sorted(load_rules(args.rules), key=lambda rule: rule.id)
    width = max((len(rule.name) for rule in rules), default=0)
    pack_width = max((len(rule.pack) for rule in rules), default=0)
    for rule in rules:
        print(
            f"{rule.id:<8} {rule.name:<{width}}  {rule.severity!s:<7}  "
            f"{rule.pack:<{pack_width}}  {rule.summary}"
        )
    return EXIT_OK


def _run_explain(args: argparse.Namespace) -> int:
    from mfa_guard.engine.docs import render_rule
    from mfa_guard.engine.rules import load_rules

    requested = args.rule.lower()
    for rule in load_rules(args.rules):
        if requested in (rule.id.lower(), rule.name.lower()):
            sys.stdout.write(render_rule(rule))
            sys.stdout.write(f"\nDefined in {rule.source} (pack {rule.pack}).\n")
            return EXIT_OK
    raise UsageError(f"no rule named {args.rule!r}; run 'mfa-guard rules' for the list")


def _run_simulate(args: argparse.Namespace) -> int:
    from mfa_guard.simulate import run_simulation

    output = run_simulation(
        args.paths,
        args.action,
        args.resource,
        args.scenario,
        args.context,
        args.format,
        args.debug,
        args.principal,
        args.condition,
    )
    sys.stdout.write(output)
    return EXIT_OK


# Seconds one unit may take in a worker or prefetch process. The slowest
# module of the benchmark tree takes well under one second.
DEFAULT_TIMEOUT = 120


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so that the flush at exit does not raise BrokenPipeError again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_command_line(list(sys.argv[1:] if argv is None else argv))
    # Policy text may hold lone surrogates ("\ud800" escapes in JSON); print them
    # escaped instead of failing after the scan.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    debug = getattr(args, "debug", False)
    log.configure(debug)
    handlers = {
        "scan": _run_scan,
        "init": _run_init,
        "simulate": _run_simulate,
        "rules": _run_rules,
        "explain": _run_explain,
    }
    # SIGTERM ends the run like Ctrl-C does, so that worker processes are
    # stopped and no partial file is left behind.
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return handlers[args.command](args)
    except BrokenPipeError:
        # The reader of the output went away (`mfa-guard rules | head`).
        _discard_stdout()
        return EXIT_OK
    except (UsageError, RuleError) as error:
        print(f"mfa-guard: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mfa-guard: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:
        if debug:
            raise
        print(
            f"mfa-guard: internal error: {type(error).__name__}: {error} (run with --debug for a traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def run() -> NoReturn:
    """Run `main` as the `mfa-guard` command and end the process at once.

    The interpreter's own shutdown frees every object of the rule engine
    and the IAM catalogue, which took 18 to 37 ms of a one-file scan on the
    benchmark machine. Output is complete by then: reports and the cache
    are written and closed before `main` returns, and mfa-guard registers no
    exit handlers. Only the standard streams and logging need a flush.
    """
    try:
        code = main()
    except KeyboardInterrupt:
        # Ctrl-C before `main` handles it, while the command line is parsed.
        print("mfa-guard: interrupted", file=sys.stderr)
        code = EXIT_INTERRUPTED
    # The run is over, so a late Ctrl-C no longer changes its outcome.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # os._exit skips the exit handler of multiprocessing, which stops worker
    # processes still running, for example one being started at Ctrl-C.
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is not None:
        for child in multiprocessing.active_children():
            child.kill()
            child.join(5)
    log.shutdown()
    for stream in (sys.stdout, sys.stderr):
        # A stream is None when its descriptor was closed at start-up. The
        # reader may also have gone away, or the stream been closed since.
        if stream is not None:
            with contextlib.suppress(BrokenPipeError, ValueError):
                stream.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
