"""What a parameter search evaluates: an objective maps a parameter set to metrics and returns.

An :class:`Objective` is any picklable callable ``params -> Outcome`` with a
``name`` (logged as the trial's objective), a ``data_key`` and the data's
time range; :func:`spreadlab.backtest.search.search` and walk-forward only
use that. :class:`BandObjective` is the vectorised one: the rolling z-score
band rule (:class:`~spreadlab.signals.rules.ZScoreBands`) on a spread's mid
value, traded by :class:`~spreadlab.backtest.vectorized.VectorizedBacktest`
at the touch with fees and funding. The event-driven ``Backtest`` can plug in
later as another ``Objective``.

Parameters a :class:`BandObjective` reads (defaults from the objective):
``window`` (bars), ``entry_z``, ``exit_z``, ``stop_z`` and
``min_edge_multiple`` (enter only where ``|value - rolling mean|`` is at least
that multiple of the round-trip cost: the executable bid/ask of the spread
plus taker fees on every leg in and out, as in the demo).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import polars as pl

from spreadlab._typing import FloatArray, IntArray
from spreadlab.backtest.inputs import market_funding
from spreadlab.backtest.vectorized import LegQuotes, VectorizedBacktest, VectorizedResult
from spreadlab.core.enums import Liquidity
from spreadlab.core.ids import InstrumentId
from spreadlab.core.validate import require_non_negative, require_positive
from spreadlab.data.market import SimulatedMarket
from spreadlab.errors import DataError, ValidationError
from spreadlab.instruments.fees import FeeModel
from spreadlab.kernels.rolling import rolling_mean_std
from spreadlab.signals.base import SignalFrame
from spreadlab.signals.rules import ThresholdRule, ZScoreBands
from spreadlab.signals.spread import Leg, Spread, SpreadQuote

__all__ = ["BandObjective", "Objective", "Outcome", "SpreadData"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What one evaluation produced: scalar metrics and the per-bar returns (PnL / capital)."""

    metrics: Mapping[str, float]
    returns: FloatArray


@runtime_checkable
class Objective(Protocol):
    """A picklable ``params -> Outcome`` with the identity the trial log needs."""

    @property
    def name(self) -> str:
        """What is evaluated (strategy and spread)."""
        ...

    @property
    def data_key(self) -> str:
        """Which data it runs on."""
        ...

    @property
    def data_range(self) -> tuple[int, int]:
        """First and last bar time (ns)."""
        ...

    def __call__(self, params: Mapping[str, Any]) -> Outcome:
        """Evaluate one parameter set."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SpreadData:
    """A spread's aligned bars: executable quotes per leg, funding, and the mid value."""

    spread: Spread
    ts_ns: IntArray
    legs: Mapping[InstrumentId, LegQuotes]
    data_key: str

    def __post_init__(self) -> None:
        n = np.asarray(self.ts_ns).size
        if n < 3:
            raise ValidationError(f"SpreadData has {n} bar(s); at least 3 are needed")
        for leg in self.spread.legs:
            q = self.legs.get(leg.instrument.id)
            if q is None:
                raise ValidationError(f"SpreadData has no quotes for leg {leg.instrument.id}")
            if np.asarray(q.bid).shape != (n,) or np.asarray(q.ask).shape != (n,):
                raise ValidationError(f"{leg.instrument.id} quotes must have {n} bars like ts_ns")

    def __len__(self) -> int:
        return int(np.asarray(self.ts_ns).size)

    def _sides(self) -> tuple[list[FloatArray], list[FloatArray]]:
        ids = [leg.instrument.id for leg in self.spread.legs]
        return [np.asarray(self.legs[i].bid) for i in ids], [np.asarray(self.legs[i].ask) for i in ids]

    def value(self) -> FloatArray:
        """The spread's value at leg mids per bar."""
        bids, asks = self._sides()
        return np.asarray(self.spread.value([0.5 * (b + a) for b, a in zip(bids, asks, strict=True)]))

    def executable(self) -> tuple[FloatArray, FloatArray]:
        """``(sell_at, buy_at)``: the spread's value at the touch."""
        bids, asks = self._sides()
        sell, buy = self.spread.executable(bids, asks)
        return np.asarray(sell), np.asarray(buy)

    @property
    def data_range(self) -> tuple[int, int]:
        """First and last bar time (ns)."""
        ts = np.asarray(self.ts_ns)
        return int(ts[0]), int(ts[-1])

    def slice(self, lo: int, hi: int) -> SpreadData:
        """Bars ``[lo, hi)`` (funding events outside them dropped)."""
        ts = np.asarray(self.ts_ns)[lo:hi]
        legs = {}
        for iid, q in self.legs.items():
            ft = np.asarray(q.funding_times_ns)
            keep = (ft > ts[0]) & (ft <= ts[-1]) if ft.size else np.zeros(0, dtype=bool)
            legs[iid] = LegQuotes(
                bid=np.asarray(q.bid)[lo:hi],
                ask=np.asarray(q.ask)[lo:hi],
                funding_times_ns=ft[keep],
                funding_rates=np.asarray(q.funding_rates)[keep],
                funding_marks=None if q.funding_marks is None else np.asarray(q.funding_marks)[keep],
                funding_index=None if q.funding_index is None else np.asarray(q.funding_index)[keep],
                underlying=None if q.underlying is None else np.asarray(q.underlying)[lo:hi],
                settlement_usd=None if q.settlement_usd is None else np.asarray(q.settlement_usd)[lo:hi],
            )
        return SpreadData(spread=self.spread, ts_ns=ts, legs=legs, data_key=self.data_key)

    @classmethod
    def basis(cls, market: SimulatedMarket) -> SpreadData:
        """The perpetual/spot basis ``perp / spot - 1`` of the built-in market, with funding."""
        perp, spot = market.perp, market.spot

        def quotes(iid: InstrumentId) -> pl.DataFrame:
            q = market.quotes.filter(pl.col("instrument_id") == str(iid)).select("ts_event", "bid", "ask")
            if q.is_empty():
                raise DataError(f"the market has no quotes for {iid}")
            return q.sort("ts_event")

        grid = quotes(perp.id).join(quotes(spot.id), on="ts_event", how="inner", suffix="_spot")
        spread = Spread(
            legs=(Leg(instrument=perp, ratio=1.0), Leg(instrument=spot, ratio=-1.0)),
            quote=SpreadQuote.BASIS,
            name=f"basis {perp.id} / {spot.id}",
        )
        legs = {
            perp.id: LegQuotes(
                bid=grid["bid"].to_numpy(), ask=grid["ask"].to_numpy(), **market_funding(market, perp.id)
            ),
            spot.id: LegQuotes(bid=grid["bid_spot"].to_numpy(), ask=grid["ask_spot"].to_numpy()),
        }
        key = f"sim-seed{market.config.seed}:{perp.id}/{spot.id}:{market.config.step_seconds:g}s"
        return cls(spread=spread, ts_ns=grid["ts_event"].to_numpy(), legs=legs, data_key=key)


