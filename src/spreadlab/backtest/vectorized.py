"""The vectorised research backtest: quotes -> target positions -> PnL.

Inputs are aligned on one bar grid: each leg's bid and ask (the executable
touch), the funding rates paid at the leg's funding times, and the target
spread position per bar. Decisions taken on bar t's data execute at bar
``t + delay_bars`` (default 1: no look-ahead). Buys pay the ask and sells
receive the bid; fees come from the :class:`~spreadlab.instruments.fees.FeeModel`
(taker rates by default: the fills cross the touch); funding is paid on
the position held over each funding time; inverse legs settle in coin and are
converted to USD at the leg's mid. The per-bar loop is the numba kernel
:func:`spreadlab.kernels.backtest.run_legs`.

PnL splits into convergence (mark-to-mid of held positions), crossing (paying
the half-spread on entry and exit), fees and funding; they add up to the total.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from spreadlab._typing import FloatArray, IntArray
from spreadlab.analytics.metrics import Metrics, compute_metrics
from spreadlab.core.enums import Liquidity
from spreadlab.core.ids import InstrumentId
from spreadlab.core.validate import require_positive
from spreadlab.errors import ValidationError
from spreadlab.instruments.base import Perpetual
from spreadlab.instruments.fees import FeeModel
from spreadlab.kernels.backtest import run_legs
from spreadlab.signals.spread import Spread

__all__ = ["LegQuotes", "VectorizedBacktest", "VectorizedResult"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LegQuotes:
    """One leg's aligned bar data: bid, ask and funding events (perpetuals)."""

    bid: FloatArray
    ask: FloatArray
    funding_times_ns: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    funding_rates: FloatArray = field(default_factory=lambda: np.zeros(0))


@dataclass(frozen=True, slots=True, kw_only=True)
class VectorizedResult:
    """Per-bar positions and PnL components, the trade list and the metrics."""

    ts_ns: IntArray
    positions: FloatArray
    convergence: FloatArray
    crossing: FloatArray
    fees: FloatArray
    funding: FloatArray
    traded_notional: FloatArray
    equity: FloatArray
    trades: pl.DataFrame
    metrics: Metrics

    @property
    def pnl(self) -> FloatArray:
        """Total PnL per bar."""
        return self.convergence + self.crossing + self.fees + self.funding


