"""The vectorised research backtest: quotes -> target positions -> PnL.

Inputs are aligned on one bar grid: each leg's bid and ask (the executable
touch), the funding rates paid at the leg's funding times, and the target
spread position per bar. Decisions taken on bar t's data execute at bar
``t + delay_bars`` (default 1: no look-ahead). Buys pay the ask and sells
receive the bid; fees come from the :class:`~spreadlab.instruments.fees.FeeModel`
(taker rates by default: the fills cross the touch); funding is paid on
the position held over each funding time. Every leg's PnL is computed with its
own contract formula (linear, inverse, coin-settled option, linear option; see
:mod:`spreadlab.kernels.contracts`) in its settlement currency, then converted
to USD with the instrument's own rule (:mod:`spreadlab.backtest.inputs`):
inverse legs at their mid, coin-settled options at the underlying's price.
The per-bar loop is the numba kernel :func:`spreadlab.kernels.backtest.run_legs`.

Funding is charged on the mark price at the funding time where the leg
gives one, else the index, else the bar's mid (:mod:`spreadlab.backtest.inputs`);
``VectorizedResult.funding_events`` records each payment and its price source.
A position still open at the last bar is closed there at the executable price
with fees by default (``at_end``; :mod:`spreadlab.backtest.ending`) and reported
in ``VectorizedResult.open_at_end``; ``n_trades`` counts closed round trips.

PnL splits into convergence (mark-to-mid of held positions), crossing (paying
the half-spread on entry and exit), fees and funding; they add up to the total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from spreadlab._typing import FloatArray, IntArray
from spreadlab.analytics.metrics import Metrics, compute_metrics
from spreadlab.backtest.ending import EndOfRun, closed_round_trips, funding_ledger, open_at_end
from spreadlab.backtest.inputs import LegArrays, LegQuotes, leg_arrays
from spreadlab.core.enums import Liquidity
from spreadlab.core.ids import InstrumentId
from spreadlab.core.validate import require_positive
from spreadlab.errors import ValidationError
from spreadlab.instruments.fees import FeeModel
from spreadlab.kernels import contracts as _k
from spreadlab.kernels.backtest import run_legs
from spreadlab.signals.spread import Leg, Spread

__all__ = ["EndOfRun", "LegQuotes", "VectorizedBacktest", "VectorizedResult"]


@dataclass(frozen=True, slots=True, kw_only=True)
class VectorizedResult:
    """Per-bar positions and PnL components, the trade list and the metrics.

    ``open_at_end`` lists each leg of a position still open at the last bar
    (quantity, entry time, last mid, unrealised PnL in USD, and whether it was
    closed at the end with its exit price and cost); ``funding_events`` every
    funding payment with the price it was charged on and that price's source.
    """

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
    open_at_end: pl.DataFrame
    funding_events: pl.DataFrame

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
    at_end
        ``EndOfRun.CLOSE`` (default): a position open at the last bar is closed
        there at the executable price with fees; ``EndOfRun.MARK``: left open at mid.
    """

    spread: Spread
    fees: FeeModel = field(default_factory=FeeModel.default)
    liquidity: Liquidity = Liquidity.TAKER
    capital: float = 100_000.0
    delay_bars: int = 1
    at_end: EndOfRun = EndOfRun.CLOSE

    def __post_init__(self) -> None:
        if not isinstance(self.at_end, EndOfRun):
            raise ValidationError(f"at_end={self.at_end!r} must be an EndOfRun (CLOSE or MARK)")
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
        x = leg_arrays(ts, legs, spread_legs)
        delayed = np.zeros(n)
        if self.delay_bars < n:
            delayed[self.delay_bars :] = target[: n - self.delay_bars]
        close = self.at_end is EndOfRun.CLOSE
        held = delayed.copy()  # the last position held to the end, marked at mid
        if n:
            held[-1] = (held[-2] if n > 1 else 0.0) if close else held[-1]
            forced = close and delayed[-1] != 0.0
            if close:
                delayed[-1] = 0.0
        else:
            forced = False
        fee_arrays = self.fees.arrays([leg.instrument for leg in spread_legs])
        fee, cap = fee_arrays.rate(self.liquidity), fee_arrays.premium_cap
        pos, conv, cross, fees, fund, traded = run_legs(
            delayed, x.bid, x.ask, x.mid, x.ratio, x.multiplier, x.kind, fee, cap,
            x.funding_rate, x.funding_price, x.underlying, x.fx,
        )  # fmt: skip
        trades = _trade_list(ts, pos, x, fee, cap, spread_legs, events, self.delay_bars, forced=forced)
        still_open = open_at_end(ts, held, delayed, x, fee, cap, spread_legs, closed=close)
        metrics = compute_metrics(
            ts_ns=ts,
            capital=self.capital,
            convergence=conv,
            crossing=cross,
            fees=fees,
            funding=fund,
            traded_notional=traded,
            n_trades=closed_round_trips(delayed),
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
            open_at_end=still_open,
            funding_events=funding_ledger(ts, pos, x, spread_legs),
        )


def _trade_list(
    ts: IntArray,
    pos: FloatArray,
    x: LegArrays,
    fee: FloatArray,
    cap: FloatArray,
    legs: Sequence[Leg],
    events: IntArray | None,
    delay: int,
    *,
    forced: bool,
) -> pl.DataFrame:
    prev = np.vstack([np.zeros((1, pos.shape[1])), pos[:-1]])
    dq = pos - prev
    rows_t, rows_l = np.nonzero(dq)
    qty = dq[rows_t, rows_l]
    price = np.where(qty > 0, x.ask[rows_t, rows_l], x.bid[rows_t, rows_l])
    value = np.empty(qty.size)
    cost = np.empty(qty.size)
    for j in range(len(legs)):
        sel = rows_l == j
        if not sel.any():
            continue
        m, k = float(x.multiplier[j]), int(x.kind[j])
        value[sel] = np.abs(_k.notional(qty[sel], price[sel], m, k))
        und = np.ascontiguousarray(x.underlying[rows_t[sel], j])
        cost[sel] = _k.fee(qty[sel], price[sel], und, m, k, float(fee[j]), float(cap[j]))
    fx = x.fx[rows_t, rows_l]
    ev = np.zeros(rows_t.size, dtype=np.int64)
    if events is not None:
        src = rows_t - delay
        ok = src >= 0
        ev[ok] = np.asarray(events, dtype=np.int64)[src[ok]]
    return pl.DataFrame(
        {
            "ts_ns": ts[rows_t],
            "instrument_id": [str(legs[int(j)].instrument.id) for j in rows_l],
            "side": np.sign(qty).astype(np.int8),
            "qty": np.abs(qty),
            "price": price,
            "notional_usd": value * fx,
            "fee_usd": cost * fx,
            "event": ev,
            "at_end": forced & (rows_t == ts.size - 1),
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
            "at_end": pl.Boolean,
        },
    )
