"""Bars from trades or quotes.

Time bars of width ``w`` partition time into ``[k w, (k+1) w)``. A trade bar
holds the first, highest, lowest and last trade price, the summed size
(``volume``), the summed ``price * size`` (``quote_volume``) and the trade
count of the trades whose time falls in the interval. A quote bar holds the
OHLC of the mid ``(bid + ask) / 2``, the last bid and ask, the time-unweighted
mean spread and the quote count. Intervals without data give no bar (they
are not forward-filled). ``ts_event`` is the bar's open, ``ts_recv`` its
close ``ts_event + w`` (the first instant the bar is complete), as in the
canonical ``bars`` schema.
"""

from __future__ import annotations

import polars as pl

from spreadlab.data.schema import PriceType, canonical_schema
from spreadlab.errors import DataError, ValidationError

__all__ = ["quote_bars", "trade_bars"]


def _check(frame: pl.DataFrame, need: list[str], interval_ns: int, time_column: str) -> None:
    if isinstance(interval_ns, bool) or not isinstance(interval_ns, int) or interval_ns <= 0:
        raise ValidationError(f"interval_ns={interval_ns!r} must be an int > 0")
    missing = [c for c in [*need, time_column] if c not in frame.columns]
    if missing:
        raise DataError(f"frame lacks columns {missing}")


def trade_bars(trades: pl.DataFrame, interval_ns: int, *, time_column: str = "ts_event") -> pl.DataFrame:
    """Aggregate ``trades`` rows into time bars in the canonical ``bars`` schema.

    Examples
    --------
    >>> t = pl.DataFrame({"ts_event": [0, 5, 12], "instrument_id": ["X:Y"] * 3,
    ...                   "price": [10.0, 12.0, 11.0], "size": [1.0, 2.0, 1.0]})
    >>> trade_bars(t, 10).select("ts_event", "open", "high", "close", "volume", "trade_count").rows()
    [(0, 10.0, 12.0, 12.0, 3.0, 2), (10, 11.0, 11.0, 11.0, 1.0, 1)]
    """
    _check(trades, ["instrument_id", "price", "size"], interval_ns, time_column)
    t = pl.col(time_column)
    bars = (
        trades.with_row_index("__i")
        .with_columns(__open=t - t.mod(interval_ns))
        .sort(["instrument_id", "__open", time_column, "__i"])
        .group_by(["instrument_id", "__open"], maintain_order=True)
        .agg(
            pl.col("price").first().alias("open"),
            pl.col("price").max().alias("high"),
            pl.col("price").min().alias("low"),
            pl.col("price").last().alias("close"),
            pl.col("size").sum().alias("volume"),
            (pl.col("price") * pl.col("size")).sum().alias("quote_volume"),
            pl.len().cast(pl.Int64).alias("trade_count"),
        )
    )
    out = bars.with_columns(
        ts_event=pl.col("__open"),
        ts_recv=pl.col("__open") + interval_ns,
        interval_ns=pl.lit(interval_ns, dtype=pl.Int64),
        price_type=pl.lit(PriceType.TRADE.value),
    )
    schema = canonical_schema("bars")
    return out.select([pl.col(c).cast(d) for c, d in schema.items()]).sort(["instrument_id", "ts_event"])


def quote_bars(quotes: pl.DataFrame, interval_ns: int, *, time_column: str = "ts_recv") -> pl.DataFrame:
    """Aggregate ``quotes`` rows into mid-price time bars.

    Returns ``instrument_id, ts_event, ts_recv, open, high, low, close`` (of
    the mid), ``bid, ask`` (last), ``spread_mean`` and ``quote_count``.

    Examples
    --------
    >>> q = pl.DataFrame({"ts_recv": [1, 4, 11], "instrument_id": ["X:Y"] * 3,
    ...                   "bid": [9.0, 10.0, 11.0], "ask": [11.0, 12.0, 12.0]})
    >>> quote_bars(q, 10).select("ts_event", "open", "close", "spread_mean", "quote_count").rows()
    [(0, 10.0, 11.0, 2.0, 2), (10, 11.5, 11.5, 1.0, 1)]
    """
    _check(quotes, ["instrument_id", "bid", "ask"], interval_ns, time_column)
    t = pl.col(time_column)
    mid = (pl.col("bid") + pl.col("ask")) * 0.5
    return (
        quotes.with_row_index("__i")
        .with_columns(__open=t - t.mod(interval_ns), __mid=mid)
        .sort(["instrument_id", "__open", time_column, "__i"])
        .group_by(["instrument_id", "__open"], maintain_order=True)
        .agg(
            pl.col("__mid").first().alias("open"),
            pl.col("__mid").max().alias("high"),
            pl.col("__mid").min().alias("low"),
            pl.col("__mid").last().alias("close"),
            pl.col("bid").last(),
            pl.col("ask").last(),
            (pl.col("ask") - pl.col("bid")).mean().alias("spread_mean"),
            pl.len().cast(pl.Int64).alias("quote_count"),
        )
        .with_columns(ts_event=pl.col("__open"), ts_recv=pl.col("__open") + interval_ns)
        .select(
            "instrument_id",
            "ts_event",
            "ts_recv",
            "open",
            "high",
            "low",
            "close",
            "bid",
            "ask",
            "spread_mean",
            "quote_count",
        )
        .sort(["instrument_id", "ts_event"])
    )
