"""Read and parse the Terraform files of one module directory.

Each file is read once, parsed by tree-sitter-hcl (or as JSON for
`.tf.json`) and split into positioned blocks. File names are relative to
the root module, as tfparse reports them: `main.tf` for the root module and
`modules/iam/main.tf` or `../shared/main.tf` for a local child module.
Display paths are the module directory joined with the file name, with
`..` segments collapsed.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from mfa_guard.loaders.hcl_source import (
    SourceFile,
    find_syntax_error,
    make_parser,
    parse_hcl,
    read_source,
)
from mfa_guard.loaders.jsonpos import JsonError, parse_json
from mfa_guard.loaders.positions import Pos
from mfa_guard.loaders.terraform_blocks import Block, hcl_blocks, json_blocks
from mfa_guard.loaders.terraform_files import FileRejected, check_regular_file
from mfa_guard.model import Diagnostic, DiagnosticKind, SourceSpan
from mfa_guard.records import field, record

TERRAFORM_SUFFIXES = (".tf", ".tf.json")
# Text that every file with an IAM resource or policy document contains.
IAM_MARKERS = ("aws_iam_", "aws_organizations_policy")


@record(frozen=False)
class ModuleFiles:
    """The parsed Terraform files of one module directory.

    `relative` is the directory relative to the root module ("." for the
    root). `syntax_errors` maps a file name to the position and message of
    the first syntax error tree-sitter found in it. `problems` describes
    the files that were not read, and `rejected` names them, because tfparse
    must not read them either.
    """

    directory: Path
    relative: str
    sources: list[SourceFile] = field(default_factory=list)
    blocks: dict[str, list[Block]] = field(default_factory=dict)
    syntax_errors: dict[str, tuple[Pos, str]] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)
    rejected: set[str] = field(default_factory=set)

    def mentions_iam(self) -> bool:
        return any(marker in s.text for s in self.sources for marker in IAM_MARKERS)

    def all_blocks(self) -> list[Block]:
        return [block for blocks in self.blocks.values() for block in blocks]

    def name_of(self, filename: str) -> str:
        """Return the root-relative name of a file of this directory."""
        if self.relative == ".":
            return filename
        return posixpath.join(self.relative, filename)


def read_module_files(
    directory: Path, relative: str = ".", *, parse: bool = True
) -> ModuleFiles:
    """Read the Terraform files of a directory and, with `parse`, parse them.

    Raises OSError when the directory cannot be listed.
    """
    files = ModuleFiles(directory, relative)
    for entry in sorted(os.listdir(directory)):
        if not entry.endswith(TERRAFORM_SUFFIXES):
            continue
        source = _read(directory / entry, files.name_of(entry), files)
        if source is not None:
            files.sources.append(source)
    if parse:
        parse_module_files(files)
    return files


def parse_module_files(files: ModuleFiles) -> None:
    """Parse the files read into `files` and split them into blocks."""
    parser = None
    for source in files.sources:
        if source.is_json:
            root = None
            try:
                root = parse_json(source.text).value
            except JsonError as error:
                pos = (error.line, error.column, error.line, error.column)
                message = f"invalid JSON syntax: {error.message}"
                files.syntax_errors[source.name] = (pos, message)
            files.blocks[source.name] = json_blocks(source, root)
            continue

        parser = parser or make_parser()
        parse_hcl(source, parser)
        found = find_syntax_error(source)
        if found is not None:
            pos, message = found
            files.syntax_errors[source.name] = (pos, f"invalid HCL syntax: {message}")
        files.blocks[source.name] = hcl_blocks(source)


def _read(path: Path, name: str, files: ModuleFiles) -> SourceFile | None:
    """Read one file, or record why it cannot be read and return None.

    Directories named like Terraform files are skipped quietly.
    """
    if path.is_dir():
        return None
    try:
        check_regular_file(path)
        return read_source(path, name)
    except FileRejected as error:
        message = f"{path} was not read: it {error}"
    except OSError as error:
        message = f"failed to read {path}: {error.strerror or error}"
    span = SourceSpan.point(str(path), 1, 1)
    files.problems.append(Diagnostic(DiagnosticKind.PARSE_ERROR, span, message))
    files.rejected.add(name)
    return None


def display_directory(root: Path, relative: str) -> Path:
    """Return the display path of a module directory, with `..` collapsed."""
    if relative == ".":
        return root
    return Path(os.path.normpath(root / relative))
