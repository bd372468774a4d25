"""Columnar schemas (polars and Arrow) of each message kind for bulk data.

One row per message; ``instrument_id`` is the ``VENUE:SYMBOL`` string;
times are int64 ns UTC; prices and sizes float64. Book deltas use
``side`` = +1 bid / -1 ask.
"""

from __future__ import annotations

from enum import StrEnum

import polars as pl
import pyarrow as pa

__all__ = ["EventKind", "arrow_schema", "polars_schema"]


class EventKind(StrEnum):
    """The kinds of bulk market data."""

    QUOTES = "quotes"
    TRADES = "trades"
    BOOK_DELTAS = "book_deltas"
    BOOK_SNAPSHOTS = "book_snapshots"
    FUNDING = "funding"
    MARK = "mark"
    OPTION_QUOTES = "option_quotes"
    BARS = "bars"


_COMMON: dict[str, pl.DataType] = {
    "ts_event": pl.Int64(),
    "ts_recv": pl.Int64(),
    "instrument_id": pl.String(),
}

_SCHEMAS: dict[EventKind, dict[str, pl.DataType]] = {
    EventKind.QUOTES: {
        **_COMMON,
        "bid": pl.Float64(),
        "ask": pl.Float64(),
        "bid_size": pl.Float64(),
        "ask_size": pl.Float64(),
        "sequence": pl.Int64(),  # venue update id where the feed has one (Binance bookTicker u)
    },
    EventKind.TRADES: {
        **_COMMON,
        "price": pl.Float64(),
        "size": pl.Float64(),
        "aggressor": pl.Int8(),  # +1 buy, -1 sell, 0 unknown
        "trade_id": pl.String(),
    },
    EventKind.BOOK_DELTAS: {
        **_COMMON,
        "side": pl.Int8(),  # +1 bid, -1 ask
        "price": pl.Float64(),
        "size": pl.Float64(),
        "sequence": pl.Int64(),
        "is_snapshot": pl.Boolean(),
        # Binance diff-depth ids kept so a replay can check the sequence: U and (futures) pu
        "first_sequence": pl.Int64(),
        "prev_sequence": pl.Int64(),
    },
    EventKind.BOOK_SNAPSHOTS: {
        **_COMMON,
        "bid_prices": pl.List(pl.Float64()),
        "bid_sizes": pl.List(pl.Float64()),
        "ask_prices": pl.List(pl.Float64()),
        "ask_sizes": pl.List(pl.Float64()),
        "sequence": pl.Int64(),
    },
    EventKind.FUNDING: {
        **_COMMON,
        "rate": pl.Float64(),
        "funding_time_ns": pl.Int64(),
        "interval_ns": pl.Int64(),  # null where the source does not say
        "predicted_rate": pl.Float64(),  # null where the source does not say
    },
    EventKind.MARK: {
        **_COMMON,
        "mark": pl.Float64(),
        "index": pl.Float64(),
        "open_interest": pl.Float64(),  # null where the source does not say
        "last_price": pl.Float64(),  # null where the source does not say
    },
    EventKind.OPTION_QUOTES: {
        **_COMMON,
        "bid": pl.Float64(),
        "ask": pl.Float64(),
        "mark": pl.Float64(),
        "underlying_price": pl.Float64(),
        "bid_iv": pl.Float64(),
        "ask_iv": pl.Float64(),
        "mark_iv": pl.Float64(),
        "delta": pl.Float64(),
        "open_interest": pl.Float64(),
        # added by the data layer; null where the source does not say
        "bid_size": pl.Float64(),
        "ask_size": pl.Float64(),
        "gamma": pl.Float64(),
        "vega": pl.Float64(),
        "theta": pl.Float64(),
        "rho": pl.Float64(),
        "index_price": pl.Float64(),
        "underlying_id": pl.String(),  # the future/index the option is priced off, e.g. DERIBIT:BTC-27JUN25
        "strike": pl.Float64(),
        "expiry_ns": pl.Int64(),
        "option_kind": pl.String(),  # "call" | "put"
        "last_price": pl.Float64(),
        "volume": pl.Float64(),
    },
    EventKind.BARS: {
        **_COMMON,
        "open": pl.Float64(),
        "high": pl.Float64(),
        "low": pl.Float64(),
        "close": pl.Float64(),
        "volume": pl.Float64(),
        "interval_ns": pl.Int64(),
        # added by the data layer
        "price_type": pl.String(),  # "trade" | "mark" | "index" (PriceType)
        "quote_volume": pl.Float64(),  # null where the source does not say
        "trade_count": pl.Int64(),  # null where the source does not say
    },
}


def polars_schema(kind: EventKind | str) -> pl.Schema:
    """Return the polars schema of ``kind``.

    Examples
    --------
    >>> list(polars_schema("quotes"))[:4]
    ['ts_event', 'ts_recv', 'instrument_id', 'bid']
    """
    return pl.Schema(_SCHEMAS[EventKind(kind)])


def arrow_schema(kind: EventKind | str) -> pa.Schema:
    """Return the Arrow schema of ``kind``."""
    return pl.DataFrame(schema=polars_schema(kind)).to_arrow().schema
