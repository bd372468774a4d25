"""Leg inputs of the vectorised backtest: validated quote arrays, USD conversion, funding.

Each leg's settlement currency is converted to USD with the instrument's own
rule (:meth:`spreadlab.instruments.base.Instrument.settlement_usd`): 1 for a
stablecoin, the leg's mid for an inverse perpetual or future (USD per coin),
the underlying's price for a coin-settled option (``LegQuotes.underlying``;
the option's coin premium is not a USD price). ``LegQuotes.settlement_usd``
overrides it (e.g. a linear leg settled in a coin).

Funding is charged on the mark price at the funding time where it is known
(``LegQuotes.funding_marks``), else on the index (``funding_index``), else on
the mid of the first bar at or after the funding time; each event records
which (:class:`FundingPrice`). :func:`price_at` takes a mark or index series
as of each funding time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import polars as pl

from spreadlab._typing import FloatArray, IntArray
from spreadlab.core.enums import ContractKind
from spreadlab.core.ids import InstrumentId
from spreadlab.data.market import SimulatedMarket
from spreadlab.errors import ValidationError
from spreadlab.instruments.base import Perpetual
from spreadlab.signals.spread import Leg

__all__ = ["FundingPrice", "LegArrays", "LegQuotes", "leg_arrays", "market_funding", "price_at"]


class FundingPrice(StrEnum):
    """The price a funding payment was charged on."""

    MARK = "mark"
    INDEX = "index"
    MID = "mid"


@dataclass(frozen=True, slots=True, kw_only=True)
class LegQuotes:
    """One leg's aligned bar data.

    Parameters
    ----------
    bid, ask
        Executable touch per bar, as the venue quotes it (coin for a Deribit option premium).
    funding_times_ns, funding_rates
        Perpetuals: the funding events (rate paid by longs when positive).
    underlying
        USD price of the underlying per bar: required for coin-settled options
        (their PnL, in coin, converts at it) and linear options (their fee is
        a fraction of it).
    settlement_usd
        USD per unit of the settlement currency per bar, overriding the
        instrument's own conversion.
    funding_marks, funding_index
        Mark and index price at each funding time (aligned with
        ``funding_times_ns``; NaN where unknown), e.g. from :func:`price_at`.
    """

    bid: FloatArray
    ask: FloatArray
    funding_times_ns: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    funding_rates: FloatArray = field(default_factory=lambda: np.zeros(0))
    underlying: FloatArray | None = None
    settlement_usd: FloatArray | None = None
    funding_marks: FloatArray | None = None
    funding_index: FloatArray | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LegArrays:
    """The kernel's inputs, shape ``(n, L)`` per bar and leg or ``(L,)`` per leg."""

    bid: FloatArray
    ask: FloatArray
    mid: FloatArray
    underlying: FloatArray
    fx: FloatArray
    funding_rate: FloatArray
    funding_price: FloatArray
    kind: IntArray
    multiplier: FloatArray
    ratio: FloatArray
    funding_events: tuple[tuple[int, IntArray, IntArray, FloatArray, FloatArray, list[str]], ...]
    """Per leg with funding: (leg, funding time, bar, rate, price charged, price source)."""


