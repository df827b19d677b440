"""Apply the safe fixes that rules declare, for `mfa-guard scan --fix` and `--diff`.

The engine attaches an `Autofix` to each finding whose rule declares one and
whose statement meets the fix's conditions. The fixer reads the file again
and finds the statement at the finding's span with the format's own parser
(JSON, YAML or tree-sitter HCL). It edits only the text the fix changes: new
list entries go in front of the existing ones, in the list's own style, and
names are replaced in place. Encoding, byte order mark and line endings stay
as they were. A fixed file that no longer parses is not written.
"""

from mfa_guard.fix.plan import (
    FileFix,
    FixPlan,
    Replacement,
    Skipped,
    finding_replacements,
    plan_fixes,
)
from mfa_guard.fix.source import FixError

__all__ = [
    "FileFix",
    "FixError",
    "FixPlan",
    "Replacement",
    "Skipped",
    "finding_replacements",
    "plan_fixes",
]
