"""What an import did: per-file reports, the report of a call, and the error of a batch that failed
after storing some files."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from spreadlab.data.validation import Finding
from spreadlab.errors import DataError, SpreadlabError

__all__ = ["FileReport", "ImportFailedError", "ImportReport"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FileReport:
    """What importing one file did.

    Parameters
    ----------
    path
        The file.
    fmt
        The format it was read as.
    sha256
        Hex digest of its bytes.
    status
        ``"imported"``, or ``"already_imported"`` when the same bytes were imported before in
        the same format with the same options.
    import_id
        The import that stored the file (for ``already_imported``: the earlier one); pass
        it to :meth:`Catalog.delete` to undo the import.
    options
        The options that identify the import with the bytes and the format (``venue``,
        ``symbol`` where the format uses them).
    replaced
        Import ids of the same bytes deleted by ``replace=True``.
    rows_read
        Source records read.
    rows_stored
        Canonical rows stored (all kinds; derived rows such as futures marks
        from a chain snapshot included).
    rows_quarantined
        Records left out (malformed, or bad values) with ``skip_bad``.
    rows_by_kind
        Stored rows per kind.
    instruments
        Instruments with stored rows.
    findings
        Validation findings (order, duplicates, crossed books, gaps, ...).
    """

    path: str
    fmt: str
    sha256: str
    status: Literal["imported", "already_imported"]
    import_id: str | None = None
    options: tuple[tuple[str, str | None], ...] = ()
    replaced: tuple[str, ...] = ()
    rows_read: int = 0
    rows_stored: int = 0
    rows_quarantined: int = 0
    rows_by_kind: tuple[tuple[str, int], ...] = ()
    instruments: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict."""
        return {
            "path": self.path,
            "format": self.fmt,
            "sha256": self.sha256,
            "status": self.status,
            "import_id": self.import_id,
            "options": dict(self.options),
            "replaced": list(self.replaced),
            "rows_read": self.rows_read,
            "rows_stored": self.rows_stored,
            "rows_quarantined": self.rows_quarantined,
            "rows_by_kind": dict(self.rows_by_kind),
            "instruments": list(self.instruments),
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportReport:
    """The reports of every file of one :meth:`Catalog.import_` call."""

    files: tuple[FileReport, ...] = field(default_factory=tuple)

    @property
    def rows_read(self) -> int:
        """Total source records read."""
        return sum(f.rows_read for f in self.files)

    @property
    def rows_stored(self) -> int:
        """Total rows stored."""
        return sum(f.rows_stored for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        """Total rows quarantined."""
        return sum(f.rows_quarantined for f in self.files)

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict."""
        return {
            "files": [f.to_dict() for f in self.files],
            "rows_read": self.rows_read,
            "rows_stored": self.rows_stored,
            "rows_quarantined": self.rows_quarantined,
        }


class ImportFailedError(DataError):
    """A file of a multi-file import failed after earlier files were stored.

    The message, ``path``, ``row`` and ``field`` are the failing file's; ``stored``
    reports the files imported (and kept) before it.
    """

    def __init__(self, cause: DataError, stored: ImportReport) -> None:
        SpreadlabError.__init__(self, str(cause))
        self.path = cause.path
        self.row = cause.row
        self.field = cause.field
        self.stored = stored
