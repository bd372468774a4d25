"""Canonical tables of market data, and helpers to bring frames into them.

Every table has ``ts_event`` (venue time) and ``ts_recv`` (local receive
time, or the venue time where no receive time is recorded), both int64
nanoseconds UTC, and ``instrument_id`` = ``"VENUE:SYMBOL"``. Prices and sizes
are float64. The column sets are those of :func:`spreadlab.events.schema.polars_schema`:

- ``quotes``: bid, ask, bid_size, ask_size (top of book).
- ``trades``: price, size, aggressor (+1 buyer, -1 seller, 0 unknown), trade_id.
- ``book_deltas``: side (+1 bid, -1 ask), price, size (0 deletes the level),
  sequence (venue update id, or -1), is_snapshot (row belongs to a snapshot
  that replaces the book).
- ``book_snapshots``: bid/ask price and size lists, best level first.
- ``funding``: rate (per funding interval, decimal), funding_time_ns (the
  settlement the rate applies to), interval_ns, predicted_rate.
- ``mark``: mark, index, open_interest, last_price.
- ``option_quotes``: bid, ask, mark (option prices in the venue's quoting
  currency: coin for Deribit inverse options), IVs as decimals, greeks,
  underlying price/id, index price, strike, expiry_ns, option_kind.
- ``bars``: open, high, low, close, volume, interval_ns, price_type (trade,
  mark or index candles), quote_volume, trade_count. ``ts_event`` is the bar
  *open* time (every source's convention); ``ts_recv`` is the bar *close*
  (``ts_event + interval_ns``), the first instant its values are known, so a
  replay ordered by ``ts_recv`` never looks ahead.

:func:`conform` casts a frame to its canonical schema (columns in canonical
order, missing optional columns filled with null).
"""

from __future__ import annotations

from enum import StrEnum

import polars as pl

from spreadlab.errors import ValidationError
from spreadlab.events.schema import EventKind, arrow_schema, polars_schema

__all__ = [
    "PRICE_COLUMNS",
    "REQUIRED_COLUMNS",
    "SERIES_KEYS",
    "SIZE_COLUMNS",
    "EventKind",
    "PriceType",
    "arrow_schema",
    "canonical_schema",
    "conform",
    "empty_frame",
]


class PriceType(StrEnum):
    """What a bar's prices are: traded prices, the mark price or the index."""

    TRADE = "trade"
    MARK = "mark"
    INDEX = "index"


_BASE = ("ts_event", "ts_recv", "instrument_id")

REQUIRED_COLUMNS: dict[EventKind, tuple[str, ...]] = {
    EventKind.QUOTES: (*_BASE, "bid", "ask", "bid_size", "ask_size"),
    EventKind.TRADES: (*_BASE, "price", "size", "aggressor"),
    EventKind.BOOK_DELTAS: (*_BASE, "side", "price", "size", "is_snapshot"),
    EventKind.BOOK_SNAPSHOTS: (*_BASE, "bid_prices", "bid_sizes", "ask_prices", "ask_sizes"),
    EventKind.FUNDING: (*_BASE, "rate", "funding_time_ns"),
    EventKind.MARK: _BASE,
    EventKind.OPTION_QUOTES: _BASE,
    EventKind.BARS: (*_BASE, "open", "high", "low", "close", "interval_ns", "price_type"),
}
"""Columns that must be present and non-null in every row."""

PRICE_COLUMNS: dict[EventKind, tuple[str, ...]] = {
    EventKind.QUOTES: ("bid", "ask"),
    EventKind.TRADES: ("price",),
    EventKind.BOOK_DELTAS: ("price",),
    EventKind.BOOK_SNAPSHOTS: (),
    EventKind.FUNDING: (),
    EventKind.MARK: ("mark", "index", "last_price"),
    EventKind.OPTION_QUOTES: ("underlying_price", "index_price", "strike"),
    EventKind.BARS: ("open", "high", "low", "close"),
}
"""Columns that must be finite and > 0 where not null (option premia may be 0: no bid)."""

SIZE_COLUMNS: dict[EventKind, tuple[str, ...]] = {
    EventKind.QUOTES: ("bid_size", "ask_size"),
    EventKind.TRADES: ("size",),
    EventKind.BOOK_DELTAS: ("size",),
    EventKind.BOOK_SNAPSHOTS: (),
    EventKind.FUNDING: (),
    EventKind.MARK: ("open_interest",),
    EventKind.OPTION_QUOTES: ("bid", "ask", "mark", "bid_size", "ask_size", "open_interest", "volume"),
    EventKind.BARS: ("volume", "quote_volume"),
}
"""Columns that must be finite and >= 0 where not null."""

SERIES_KEYS: dict[EventKind, tuple[str, ...]] = {
    EventKind.QUOTES: ("instrument_id",),
    EventKind.TRADES: ("instrument_id",),
    EventKind.BOOK_DELTAS: ("instrument_id",),
    EventKind.BOOK_SNAPSHOTS: ("instrument_id",),
    EventKind.FUNDING: ("instrument_id",),
    EventKind.MARK: ("instrument_id",),
    EventKind.OPTION_QUOTES: ("instrument_id",),
    EventKind.BARS: ("instrument_id", "price_type", "interval_ns"),
}
"""Columns identifying one time series inside a table (for order/duplicate/gap checks)."""


def canonical_schema(kind: EventKind | str) -> pl.Schema:
    """Return the canonical polars schema of ``kind``.

    Examples
    --------
    >>> canonical_schema("trades")["price"]
    Float64
    """
    return polars_schema(_kind(kind))


def empty_frame(kind: EventKind | str) -> pl.DataFrame:
    """Return an empty frame with the canonical schema of ``kind``."""
    return pl.DataFrame(schema=canonical_schema(kind))


def conform(frame: pl.DataFrame, kind: EventKind | str) -> pl.DataFrame:
    """Cast ``frame`` to the canonical schema of ``kind``.

    Columns come out in canonical order; optional columns missing from
    ``frame`` are filled with null; columns not in the schema are an error,
    as is a missing required column.

    Examples
    --------
    >>> df = pl.DataFrame({"ts_event": [1], "ts_recv": [2], "instrument_id": ["BINANCE:BTCUSDT"],
    ...                    "price": [1.5], "size": [2], "aggressor": [1]})
    >>> conform(df, "trades").dtypes[-2:]
    [Int8, String]
    """
    k = _kind(kind)
    schema = canonical_schema(k)
    extra = [c for c in frame.columns if c not in schema]
    if extra:
        raise ValidationError(f"columns {extra} are not in the {k.value} schema ({list(schema)})")
    missing = [c for c in REQUIRED_COLUMNS[k] if c not in frame.columns]
    if missing:
        raise ValidationError(f"required columns {missing} of the {k.value} schema are missing")
    exprs = [
        pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in schema.items()
    ]
    return frame.select(exprs)


def _kind(kind: EventKind | str) -> EventKind:
    try:
        return EventKind(kind)
    except ValueError as exc:
        valid = ", ".join(k.value for k in EventKind)
        raise ValidationError(f"kind={kind!r} is unknown; valid kinds: {valid}") from exc
