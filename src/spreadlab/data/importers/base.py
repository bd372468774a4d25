"""The importer protocol: how every file format becomes canonical tables.

An importer is a pure function from one file to a stream of
:class:`ImportBatch` values::

    def read_<format>(
        path: Path,
        *,
        venue: str | None = None,
        symbol: str | None = None,
        skip_bad: bool = False,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
    ) -> Iterator[ImportBatch]

``venue`` is a :class:`~spreadlab.core.enums.Venue` value (a plain upper-case
string is accepted for venues spreadlab has no enum member for, e.g. ``FTX``);
``symbol`` names the instrument of files that do not carry one (a single-pair
OHLCV file); importers whose files name their instruments ignore it.

Rules every importer follows:

1. Each batch holds one :class:`~spreadlab.events.schema.EventKind` and a
   ``frame`` that already has exactly the canonical columns and dtypes of
   :func:`spreadlab.data.schema.canonical_schema` (times int64 ns UTC,
   prices/sizes float64, ``instrument_id`` as ``VENUE:SYMBOL``). One source
   chunk may yield several batches (a Tardis ``derivative_ticker`` chunk gives
   ``funding`` and ``mark`` rows); ``rows_read`` counts *source* records
   (lines, messages) once, on exactly one of them, so the sum over a file is
   the number of records in the file.
2. Files are streamed: at most about ``chunk_rows`` source records are held at
   a time, so memory stays constant in the file size. ``.gz`` and ``.zip``
   are read transparently (:func:`open_binary`).
3. A malformed record (unparsable number or time, missing field, wrong
   number of columns) raises :class:`~spreadlab.errors.DataError` with
   ``path=`` the file, ``row=`` the 1-based physical line number (the header
   is line 1) or message number, and ``field=`` the column. With
   ``skip_bad=True`` the record is left out of ``frame`` and put into
   ``quarantine`` instead (columns of :data:`QUARANTINE_SCHEMA`: file, line,
   field, reason, raw), and the import goes on.
4. Values that parse but are implausible (NaN/zero/negative prices, crossed
   books, out-of-order times) are *not* the importer's business: the catalog
   runs :mod:`spreadlab.data.validation` on every batch.
5. The venue comes from the file where the format names it (Tardis
   ``exchange`` column); otherwise from ``venue=``, and a format that cannot
   know it raises :class:`DataError` when ``venue`` is missing.
6. Importers never sort, deduplicate or drop valid rows: the stored row
   count must equal the source record count (minus quarantined records).

Formats are listed in :data:`IMPORTER_MODULES` (format name -> module). Each
such module defines ``IMPORTER = ImporterSpec(...)`` carrying its reader and
a ``sniff`` predicate used by ``auto`` detection. The table is static: an
importer "registers" by existing under the module name listed here, so there
is no mutable global registry.
"""

from __future__ import annotations

import gzip
import importlib
import io
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, Protocol

import polars as pl

from spreadlab.errors import DataError, ValidationError
from spreadlab.events.schema import EventKind

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
    "read_head",
]

DEFAULT_CHUNK_ROWS = 200_000
"""Rows per chunk of every importer: with the catalog's two chunks in flight, an import holds about
600k canonical rows at a time (tens of MB above the interpreter's ~290 MB; see
benchmarks/bench_import_memory.py)."""

QUARANTINE_SCHEMA = pl.Schema(
    {
        "file": pl.String(),
        "line": pl.Int64(),
        "field": pl.String(),
        "reason": pl.String(),
        "raw": pl.String(),
    }
)


class ImportFormat(StrEnum):
    """File formats ``spreadlab data import`` understands."""

    TARDIS = "tardis"
    BINANCE_ARCHIVE = "binance-archive"
    BINANCE_WS = "binance-ws"
    HYPERLIQUID_WS = "hyperliquid-ws"
    DERIBIT_CHAIN = "deribit-chain"
    DERIBIT_TICKER = "deribit-ticker"
    BYBIT_OB = "bybit-ob"
    FREQTRADE = "freqtrade"
    OHLCV = "ohlcv"
    PARQUET = "parquet"
    AUTO = "auto"


