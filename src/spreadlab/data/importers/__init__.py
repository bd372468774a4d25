"""File formats -> canonical tables. See :mod:`spreadlab.data.importers.base` for the protocol."""

from spreadlab.data.importers.base import (
    DEFAULT_CHUNK_ROWS,
    IMPORTER_MODULES,
    QUARANTINE_SCHEMA,
    ImportBatch,
    Importer,
    ImporterSpec,
    ImportFormat,
    detect_format,
    empty_quarantine,
    get_importer,
    open_binary,
)

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "IMPORTER_MODULES",
    "QUARANTINE_SCHEMA",
    "ImportBatch",
    "ImportFormat",
    "Importer",
    "ImporterSpec",
    "detect_format",
    "empty_quarantine",
    "get_importer",
    "open_binary",
]
