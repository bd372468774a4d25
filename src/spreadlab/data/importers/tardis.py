"""Tardis.dev CSV datasets -> canonical tables.

Every Tardis CSV starts ``exchange,symbol,timestamp,local_timestamp`` (times
are epoch microseconds; nanoseconds and milliseconds are also accepted, the
unit is read from the magnitude). The data type is recognised from the rest
of the header:

================================  ===========================================
Tardis data type                  canonical rows
================================  ===========================================
``trades``                        ``trades`` (side buy -> +1, sell -> -1, else 0)
``quotes``                        ``quotes``
``incremental_book_L2``           ``book_deltas`` (side bid -> +1, ask -> -1;
                                  amount 0 deletes the level; sequence -1)
``book_snapshot_25`` / ``_5``     ``book_snapshots`` (levels best first)
``derivative_ticker``             ``mark`` (mark, index, open interest, last
                                  price) for every row, and ``funding``
                                  (rate for ``funding_timestamp``, predicted
                                  rate) for rows that carry a funding rate
``options_chain``                 ``option_quotes``; IVs in percent are
                                  divided by 100
================================  ===========================================

``timestamp`` becomes ``ts_event`` and ``local_timestamp`` ``ts_recv``. The
venue always comes from the ``exchange`` column (:func:`tardis_venue`), so a
``venue=`` meant for other files of a mixed import cannot mislabel it.
"""

from __future__ import annotations

import mmap
import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl

from spreadlab.data.importers._common import make_batch, reject_rows, symbol_ids, tardis_venue
from spreadlab.data.importers._csv import iter_csv, read_header, to_ns
from spreadlab.data.importers.base import DEFAULT_CHUNK_ROWS, ImportBatch, ImporterSpec, ImportFormat
from spreadlab.data.schema import EventKind
from spreadlab.errors import DataError
from spreadlab.kernels.csv_l2 import parse_l2_rows

__all__ = ["IMPORTER", "read_tardis", "tardis_data_type"]

_PREFIX = ["exchange", "symbol", "timestamp", "local_timestamp"]
_F = pl.Float64()
_S = pl.String()
_I = pl.Int64()

_TYPES: dict[str, tuple[set[str], dict[str, pl.DataType]]] = {
    "incremental_book_L2": (
        {"is_snapshot", "side", "price", "amount"},
        {"is_snapshot": pl.Boolean(), "side": _S, "price": _F, "amount": _F},
    ),
    "trades": ({"id", "side", "price", "amount"}, {"id": _S, "side": _S, "price": _F, "amount": _F}),
    "quotes": (
        {"ask_amount", "ask_price", "bid_price", "bid_amount"},
        {"ask_amount": _F, "ask_price": _F, "bid_price": _F, "bid_amount": _F},
    ),
    "derivative_ticker": (
        {"funding_timestamp", "funding_rate", "mark_price", "index_price"},
        {
            "funding_timestamp": _S,
            "funding_rate": _F,
            "predicted_funding_rate": _F,
            "open_interest": _F,
            "last_price": _F,
            "index_price": _F,
            "mark_price": _F,
        },
    ),
    "options_chain": (
        {"type", "strike_price", "expiration", "mark_iv"},
        {
            "type": _S,
            "strike_price": _F,
            "expiration": _S,
            "open_interest": _F,
            "last_price": _F,
            "bid_price": _F,
            "bid_amount": _F,
            "bid_iv": _F,
            "ask_price": _F,
            "ask_amount": _F,
            "ask_iv": _F,
            "mark_price": _F,
            "mark_iv": _F,
            "underlying_index": _S,
            "underlying_price": _F,
            "delta": _F,
            "gamma": _F,
            "vega": _F,
            "theta": _F,
            "rho": _F,
        },
    ),
}
_DETECT_ORDER = ("options_chain", "derivative_ticker", "incremental_book_L2", "trades", "quotes")
_REQUIRED: dict[str, tuple[str, ...]] = {
    "incremental_book_L2": ("is_snapshot", "side", "price", "amount"),
    "trades": ("price", "amount"),
    "quotes": (),
    "derivative_ticker": (),
    "options_chain": ("type", "strike_price", "expiration"),
}
_LEVEL = re.compile(r"^(asks|bids)\[(\d+)\]\.(price|amount)$")


