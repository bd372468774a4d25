"""Quotes and L2 books around a latent mid, and receive times.

Best prices: ``bid = floor(mid (1 - h) / tick) tick`` and
``ask = max(ceil(mid (1 + h) / tick), bid/tick + 1) tick``, so a quote is never
crossed or locked and sits on the tick grid. The half-spread ``h`` widens
with the index volatility: ``h = h0 sqrt(v / theta) exp(0.3 z - 0.045)``.

Book level ``j`` sits ``off_j`` ticks beyond the best price with
``off_j = round(spacing_bp 1e-4 mid j^e / tick)`` made strictly increasing,
and holds ``top_size (1 + g j)`` times a mean-one log-normal factor, in whole
lots. Receive time ``ts_recv = ts_event + latency`` with a gamma(4) latency of
the venue's mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from spreadlab._typing import FloatArray, IntArray
from spreadlab.data.market.config import BookConfig
from spreadlab.data.schema import conform
from spreadlab.events.schema import EventKind

__all__ = [
    "Book",
    "half_spread",
    "latency",
    "make_book",
    "on_grid",
    "quotes_frame",
    "snapshots_frame",
    "trades_frame",
]


def _decimals(tick: float) -> int:
    return max(0, -math.floor(math.log10(tick))) + 3


def on_grid(ticks: FloatArray, tick: float) -> FloatArray:
    """Return ``ticks * tick`` rounded to remove binary noise below the tick."""
    return np.round(ticks * tick, _decimals(tick))


def half_spread(rng: np.random.Generator, *, base_bp: float, var: FloatArray, theta: float) -> FloatArray:
    """Return the half-spread as a fraction of price at each step."""
    z = rng.standard_normal(var.shape[0])
    return base_bp * 1e-4 * np.sqrt(var / theta) * np.exp(0.3 * z - 0.045)


def latency(rng: np.random.Generator, n: int, mean_ms: float) -> IntArray:
    """Return ``n`` receive latencies in int ns (gamma with shape 4 and mean ``mean_ms``)."""
    if mean_ms <= 0.0:
        return np.zeros(n, dtype=np.int64)
    return np.round(rng.gamma(4.0, mean_ms / 4.0, n) * 1e6).astype(np.int64)


@dataclass(frozen=True, slots=True, kw_only=True)
class Book:
    """Top-``L`` book of one instrument at each step (rows are steps, columns levels)."""

    bid_prices: FloatArray
    bid_sizes: FloatArray
    ask_prices: FloatArray
    ask_sizes: FloatArray

    @property
    def bid(self) -> FloatArray:
        """Best bid per step."""
        return self.bid_prices[:, 0]

    @property
    def ask(self) -> FloatArray:
        """Best ask per step."""
        return self.ask_prices[:, 0]

    @property
    def mid(self) -> FloatArray:
        """Mid per step."""
        return 0.5 * (self.bid_prices[:, 0] + self.ask_prices[:, 0])


def make_book(
    rng: np.random.Generator,
    *,
    mid: FloatArray,
    half: FloatArray,
    tick: float,
    lot: float,
    cfg: BookConfig,
    size_scale: float = 1.0,
) -> Book:
    """Build the book around ``mid`` with half-spread ``half`` (fraction of price)."""
    n = mid.shape[0]
    levels = cfg.levels
    bid_t = np.floor(mid * (1.0 - half) / tick + 1e-9)
    ask_t = np.maximum(np.ceil(mid * (1.0 + half) / tick - 1e-9), bid_t + 1.0)
    j = np.arange(levels, dtype=np.float64)
    raw = np.round(cfg.level_spacing_bp * 1e-4 * mid[:, None] * j[None, :] ** cfg.spacing_exponent / tick)
    raw[:, 0] = 0.0
    off = np.maximum.accumulate(raw - j[None, :], axis=1) + j[None, :]
    bid_ticks = bid_t[:, None] - off
    ask_ticks = ask_t[:, None] + off
    s = cfg.size_dispersion
    shape = cfg.top_size * size_scale * (1.0 + cfg.size_growth * j)
    sizes = rng.lognormal(-0.5 * s * s, s, (2, n, levels)) * shape[None, None, :]
    sizes = np.maximum(np.round(sizes / lot), 1.0) * lot
    dec = _decimals(lot)
    return Book(
        bid_prices=on_grid(bid_ticks, tick),
        bid_sizes=np.round(sizes[0], dec),
        ask_prices=on_grid(ask_ticks, tick),
        ask_sizes=np.round(sizes[1], dec),
    )


def quotes_frame(instrument_id: str, ts: IntArray, ts_recv: IntArray, book: Book) -> pl.DataFrame:
    """Top of ``book`` as rows of the canonical quotes schema."""
    n = ts.shape[0]
    return conform(
        pl.DataFrame(
            {
                "ts_event": ts,
                "ts_recv": ts_recv,
                "instrument_id": [instrument_id] * n,
                "bid": book.bid_prices[:, 0],
                "ask": book.ask_prices[:, 0],
                "bid_size": book.bid_sizes[:, 0],
                "ask_size": book.ask_sizes[:, 0],
            }
        ),
        EventKind.QUOTES,
    )


def _lists(a: FloatArray) -> pl.Series:
    return pl.Series(a).cast(pl.List(pl.Float64()))


def snapshots_frame(instrument_id: str, ts: IntArray, ts_recv: IntArray, book: Book) -> pl.DataFrame:
    """``book`` as rows of the canonical book-snapshot schema (``sequence`` counts from 1)."""
    n = ts.shape[0]
    return conform(
        pl.DataFrame(
            {
                "ts_event": ts,
                "ts_recv": ts_recv,
                "instrument_id": [instrument_id] * n,
                "bid_prices": _lists(book.bid_prices),
                "bid_sizes": _lists(book.bid_sizes),
                "ask_prices": _lists(book.ask_prices),
                "ask_sizes": _lists(book.ask_sizes),
                "sequence": np.arange(1, n + 1, dtype=np.int64),
            }
        ),
        EventKind.BOOK_SNAPSHOTS,
    )


def trades_frame(
    rng: np.random.Generator,
    instrument_id: str,
    ts: IntArray,
    step_ns: int,
    book: Book,
    *,
    rate_per_step: float,
    mean_size: float,
    lot: float,
    latency_ms: float,
) -> pl.DataFrame:
    """Taker trades against ``book``: Poisson counts per step, at the touch, sized within the top level.

    A trade in step ``i`` happens at a uniform time in ``(ts_i, ts_i + step)``
    while quote ``i`` stands; a buyer lifts the ask, a seller hits the bid
    (each with probability 1/2); its size is log-normal with mean
    ``mean_size``, at least one lot and at most the size shown at the touch.
    """
    n = ts.shape[0]
    counts = rng.poisson(rate_per_step, n)
    step_of = np.repeat(np.arange(n), counts)
    m = step_of.shape[0]
    # offsets within each step, sorted so trade times increase (sorting keeps the step groups)
    base = step_of.astype(np.int64) * step_ns
    offsets = np.sort(base + rng.integers(1, step_ns, m, dtype=np.int64)) - base
    ts_ev = ts[step_of] + offsets
    buy = rng.uniform(size=m) < 0.5
    price = np.where(buy, book.ask_prices[step_of, 0], book.bid_prices[step_of, 0])
    top = np.where(buy, book.ask_sizes[step_of, 0], book.bid_sizes[step_of, 0])
    raw = rng.lognormal(np.log(mean_size) - 0.5, 1.0, m)
    size = np.minimum(np.maximum(np.round(raw / lot), 1.0) * lot, top)
    seq = np.arange(1, m + 1)
    return conform(
        pl.DataFrame(
            {
                "ts_event": ts_ev,
                "ts_recv": ts_ev + latency(rng, m, latency_ms),
                "instrument_id": [instrument_id] * m,
                "price": price,
                "size": np.round(size, _decimals(lot)),
                "aggressor": np.where(buy, 1, -1).astype(np.int8),
                "trade_id": [str(s) for s in seq],
            },
            schema_overrides={"ts_event": pl.Int64, "ts_recv": pl.Int64},
        ),
        EventKind.TRADES,
    )