def empty_quarantine() -> pl.DataFrame:
    """Return an empty quarantine table.

    Examples
    --------
    >>> empty_quarantine().columns
    ['file', 'line', 'field', 'reason', 'raw']
    """
    return pl.DataFrame(schema=QUARANTINE_SCHEMA)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportBatch:
    """One chunk of canonical rows of one kind, plus the records quarantined on the way.

    Parameters
    ----------
    kind
        The event kind of ``frame``.
    frame
        Rows in the canonical schema of ``kind``.
    quarantine
        Malformed source records left out (only with ``skip_bad=True``).
    rows_read
        Source records consumed for this batch (0 for secondary batches).
    line
        Optional: the source line (or message number) of each ``frame`` row,
        so that validation errors can name it.
    """

    kind: EventKind
    frame: pl.DataFrame
    quarantine: pl.DataFrame = field(default_factory=empty_quarantine)
    rows_read: int = 0
    line: pl.Series | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, EventKind):
            raise ValidationError(f"kind={self.kind!r} must be an EventKind")
        if self.rows_read < 0:
            raise ValidationError(f"rows_read={self.rows_read!r} must be >= 0")
        if self.line is not None and len(self.line) != self.frame.height:
            raise ValidationError(f"line has {len(self.line)} entries for {self.frame.height} rows")
        if self.quarantine.schema != QUARANTINE_SCHEMA:
            raise ValidationError(f"quarantine columns {self.quarantine.schema} must be {QUARANTINE_SCHEMA}")


class Importer(Protocol):
    """The signature of a ``read_<format>`` function."""

    def __call__(
        self,
        path: Path,
        *,
        venue: str | None = None,
        symbol: str | None = None,
        skip_bad: bool = False,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
    ) -> Iterator[ImportBatch]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ImporterSpec:
    """A format's reader and its detector.

    Parameters
    ----------
    fmt
        The format name.
    read
        The importer function.
    sniff
        ``sniff(name, head)`` is True when a file named ``name`` whose first
        (decompressed) bytes are ``head`` is in this format.
    options
        The importer options that can change what is stored (``"venue"``,
        ``"symbol"``): with the file's sha256 and the format they identify an
        import, so the same bytes imported with another ``--venue`` are a new
        import, while an option the format ignores does not make one.
    """

    fmt: ImportFormat
    read: Importer
    sniff: Callable[[str, bytes], bool]
    options: frozenset[str] = frozenset({"venue", "symbol"})


IMPORTER_MODULES: dict[ImportFormat, str] = {
    ImportFormat.TARDIS: "spreadlab.data.importers.tardis",
    ImportFormat.BINANCE_ARCHIVE: "spreadlab.data.importers.binance_archive",
    ImportFormat.BINANCE_WS: "spreadlab.data.importers.binance_ws",
    ImportFormat.HYPERLIQUID_WS: "spreadlab.data.importers.hyperliquid_ws",
    ImportFormat.DERIBIT_CHAIN: "spreadlab.data.importers.deribit_chain",
    ImportFormat.DERIBIT_TICKER: "spreadlab.data.importers.deribit_ticker",
    ImportFormat.BYBIT_OB: "spreadlab.data.importers.bybit_ob",
    ImportFormat.FREQTRADE: "spreadlab.data.importers.freqtrade",
    ImportFormat.OHLCV: "spreadlab.data.importers.ohlcv",
    ImportFormat.PARQUET: "spreadlab.data.importers.canonical",
}
"""Format name -> module defining ``IMPORTER``. Order matters for ``auto``: first match wins."""


