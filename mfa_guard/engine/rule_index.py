"""A JSON copy of the shipped rule files, so that a scan need not parse YAML.

Importing PyYAML and parsing the shipped rule files took about a third of a
one-file scan. `rules/index.json` holds, for each shipped file, its text and
the data PyYAML reads from it. A file whose text equals the stored text is
taken from the index. Any other file is parsed as YAML, and so is every
file when the index is missing or unreadable. An edited rule file is
therefore never read from stale data, only loaded more slowly until the
index is rewritten:

    python -m mfa_guard.engine.rule_index

A test fails when the index differs from what this command would write.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

INDEX_NAME = "index.json"
FORMAT = 1


@cache
def _entries(directory: str) -> dict[str, Any]:
    try:
        with open(Path(directory) / INDEX_NAME, encoding="utf-8") as stream:
            data = json.load(stream)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {}
    rules = data.get("rules")
    return rules if isinstance(rules, dict) else {}


def indexed_data(path: Path, text: str) -> tuple[bool, Any]:
    """Return (True, data) when the index next to `path` contains `text`, else (False, None)."""
    entry = _entries(str(path.parent)).get(path.name)
    if isinstance(entry, dict) and entry.get("text") == text:
        return True, entry.get("data")
    return False, None


def build_index(directory: Path) -> str:
    """Return the index text for the rule files in `directory`.

    Raises ValueError when a file contains data that JSON cannot represent
    exactly, such as a date or a non-string key.
    """
    import yaml

    rules: dict[str, Any] = {}
    for path in sorted(directory.glob("*.y*ml")):
        text = path.read_text(encoding="utf-8")
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        try:
            exact = json.loads(json.dumps(data)) == data
        except TypeError:
            exact = False
        if not exact:
            raise ValueError(f"{path}: the data has no exact JSON form")
        rules[path.name] = {"text": text, "data": data}
    index = {"format": FORMAT, "rules": rules}
    return json.dumps(index, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> None:
    from mfa_guard.engine.rules import shipped_rules_dir

    directory = shipped_rules_dir()
    try:
        text = build_index(directory)
    except ValueError as error:
        sys.exit(str(error))
    (directory / INDEX_NAME).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
