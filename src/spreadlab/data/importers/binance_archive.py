"""Binance public data archives (data.binance.vision) -> canonical tables.

The data type is read from the file name (``BTCUSDT-1m-2024-01-01.zip``,
``BTCUSDT-aggTrades-2024-01-01.zip``, ``BTCUSDT-fundingRate-2024-01.zip``,
``BTCUSDT-bookTicker-2024-01-01.zip``, ``BTCUSDT-trades-2024-01-01.zip``)
and confirmed by the column count; files come with a header row (USDⓈ-M and
COIN-M archives since 2022) or without (spot archives). Layouts:

==============  =================================================================  ==============
type            columns                                                            canonical
==============  =================================================================  ==============
klines          open_time, open, high, low, close, volume, close_time,             ``bars``
                quote_volume, count, taker_buy_volume, taker_buy_quote_volume,
                ignore
aggTrades       agg_trade_id, price, quantity, first_trade_id, last_trade_id,      ``trades``
                transact_time, is_buyer_maker[, is_best_match]
trades          id, price, qty, quote_qty, time, is_buyer_maker[, is_best_match]   ``trades``
bookTicker      update_id, best_bid_price, best_bid_qty, best_ask_price,           ``quotes``
                best_ask_qty, transaction_time, event_time
fundingRate     calc_time, funding_interval_hours, last_funding_rate               ``funding``
depth CSV       symbol, timestamp, first_update_id, last_update_id, side,          ``book_deltas``
                update_type, price, qty, pu
==============  =================================================================  ==============

Times are epoch milliseconds, or microseconds in spot archives since
2025-01-01: the unit is read from each value's magnitude. ``is_buyer_maker``
true means the seller was the aggressor (``aggressor`` = -1). The venue comes
from ``venue=`` or from the archive path (``/spot/`` -> ``BINANCE``,
``/futures/um/`` -> ``BINANCE_USDM``, ``/futures/cm/`` -> ``BINANCE_COINM``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from spreadlab.core.enums import Venue
from spreadlab.data.importers._common import make_batch, reject_rows, require_venue, symbol_ids
from spreadlab.data.importers._csv import iter_csv, read_header, to_ns
from spreadlab.data.importers.base import (
    DEFAULT_CHUNK_ROWS,
    ImportBatch,
    ImporterSpec,
    ImportFormat,
)
from spreadlab.data.importers.ohlcv import interval_from_name
from spreadlab.data.schema import EventKind, PriceType
from spreadlab.errors import DataError

__all__ = ["IMPORTER", "archive_type", "read_binance_archive"]

_F = pl.Float64()
_S = pl.String()
_B = pl.Boolean()
_KLINES = ["open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume", "count",
           "taker_buy_volume", "taker_buy_quote_volume", "ignore"]  # fmt: skip
_LAYOUTS: dict[str, list[list[str]]] = {
    "klines": [_KLINES],
    "aggTrades": [
        ["agg_trade_id", "price", "quantity", "first_trade_id", "last_trade_id", "transact_time",
         "is_buyer_maker", "is_best_match"],
        ["agg_trade_id", "price", "quantity", "first_trade_id", "last_trade_id", "transact_time",
         "is_buyer_maker"],
    ],
    "trades": [
        ["id", "price", "qty", "quote_qty", "time", "is_buyer_maker", "is_best_match"],
        ["id", "price", "qty", "quote_qty", "time", "is_buyer_maker"],
    ],
    "bookTicker": [["update_id", "best_bid_price", "best_bid_qty", "best_ask_price", "best_ask_qty",
                    "transaction_time", "event_time"]],
    "fundingRate": [["calc_time", "funding_interval_hours", "last_funding_rate"]],
    "depth": [["symbol", "timestamp", "first_update_id", "last_update_id", "side", "update_type", "price",
               "qty", "pu"]],
}  # fmt: skip
_DTYPES: dict[str, pl.DataType] = {
    "open_time": _S, "close_time": _S, "open": _F, "high": _F, "low": _F, "close": _F, "volume": _F,
    "quote_volume": _F, "count": pl.Int64(), "agg_trade_id": _S, "id": _S, "price": _F, "quantity": _F,
    "qty": _F, "transact_time": _S, "time": _S, "is_buyer_maker": _B, "update_id": pl.Int64(),
    "best_bid_price": _F, "best_bid_qty": _F, "best_ask_price": _F, "best_ask_qty": _F,
    "transaction_time": _S, "event_time": _S, "calc_time": _S, "funding_interval_hours": pl.Int64(),
    "last_funding_rate": _F, "symbol": _S, "timestamp": _S, "last_update_id": pl.Int64(), "side": _S,
    "update_type": _S, "first_update_id": pl.Int64(), "pu": pl.Int64(),
}  # fmt: skip
_TIME_COL = {"klines": "open_time", "aggTrades": "transact_time", "trades": "time",
             "bookTicker": "transaction_time", "fundingRate": "calc_time", "depth": "timestamp"}  # fmt: skip


def archive_type(name: str, header: list[str]) -> str:
    """Return the archive data type from the file name and first line.

    Examples
    --------
    >>> archive_type("BTCUSDT-1m-2024-01-01.csv", ["1704067200000", "42283.58"])
    'klines'
    >>> archive_type("x.csv", ["calc_time", "funding_interval_hours", "last_funding_rate"])
    'fundingRate'
    """
    for t in ("aggTrades", "bookTicker", "fundingRate", "trades", "depth"):
        if re.search(rf"-{t}-", name, flags=re.IGNORECASE):
            return t
    if re.search(r"-\d+[smhdwM]-\d{4}-\d{2}", name):
        return "klines"
    cols = [c.strip().lower() for c in header]
    for t, layouts in _LAYOUTS.items():
        if any(cols == [c.lower() for c in lay] for lay in layouts):
            return t
    if "count" in cols and "open_time" in cols:
        return "klines"
    raise DataError(
        f"cannot tell the Binance archive type from the name {name!r} or the first line {header[:4]}"
    )


def _venue_from_path(path: Path) -> str | None:
    parts = [p.lower() for p in path.resolve().parts]
    if "um" in parts:
        return Venue.BINANCE_USDM.value
    if "cm" in parts:
        return Venue.BINANCE_COINM.value
    if "spot" in parts:
        return Venue.BINANCE.value
    return None


def read_binance_archive(
    path: Path,
    *,
    venue: str | None = None,
    symbol: str | None = None,
    skip_bad: bool = False,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[ImportBatch]:
    """Read one Binance public-data archive file (CSV or its ``.zip``) as canonical batches.

    Parameters
    ----------
    venue
        ``BINANCE``, ``BINANCE_USDM`` or ``BINANCE_COINM`` (else read from the path).
    symbol
        The symbol (else the file name's first token, ``BTCUSDT`` in ``BTCUSDT-1m-...``).
    """
    path = Path(path)
    header = read_header(path)
    name = path.name
    dtype = archive_type(name, header)
    has_header = bool(header) and not header[0].strip().lstrip("-").isdigit()
    n = len(header)
    layout = next((lay for lay in _LAYOUTS[dtype] if len(lay) == n), None)
    if layout is None:
        raise DataError(
            f"{dtype} archive with {n} columns; expected {[len(x) for x in _LAYOUTS[dtype]]}",
            path=str(path),
            row=1,
        )
    v = venue or _venue_from_path(path)
    v = require_venue(v, path, "binance-archive")
    sym = symbol or (None if dtype == "depth" else name.split("-")[0].split(".")[0].upper())
    dtypes = {c: _DTYPES[c] for c in layout if c in _DTYPES}
    tcol = _TIME_COL[dtype]
    interval = interval_from_name(name) if dtype == "klines" else None
    for chunk in iter_csv(
        path, names=layout, dtypes=dtypes, required=[tcol], has_header=has_header, chunk_rows=chunk_rows,
        skip_bad=skip_bad,
    ):  # fmt: skip
        frame, lines, qs = chunk.frame, chunk.line, [chunk.quarantine]
        frame = frame.with_columns(to_ns(frame[tcol]).alias("ts_event"))
        frame, lines, q = reject_rows(
            frame, lines, frame["ts_event"].is_null(), field=tcol, reason="not an epoch time", path=path,
            skip_bad=skip_bad,
        )  # fmt: skip
        qs.append(q)
        syms = frame["symbol"] if dtype == "depth" else pl.Series([sym] * frame.height, dtype=pl.String)
        frame = frame.with_columns(
            symbol_ids(pl.Series([v] * frame.height, dtype=pl.String), syms, path=path, lines=lines)
        )
        quarantine = pl.concat(qs)
        base = ["ts_event", "instrument_id"]
        if dtype == "klines":
            ct = to_ns(frame["close_time"])
            iv = interval or int(((ct - frame["ts_event"]).median() or 0) + 1_000_000)  # type: ignore[operator]
            interval = iv
            out = frame.select(
                *base, (pl.col("ts_event") + iv).alias("ts_recv"), "open", "high", "low", "close", "volume",
                pl.lit(iv, dtype=pl.Int64).alias("interval_ns"),
                pl.lit(PriceType.TRADE.value).alias("price_type"),
                "quote_volume", pl.col("count").alias("trade_count"),
            )  # fmt: skip
            yield make_batch(
                EventKind.BARS, out, rows_read=chunk.rows_read, quarantine=quarantine, line=lines
            )
        elif dtype in ("aggTrades", "trades"):
            qty = "quantity" if dtype == "aggTrades" else "qty"
            tid = "agg_trade_id" if dtype == "aggTrades" else "id"
            aggr = (
                pl.when(pl.col("is_buyer_maker"))
                .then(-1)
                .when(~pl.col("is_buyer_maker"))
                .then(1)
                .otherwise(0)
            )
            out = frame.select(
                *base, pl.col("ts_event").alias("ts_recv"), "price", pl.col(qty).alias("size"),
                aggr.cast(pl.Int8).alias("aggressor"), pl.col(tid).alias("trade_id"),
            )  # fmt: skip
            yield make_batch(
                EventKind.TRADES, out, rows_read=chunk.rows_read, quarantine=quarantine, line=lines
            )
        elif dtype == "bookTicker":
            recv = to_ns(frame["event_time"]).fill_null(frame["ts_event"])
            out = frame.with_columns(recv.alias("ts_recv")).select(
                *base, "ts_recv", pl.col("best_bid_price").alias("bid"),
                pl.col("best_ask_price").alias("ask"),
                pl.col("best_bid_qty").alias("bid_size"), pl.col("best_ask_qty").alias("ask_size"),
                pl.col("update_id").alias("sequence"),
            )  # fmt: skip
            yield make_batch(
                EventKind.QUOTES, out, rows_read=chunk.rows_read, quarantine=quarantine, line=lines
            )
        elif dtype == "fundingRate":
            out = frame.select(
                *base, pl.col("ts_event").alias("ts_recv"), pl.col("last_funding_rate").alias("rate"),
                pl.col("ts_event").alias("funding_time_ns"),
                (pl.col("funding_interval_hours") * 3_600_000_000_000).alias("interval_ns"),
            )  # fmt: skip
            yield make_batch(
                EventKind.FUNDING, out, rows_read=chunk.rows_read, quarantine=quarantine, line=lines
            )
        else:
            side = pl.when(pl.col("side") == "b").then(1).when(pl.col("side") == "a").then(-1).otherwise(None)
            frame = frame.with_columns(side.cast(pl.Int8).alias("side_code"))
            frame, lines, q = reject_rows(
                frame, lines, frame["side_code"].is_null(), field="side", reason="side must be 'b' or 'a'",
                path=path, skip_bad=skip_bad,
            )  # fmt: skip
            out = frame.select(
                *base, pl.col("ts_event").alias("ts_recv"), pl.col("side_code").alias("side"), "price",
                pl.col("qty").alias("size"), pl.col("last_update_id").alias("sequence"),
                (pl.col("update_type") == "snap").alias("is_snapshot"),
                pl.col("first_update_id").alias("first_sequence"), pl.col("pu").alias("prev_sequence"),
            )  # fmt: skip
            yield make_batch(
                EventKind.BOOK_DELTAS, out, rows_read=chunk.rows_read, quarantine=pl.concat([quarantine, q]),
                line=lines,
            )  # fmt: skip


def _sniff(name: str, head: bytes) -> bool:
    first = head.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip()
    try:
        archive_type(name, first.split(","))
    except DataError:
        return False
    return re.match(r"^[A-Z0-9]+-", name) is not None or first.startswith(
        ("calc_time", "update_id", "symbol,timestamp,first_update_id")
    )


IMPORTER = ImporterSpec(fmt=ImportFormat.BINANCE_ARCHIVE, read=read_binance_archive, sniff=_sniff)
