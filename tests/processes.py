"""Process checks shared by the tests of worker processes (Linux /proc)."""

from pathlib import Path


def process_ended(pid: int) -> bool:
    """Return whether process `pid` has exited: it is gone, or a zombie not yet reaped."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" in status
