"""Errors a person can act on: they name the file, the row and the column, and the fix.

Messages never carry the offending value itself: a source may be personal, and a value
echoed into a log line or a Dagster event would leak it.
"""

from __future__ import annotations

from pathlib import Path


class DatacitesError(Exception):
    """Base class of the errors the framework raises on purpose."""


class SourceError(DatacitesError):
    """A source file cannot be read as declared."""

    def __init__(self, path: str | Path, problem: str, *, row: int | None = None,
                 column: str | None = None, fix: str | None = None):
        self.path = str(path)
        self.row = row
        self.column = column
        self.problem = problem
        self.fix = fix
        where = [self.path]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        message = f"{', '.join(where)}: {problem}"
        if fix:
            message += f" Fix: {fix}"
        super().__init__(message)


class CrsError(DatacitesError):
    """A layer has no CRS, or not the one the territory declares."""


class ConfigError(DatacitesError):
    """A YAML card (source, territory, demonstrator) is invalid."""


class StepError(DatacitesError):
    """A demonstrator's own code failed in one of its steps (a bug, not bad input)."""


class PrivacyError(DatacitesError):
    """A rule protecting personal or business data would be broken."""
