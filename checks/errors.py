"""Errors of the command line itself."""

from spec.errors import ScoruError


class UsageError(ScoruError):
    """A command-line option with a value the command cannot use."""
