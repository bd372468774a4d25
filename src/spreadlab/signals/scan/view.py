"""The market as seen at one time ``at``: the newest fresh data per instrument, and its history.

Only rows known at ``at`` are used, so a scan never looks ahead: rows
received by then (``ts_recv <= at``; a quote the venue stamped before ``at``
but still in flight is not yet known; a bar is known at its close). The newest row of an
instrument is *fresh* when it is younger than the configured maximum age;
stale instruments are left out. History is everything in
``[at - lookback, at]``.

A leg's executable market is taken from the best source available, in this
order: an L2 book snapshot (fills walk its levels), a top-of-book quote, a
mark (with an assumed half-spread), a trade bar's close (likewise). USDT and
USDC are taken at 1 USD.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl

from spreadlab._typing import FloatArray, IntArray
from spreadlab.data.schema import canonical_schema
from spreadlab.events.schema import EventKind
from spreadlab.instruments.base import Instrument, Option, Spot
from spreadlab.signals.scan.config import ScanConfig
from spreadlab.signals.spread import LegMarket, PriceSource

__all__ = ["MarketView", "Series"]

Resolver = Callable[[str], Instrument | None]


@dataclass(frozen=True, slots=True)
class Series:
    """A time series: ``ts`` (int64 ns, increasing) and ``value`` (float64)."""

    ts: IntArray
    value: FloatArray

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def asof(self, grid: IntArray) -> FloatArray:
        """Return the last value at or before each time of ``grid`` (NaN before the first)."""
        idx = np.searchsorted(self.ts, grid, side="right") - 1
        out = np.where(idx >= 0, self.value[np.maximum(idx, 0)], np.nan)
        return np.asarray(out, dtype=np.float64)


def _empty_series() -> Series:
    return Series(np.zeros(0, np.int64), np.zeros(0, np.float64))


def _by_instrument(df: pl.DataFrame) -> dict[str, pl.DataFrame]:
    if df.height == 0:
        return {}
    return {
        str(k[0]): g for k, g in df.partition_by("instrument_id", as_dict=True, maintain_order=True).items()
    }


class MarketView:
    """Newest fresh data and history of every instrument at ``at``.

    Parameters
    ----------
    frames
        Canonical tables by kind (any subset of kinds).
    at
        The scan time (int ns UTC).
    config
        The :class:`ScanConfig`.
    resolve
        Maps an instrument id string to its :class:`Instrument` (None: skip it).
    """

    def __init__(
        self, frames: Mapping[EventKind, pl.DataFrame], *, at: int, config: ScanConfig, resolve: Resolver
    ) -> None:
        self.at = at
        self.config = config
        self._resolve_fn = resolve
        self._cache: dict[str, Instrument | None] = {}
        self._legs: dict[str, LegMarket | None] = {}
        lo = at - config.lookback_ns

        def window(kind: EventKind, col: str = "ts_event") -> pl.DataFrame:
            df = frames.get(kind)
            if df is None or df.height == 0:
                return pl.DataFrame(schema=canonical_schema(kind))
            # known at ``at`` = received by then: a row the venue stamped before ``at`` but still in
            # flight is not yet known (ts_recv is the venue time where no receive time was recorded)
            return df.filter((pl.col("ts_recv") <= at) & (pl.col(col) >= lo)).sort(col, "instrument_id")

        self.quotes = _by_instrument(window(EventKind.QUOTES))
        self.books = _by_instrument(window(EventKind.BOOK_SNAPSHOTS))
        self.marks = _by_instrument(window(EventKind.MARK))
        self.funding = _by_instrument(window(EventKind.FUNDING))
        bars = window(EventKind.BARS, "ts_recv")
        bars = bars.filter(pl.col("price_type") == "trade") if bars.height else bars
        # one bar interval per instrument: the finest available
        if bars.height:
            finest = bars.group_by("instrument_id").agg(pl.col("interval_ns").min().alias("_iv"))
            bars = (
                bars.join(finest, on="instrument_id")
                .filter(pl.col("interval_ns") == pl.col("_iv"))
                .drop("_iv")
            )
        self.bars = _by_instrument(bars)
        self.options = window(EventKind.OPTION_QUOTES)

    # ------------------------------------------------------------------ instruments

    def resolve(self, instrument_id: str) -> Instrument | None:
        """Return the instrument of ``instrument_id`` or None when it cannot be resolved."""
        if instrument_id not in self._cache:
            self._cache[instrument_id] = self._resolve_fn(instrument_id)
        return self._cache[instrument_id]

    def instruments(self) -> list[Instrument]:
        """Every resolvable non-option instrument with fresh prices, sorted by id."""
        ids = set(self.quotes) | set(self.books) | set(self.marks) | set(self.bars)
        out = []
        for iid in sorted(ids):
            inst = self.resolve(iid)
            if inst is not None and not isinstance(inst, Option) and self.leg(iid) is not None:
                out.append(inst)
        return out

    # ------------------------------------------------------------------ legs

    def _fresh_last(
        self, table: Mapping[str, pl.DataFrame], iid: str, max_age: int, col: str = "ts_event"
    ) -> dict | None:
        df = table.get(iid)
        if df is None or df.height == 0:
            return None
        row = df.row(df.height - 1, named=True)
        return row if self.at - int(row[col]) <= max_age else None

    def _bar_last(self, iid: str) -> dict | None:
        df = self.bars.get(iid)
        if df is None or df.height == 0:
            return None
        row = df.row(df.height - 1, named=True)
        return row if self.at - int(row["ts_recv"]) <= 2 * int(row["interval_ns"]) else None

    def leg(self, iid: str) -> LegMarket | None:
        """Return the executable market of a non-option instrument, or None when no fresh price exists."""
        if iid not in self._legs:
            self._legs[iid] = self._leg(iid)
        return self._legs[iid]

    def _leg(self, iid: str) -> LegMarket | None:
        inst = self.resolve(iid)
        if inst is None or isinstance(inst, Option):
            return None
        cfg = self.config
        book = self._fresh_last(self.books, iid, cfg.quote_max_age_ns)
        if book is not None and book["bid_prices"] and book["ask_prices"]:
            bids = np.column_stack([book["bid_prices"], book["bid_sizes"]])
            asks = np.column_stack([book["ask_prices"], book["ask_sizes"]])
            if np.isfinite(bids).all() and np.isfinite(asks).all() and bids[0, 0] <= asks[0, 0]:
                return LegMarket(
                    instrument=inst,
                    bid=float(bids[0, 0]),
                    ask=float(asks[0, 0]),
                    bid_size=float(bids[0, 1]),
                    ask_size=float(asks[0, 1]),
                    bid_levels=bids,
                    ask_levels=asks,
                    source=PriceSource.BOOK,
                    ts_ns=int(book["ts_event"]),
                )
        q = self._fresh_last(self.quotes, iid, cfg.quote_max_age_ns)
        if q is not None and _ok(q["bid"]) and _ok(q["ask"]) and q["bid"] <= q["ask"]:
            return LegMarket(
                instrument=inst,
                bid=float(q["bid"]),
                ask=float(q["ask"]),
                bid_size=_opt(q["bid_size"]),
                ask_size=_opt(q["ask_size"]),
                source=PriceSource.QUOTE,
                ts_ns=int(q["ts_event"]),
            )
        m = self._fresh_last(self.marks, iid, cfg.mark_max_age_ns)
        if m is not None and _ok(m["mark"]):
            return LegMarket.from_price(
                inst,
                float(m["mark"]),
                half_spread_bp=cfg.mark_half_spread_bp,
                source=PriceSource.MARK,
                ts_ns=int(m["ts_event"]),
            )
        b = self._bar_last(iid)
        if b is not None and _ok(b["close"]):
            return LegMarket.from_price(
                inst,
                float(b["close"]),
                half_spread_bp=cfg.mark_half_spread_bp,
                source=PriceSource.BAR,
                ts_ns=int(b["ts_recv"]),
            )
        return None

    # ------------------------------------------------------------------ series

    def price_series(self, iid: str) -> Series:
        """Mid (quotes), else mark, else bar close over the lookback, up to ``at``."""
        q = self.quotes.get(iid)
        if q is not None and q.height:
            q = q.filter(pl.col("bid").is_not_null() & pl.col("ask").is_not_null())
            return Series(q["ts_event"].to_numpy(), ((q["bid"] + q["ask"]) / 2).to_numpy().astype(np.float64))
        m = self.marks.get(iid)
        if m is not None and m.height:
            m = m.filter(pl.col("mark").is_not_null())
            return Series(m["ts_event"].to_numpy(), m["mark"].to_numpy().astype(np.float64))
        b = self.bars.get(iid)
        if b is not None and b.height:
            return Series(b["ts_recv"].to_numpy(), b["close"].to_numpy().astype(np.float64))
        return _empty_series()

    def index_series(self, inst: Instrument) -> tuple[Series, str] | None:
        """The index of ``inst``'s coin: its mark rows' index, else a spot of the same coin.

        Returns the series and a name for it (``VENUE:BASE-INDEX`` or the spot's id).
        """
        m = self.marks.get(str(inst.id))
        if m is not None and m.height:
            m = m.filter(pl.col("index").is_not_null())
            if m.height and self.at - int(m["ts_event"][-1]) <= self.config.mark_max_age_ns:
                return (
                    Series(m["ts_event"].to_numpy(), m["index"].to_numpy().astype(np.float64)),
                    f"{inst.id.venue}:{inst.base}-INDEX",
                )
        spot = self.spot_for(inst)
        if spot is not None:
            s = self.price_series(str(spot.id))
            if len(s):
                return s, str(spot.id)
        return None

    def spot_for(self, inst: Instrument) -> Instrument | None:
        """A fresh spot instrument of ``inst``'s base coin quoted in USD(T/C), same venue family first."""
        family = inst.id.venue.split("_")[0]
        best: tuple[int, str, Instrument] | None = None
        for iid in sorted(set(self.quotes) | set(self.books) | set(self.bars) | set(self.marks)):
            cand = self.resolve(iid)
            if not isinstance(cand, Spot) or cand.base != inst.base or cand.quote not in _USD:
                continue
            if self.leg(iid) is None:
                continue
            rank = 0 if cand.id.venue.split("_")[0] == family else 1
            if best is None or (rank, iid) < best[:2]:
                best = (rank, iid, cand)
        return None if best is None else best[2]

    def funding_rate(self, iid: str) -> tuple[float, float] | None:
        """Newest funding rate of ``iid`` and its interval in hours, if any."""
        df = self.funding.get(iid)
        if df is None or df.height == 0:
            return None
        row = df.row(df.height - 1, named=True)
        interval = row["interval_ns"]
        if interval is None or interval <= 0:
            inst = self.resolve(iid)
            interval = getattr(inst, "funding_interval_ns", 8 * 3_600 * 10**9)
        return float(row["rate"]), int(interval) / 3.6e12


_USD = ("USD", "USDT", "USDC")


def _ok(x: object) -> bool:
    return isinstance(x, int | float) and math.isfinite(x) and x > 0


def _opt(x: object) -> float | None:
    return float(x) if isinstance(x, int | float) and math.isfinite(x) and x >= 0 else None  # type: ignore[arg-type]