def tardis_data_type(header: list[str]) -> str:
    """Return the Tardis data type a header belongs to.

    Examples
    --------
    >>> head = ["exchange", "symbol", "timestamp", "local_timestamp"]
    >>> tardis_data_type([*head, "id", "side", "price", "amount"])
    'trades'
    """
    if header[:4] != _PREFIX:
        raise DataError(f"header {header[:4]} is not a Tardis CSV header (expected {_PREFIX})")
    rest = set(header[4:])
    if rest and all(_LEVEL.match(c) for c in rest):
        depth = len(rest) // 4
        return f"book_snapshot_{depth}"
    for name in _DETECT_ORDER:
        if _TYPES[name][0] <= rest:
            return name
    raise DataError(f"unknown Tardis data type with columns {sorted(rest)}")


def read_tardis(
    path: Path,
    *,
    venue: str | None = None,
    symbol: str | None = None,
    skip_bad: bool = False,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[ImportBatch]:
    """Read a Tardis.dev CSV (plain or gzip) as canonical batches.

    Parameters
    ----------
    path
        The file.
    venue
        Ignored: the ``exchange`` column names the venue.
    symbol
        Ignored: Tardis files name their symbols.
    skip_bad
        Quarantine malformed rows instead of raising :class:`DataError`.
    chunk_rows
        Rows per batch.

    Examples
    --------
    >>> from spreadlab.testing import shared_file
    >>> f = shared_file("nautilus_fixtures/tardis_format/bitmex_trades_XBTUSD.csv")
    >>> batches = list(read_tardis(f)) if f else []
    >>> [b.frame["instrument_id"][0] for b in batches][:1] if f else ["BITMEX:XBTUSD"]
    ['BITMEX:XBTUSD']
    """
    path = Path(path)
    header = read_header(path)
    try:
        dtype = tardis_data_type(header)
    except DataError as exc:
        raise DataError(str(exc), path=str(path), row=1) from exc
    # Tardis times are integer epoch microseconds (ns/ms accepted): read them as integers
    base: dict[str, pl.DataType] = {"exchange": _S, "symbol": _S, "timestamp": _I, "local_timestamp": _I}
    if dtype.startswith("book_snapshot_"):
        cols: dict[str, pl.DataType] = {c: _F for c in header[4:]}
        required: tuple[str, ...] = ()
    else:
        cols = {c: t for c, t in _TYPES[dtype][1].items() if c in header}
        required = _REQUIRED[dtype]
    skip = 0
    if dtype == "incremental_book_L2" and not skip_bad and header == _L2_HEADER and not _compressed(path):
        try:
            for batch in _fast_l2(path, chunk_rows):
                skip += batch.frame.height
                yield batch
            return
        except _FallbackError:
            pass  # the general path below finds and names the problem, after the rows already delivered
    for batch in _general(path, header, dtype, base, cols, required, skip_bad, chunk_rows):
        if skip and batch.rows_read:
            if skip >= batch.frame.height:
                skip -= batch.frame.height
                continue
            batch = ImportBatch(
                kind=batch.kind,
                frame=batch.frame.slice(skip),
                quarantine=batch.quarantine,
                rows_read=batch.rows_read - skip,
                line=None if batch.line is None else batch.line.slice(skip),
            )
            skip = 0
        yield batch


class _FallbackError(Exception):
    """The fused fast path met something only the general path can place precisely."""


_L2_DTYPES = (np.int64, np.int64, np.int8, np.float64, np.float64, np.bool_)
_L2_HEADER = ["exchange", "symbol", "timestamp", "local_timestamp", "is_snapshot", "side", "price", "amount"]


def _compressed(path: Path) -> bool:
    with path.open("rb") as fh:
        magic = fh.read(4)
    return magic[:2] == b"\x1f\x8b" or magic == b"PK\x03\x04"


def _fast_l2(path: Path, chunk_rows: int) -> Iterator[ImportBatch]:
    """Parse an uncompressed L2 file with the exact byte-level kernel :func:`parse_l2_rows`.

    Every row must start with the first row's ``exchange,symbol,`` bytes. Rows up to the
    first line the kernel does not accept are delivered; then _FallbackError hands the rest
    to the general reader, which names the problem (or reads the unusual-but-valid value).
    """
    with path.open("rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            return
        try:
            mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as exc:  # a file system without memory maps: the general reader
            raise _FallbackError from exc
        with mm:
            yield from _fast_l2_buffer(path, mm, chunk_rows)


def _fast_l2_buffer(path: Path, mm: mmap.mmap, chunk_rows: int) -> Iterator[ImportBatch]:
    end = len(mm)
    pos = mm.find(b"\n") + 1
    if pos == 0 or pos >= end:
        return
    comma1 = mm.find(b",", pos)
    comma2 = mm.find(b",", comma1 + 1) if comma1 >= 0 else -1
    nl = mm.find(b"\n", pos)
    if comma2 < 0 or (0 <= nl < comma2) or comma1 == pos or comma2 == comma1 + 1:
        raise _FallbackError
    raw_prefix = mm[pos : comma2 + 1]
    if b'"' in raw_prefix:
        raise _FallbackError
    try:
        e0, s0 = raw_prefix[:-1].decode("utf-8").split(",")
    except UnicodeDecodeError as exc:
        raise _FallbackError from exc
    lines0 = pl.Series([2], dtype=pl.Int64)
    iid = symbol_ids(pl.Series([tardis_venue(e0, s0)]), pl.Series([s0]), path=path, lines=lines0)[0]
    prefix = np.frombuffer(raw_prefix, dtype=np.uint8)
    buf = np.frombuffer(mm, dtype=np.uint8)
    try:
        first = 2
        while pos < end:
            cols = tuple(np.empty(chunk_rows, t) for t in _L2_DTYPES)
            n, pos, ok = parse_l2_rows(buf, pos, prefix, *cols)
            if n:
                ts_event, ts_recv, side, price, size, snap = (c[:n] for c in cols)
                out = pl.DataFrame(
                    [
                        pl.Series("ts_event", ts_event),
                        pl.Series("ts_recv", ts_recv),
                        pl.repeat(iid, n, eager=True, dtype=pl.String).alias("instrument_id"),
                        pl.Series("side", side),
                        pl.Series("price", price),
                        pl.Series("size", size),
                        pl.repeat(-1, n, eager=True, dtype=pl.Int64).alias("sequence"),
                        pl.Series("is_snapshot", snap),
                    ]
                )
                line = pl.int_range(first, first + n, eager=True, dtype=pl.Int64)
                first += n
                yield make_batch(EventKind.BOOK_DELTAS, out, rows_read=n, line=line)
            if not ok:
                if end - pos > 4096 or mm[pos:end].strip(b"\r\n"):
                    raise _FallbackError
                return  # only line ends remain
    finally:
        del buf  # release the export before the map closes


def _general(
    path: Path,
    header: list[str],
    dtype: str,
    base: dict[str, pl.DataType],
    cols: dict[str, pl.DataType],
    required: tuple[str, ...],
    skip_bad: bool,
    chunk_rows: int,
) -> Iterator[ImportBatch]:
    override = None
    for chunk in iter_csv(
        path,
        names=header,
        dtypes={**base, **cols},
        required=("exchange", "symbol", "timestamp", *required),
        has_header=True,
        chunk_rows=chunk_rows,
        skip_bad=skip_bad,
    ):
        frame, lines, quarantine = chunk.frame, chunk.line, [chunk.quarantine]
        frame = frame.with_columns(
            to_ns(frame["timestamp"]).alias("ts_event"),
            to_ns(frame["local_timestamp"].fill_null(frame["timestamp"])).alias("ts_recv"),
        )
        for fld, src in (("timestamp", "ts_event"), ("local_timestamp", "ts_recv")):
            frame, lines, q = reject_rows(
                frame,
                lines,
                frame[src].is_null(),
                field=fld,
                reason="not an epoch or ISO 8601 time",
                path=path,
                skip_bad=skip_bad,
            )
            quarantine.append(q)
        frame = frame.with_columns(_instrument_ids(frame, override, path, lines))
        builder = _BUILDERS.get(dtype, _snapshots)
        yield from builder(frame, lines, path, skip_bad, quarantine, chunk.rows_read)


def _instrument_ids(frame: pl.DataFrame, override: str | None, path: Path, lines: pl.Series) -> pl.Series:
    if frame.height == 0:
        return pl.Series("instrument_id", [], dtype=pl.String)
    e0, s0 = frame["exchange"][0], frame["symbol"][0]
    single = frame.select((pl.col("exchange") == e0).all() & (pl.col("symbol") == s0).all()).item()
    if single:  # the usual Tardis file: one exchange, one symbol (string compare beats hashing)
        one = symbol_ids(
            pl.Series([override or tardis_venue(e0, s0)]), pl.Series([s0]), path=path, lines=lines[:1]
        )
        return pl.repeat(one[0], frame.height, eager=True, dtype=pl.String).alias("instrument_id")
    pairs = frame.select("exchange", "symbol").unique(maintain_order=True)
    venue_map = {
        (e, s): override or tardis_venue(e, s)
        for e, s in pairs.iter_rows()
        if e is not None and s is not None
    }
    if len(venue_map) == 1:
        v = next(iter(venue_map.values()))
        venues = pl.Series([v] * frame.height, dtype=pl.String)
    else:
        vm = pl.DataFrame(
            {
                "exchange": [k[0] for k in venue_map],
                "symbol": [k[1] for k in venue_map],
                "v": list(venue_map.values()),
            }
        )
        venues = frame.select("exchange", "symbol").join(vm, on=["exchange", "symbol"], how="left")["v"]
    return symbol_ids(venues, frame["symbol"], path=path, lines=lines)


def _emit(
    kind: EventKind,
    frame: pl.DataFrame,
    quarantine: list[pl.DataFrame],
    rows_read: int,
    lines: pl.Series | None = None,
) -> ImportBatch:
    return make_batch(kind, frame, rows_read=rows_read, quarantine=pl.concat(quarantine), line=lines)


def _deltas(
    frame: pl.DataFrame, lines: pl.Series, path: Path, skip_bad: bool, q: list[pl.DataFrame], n: int
) -> Iterator[ImportBatch]:
    side = (
        pl.when(pl.col("side") == "bid").then(1).when(pl.col("side") == "ask").then(-1).otherwise(None)
    ).cast(pl.Int8)
    frame = frame.with_columns(side.alias("side_code"))
    frame, lines, bad = reject_rows(
        frame,
        lines,
        frame["side_code"].is_null(),
        field="side",
        reason="side must be 'bid' or 'ask'",
        path=path,
        skip_bad=skip_bad,
    )
    q.append(bad)
    out = frame.select(
        "ts_event",
        "ts_recv",
        "instrument_id",
        pl.col("side_code").alias("side"),
        "price",
        pl.col("amount").alias("size"),
        pl.lit(-1, dtype=pl.Int64).alias("sequence"),
        "is_snapshot",
    )
    yield _emit(EventKind.BOOK_DELTAS, out, q, n, lines)


def _trades(
    frame: pl.DataFrame, lines: pl.Series, path: Path, skip_bad: bool, q: list[pl.DataFrame], n: int
) -> Iterator[ImportBatch]:
    aggressor = (
        pl.when(pl.col("side") == "buy").then(1).when(pl.col("side") == "sell").then(-1).otherwise(0)
    ).cast(pl.Int8)
    out = frame.select(
        "ts_event",
        "ts_recv",
        "instrument_id",
        "price",
        pl.col("amount").alias("size"),
        aggressor.alias("aggressor"),
        pl.col("id").alias("trade_id") if "id" in frame.columns else pl.lit(None, dtype=_S).alias("trade_id"),
    )
    yield _emit(EventKind.TRADES, out, q, n, lines)


def _quotes(
    frame: pl.DataFrame, lines: pl.Series, path: Path, skip_bad: bool, q: list[pl.DataFrame], n: int
) -> Iterator[ImportBatch]:
    out = frame.select(
        "ts_event",
        "ts_recv",
        "instrument_id",
        pl.col("bid_price").alias("bid"),
        pl.col("ask_price").alias("ask"),
        pl.col("bid_amount").alias("bid_size"),
        pl.col("ask_amount").alias("ask_size"),
    )
    yield _emit(EventKind.QUOTES, out, q, n, lines)


def _ticker(
    frame: pl.DataFrame, lines: pl.Series, path: Path, skip_bad: bool, q: list[pl.DataFrame], n: int
) -> Iterator[ImportBatch]:
    ft = to_ns(frame["funding_timestamp"])
    frame = frame.with_columns(ft.alias("funding_time_ns"))
    bad_ft = frame["funding_time_ns"].is_null() & frame["funding_timestamp"].is_not_null()
    frame, lines, bad = reject_rows(
        frame, lines, bad_ft, field="funding_timestamp", reason="not a time", path=path, skip_bad=skip_bad
    )
    q.append(bad)
    marks = frame.select(
        "ts_event",
        "ts_recv",
        "instrument_id",
        pl.col("mark_price").alias("mark"),
        pl.col("index_price").alias("index"),
        *(pl.col(c) for c in ("open_interest", "last_price") if c in frame.columns),
    )
    yield _emit(EventKind.MARK, marks, q, n, lines)
    has_rate = frame.filter(pl.col("funding_rate").is_not_null())
    if has_rate.height:
        funding = has_rate.select(
            "ts_event",
            "ts_recv",
            "instrument_id",
            pl.col("funding_rate").alias("rate"),
            pl.col("funding_time_ns").fill_null(pl.col("ts_event")),
            *(
                [pl.col("predicted_funding_rate").alias("predicted_rate")]
                if "predicted_funding_rate" in frame.columns
                else []
            ),
        )
        yield make_batch(EventKind.FUNDING, funding)


def _options(
    frame: pl.DataFrame, lines: pl.Series, path: Path, skip_bad: bool, q: list[pl.DataFrame], n: int
) -> Iterator[ImportBatch]:
    frame = frame.with_columns(to_ns(frame["expiration"]).alias("expiry_ns"))
    frame, lines, bad = reject_rows(
        frame,
        lines,
        frame["expiry_ns"].is_null(),
        field="expiration",
        reason="not a time",
        path=path,
        skip_bad=skip_bad,
    )
    q.append(bad)
    kind = pl.col("type").str.to_lowercase()
    frame, lines, bad = reject_rows(
        frame,
        lines,
        frame.select(~kind.is_in(["call", "put"])).to_series(),
        field="type",
        reason="option type must be 'call' or 'put'",
        path=path,
        skip_bad=skip_bad,
    )
    q.append(bad)
    venue = pl.col("instrument_id").str.split_exact(":", 1).struct.field("field_0")
    out = frame.select(
        "ts_event",
        "ts_recv",
        "instrument_id",
        pl.col("bid_price").alias("bid"),
        pl.col("ask_price").alias("ask"),
        pl.col("mark_price").alias("mark"),
        "underlying_price",
        (pl.col("bid_iv") / 100.0).alias("bid_iv"),
        (pl.col("ask_iv") / 100.0).alias("ask_iv"),
        (pl.col("mark_iv") / 100.0).alias("mark_iv"),
        "delta",
        "open_interest",
        pl.col("bid_amount").alias("bid_size"),
        pl.col("ask_amount").alias("ask_size"),
        "gamma",
        "vega",
        "theta",
        "rho",
        pl.concat_str([venue, pl.lit(":"), pl.col("underlying_index")]).alias("underlying_id"),
        pl.col("strike_price").alias("strike"),
        "expiry_ns",
        kind.alias("option_kind"),
        "last_price",
    )
    yield _emit(EventKind.OPTION_QUOTES, out, q, n, lines)


def _snapshots(
    frame: pl.DataFrame, lines: pl.Series, path: Path, skip_bad: bool, q: list[pl.DataFrame], n: int
) -> Iterator[ImportBatch]:
    depth = sum(1 for c in frame.columns if c.startswith("asks[") and c.endswith(".price"))

    def levels(side: str, field: str) -> pl.Expr:
        return pl.concat_list([pl.col(f"{side}[{i}].{field}") for i in range(depth)]).list.drop_nulls()

    out = frame.select(
        "ts_event",
        "ts_recv",
        "instrument_id",
        levels("bids", "price").alias("bid_prices"),
        levels("bids", "amount").alias("bid_sizes"),
        levels("asks", "price").alias("ask_prices"),
        levels("asks", "amount").alias("ask_sizes"),
        pl.lit(-1, dtype=pl.Int64).alias("sequence"),
    )
    yield _emit(EventKind.BOOK_SNAPSHOTS, out, q, n, lines)


_BUILDERS = {
    "incremental_book_L2": _deltas,
    "trades": _trades,
    "quotes": _quotes,
    "derivative_ticker": _ticker,
    "options_chain": _options,
}


def _sniff(name: str, head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf").startswith(b"exchange,symbol,timestamp,local_timestamp")


IMPORTER = ImporterSpec(fmt=ImportFormat.TARDIS, read=read_tardis, sniff=_sniff, options=frozenset())
