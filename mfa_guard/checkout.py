"""Find the git checkout that contains a folder, without running git."""

from __future__ import annotations

import os


def checkout_root(directory: str | os.PathLike[str]) -> str | None:
    """Return the nearest of `directory` (made absolute) and its parents that contains `.git`, or None.

    A `.git` folder marks a checkout, and a `.git` file marks a worktree or
    a submodule.
    """
    current = os.path.abspath(directory)
    while True:
        if os.path.lexists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent
