"""Chunked, line-exact CSV reading shared by the CSV importers.

A file is read as decompressed bytes in blocks of about ``chunk_rows`` lines,
cut at the last newline, and each block is parsed by polars with the
declared dtypes (the fast path). Line numbers are exact because each block
starts on a line boundary and blank lines stay as all-null rows until
dropped. When polars rejects a block (a malformed value, too many fields),
the block is re-parsed line by line to find the first bad line and field,
which either raises :class:`~spreadlab.errors.DataError` or, with
``skip_bad``, goes to the quarantine table.

Times are normalised by :func:`to_ns`: integers are epoch times whose unit
is read from their magnitude (s < 1e11 <= ms < 1e14 <= us < 1e17 <= ns), so
files mixing millisecond and microsecond stamps (Binance archives since
2025) come out right; strings are ISO 8601 (``Z``/``+00:00`` offsets or none,
read as UTC).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from spreadlab.data.importers.base import QUARANTINE_SCHEMA, empty_quarantine, open_binary
from spreadlab.errors import DataError

__all__ = ["CsvChunk", "epoch_to_ns", "iter_csv", "read_header", "to_ns"]

_BLOCK_MIN = 1 << 16
_MAX_LINE = 100_000  # characters; no CSV row of a market data format comes near (csv's own limit is 131,072)
_ISO_FORMATS = (
    "%Y-%m-%d %H:%M:%S%.f%:z",
    "%Y-%m-%dT%H:%M:%S%.f%:z",
    "%Y-%m-%dT%H:%M:%S%.fZ",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d",
)


@dataclass(frozen=True, slots=True)
class CsvChunk:
    """Parsed rows of one block: good rows, their line numbers, quarantined rows."""

    frame: pl.DataFrame
    line: pl.Series
    quarantine: pl.DataFrame
    rows_read: int
    lines: int = 0


def read_header(path: Path) -> list[str]:
    """Return the fields of the first line of ``path``."""
    with open_binary(path) as fh:
        first = fh.readline().decode("utf-8-sig", errors="replace").rstrip("\r\n")
    return next(csv.reader([first]), [])


def epoch_to_ns(expr: pl.Expr) -> pl.Expr:
    """Convert epoch integers of any unit (s, ms, us, ns; read from magnitude) to ns."""
    a = expr.abs()
    return (
        pl.when(a < 100_000_000_000)
        .then(expr * 1_000_000_000)
        .when(a < 100_000_000_000_000)
        .then(expr * 1_000_000)
        .when(a < 100_000_000_000_000_000)
        .then(expr * 1_000)
        .otherwise(expr)
    )


def to_ns(s: pl.Series) -> pl.Series:
    """Convert a column of epoch numbers or ISO 8601 strings to int64 ns UTC; unparsable -> null.

    Examples
    --------
    >>> to_ns(pl.Series(["1598918403696000", "2024-10-01 00:00:00+00:00"])).to_list()
    [1598918403696000000, 1727740800000000000]
    """
    name = s.name
    if isinstance(s.dtype, pl.Datetime):
        if s.dtype.time_zone is None:
            s = s.dt.replace_time_zone("UTC")
        return s.dt.timestamp("ns").alias(name)
    if s.dtype.is_integer():
        s = s.cast(pl.Int64)
        lo, hi = s.min(), s.max()
        if isinstance(lo, int) and isinstance(hi, int):
            for bound, factor in ((10**11, 10**9), (10**14, 10**6), (10**17, 10**3)):
                if -bound < lo and hi < bound and (bound == 10**11 or min(abs(lo), abs(hi)) >= bound // 1000):
                    return (s * factor).alias(name)  # one unit for the whole column: a single multiply
            if min(abs(lo), abs(hi)) >= 10**17:
                return s.alias(name)
        return pl.select(epoch_to_ns(pl.lit(s))).to_series().alias(name)
    if s.dtype.is_float():
        return pl.select(epoch_to_ns(pl.lit(s.round(0).cast(pl.Int64)))).to_series().alias(name)
    text = s.cast(pl.String).str.strip_chars()
    as_int = text.cast(pl.Int64, strict=False)
    out = pl.select(epoch_to_ns(pl.lit(as_int))).to_series()
    todo = out.is_null() & text.is_not_null()
    if todo.any():
        for fmt in _ISO_FORMATS:
            parsed = text.str.to_datetime(fmt, time_unit="ns", strict=False, time_zone="UTC")
            out = out.fill_null(parsed.dt.timestamp("ns"))
            if not (out.is_null() & text.is_not_null()).any():
                break
        out = out.fill_null(text.cast(pl.Float64, strict=False).round(0).cast(pl.Int64, strict=False))
    return out.alias(name)


def _iter_blocks(
    path: Path,
    *,
    names: Sequence[str],
    dtypes: dict[str, pl.DataType],
    required: Sequence[str] = (),
    has_header: bool,
    chunk_rows: int,
    skip_bad: bool,
) -> Iterator[CsvChunk]:
    """Stream ``path`` as typed chunks read in byte blocks (exact line numbers, any compression).

    Parameters
    ----------
    names
        All column names of the file, in order.
    dtypes
        The columns to keep and their polars dtypes (others are dropped).
        Time columns are best declared ``pl.String`` and converted with :func:`to_ns`.
    required
        Columns that must be non-empty in every row.
    has_header
        Skip the first line.
    """
    cols = [n for n in names if n in dtypes]
    idx = [names.index(n) for n in cols]
    schema = {n: dtypes[n] for n in cols}
    line_no = 1
    compressed = _is_compressed(path)
    with open_binary(path) as fh:
        if has_header:
            fh.readline()
            line_no = 2
        sample = fh.peek(_BLOCK_MIN) if hasattr(fh, "peek") else b""
        nl = max(sample[:_BLOCK_MIN].count(b"\n"), 1)
        avg = max(len(sample[:_BLOCK_MIN]) / nl, 8.0)
        block_size = max(int(avg * chunk_rows), 256)
        while True:
            block = fh.read(block_size)
            if not block:
                break
            if not block.endswith(b"\n"):
                block += fh.readline()
            # a compressed file whose text stops mid-line was cut before it was compressed
            cut = compressed and not block.endswith(b"\n") and not fh.peek(1)[:1]  # type: ignore[attr-defined]
            chunk = _parse_block(
                block, path, line_no, names, cols, idx, schema, required, skip_bad, cut_last=cut
            )
            line_no += chunk.lines
            yield chunk


def _is_compressed(path: Path) -> bool:
    with Path(path).open("rb") as fh:
        magic = fh.read(4)
    return magic[:2] == b"\x1f\x8b" or magic == b"PK\x03\x04"


def _ragged(block: bytes, n_fields: int) -> bool:
    """Return True when some non-blank line of ``block`` does not hold exactly ``n_fields`` fields.

    Counts commas per line with numpy (no quotes: a block holding ``"`` is always re-checked by the
    ``csv`` module), so the usual block costs one vectorised pass.
    """
    if b'"' in block:
        return True
    arr = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(arr == 10)
    if not block.endswith(b"\n"):
        ends = np.append(ends, len(arr))
    starts = np.concatenate(([0], ends[:-1] + 1))
    commas = np.concatenate(([0], np.cumsum(arr == 44)))
    count = commas[ends] - commas[starts]
    length = ends - starts
    cr = np.zeros(len(ends), dtype=bool)
    has = length > 0
    cr[has] = arr[ends[has] - 1] == 13
    blank = (length - cr) <= 0
    return bool(np.any(~blank & (count != n_fields - 1)))


def _regular_layout(path: Path, n_fields: int) -> bool:
    """Return True when every line of an uncompressed file has ``n_fields`` fields (read in 64 MiB blocks)."""
    with Path(path).open("rb") as fh:
        fh.readline()  # the header (or the first row: a header-less file is checked by its reader)
        while block := fh.read(1 << 26):
            if not block.endswith(b"\n"):
                block += fh.readline()
            if _ragged(block, n_fields):
                return False
    return True


class _FastPathError(Exception):
    """The streaming fast path met something it cannot place precisely (hand over to the block reader)."""


def iter_csv(
    path: Path,
    *,
    names: Sequence[str],
    dtypes: dict[str, pl.DataType],
    required: Sequence[str] = (),
    has_header: bool,
    chunk_rows: int,
    skip_bad: bool,
) -> Iterator[CsvChunk]:
    """Stream ``path`` as typed chunks of about ``chunk_rows`` rows.

    Uncompressed files are scanned by polars' streaming CSV reader (memory
    mapped, constant memory); at the first malformed value, empty required
    field or blank line it hands over to the byte-block reader, which skips
    the rows already delivered and names the exact line and field. Compressed
    files and ``skip_bad`` imports use the byte-block reader throughout.
    """
    kw = {"names": names, "dtypes": dtypes, "required": required, "has_header": has_header,
          "chunk_rows": chunk_rows, "skip_bad": skip_bad}  # fmt: skip
    compressed = _is_compressed(path)
    if skip_bad or compressed or not _regular_layout(path, len(names)):
        yield from _iter_blocks(path, **kw)  # type: ignore[arg-type]
        return
    delivered = 0
    try:
        for chunk in _iter_fast(path, names=names, dtypes=dtypes, required=required, has_header=has_header,
                                chunk_rows=chunk_rows):  # fmt: skip
            delivered += chunk.frame.height
            yield chunk
        return
    except _FastPathError:
        pass
    skip = delivered
    for chunk in _iter_blocks(path, **kw):  # type: ignore[arg-type]
        if skip >= chunk.frame.height:
            skip -= chunk.frame.height
            continue
        if skip:
            chunk = CsvChunk(
                frame=chunk.frame.slice(skip), line=chunk.line.slice(skip), quarantine=chunk.quarantine,
                rows_read=chunk.rows_read - skip, lines=chunk.lines,
            )  # fmt: skip
            skip = 0
        yield chunk


def _iter_fast(
    path: Path,
    *,
    names: Sequence[str],
    dtypes: dict[str, pl.DataType],
    required: Sequence[str],
    has_header: bool,
    chunk_rows: int,
) -> Iterator[CsvChunk]:
    cols = [n for n in names if n in dtypes]
    schema = {n: dtypes.get(n, pl.String()) for n in names}
    first = 2 if has_header else 1
    try:
        lf = pl.scan_csv(path, has_header=has_header, schema=schema, quote_char='"').select(cols)
        for frame in lf.collect_batches(chunk_size=chunk_rows):
            if sum(frame.null_count().row(0)):
                blank = frame.select(pl.all_horizontal([pl.col(c).is_null() for c in cols])).to_series()
                req = [c for c in required if frame[c].null_count()]
                if req or blank.any():
                    raise _FastPathError
            line = pl.int_range(first, first + frame.height, eager=True, dtype=pl.Int64)
            first += frame.height
            yield CsvChunk(frame=frame, line=line, quarantine=empty_quarantine(), rows_read=frame.height,
                           lines=frame.height)  # fmt: skip
    except (pl.exceptions.ComputeError, pl.exceptions.ShapeError, pl.exceptions.SchemaError) as exc:
        raise _FastPathError from exc


def _parse_block(
    block: bytes,
    path: Path,
    first_line: int,
    names: Sequence[str],
    cols: list[str],
    idx: list[int],
    schema: dict[str, pl.DataType],
    required: Sequence[str],
    skip_bad: bool,
    *,
    cut_last: bool = False,
) -> CsvChunk:
    if cut_last or _ragged(block, len(names)):
        return _parse_block_slow(block, path, first_line, names, cols, schema, required, skip_bad,
                                 cut_last=cut_last)  # fmt: skip
    try:
        frame = pl.read_csv(
            block,
            has_header=False,
            new_columns=list(names),
            columns=idx,
            schema_overrides=schema,
            infer_schema=False,
            quote_char='"',
        )
    except (pl.exceptions.ComputeError, pl.exceptions.ShapeError, pl.exceptions.SchemaError):
        return _parse_block_slow(block, path, first_line, names, cols, schema, required, skip_bad)
    frame = frame.select(cols)
    n_phys = frame.height
    line = pl.int_range(first_line, first_line + frame.height, eager=True, dtype=pl.Int64)
    if sum(frame.null_count().row(0)) == 0:  # the usual case: nothing empty, nothing to check
        line = pl.int_range(first_line, first_line + n_phys, eager=True, dtype=pl.Int64)
        return CsvChunk(frame=frame, line=line, quarantine=empty_quarantine(), rows_read=n_phys, lines=n_phys)
    blank = frame.select(pl.all_horizontal([pl.col(c).is_null() for c in cols])).to_series()
    if required:
        bad = frame.select(pl.any_horizontal([pl.col(c).is_null() for c in required])).to_series()
        if (bad & ~blank).any():
            return _parse_block_slow(block, path, first_line, names, cols, schema, required, skip_bad)
    keep = ~blank
    if not keep.all():
        frame = frame.filter(keep)
        line = line.filter(keep)
    return CsvChunk(
        frame=frame, line=line, quarantine=empty_quarantine(), rows_read=frame.height, lines=n_phys
    )


def _parse_block_slow(
    block: bytes,
    path: Path,
    first_line: int,
    names: Sequence[str],
    cols: list[str],
    schema: dict[str, pl.DataType],
    required: Sequence[str],
    skip_bad: bool,
    *,
    cut_last: bool = False,
) -> CsvChunk:
    text = block.decode("utf-8", errors="replace")
    raw_lines = text.split("\n")
    if raw_lines and raw_lines[-1] == "":
        raw_lines.pop()
    last = first_line + len(raw_lines) - 1
    bad: list[tuple[int, str, str, str]] = []
    good_rows: list[list[str | None]] = []
    good_lines: list[int] = []
    pos = {n: i for i, n in enumerate(names)}
    for k, raw in enumerate(raw_lines):
        ln = first_line + k
        stripped = raw.rstrip("\r")
        if not stripped.strip():
            continue
        if cut_last and ln == last:
            bad.append((ln, "*", "the last line has no line end: the file was cut", stripped))
            continue
        if len(stripped) > _MAX_LINE:
            bad.append(
                (ln, "*", f"line is {len(stripped):,} characters long (limit {_MAX_LINE:,})", stripped)
            )
            continue
        try:
            fields = next(csv.reader([stripped]))
        except csv.Error as exc:
            bad.append((ln, "*", f"not a CSV line: {exc}", stripped))
            continue
        if len(fields) != len(names):
            bad.append((ln, "*", f"expected {len(names)} fields, found {len(fields)}", stripped))
            continue
        row: list[str | None] = [fields[pos[c]] if fields[pos[c]] != "" else None for c in cols]
        missing = next((c for c, v in zip(cols, row) if v is None and c in required), None)
        if missing is not None:
            bad.append((ln, missing, "required value is empty", stripped))
            continue
        good_rows.append(row)
        good_lines.append(ln)
    raw_frame = pl.DataFrame(good_rows, schema=dict.fromkeys(cols, pl.String()), orient="row")
    line = pl.Series("line", good_lines, dtype=pl.Int64)
    keep = pl.Series([True] * raw_frame.height, dtype=pl.Boolean)
    typed: dict[str, pl.Series] = {}
    reasons: dict[int, tuple[str, str]] = {}
    for c in cols:
        dtype = schema[c]
        src = raw_frame[c]
        if dtype == pl.String():
            typed[c] = src
            continue
        cast = _cast_text(src, dtype)
        failed = cast.is_null() & src.is_not_null()
        if failed.any():
            for i in failed.arg_true().to_list():
                reasons.setdefault(i, (c, f"cannot parse {src[i]!r} as {dtype}"))
            keep = keep & ~failed
        typed[c] = cast
    raw_text = {ln: raw_lines[ln - first_line].rstrip("\r") for ln in good_lines}
    for i, (c, why) in reasons.items():
        bad.append((good_lines[i], c, why, raw_text[good_lines[i]]))
    bad.sort()
    if bad and not skip_bad:
        ln, fld, why, _ = bad[0]
        raise DataError(why, path=str(path), row=ln, field=None if fld == "*" else fld)
    frame = pl.DataFrame(typed).filter(keep) if cols else pl.DataFrame()
    quarantine = pl.DataFrame(
        {
            "file": [str(path)] * len(bad),
            "line": [b[0] for b in bad],
            "field": [b[1] for b in bad],
            "reason": [b[2] for b in bad],
            "raw": [b[3][:1000] for b in bad],
        },
        schema=QUARANTINE_SCHEMA,
    )
    return CsvChunk(
        frame=frame,
        line=line.filter(keep),
        quarantine=quarantine,
        rows_read=frame.height + len(bad),
        lines=len(raw_lines),
    )


def _cast_text(src: pl.Series, dtype: pl.DataType) -> pl.Series:
    if dtype == pl.Boolean():
        low = src.str.to_lowercase().str.strip_chars()
        return (
            pl.select(
                pl.when(low.is_in(["true", "1", "t"]))
                .then(True)
                .when(low.is_in(["false", "0", "f"]))
                .then(False)
                .otherwise(None)
            )
            .to_series()
            .alias(src.name)
        )
    return src.str.strip_chars().cast(dtype, strict=False)
