"""Mutation strategies and the checks every fuzzed scan must pass.

Each example writes mutated files into a fresh folder and loads and
analyzes them in a worker pool. A worker that crashes or runs longer than
TIMEOUT seconds fails the example instead of ending or blocking the test
run. No exception may escape: the pool runs with `debug`, so a loader
exception is raised here. No finding may report an internal error. Every
unit ends with findings, a clean result or a skip note, and the input
files stay unchanged byte for byte.

MFA_GUARD_FUZZ_EXAMPLES sets the number of examples per test (default
30) and MFA_GUARD_FUZZ_TIMEOUT the seconds one example may take (default
30). Without MFA_GUARD_FUZZ_EXAMPLES the examples are derandomized, so CI
runs the same inputs every time.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from mfa_guard.discover import is_candidate
from mfa_guard.parallel import UnitReport, WorkerPool, make_units

REPOSITORY = Path(__file__).resolve().parents[2]
FIXTURES = REPOSITORY / "tests" / "fixtures"
EXAMPLES = int(os.environ.get("MFA_GUARD_FUZZ_EXAMPLES", "30"))
TIMEOUT = float(os.environ.get("MFA_GUARD_FUZZ_TIMEOUT", "30"))
MAX_BYTES = 10 * 1024 * 1024

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="MFA_GUARD_FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Finding messages that mean a loader raised an unexpected exception and
# the scan caught it, instead of reporting a problem in the input.
INTERNAL_ERRORS = (
    "because of an internal error",
    "failed to load Terraform module",
)

# Internal errors found by earlier campaigns and not fixed yet. Examples
# that hit one are saved to `known/` and counted, but do not fail. The list
# is empty: add a message fragment here only while its fix is pending.
KNOWN_DEFECTS: tuple[str, ...] = ()

# Byte sequences that matter to the parsers, inserted by the mutations.
TOKENS = {
    "json": [
        b"{",
        b"}",
        b"[",
        b"]",
        b'"',
        b"\\",
        b",",
        b":",
        b"\x00",
        b"\xff",
        b"\xef\xbb\xbf",
        b"\r\n",
        b"${",
        b'"Statement"',
        b'"Condition"',
        b"null",
        b"1e999",
        b"NaN",
        b"-0",
        b'"\\ud800"',
    ],
    "yaml": [
        b"&a ",
        b"*a",
        b"!Sub ",
        b"!If ",
        b"!!python/object ",
        b"<<: *a",
        b"---\n",
        b"\t",
        b"? ",
        b"{{ .Values.x }}",
        b"%TAG ! tag:x\n",
        b"|\n",
        b">-\n",
        b"- ",
        b": ",
        b"\xff",
        b"\x00",
        b"\r",
        b"Fn::Sub",
        b"!Ref ",
    ],
    "hcl": [
        b"${",
        b"%{",
        b"$${",
        b"<<EOF\n",
        b"<<-EOT\n",
        b"EOF\n",
        b"jsonencode(",
        b'file("',
        b"../",
        b'dynamic "statement" {',
        b"{",
        b"}",
        b"for_each",
        b"var.",
        b"local.",
        b"\x00",
        b"\xff",
        b"//",
        b"/*",
        b"\r\n",
        b"}\n}\n",
    ],
}

HCL_EXPRESSIONS = [
    "1",
    "true",
    "null",
    '"*"',
    "[]",
    "{}",
    "var.missing",
    "local.missing",
    "data.aws_iam_policy_document.missing.json",
    "jsonencode({})",
    "jsonencode(null)",
    'file("missing.json")',
    '"${var.x}"',
    '["iam:*", 5, null]',
    "{ Version = 1 }",
    'templatefile("x.tpl", {})',
    'concat(["a"], 1)',
    "merge({}, [])",
    '"$${aws:username}"',
    "[for s in var.x : s]",
    "<<EOF\n{}\nEOF",
    'jsonencode({ Statement = "x" })',
]


def read_seeds(*patterns: str) -> list[bytes]:
    seeds = []
    for pattern in patterns:
        for path in sorted(REPOSITORY.glob(pattern)):
            seeds.append(path.read_bytes().replace(b"@EXTRA@", b""))
    return seeds


def seed_folders(pattern: str) -> list[dict[str, bytes]]:
    """Return each matching folder's files as {relative path: content}."""
    folders = []
    for folder in sorted(REPOSITORY.glob(pattern)):
        files = {
            path.relative_to(folder).as_posix(): path.read_bytes().replace(
                b"@EXTRA@", b""
            )
            for path in sorted(folder.rglob("*"))
            if path.is_file()
        }
        folders.append(files)
    return folders


