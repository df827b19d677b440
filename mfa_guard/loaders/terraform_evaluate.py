"""Evaluate a Terraform module directory with tfparse.

tfparse (the evaluator trivy uses) returns an empty or partial result when
any file of the directory has a syntax error. It therefore runs with
`stop_on_hcl_error`, which makes it raise with HCL's own message and
position for the first broken file. tfparse then runs again without that
file, on a temporary directory of symbolic links to the other entries. This
way `file()` and local module sources still resolve, and nothing is written
inside the scanned tree.

Each run reports one broken file, so after a few HCL messages the files
tree-sitter found broken are left out together, to bound the number of runs.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mfa_guard.loaders.positions import Pos

# Maximum number of broken files that get HCL's own message (one tfparse run each).
HCL_MESSAGE_LIMIT = 3

# An HCL diagnostic in a tfparse error, for example
# "unable to create TerraformConverter: bad.tf:2,9-3,1: Invalid multi-line
# string; Quoted strings may not be split over multiple lines., and 2 other
# diagnostic(s)".
_HCL_DIAGNOSTIC = re.compile(
    r"(?P<file>[^\s:][^:]*?):(?P<line>\d+),(?P<column>\d+)(?:-\d+(?:,\d+)?)?: "
    r"(?P<summary>[^;]*?)(?:; (?P<detail>.*?))?"
    r"(?:, and \d+ other diagnostic\(s\))?$",
    re.DOTALL,
)


@dataclass
class Evaluation:
    """tfparse's output for one directory.

    `excluded` names the files left out of the evaluation. `syntax_errors`
    maps a file name to the position and message of the syntax error HCL
    reported in it. `error` describes a failure that stopped evaluation as a
    whole, and `blocks` is then empty.
    """

    blocks: dict[str, Any] = field(default_factory=dict)
    excluded: set[str] = field(default_factory=set)
    syntax_errors: dict[str, tuple[Pos, str]] = field(default_factory=dict)
    error: str | None = None


def evaluate_module(directory: Path, broken: set[str], unsafe: set[str]) -> Evaluation:
    """Run tfparse on `directory`, leaving out broken files after a syntax error.

    `broken` names the files tree-sitter found broken. They are left out
    only after HCL has reported HCL_MESSAGE_LIMIT syntax errors, because a
    file that HCL accepts is valid whatever tree-sitter-hcl reports. `unsafe`
    names files that would crash tfparse, which are always left out.
    """
    import tfparse

    evaluation = Evaluation()
    excluded = evaluation.excluded
    excluded.update(unsafe)
    attempts = len(os.listdir(directory)) + 2
    for _ in range(attempts):
        try:
            # NOTE: terraform.tfvars and *.auto.tfvars are not passed, so
            # variables keep their defaults.
            with _module_view(directory, excluded) as path:
                evaluation.blocks = tfparse.load_from_path(
                    path, stop_on_hcl_error=True, allow_downloads=False
                )
            return evaluation
        except tfparse.ParseError as error:
            found = parse_hcl_diagnostic(str(error))
            # A name with a directory is a file of a child module, which
            # leaving out files of this directory cannot fix.
            if found is None or found[0] in excluded or "/" in found[0]:
                evaluation.error = str(error)
                return evaluation
            name, pos, message = found
            evaluation.syntax_errors[name] = (pos, message)
            excluded.add(name)
            if len(evaluation.syntax_errors) >= HCL_MESSAGE_LIMIT:
                excluded.update(broken)
        except Exception as error:  # a failure inside the Go extension
            evaluation.error = f"{type(error).__name__}: {error}"
            return evaluation
    evaluation.error = "tfparse reported a syntax error in every file"
    return evaluation


def parse_hcl_diagnostic(text: str) -> tuple[str, Pos, str] | None:
    """Return the file name, position and message of an HCL diagnostic."""
    match = _HCL_DIAGNOSTIC.search(text.strip())
    if match is None:
        return None
    line, column = int(match["line"]), int(match["column"])
    message = match["summary"].strip().rstrip(".")
    if match["detail"]:
        message += ": " + match["detail"].strip()
    return match["file"], (line, column, line, column), message


@contextlib.contextmanager
def _module_view(directory: Path, excluded: set[str]) -> Iterator[str]:
    """Yield a directory that shows the module's entries except `excluded`."""
    if not excluded:
        yield str(directory)
        return
    with tempfile.TemporaryDirectory(prefix="mfa-guard-") as view:
        for entry in os.scandir(directory):
            if entry.name not in excluded:
                target = os.path.abspath(entry.path)
                os.symlink(target, os.path.join(view, entry.name))
        yield view
