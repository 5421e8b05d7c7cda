"""Exceptions the toolkit raises for problems a user can fix.

Each message says what was wrong and where (file, row, key, plugin); the CLI prints it without
a traceback.
"""

from __future__ import annotations


class FerError(Exception):
    """Base class of every error the toolkit raises on purpose."""


class DataError(FerError, ValueError):
    """A data file or folder cannot be read as the format it claims to be."""


class ConfigError(FerError, ValueError):
    """An experiment config has a bad key or value."""


class PluginError(FerError):
    """A plugin failed to load, registered a clashing name, or raised inside a hook."""


class NonFiniteOutputError(FerError):
    """A model gave NaN or infinite outputs: never turned into a label.

    ``rows`` are the indices (in the batch given) of the faces concerned, so a caller can name
    its own inputs (files, frames).
    """

    def __init__(self, message: str, rows: list[int] | None = None) -> None:
        super().__init__(message)
        self.rows = list(rows or [])


class FerWarning(UserWarning):
    """Base class of the toolkit's warnings (the CLI prints each as one ``warning:`` line)."""


class PluginWarning(FerWarning):
    """A plugin was skipped (failed to import or validate) or some of its registrations dropped."""


DEBUG_ENV = "FER_DEBUG"


def debug_enabled() -> bool:
    """``FER_DEBUG=1``: show the traceback of a plugin's own bug instead of one line."""
    import os

    return os.environ.get(DEBUG_ENV, "").strip() not in ("", "0", "false", "no")