def deep_nesting(depth: int, opening: str = "[", closing: str = "]") -> str:
    return opening * depth + closing * depth


@st.composite
def byte_mutations(draw: st.DrawFn, data: bytes, tokens: list[bytes]) -> bytes:
    """Apply one to four byte-level mutations to `data`."""
    result = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(
            st.sampled_from(
                ["truncate", "insert", "replace", "delete", "repeat", "nest", "flip"]
            )
        )
        position = draw(st.integers(0, len(result)))
        fragment = draw(st.sampled_from(tokens) | st.binary(min_size=1, max_size=16))
        if kind == "truncate":
            del result[position:]
        elif kind == "insert":
            result[position:position] = fragment
        elif kind == "replace":
            result[position : position + len(fragment)] = fragment
        elif kind == "delete":
            del result[position : position + draw(st.integers(1, 64))]
        elif kind == "nest":
            opening = draw(st.sampled_from([b"[", b"{", b'{"a":', b"- ", b"(", b"[{"]))
            result[position:position] = opening * draw(st.integers(100, 100_000))
        elif kind == "repeat":
            chunk = bytes(result[position : position + draw(st.integers(1, 32))])
            result[position:position] = chunk * draw(st.integers(1, 2000))
        elif result:
            result[position % len(result)] ^= 1 << draw(st.integers(0, 7))
    return bytes(result)


POLICY_WORDS = st.sampled_from(
    [
        "*",
        "iam:*",
        "Deny",
        "Allow",
        "BoolIfExists",
        "Bool",
        "Null",
        "aws:MultiFactorAuthPresent",
        "aws:MultiFactorAuthAge",
        "${aws:username}",
        "false",
        "true",
        "Statement",
        "NotAction",
        "Condition",
        "Fn::Sub",
        "Ref",
        "Fn::If",
        "AWS::NoValue",
        "2012-10-17",
    ]
)
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | POLICY_WORDS
)
WRONG_VALUES = st.one_of(
    st.recursive(
        LEAVES,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=8) | POLICY_WORDS, children, max_size=4)
        ),
        max_leaves=12,
    ),
    st.integers(1, 400).map(lambda depth: json.loads(deep_nesting(depth))),
    st.integers(1000, 300_000).map(lambda size: "A" * size),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


@st.composite
def value_mutations(draw: st.DrawFn, value: Any) -> Any:
    """Replace, delete or add one to three nodes of a parsed document."""
    result = json.loads(json.dumps(value))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(result)
        path = draw(st.sampled_from(paths))
        replacement = draw(WRONG_VALUES)
        if not path:
            result = replacement
            continue
        parent = result
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = replacement
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=8) | POLICY_WORDS)] = replacement
        else:
            parent.insert(path[-1], replacement)
    return result


class _TaggedLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags as their long form, `!Sub x` as {"Fn::Sub": x}."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        return {name: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {name: loader.construct_sequence(node, deep=True)}
    return {name: loader.construct_mapping(node, deep=True)}


_TaggedLoader.add_multi_constructor("!", _construct_tag)


def parsed_templates(seeds: list[bytes]) -> list[Any]:
    """Parse the seeds that are valid YAML, with short-form tags in long form."""
    values = []
    for seed in seeds:
        try:
            value = yaml.load(seed.decode("utf-8"), Loader=_TaggedLoader)
        except yaml.YAMLError:
            continue
        values.append(json.loads(json.dumps(value, default=str)))
    return values