_PARAMS = ("window", "entry_z", "exit_z", "stop_z", "min_edge_multiple")


@dataclass(frozen=True, slots=True, kw_only=True)
class BandObjective:
    """The rolling z-score band rule on a spread, backtested by the vectorised backtest.

    Parameters
    ----------
    data
        The spread's bars.
    defaults
        Values of the band parameters a parameter set does not give
        (``window``, ``entry_z``, ``exit_z``, ``stop_z``, ``min_edge_multiple``).
    fees
        The fee model; taker rates are charged (default :meth:`FeeModel.default`, the venues' base tiers).
    units, capital, delay_bars
        Position size per leg unit, capital for returns, decision-to-fill delay (>= 1).
    warmup
        Earlier bars (e.g. the training window) that seed the rolling window,
        so trading can start on the first bar of ``data``.
    flat_at_end
        Force the last ``delay_bars`` decisions flat, so the run ends with no
        position: the exit is paid inside the run (a walk-forward test window
        carries nothing into the next).
    """

    data: SpreadData
    defaults: Mapping[str, float] = field(
        default_factory=lambda: {
            "window": 240, "entry_z": 2.0, "exit_z": 0.0, "stop_z": math.inf, "min_edge_multiple": 1.0,
        }
    )  # fmt: skip
    fees: FeeModel = field(default_factory=FeeModel.default)
    units: float = 1.0
    capital: float = 100_000.0
    delay_bars: int = 1
    warmup: SpreadData | None = None
    flat_at_end: bool = False

    def __post_init__(self) -> None:
        require_positive("units", self.units)
        require_positive("capital", self.capital)
        if self.delay_bars < 1:
            raise ValidationError(f"delay_bars={self.delay_bars} must be >= 1 (no look-ahead)")
        self._merge({})

    @property
    def name(self) -> str:
        """``zscore-bands:<spread name>``."""
        return f"zscore-bands:{self.data.spread.name or self.data.spread.label}"

    @property
    def data_key(self) -> str:
        """The data's key."""
        return self.data.data_key

    @property
    def data_range(self) -> tuple[int, int]:
        """First and last bar time (ns)."""
        return self.data.data_range

    def with_data(self, data: SpreadData, *, warmup: SpreadData | None = None) -> BandObjective:
        """The same objective on other bars (a walk-forward window), seeded by ``warmup``."""
        return BandObjective(
            data=data, defaults=self.defaults, fees=self.fees, units=self.units, capital=self.capital,
            delay_bars=self.delay_bars, warmup=warmup, flat_at_end=self.flat_at_end,
        )  # fmt: skip

    def _merge(self, params: Mapping[str, Any]) -> dict[str, float]:
        unknown = sorted(set(params) - set(_PARAMS))
        if unknown:
            raise ValidationError(f"unknown band parameter(s) {unknown}; valid: {list(_PARAMS)}")
        p = {**{"stop_z": math.inf, "exit_z": 0.0, "min_edge_multiple": 0.0}, **self.defaults, **params}
        missing = [k for k in _PARAMS if k not in p]
        if missing:
            raise ValidationError(f"band parameter(s) {missing} have no value and no default")
        w = p["window"]
        if isinstance(w, bool) or int(w) != w or w < 2:
            raise ValidationError(f"window={w!r} must be an int >= 2")
        require_non_negative("min_edge_multiple", float(p["min_edge_multiple"]))
        ThresholdRule(entry_z=float(p["entry_z"]), exit_z=float(p["exit_z"]), stop_z=float(p["stop_z"]))
        return {k: float(v) for k, v in p.items()}

    def positions(self, params: Mapping[str, Any], *, warmup: SpreadData | None = None) -> FloatArray:
        """Target spread units per bar (decided on bar t, executed ``delay_bars`` later).

        ``warmup`` (earlier bars, e.g. the training window; default the
        objective's own) seeds the rolling window so trading can start on the
        first bar of ``data``.
        """
        warmup = self.warmup if warmup is None else warmup
        p = self._merge(params)
        w = int(p["window"])
        value = self.data.value()
        sell_at, buy_at = self.data.executable()
        n = value.size
        head = np.zeros(0) if warmup is None else warmup.value()[-(w - 1) :]
        full = np.concatenate((head, value))
        mean, _ = rolling_mean_std(np.ascontiguousarray(full), w, w, 1)
        mean = mean[head.size :]
        cost = (buy_at - sell_at) + 2.0 * self._fee_cost(value)
        allow = np.abs(value - mean) >= p["min_edge_multiple"] * cost
        rule = ThresholdRule(entry_z=p["entry_z"], exit_z=p["exit_z"], stop_z=p["stop_z"])
        if full.size <= w - 1:
            return np.zeros(n)
        fitted = ZScoreBands(window=w, rule=rule).fit(
            SignalFrame(ts=np.arange(w - 1), columns={"spread": full[: w - 1]})
        )
        live = SignalFrame(ts=np.arange(w - 1, full.size), columns={"spread": full[w - 1 :]})
        allow_full = np.concatenate((np.zeros(head.size, dtype=bool), allow))
        state = fitted.apply(live, allow=allow_full[w - 1 :]).state
        out = np.concatenate((np.zeros(w - 1), state))[head.size :] * self.units
        if self.flat_at_end:
            out[max(0, n - 1 - self.delay_bars) :] = 0.0
        return out

    def _fee_cost(self, value: FloatArray) -> FloatArray:
        """Taker fees of trading one spread unit once, in units of the spread's value."""
        spread = self.data.spread
        legs = spread.legs
        if spread.quote is SpreadQuote.BASIS:
            # basis = P1/P2 - 1; fees f1 P1 + f2 P2 per unit of P2 (leg 2 approximated at 1 + basis too)
            fee = sum(self.fees.rate(leg.instrument, Liquidity.TAKER) for leg in legs)
            return np.asarray(fee * np.abs(1.0 + value))
        if spread.quote is SpreadQuote.DIFFERENCE:
            bids, asks = self.data._sides()
            total = np.zeros(value.size)
            for leg, b, a in zip(legs, bids, asks, strict=True):
                total += self.fees.rate(leg.instrument, Liquidity.TAKER) * abs(leg.ratio) * 0.5 * (b + a)
            return total
        if spread.quote is SpreadQuote.LOG_RATIO:
            fee = sum(self.fees.rate(leg.instrument, Liquidity.TAKER) * abs(leg.ratio) for leg in legs)
            return np.full(value.size, fee)
        raise ValidationError(
            f"BandObjective trades basis, difference and log-ratio spreads; {spread.quote.value!r} is not one"
        )

    def run(self, params: Mapping[str, Any], *, warmup: SpreadData | None = None) -> VectorizedResult:
        """Backtest one parameter set; the full :class:`VectorizedResult`."""
        bt = VectorizedBacktest(
            spread=self.data.spread, fees=self.fees, capital=self.capital, delay_bars=self.delay_bars
        )
        return bt.run(
            ts_ns=self.data.ts_ns, legs=self.data.legs, target_units=self.positions(params, warmup=warmup)
        )

    def __call__(self, params: Mapping[str, Any]) -> Outcome:
        """Backtest one parameter set: metrics (``sharpe`` annualised, ``sharpe_per_period``...), returns."""
        res = self.run(params)
        r = res.pnl / self.capital
        sd = float(np.std(r, ddof=1))
        m = res.metrics
        metrics = {
            "sharpe": m.sharpe,
            "sharpe_per_period": float(np.mean(r)) / sd if sd > 0 else 0.0,
            "total_return": m.total_return,
            "annualised_return": m.annualised_return,
            "max_drawdown": m.max_drawdown,
            "n_trades": float(m.n_trades),
            "turnover": m.turnover,
            "periods_per_year": m.periods_per_year,
        }
        return Outcome(metrics=metrics, returns=r)