def get_importer(fmt: ImportFormat | str) -> ImporterSpec:
    """Return the :class:`ImporterSpec` of ``fmt``.

    Examples
    --------
    >>> get_importer("tardis").fmt
    <ImportFormat.TARDIS: 'tardis'>
    """
    try:
        key = ImportFormat(fmt)
    except ValueError as exc:
        valid = ", ".join(f.value for f in ImportFormat)
        raise ValidationError(f"format={fmt!r} is unknown; valid formats: {valid}") from exc
    if key is ImportFormat.AUTO:
        raise ValidationError("format='auto' has no reader; call detect_format(path) first")
    module = importlib.import_module(IMPORTER_MODULES[key])
    spec = getattr(module, "IMPORTER", None)
    if not isinstance(spec, ImporterSpec):
        raise ValidationError(f"module {module.__name__} does not define IMPORTER = ImporterSpec(...)")
    return spec


def detect_format(path: Path) -> ImportFormat:
    """Detect the format of ``path`` from its name and first bytes.

    Raises
    ------
    DataError
        If no importer recognises the file.
    """
    head = read_head(path)
    name = path.name
    for fmt in IMPORTER_MODULES:
        try:
            spec = get_importer(fmt)
        except (ImportError, ValidationError):
            continue
        if spec.sniff(name, head):
            return fmt
    raise DataError(
        "cannot detect the file format; pass one of "
        + ", ".join(f.value for f in ImportFormat if f is not ImportFormat.AUTO),
        path=str(path),
    )


def open_binary(path: Path) -> io.BufferedIOBase:
    """Open ``path`` for streaming reads, decompressing ``.gz`` and single-member ``.zip``.

    Compression is recognised from the magic bytes, not the file name. A
    truncated or corrupt gzip or zip stream raises :class:`DataError` naming
    the file (at open, or at the read that meets the damage), never a raw
    ``EOFError`` / ``BadZipFile``.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", path=str(path))
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic[:2] == b"\x1f\x8b":
        return io.BufferedReader(_Guarded(gzip.open(path, "rb"), path, "gzip"), buffer_size=1 << 20)
    if magic == b"PK\x03\x04":
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            raise DataError(f"zip archive is truncated or corrupt ({exc})", path=str(path)) from exc
        names = [n for n in zf.namelist() if not n.endswith("/")]
        if len(names) != 1:
            zf.close()
            raise DataError(f"zip archive holds {len(names)} files; expected exactly one", path=str(path))
        inner = zf.open(names[0], "r")
        return io.BufferedReader(_Guarded(_ZipMember(zf, inner), path, "zip"), buffer_size=1 << 20)
    return path.open("rb")


_STREAM_ERRORS = (EOFError, zipfile.BadZipFile, zlib.error, gzip.BadGzipFile, OSError)


class _Guarded(io.RawIOBase):
    """A decompressing stream whose damage errors become :class:`DataError` naming the file."""

    def __init__(self, inner: IO[bytes] | io.IOBase, path: Path, what: str) -> None:
        super().__init__()
        self._inner: Any = inner
        self._path = path
        self._what = what

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(buffer))
        except _STREAM_ERRORS as exc:
            raise DataError(
                f"{self._what} data is truncated or corrupt ({type(exc).__name__}: {exc})",
                path=str(self._path),
            ) from exc
        n = len(data)
        buffer[:n] = data
        return n

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
        super().close()


class _ZipMember(io.RawIOBase):
    """A zip member that closes its archive with it."""

    def __init__(self, zf: zipfile.ZipFile, inner: IO[bytes]) -> None:
        super().__init__()
        self._zf = zf
        self._inner = inner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n

    def read(self, size: int = -1) -> bytes:
        return self._inner.read(size)

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
            self._zf.close()
        super().close()


def read_head(path: Path, size: int = 8192) -> bytes:
    """Return the first ``size`` decompressed bytes of ``path`` (for format detection)."""
    with open_binary(path) as fh:
        return fh.read(size)
