"""Errors that end a run with a message instead of a traceback."""


class UsageError(Exception):
    """A command-line or configuration mistake the user can fix; exits with code 2."""
