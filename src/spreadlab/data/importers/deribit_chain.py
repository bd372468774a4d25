"""Deribit option-chain snapshot CSVs -> ``option_quotes`` plus futures ``mark`` rows.

A snapshot file (one row per listed option, all taken within a few seconds)
has the columns ``timestamp, instrument_name, underlying, underlying_name,
option_type, strike, expiry_datetime, time_to_maturity, bid_price,
ask_price, mark_price, mid_price, futures_price, futures_instrument_name,
implied_volatility, delta, vega, open_interest, volume, bid_ask_spread,
currency, index_price, volume_usd``. Each row becomes one ``option_quotes``
row (prices in coin, ``mark_iv`` the decimal mark IV, an empty bid or ask
stays null: no quote on that side). Each listed dated future seen in the
snapshot (``futures_instrument_name`` not ``SYN.*``) also gives one ``mark``
row per snapshot time: ``mark`` = its ``futures_price``, ``index`` = the
first ``index_price`` of its rows.

The companion files of the same collector are recognised from their
headers: ``term_futures_marks`` (``term_mark_price_final`` -> ``mark`` of each
dated future) and ``perpetual_futures_prices`` (``perp_futures_mark_price``
-> ``mark``, ``candle_price_used`` -> ``last_price`` of the perpetual).
Times are ISO 8601 UTC; the venue is always ``DERIBIT``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from spreadlab.core.enums import Venue
from spreadlab.data.importers._common import make_batch, reject_rows, symbol_ids
from spreadlab.data.importers._csv import iter_csv, read_header, to_ns
from spreadlab.data.importers.base import DEFAULT_CHUNK_ROWS, ImportBatch, ImporterSpec, ImportFormat
from spreadlab.data.schema import EventKind
from spreadlab.errors import DataError

__all__ = ["IMPORTER", "read_deribit_chain"]

_F = pl.Float64()
_S = pl.String()
_CHAIN: dict[str, pl.DataType] = {
    "timestamp": _S,
    "instrument_name": _S,
    "underlying": _F,
    "underlying_name": _S,
    "option_type": _S,
    "strike": _F,
    "expiry_datetime": _S,
    "bid_price": _F,
    "ask_price": _F,
    "mark_price": _F,
    "futures_price": _F,
    "futures_instrument_name": _S,
    "implied_volatility": _F,
    "delta": _F,
    "vega": _F,
    "open_interest": _F,
    "volume": _F,
    "index_price": _F,
}
_TERM: dict[str, pl.DataType] = {"timestamp": _S, "futures_instrument_name": _S, "term_mark_price_final": _F}
_PERP: dict[str, pl.DataType] = {
    "obs_datetime": _S,
    "instrument_name": _S,
    "candle_price_used": _F,
    "perp_futures_mark_price": _F,
}
_VENUE = Venue.DERIBIT.value


def read_deribit_chain(
    path: Path,
    *,
    venue: str | None = None,
    symbol: str | None = None,
    skip_bad: bool = False,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[ImportBatch]:
    """Read a Deribit chain snapshot (or a companion marks file) as canonical batches.

    ``venue`` and ``symbol`` are ignored (the venue is Deribit; rows name
    their instruments).

    Examples
    --------
    >>> from spreadlab.testing import shared_data_dir
    >>> d = shared_data_dir()
    >>> f = d / "deribit_options/snapshots/deribit_options_snapshot_20251230T173115Z.csv.gz" if d else None
    >>> sum(b.frame.height for b in read_deribit_chain(f) if b.kind == "option_quotes") if f else 1304
    1304
    """
    path = Path(path)
    header = read_header(path)
    cols = set(header)
    if set(_CHAIN) <= cols:
        kind, dtypes, tcol, name = "chain", _CHAIN, "timestamp", "instrument_name"
    elif set(_TERM) <= cols:
        kind, dtypes, tcol, name = "term", _TERM, "timestamp", "futures_instrument_name"
    elif set(_PERP) <= cols:
        kind, dtypes, tcol, name = "perp", _PERP, "obs_datetime", "instrument_name"
    else:
        raise DataError(
            "not a Deribit chain snapshot or marks file (expected the columns "
            f"{sorted(_CHAIN)}); found {header}",
            path=str(path),
            row=1,
        )
    for chunk in iter_csv(
        path,
        names=header,
        dtypes=dtypes,
        required=(tcol, name),
        has_header=True,
        chunk_rows=chunk_rows,
        skip_bad=skip_bad,
    ):
        frame, lines, qs = chunk.frame, chunk.line, [chunk.quarantine]
        frame = frame.with_columns(to_ns(frame[tcol]).alias("ts_event"))
        frame, lines, q = reject_rows(
            frame, lines, frame["ts_event"].is_null(), field=tcol, reason="not a time", path=path,
            skip_bad=skip_bad,
        )  # fmt: skip
        qs.append(q)
        venues = pl.Series([_VENUE] * frame.height, dtype=pl.String)
        frame = frame.with_columns(symbol_ids(venues, frame[name], path=path, lines=lines, field=name))
        if kind == "term":
            out = frame.select(
                "ts_event",
                pl.col("ts_event").alias("ts_recv"),
                "instrument_id",
                pl.col("term_mark_price_final").alias("mark"),
            )
            yield make_batch(
                EventKind.MARK, out, rows_read=chunk.rows_read, quarantine=pl.concat(qs), line=lines
            )
            continue
        if kind == "perp":
            out = frame.select(
                "ts_event",
                pl.col("ts_event").alias("ts_recv"),
                "instrument_id",
                pl.col("perp_futures_mark_price").alias("mark"),
                pl.col("candle_price_used").alias("last_price"),
            )
            yield make_batch(
                EventKind.MARK, out, rows_read=chunk.rows_read, quarantine=pl.concat(qs), line=lines
            )
            continue
        yield from _chain(frame, lines, path, skip_bad, qs, chunk.rows_read)


def _chain(
    frame: pl.DataFrame, lines: pl.Series, path: Path, skip_bad: bool, qs: list[pl.DataFrame], n: int
) -> Iterator[ImportBatch]:
    frame = frame.with_columns(to_ns(frame["expiry_datetime"]).alias("expiry_ns"))
    frame, lines, q = reject_rows(
        frame, lines, frame["expiry_ns"].is_null(), field="expiry_datetime", reason="not a time",
        path=path, skip_bad=skip_bad,
    )  # fmt: skip
    qs.append(q)
    kind = pl.col("option_type").str.to_lowercase()
    frame, lines, q = reject_rows(
        frame,
        lines,
        frame.select(~kind.is_in(["call", "put"]).fill_null(False)).to_series(),
        field="option_type",
        reason="option type must be 'call' or 'put'",
        path=path,
        skip_bad=skip_bad,
    )
    qs.append(q)
    underlying = pl.when(pl.col("underlying_name").is_not_null()).then(
        pl.lit(_VENUE + ":") + pl.col("underlying_name")
    )
    quotes = frame.select(
        "ts_event",
        pl.col("ts_event").alias("ts_recv"),
        "instrument_id",
        pl.col("bid_price").alias("bid"),
        pl.col("ask_price").alias("ask"),
        pl.col("mark_price").alias("mark"),
        pl.col("underlying").alias("underlying_price"),
        pl.col("implied_volatility").alias("mark_iv"),
        "delta",
        "open_interest",
        "vega",
        "index_price",
        underlying.alias("underlying_id"),
        "strike",
        "expiry_ns",
        kind.alias("option_kind"),
        "volume",
    )
    yield make_batch(EventKind.OPTION_QUOTES, quotes, rows_read=n, quarantine=pl.concat(qs), line=lines)
    fut = frame.filter(
        pl.col("futures_instrument_name").is_not_null()
        & ~pl.col("futures_instrument_name").str.starts_with("SYN.")
        & pl.col("futures_price").is_not_null()
    )
    if fut.height:
        marks = (
            fut.group_by("ts_event", "futures_instrument_name", maintain_order=True)
            .agg(pl.col("futures_price").first().alias("mark"), pl.col("index_price").first().alias("index"))
            .select(
                "ts_event",
                pl.col("ts_event").alias("ts_recv"),
                (pl.lit(_VENUE + ":") + pl.col("futures_instrument_name")).alias("instrument_id"),
                "mark",
                "index",
            )
        )
        yield make_batch(EventKind.MARK, marks)


def _sniff(name: str, head: bytes) -> bool:
    first = head.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    cols = set(first.strip().split(","))
    return set(_CHAIN) <= cols or set(_TERM) <= cols or set(_PERP) <= cols


IMPORTER = ImporterSpec(
    fmt=ImportFormat.DERIBIT_CHAIN, read=read_deribit_chain, sniff=_sniff, options=frozenset()
)