@dataclass(frozen=True, slots=True, kw_only=True)
class VectorizedBacktest:
    """Specification of a vectorised spread backtest.

    Parameters
    ----------
    spread
        The spread traded; leg quantities are ``units * leg.ratio``.
    fees
        The fee model (default :meth:`FeeModel.default`: each venue's base tier).
    liquidity
        Which rate the fills pay: ``TAKER`` (default; fills at the touch take liquidity).
    capital
        Capital in USD that returns are measured on.
    delay_bars
        Bars between a decision and its execution (>= 1 avoids look-ahead).
    """

    spread: Spread
    fees: FeeModel = field(default_factory=FeeModel.default)
    liquidity: Liquidity = Liquidity.TAKER
    capital: float = 100_000.0
    delay_bars: int = 1

    def __post_init__(self) -> None:
        require_positive("capital", self.capital)
        if not isinstance(self.fees, FeeModel):
            raise ValidationError(f"fees={self.fees!r} must be a FeeModel")
        if not isinstance(self.liquidity, Liquidity):
            raise ValidationError(f"liquidity={self.liquidity!r} must be a Liquidity")
        if self.delay_bars < 0:
            raise ValidationError(f"delay_bars={self.delay_bars} must be >= 0")

    def run(
        self,
        *,
        ts_ns: IntArray,
        legs: Mapping[InstrumentId, LegQuotes],
        target_units: FloatArray,
        events: IntArray | None = None,
    ) -> VectorizedResult:
        """Run the backtest.

        Parameters
        ----------
        ts_ns
            Bar times (strictly increasing int64 ns).
        legs
            Aligned quotes per leg instrument id; NaN quotes are not allowed
            (align with a staleness limit and drop such bars first).
        target_units
            Desired spread position decided at each bar (units of the spread).
        events
            Optional rule event code per decision bar, copied into the trade list.
        """
        ts = np.asarray(ts_ns, dtype=np.int64)
        n = ts.size
        target = np.asarray(target_units, dtype=np.float64)
        if target.shape != (n,):
            raise ValidationError(f"target_units has shape {target.shape}; expected ({n},) like ts_ns")
        if not np.all(np.isfinite(target)):
            raise ValidationError("target_units contains NaN or inf")
        spread_legs = self.spread.legs
        L = len(spread_legs)
        bid = np.empty((n, L))
        ask = np.empty((n, L))
        rate = np.zeros((n, L))
        for j, leg in enumerate(spread_legs):
            iid = leg.instrument.id
            if iid not in legs:
                raise ValidationError(f"legs has no quotes for {iid}")
            q = legs[iid]
            b = np.asarray(q.bid, dtype=np.float64)
            a = np.asarray(q.ask, dtype=np.float64)
            for name, arr in (("bid", b), ("ask", a)):
                if arr.shape != (n,):
                    raise ValidationError(f"{iid} {name} has shape {arr.shape}; expected ({n},)")
                bad = ~np.isfinite(arr) | (arr <= 0)
                if bad.any():
                    i = int(np.argmax(bad))
                    raise ValidationError(f"{iid} {name}[{i}]={float(arr[i])} is not a positive finite price")
            if np.any(b > a):
                i = int(np.argmax(b > a))
                raise ValidationError(f"{iid} is crossed at bar {i}: bid {b[i]} > ask {a[i]}")
            bid[:, j] = b
            ask[:, j] = a
            if q.funding_times_ns.size:
                if not isinstance(leg.instrument, Perpetual):
                    raise ValidationError(f"{iid} is not a perpetual but has funding events")
                idx = np.searchsorted(ts, np.asarray(q.funding_times_ns, dtype=np.int64), side="left")
                inside = (idx > 0) & (idx < n)  # a funding time before the first bar is not held
                np.add.at(rate[:, j], idx[inside], np.asarray(q.funding_rates, dtype=np.float64)[inside])
        mid = 0.5 * (bid + ask)
        inverse = np.array([leg.instrument.is_inverse for leg in spread_legs])
        fx = np.where(inverse[None, :], mid, 1.0)
        delayed = np.zeros(n)
        if self.delay_bars < n:
            delayed[self.delay_bars :] = target[: n - self.delay_bars]
        ratio = np.array([leg.ratio for leg in spread_legs])
        mult = np.array([leg.instrument.multiplier for leg in spread_legs])
        fee = self.fees.arrays([leg.instrument for leg in spread_legs]).rate(self.liquidity)
        pos, conv, cross, fees, fund, traded = run_legs(
            delayed, bid, ask, mid, ratio, mult, inverse, fee, rate, fx
        )
        trades = _trade_list(ts, pos, bid, ask, fee, mult, inverse, fx, spread_legs, events, self.delay_bars)
        entries = int(np.count_nonzero((delayed != 0) & (np.concatenate(([0.0], delayed[:-1])) != delayed)))
        metrics = compute_metrics(
            ts_ns=ts,
            capital=self.capital,
            convergence=conv,
            crossing=cross,
            fees=fees,
            funding=fund,
            traded_notional=traded,
            n_trades=entries,
        )
        equity = self.capital + np.cumsum(conv + cross + fees + fund)
        return VectorizedResult(
            ts_ns=ts,
            positions=pos,
            convergence=conv,
            crossing=cross,
            fees=fees,
            funding=fund,
            traded_notional=traded,
            equity=equity,
            trades=trades,
            metrics=metrics,
        )


def _trade_list(
    ts: IntArray,
    pos: FloatArray,
    bid: FloatArray,
    ask: FloatArray,
    fee: FloatArray,
    mult: FloatArray,
    inverse: np.ndarray,
    fx: FloatArray,
    legs: tuple,
    events: IntArray | None,
    delay: int,
) -> pl.DataFrame:
    prev = np.vstack([np.zeros((1, pos.shape[1])), pos[:-1]])
    dq = pos - prev
    rows_t, rows_l = np.nonzero(dq)
    qty = dq[rows_t, rows_l]
    price = np.where(qty > 0, ask[rows_t, rows_l], bid[rows_t, rows_l])
    m = mult[rows_l]
    inv = inverse[rows_l]
    notional = np.where(inv, np.abs(qty) * m / price, np.abs(qty) * m * price)
    ev = np.zeros(rows_t.size, dtype=np.int64)
    if events is not None:
        src = rows_t - delay
        ok = src >= 0
        ev[ok] = np.asarray(events, dtype=np.int64)[src[ok]]
    return pl.DataFrame(
        {
            "ts_ns": ts[rows_t],
            "instrument_id": [str(legs[j].instrument.id) for j in rows_l],
            "side": np.sign(qty).astype(np.int8),
            "qty": np.abs(qty),
            "price": price,
            "notional_usd": notional * fx[rows_t, rows_l],
            "fee_usd": notional * fee[rows_l] * fx[rows_t, rows_l],
            "event": ev,
        },
        schema={
            "ts_ns": pl.Int64,
            "instrument_id": pl.String,
            "side": pl.Int8,
            "qty": pl.Float64,
            "price": pl.Float64,
            "notional_usd": pl.Float64,
            "fee_usd": pl.Float64,
            "event": pl.Int64,
        },
    )
