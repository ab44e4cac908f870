"""Errors the CLI and API report to people (one short hierarchy, mapped to exit codes in one place)."""


class UsageError(Exception):
    """Bad input from the user: reported in one line with exit code 2."""
