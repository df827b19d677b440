"""Read and parse the files a scan reads, with the same parsers, and nothing else.

This is the "parse floor" that `bench/run.py` compares a scan with. It
discovers files as `mfa-guard scan` does, then parses each JSON file with
`jsonpos`, each YAML file that mentions CloudFormation with `yamlpos`,
and each Terraform module directory that mentions IAM with tree-sitter-hcl
and tfparse. Other YAML files and directories without IAM markers are only
read, because the loaders stop there too. No policy is built and no rule runs.

Usage: python -m bench.parse_floor PATH...
Prints the file count and the seconds spent after imports, as JSON.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

from mfa_guard.discover import discover, is_terraform
from mfa_guard.loaders.cloudformation import may_be_template
from mfa_guard.loaders.dispatch import UnreadableFile, read_text
from mfa_guard.loaders.jsonpos import JsonError, parse_json
from mfa_guard.loaders.terraform import IAM_MARKERS
from mfa_guard.loaders.yamlpos import YamlError, parse_yaml


def parse_file(path: Path) -> None:
    try:
        text = read_text(path)
    except UnreadableFile:
        return
    try:
        if path.name.lower().endswith(".json") or text.lstrip()[:1] in ("{", "["):
            parse_json(text)
        elif may_be_template(text):
            parse_yaml(text)
    except (JsonError, YamlError):
        pass


def parse_module(directory: Path, parser: object) -> None:
    import tfparse

    texts = []
    for path in sorted(directory.iterdir()):
        if is_terraform(path) and path.is_file():
            data = path.read_bytes()
            texts.append(data.decode("utf-8", "replace"))
            if path.name.endswith(".tf"):
                parser.parse(data)  # type: ignore[attr-defined]
    if not any(marker in text for text in texts for marker in IAM_MARKERS):
        return
    with contextlib.suppress(tfparse.ParseError):
        tfparse.load_from_path(
            str(directory), stop_on_hcl_error=True, allow_downloads=False
        )


def parse_paths(paths: list[str]) -> tuple[int, float]:
    """Parse every file under `paths` and return the file count and the seconds taken."""
    started = time.perf_counter()
    files = discover(paths).files
    modules: dict[Path, list[Path]] = defaultdict(list)
    for path in files:
        if is_terraform(path):
            modules[path.parent].append(path)
        else:
            parse_file(path)

    if modules:
        import tree_sitter
        import tree_sitter_hcl

        parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language()))
        for directory in modules:
            parse_module(directory, parser)
    return len(files), time.perf_counter() - started


def main() -> None:
    count, seconds = parse_paths(sys.argv[1:] or ["."])
    print(json.dumps({"files": count, "seconds": seconds}))


if __name__ == "__main__":
    main()