def _prices(iid: InstrumentId, name: str, value: object, n: int) -> FloatArray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (n,):
        raise ValidationError(f"{iid} {name} has shape {arr.shape}; expected ({n},)")
    bad = ~np.isfinite(arr) | (arr <= 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValidationError(f"{iid} {name}[{i}]={float(arr[i])} is not a positive finite price")
    return arr


def leg_arrays(ts: IntArray, legs: Mapping[InstrumentId, LegQuotes], spread_legs: Sequence[Leg]) -> LegArrays:
    """Validate each leg's quotes and build the kernel's arrays (funding charged at the bar's mid)."""
    n, L = ts.size, len(spread_legs)
    bid, ask, und, fx = np.empty((n, L)), np.empty((n, L)), np.ones((n, L)), np.ones((n, L))
    rate = np.zeros((n, L))
    fprice = np.empty((n, L))
    events = []
    for j, leg in enumerate(spread_legs):
        inst = leg.instrument
        iid = inst.id
        if iid not in legs:
            raise ValidationError(f"legs has no quotes for {iid}")
        q = legs[iid]
        b, a = _prices(iid, "bid", q.bid, n), _prices(iid, "ask", q.ask, n)
        if np.any(b > a):
            i = int(np.argmax(b > a))
            raise ValidationError(f"{iid} is crossed at bar {i}: bid {b[i]} > ask {a[i]}")
        bid[:, j], ask[:, j] = b, a
        kind = inst.contract_kind
        if q.underlying is not None:
            und[:, j] = _prices(iid, "underlying", q.underlying, n)
        elif kind in (ContractKind.COIN_OPTION, ContractKind.LINEAR_OPTION):
            raise ValidationError(
                f"{iid} is an option: LegQuotes.underlying (the {inst.base} USD price per bar) is required "
                "for its USD conversion and fees"
            )
        if q.settlement_usd is not None:
            fx[:, j] = _prices(iid, "settlement_usd", q.settlement_usd, n)
        else:
            fx[:, j] = inst.settlement_usd(0.5 * (b + a), underlying_price=und[:, j])
        fprice[:, j] = 0.5 * (b + a)
        if q.funding_times_ns.size:
            if not isinstance(inst, Perpetual):
                raise ValidationError(f"{iid} is not a perpetual but has funding events")
            events.append((j, *_funding(iid, q, ts, rate[:, j], fprice[:, j], inverse=inst.is_inverse)))
    mid = 0.5 * (bid + ask)
    return LegArrays(
        bid=bid,
        ask=ask,
        mid=mid,
        underlying=und,
        fx=fx,
        funding_rate=rate,
        funding_price=fprice,
        kind=np.array([int(leg.instrument.contract_kind) for leg in spread_legs], dtype=np.int64),
        multiplier=np.array([leg.instrument.multiplier for leg in spread_legs], dtype=np.float64),
        ratio=np.array([leg.ratio for leg in spread_legs], dtype=np.float64),
        funding_events=tuple(events),
    )


def _funding(
    iid: InstrumentId, q: LegQuotes, ts: IntArray, rate: FloatArray, price: FloatArray, *, inverse: bool
) -> tuple[IntArray, IntArray, FloatArray, FloatArray, list[str]]:
    """Put each funding event on the first bar at or after its time; charge it on mark, index or mid.

    Several events in one bar (bars longer than the funding interval) are
    folded into one rate at the first event's price that pays the same:
    ``sum(r_i P_i) / P_0`` (linear) or ``P_0 sum(r_i / P_i)`` (inverse).
    """
    n = ts.size
    times = np.asarray(q.funding_times_ns, dtype=np.int64)
    rates = np.asarray(q.funding_rates, dtype=np.float64)
    if rates.shape != times.shape:
        raise ValidationError(f"{iid} funding_rates has shape {rates.shape}; expected {times.shape}")
    cols = {}
    for name, arr in (("funding_marks", q.funding_marks), ("funding_index", q.funding_index)):
        v = np.full(times.shape, np.nan) if arr is None else np.asarray(arr, dtype=np.float64)
        if v.shape != times.shape:
            raise ValidationError(f"{iid} {name} has shape {v.shape}; expected {times.shape}")
        if np.any(v <= 0) or np.any(np.isinf(v)):
            i = int(np.argmax((v <= 0) | np.isinf(v)))
            raise ValidationError(f"{iid} {name}[{i}]={v[i]} must be a positive price or NaN (unknown)")
        cols[name] = v
    idx = np.searchsorted(ts, times, side="left")
    inside = (idx > 0) & (idx < n)  # a funding time before the first bar is not held
    idx, times, rates = idx[inside], times[inside], rates[inside]
    mark, index = cols["funding_marks"][inside], cols["funding_index"][inside]
    mid = price[idx]
    charged = np.where(np.isfinite(mark), mark, np.where(np.isfinite(index), index, mid))
    source = np.where(np.isfinite(mark), "mark", np.where(np.isfinite(index), "index", "mid")).tolist()
    bars, first = np.unique(idx, return_index=True)
    p0 = charged[first]
    flow = rates / charged if inverse else rates * charged
    total = np.zeros(n)
    np.add.at(total, idx, flow)
    rate[bars] = total[bars] * p0 if inverse else total[bars] / p0
    price[bars] = p0
    return times, idx, rates, charged, source


def price_at(times_ns: IntArray, ts_ns: IntArray, values: FloatArray, *, max_staleness_ns: int) -> FloatArray:
    """Return the last of ``values`` at or before each of ``times_ns`` (NaN if staler than the limit).

    Examples
    --------
    >>> price_at(np.array([10, 25, 100]), np.array([0, 10, 20]), np.array([1.0, 2.0, 3.0]),
    ...          max_staleness_ns=10).tolist()
    [2.0, 3.0, nan]
    """
    ts = np.asarray(ts_ns, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    t = np.asarray(times_ns, dtype=np.int64)
    if ts.shape != v.shape:
        raise ValidationError(f"values has shape {v.shape}; expected {ts.shape} like ts_ns")
    if ts.size > 1 and np.any(np.diff(ts) < 0):
        raise ValidationError("ts_ns must be sorted")
    i = np.searchsorted(ts, t, side="right") - 1
    ok = (i >= 0) & (t - ts[np.maximum(i, 0)] <= max_staleness_ns)
    out: FloatArray = np.where(ok, v[np.maximum(i, 0)] if ts.size else np.nan, np.nan)
    return out


def market_funding(market: SimulatedMarket, iid: InstrumentId) -> dict[str, np.ndarray]:
    """Return a perpetual's funding events in the built-in market with the mark and index at each.

    The mark and index are the market's published values as of each funding
    time (at most one bar old, else NaN). Pass the result into
    :class:`LegQuotes` as keyword arguments.
    """
    funding = market.funding.filter(pl.col("instrument_id") == str(iid)).sort("funding_time_ns")
    marks = market.mark.filter(pl.col("instrument_id") == str(iid)).sort("ts_event")
    times = funding["funding_time_ns"].to_numpy()
    stale = int(market.config.step_seconds * 1e9)
    mts = marks["ts_event"].to_numpy()
    return {
        "funding_times_ns": times,
        "funding_rates": funding["rate"].to_numpy(),
        "funding_marks": price_at(times, mts, marks["mark"].to_numpy(), max_staleness_ns=stale),
        "funding_index": price_at(
            times, mts, marks["index"].fill_null(np.nan).to_numpy(), max_staleness_ns=stale
        ),
    }
