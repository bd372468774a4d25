"""A candidate spread and its evaluation at a size: cost, net edge, z-score, half-life, capacity.

A :class:`Candidate` carries a spread, its legs' markets, its current value
and fair value, and two linear sizing facts: how many units of each leg one
USD of size trades (``units_per_usd``) and how many USD the deviation is
worth per USD of size (``edge_per_usd``, e.g. ``|F/F* - 1|`` for a basis or
``|IV - IV*| * vega / S`` for an option). At a size ``N`` USD::

    edge(N)      = edge_per_usd * N
    cost(N)      = round trip at the current books (fees, half-spreads, impact)
    net_edge(N)  = edge(N) - cost(N)

The deviation in basis points is ``sign * edge_per_usd * 1e4`` (positive =
the spread is rich: sell it). ``net_edge(N) / N`` is non-increasing in ``N``
(fees and half-spreads are linear, impact convex), so the *capacity*, the
largest ``N`` with ``net_edge(N) >= 0``, is found by doubling then bisection.
It is capped where the known depth (book levels or the touch size) runs out
(``capacity_limited``); with no depth information at all it is unknown (NaN)
when the edge is positive.

The z-score compares the deviation with its own history (``(d - mean) /
sd`` over the lookback, the current point excluded) and the half-life is the
AR(1) half-life of that history (:func:`spreadlab.signals.stationarity.half_life`)
times its median sampling step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from spreadlab._typing import FloatArray
from spreadlab.core.enums import Liquidity, Side
from spreadlab.core.ids import InstrumentId
from spreadlab.errors import SpreadlabError
from spreadlab.instruments.fees import FeeModel, instrument_class
from spreadlab.signals.scan.config import ScanKind
from spreadlab.signals.spread import LegMarket, Spread
from spreadlab.signals.stationarity import half_life

__all__ = ["Candidate", "evaluate"]

_NS_PER_HOUR = 3_600 * 10**9


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """One candidate spread at the scan time (see the module docstring)."""

    kind: ScanKind
    spread: Spread
    markets: Mapping[InstrumentId, LegMarket]
    instrument_id: str
    reference_id: str
    ts_ns: int
    value: float
    fair: float
    unit: str
    deviation_sign: float
    edge_per_usd: float
    units_per_usd: tuple[float, ...]
    fair_source: str
    value_fn: Callable[[Sequence[float]], float]
    increasing: tuple[bool, ...]
    history: FloatArray | None = None
    history_step_ns: float | None = None
    min_history: int | None = None

    def band(self, units: Sequence[float]) -> tuple[float, float]:
        """Return (bid, ask) of ``value`` when each leg trades ``units``: legs at their fill VWAPs."""
        sell: list[float] = []
        buy: list[float] = []
        for leg, u, inc in zip(self.spread.legs, units, self.increasing, strict=True):
            m = self.markets[leg.instrument.id]
            lo, hi = m.fill(Side.SELL, u).vwap, m.fill(Side.BUY, u).vwap
            sell.append(lo if inc else hi)
            buy.append(hi if inc else lo)
        return self.value_fn(sell), self.value_fn(buy)


def _net(c: Candidate, size: float, fees: FeeModel, liq: Liquidity) -> tuple[float, float, bool]:
    cost = c.spread.round_trip_cost(
        c.markets, quantity=1.0, fees=fees, liquidity=liq, hedge_ratios=[u * size for u in c.units_per_usd]
    )
    return c.edge_per_usd * size - cost.total_usd, cost.total_usd, cost.complete


def _capacity(c: Candidate, size: float, fees: FeeModel, liq: Liquidity) -> tuple[float, bool]:
    """Largest size with net edge >= 0 and, second, whether depth (not the edge) bounded it."""
    has_depth = all(m.has_depth for m in c.markets.values())
    if not has_depth:
        net, _, _ = _net(c, size, fees, liq)
        return (math.nan if net > 0 else 0.0), False
    lo = min(1.0, size)
    net, _, complete = _net(c, lo, fees, liq)
    if net <= 0 or not complete:
        return 0.0, not complete
    hi = max(size, lo * 2)
    limited = False
    while True:
        net, _, complete = _net(c, hi, fees, liq)
        if net <= 0 or not complete:
            limited = not complete and net > 0
            break
        lo, hi = hi, hi * 2
        if hi > 1e12:
            return lo, False
    for _ in range(60):
        if hi / lo < 1.0005:
            break
        mid = math.sqrt(lo * hi)
        net, _, complete = _net(c, mid, fees, liq)
        if net > 0 and complete:
            lo = mid
        else:
            limited = not complete and net > 0
            hi = mid
    return lo, limited


def _zscore(hist: FloatArray | None, now: float, min_history: int) -> float:
    if hist is None:
        return math.nan
    h = hist[np.isfinite(hist)]
    if h.size < min_history:
        return math.nan
    sd = float(np.std(h, ddof=1))
    return (now - float(np.mean(h))) / sd if sd > 0 else math.nan


def _half_life_hours(hist: FloatArray | None, now: float, step_ns: float | None, min_history: int) -> float:
    if hist is None or step_ns is None or step_ns <= 0:
        return math.nan
    h = hist[np.isfinite(hist)]
    if h.size < 2 * min_history:
        return math.nan
    try:
        res = half_life(np.append(h, now))
    except SpreadlabError:
        return math.nan
    return res.half_life * step_ns / _NS_PER_HOUR if res.mean_reverting else math.inf


def evaluate(
    c: Candidate, *, size_usd: float, fees: FeeModel, liquidity: Liquidity, min_history: int
) -> dict[str, object]:
    """Return the scanner row of ``c`` at ``size_usd``."""
    units = [u * size_usd for u in c.units_per_usd]
    bid, ask = c.band(units)
    cost = c.spread.round_trip_cost(
        c.markets, quantity=1.0, fees=fees, liquidity=liquidity, hedge_ratios=units
    )
    edge = c.edge_per_usd * size_usd
    net = edge - cost.total_usd
    capacity, limited = _capacity(c, size_usd, fees, liquidity)
    deviation = c.value - c.fair
    sources = sorted({m.source.value for m in c.markets.values()})
    return {
        "kind": c.kind.value,
        "spread": c.spread.label,
        "instrument_id": c.instrument_id,
        "instrument_class": instrument_class(c.spread.legs[0].instrument).value,
        "reference_id": c.reference_id,
        "legs": " ".join(f"{leg.ratio:+g}*{leg.instrument.id}" for leg in c.spread.legs),
        "ts_ns": c.ts_ns,
        "unit": c.unit,
        "value": c.value,
        "bid": bid,
        "ask": ask,
        "fair": c.fair,
        "fair_source": c.fair_source,
        "deviation": deviation,
        "deviation_bp": c.deviation_sign * c.edge_per_usd * 1e4,
        "zscore": _zscore(c.history, deviation, c.min_history or min_history),
        "half_life_hours": _half_life_hours(c.history, deviation, c.history_step_ns, min_history),
        "direction": "sell" if c.deviation_sign > 0 else "buy",
        "size_usd": size_usd,
        "edge_usd": edge,
        "fees_usd": cost.fees_usd,
        "spread_cost_usd": cost.half_spread_usd,
        "impact_usd": cost.impact_usd,
        "cost_usd": cost.total_usd,
        "cost_bp": cost.total_usd / size_usd * 1e4,
        "net_edge_usd": net,
        "net_edge_bp": net / size_usd * 1e4,
        "capacity_usd": capacity,
        "capacity_limited": limited,
        "depth_complete": cost.complete,
        "price_source": ",".join(sources),
    }
