"""The one exception tree of spreadlab.

Every error spreadlab raises derives from :class:`SpreadlabError`. Venue and
library errors are translated at the edge with ``raise ... from exc``.
Expected outcomes (a risk rejection, an unfilled order) are values, never
exceptions.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ConvergenceError",
    "DataError",
    "InsufficientDataError",
    "SpreadlabError",
    "UnknownSymbolError",
    "ValidationError",
]


class SpreadlabError(Exception):
    """Base class of every error raised by spreadlab."""


class ValidationError(SpreadlabError, ValueError):
    """A value failed validation; the message names the field, value and valid range."""


class UnknownSymbolError(ValidationError):
    """A venue symbol could not be parsed into an instrument."""


class InsufficientDataError(ValidationError):
    """Too few observations for the requested computation."""


class DataError(SpreadlabError):
    """Bad input data: the message names the file, the row and the field.

    Parameters
    ----------
    message
        What was wrong.
    path
        The file, if the data came from one.
    row
        The 1-based row (line) number, if known.
    field
        The column or field name, if known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = path
        self.row = row
        self.field = field
        where = []
        if path is not None:
            where.append(str(path))
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field {field!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class ConfigError(SpreadlabError):
    """A configuration file or value is invalid."""


class ConvergenceError(SpreadlabError):
    """A numerical fit or solver did not converge."""
