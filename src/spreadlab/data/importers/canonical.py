"""Parquet files already in a canonical table schema (e.g. the tables ``spreadlab market build`` writes).

A file is one kind: the kind whose canonical schema (:func:`spreadlab.data.schema.canonical_schema`)
has exactly the file's column names; when several kinds share them, the file
name's stem (``quotes.parquet``, ``funding.parquet``) picks one. Rows are read
in chunks of ``chunk_rows`` (pyarrow record batches), conformed to the
kind's types, and validated by the catalog like any other import. The
instrument ids are the file's own (``venue`` and ``symbol`` are not used).
A Parquet file of no canonical kind (``ground_truth.parquet``,
``instruments.parquet``) is an error naming its columns.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from spreadlab.data.importers._common import make_batch
from spreadlab.data.importers.base import DEFAULT_CHUNK_ROWS, ImportBatch, ImporterSpec, ImportFormat
from spreadlab.data.schema import EventKind, canonical_schema
from spreadlab.errors import DataError

__all__ = ["IMPORTER", "canonical_kind", "read_canonical"]


def canonical_kind(path: Path, columns: list[str]) -> EventKind:
    """The event kind whose canonical columns are ``columns`` (the file stem breaks ties)."""
    cols = set(columns)
    kinds = [k for k in EventKind if set(canonical_schema(k).names()) == cols]
    if len(kinds) > 1:
        kinds = [k for k in kinds if k.value == path.stem] or kinds
    if len(kinds) != 1:
        known = ", ".join(k.value for k in EventKind)
        what = "no" if not kinds else "more than one"
        raise DataError(
            f"{what} canonical table has the columns {sorted(cols)} (kinds: {known})", path=str(path)
        )
    return kinds[0]


def read_canonical(
    path: Path,
    *,
    venue: str | None = None,
    symbol: str | None = None,
    skip_bad: bool = False,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[ImportBatch]:
    """Read a canonical-schema Parquet file as batches of its kind.

    Examples
    --------
    >>> import tempfile
    >>> from spreadlab.data.schema import empty_frame
    >>> p = Path(tempfile.mkdtemp()) / "funding.parquet"
    >>> empty_frame("funding").write_parquet(p)
    >>> [b.kind.value for b in read_canonical(p)]
    ['funding']
    """
    import pyarrow.parquet as pq

    path = Path(path)
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:
        raise DataError(f"cannot read the file as Parquet: {exc}", path=str(path)) from exc
    kind = canonical_kind(path, pf.schema_arrow.names)
    line = 1
    emitted = False
    for rb in pf.iter_batches(batch_size=chunk_rows):
        frame = pl.DataFrame(pl.from_arrow(rb))
        lines = pl.int_range(line, line + frame.height, eager=True, dtype=pl.Int64)
        line += frame.height
        try:
            batch = make_batch(kind, frame, rows_read=frame.height, line=lines)
        except Exception as exc:
            raise DataError(f"rows {lines[0]}..{lines[-1]} do not fit the {kind.value} schema: {exc}",
                            path=str(path)) from exc  # fmt: skip
        emitted = True
        yield batch
    if not emitted:
        yield make_batch(kind, pl.DataFrame(schema=canonical_schema(kind)))


def _sniff(name: str, head: bytes) -> bool:
    return name.endswith(".parquet") and head.startswith(b"PAR1")


IMPORTER = ImporterSpec(fmt=ImportFormat.PARQUET, read=read_canonical, sniff=_sniff, options=frozenset())