def dump_value(value: Any, style: str) -> bytes:
    """Serialize a value as JSON or YAML; a string too large for YAML is written as JSON."""
    if style == "yaml":
        try:
            return yaml.safe_dump(value, sort_keys=False).encode("utf-8")
        except RecursionError:
            pass
    try:
        return json.dumps(value, indent=1).encode("utf-8", "surrogatepass")
    except RecursionError:
        return b"[" * 5000


_ATTRIBUTE = re.compile(rb"^([ \t]*[A-Za-z_][\w-]*[ \t]*=[ \t]*)(.+)$", re.MULTILINE)


@st.composite
def hcl_mutations(draw: st.DrawFn, data: bytes) -> bytes:
    """Replace the value of one to three single-line attributes with a wrong expression."""
    result = data
    for _ in range(draw(st.integers(1, 3))):
        matches = list(_ATTRIBUTE.finditer(result))
        if not matches:
            return result
        match = draw(st.sampled_from(matches))
        expression = draw(
            st.sampled_from(HCL_EXPRESSIONS)
            | st.text(max_size=30).map(json.dumps)
            | st.integers(1, 3000).map(deep_nesting)
            | st.integers(1000, 300_000).map(lambda size: '"' + "A" * size + '"')
        )
        start, end = match.span(2)
        result = (
            result[:start] + expression.encode("utf-8", "surrogatepass") + result[end:]
        )
    return result


def _checksums(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(
            path.read_bytes()
        ).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


class FuzzRunner:
    """Writes each example into a fresh folder and checks how the scan handled it.

    A Terraform module whose worker died counts as handled: tfparse 0.6.22
    panics on some invalid modules (a `dynamic` block whose `for_each` is
    a number, for one), and the scan reports that as a parse error and
    goes on. Such inputs are copied to `crashes/` for a bug report, and
    inputs that hit a KNOWN_DEFECTS entry to `known/`.
    """

    def __init__(self, pool: WorkerPool, root: Path) -> None:
        self.pool = pool
        self.root = root
        self.count = 0
        self.crashes: list[Path] = []
        self.known: list[Path] = []

    def _is_isolated_crash(self, report: UnitReport, folder: Path) -> bool:
        message = report.findings[0].message if report.findings else ""
        if "the process loading it died" not in message:
            return False
        if not any(
            path.name.endswith((".tf", ".tf.json")) for path in folder.iterdir()
        ):
            return False
        self.crashes.append(self._save(folder, "crashes"))
        return True

    def check(self, files: dict[str, bytes]) -> list[UnitReport]:
        folder = self.root / f"example-{self.count % 2}"
        self.count += 1
        if folder.exists():
            shutil.rmtree(folder)
        for name, data in files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        before = _checksums(folder)

        scanned = [
            folder / name for name in files if "/" not in name and is_candidate(name)
        ]
        reports = self.pool.run(make_units(scanned, MAX_BYTES))

        assert _checksums(folder) == before, "the scan changed or added files"
        for report in reports:
            if not report.complete and self._is_isolated_crash(report, folder):
                continue
            assert report.complete, f"{report.name}: {report.findings[0].message}"
            assert report.read or report.note, f"{report.name} skipped without a note"
            for finding in report.findings:
                if not any(text in finding.message for text in INTERNAL_ERRORS):
                    continue
                known = any(text in finding.message for text in KNOWN_DEFECTS)
                assert known, finding.message
                self.known.append(self._save(folder, "known"))
        return reports

    def _save(self, folder: Path, kind: str) -> Path:
        saved = self.root / kind / str(self.count)
        if not saved.exists():
            shutil.copytree(folder, saved)
        return saved


def run_examples(check: Callable[[], None]) -> None:
    """Run a hypothesis test function with the fuzz settings."""
    FUZZ_SETTINGS(check)()
