"""The demo: the perpetual–spot basis on the built-in market, end to end.

1. Build the seeded simulated market (no network).
2. Align the perpetual's and the spot's quotes on the bar grid.
3. Quote the spread as the basis ``perp / spot - 1`` at mids and at the
   executable touch (buy the basis at perp ask / spot bid, sell it at perp
   bid / spot ask).
4. Score it with a trailing rolling z-score (:class:`ZScoreBands`) and trade
   the band rule, entering only where the deviation from the rolling mean
   exceeds ``min_edge_multiple`` times the round-trip cost at that bar
   (the basis bid/ask spread plus taker fees on both legs, in and out).
5. Run the vectorised backtest (decisions execute one bar later, at the
   touch, with taker fees and funding paid at 00/08/16 UTC on the mark price;
   a position still open at the end is closed at the touch), compute the
   metrics, and write ``report.html`` and ``trades.parquet``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from spreadlab._typing import FloatArray, IntArray
from spreadlab.analytics.report import ReportData, write_report
from spreadlab.backtest.inputs import market_funding
from spreadlab.backtest.vectorized import LegQuotes, VectorizedBacktest, VectorizedResult
from spreadlab.core.enums import Liquidity
from spreadlab.core.ids import InstrumentId
from spreadlab.core.time import ns_to_iso
from spreadlab.core.validate import require_non_negative, require_positive
from spreadlab.data.market import MarketConfig, SimulatedMarket, build_market
from spreadlab.data.market.config import PerpConfig
from spreadlab.errors import DataError, ValidationError
from spreadlab.instruments.fees import FeeModel
from spreadlab.kernels.rolling import rolling_mean_std
from spreadlab.signals.base import SignalFrame
from spreadlab.signals.rules import RuleEvent, ThresholdRule, ZScoreBands
from spreadlab.signals.spread import Leg, Spread, SpreadQuote

__all__ = ["BasisDemoConfig", "DemoResult", "demo_market", "run_basis_demo"]

Progress = Callable[[str, float], None]


def demo_market() -> MarketConfig:
    """Return the demo's market: the built-in market with premium bursts of 30-90 bp.

    The default market's bursts (8-30 bp) never cover a basis round trip at
    the venue's base-tier taker rates (perpetual 0.05% + spot 0.10%, in and
    out: 30 bp plus half-spreads), so the demo injects larger ones.
    """
    return MarketConfig(perp=PerpConfig(burst_size_bp=(30.0, 90.0)))


@dataclass(frozen=True, slots=True, kw_only=True)
class BasisDemoConfig:
    """Parameters of the basis demo.

    Parameters
    ----------
    market
        The built-in market to generate (default :func:`demo_market`).
    window_bars
        Trailing window of the rolling z-score, in bars.
    entry_z, exit_z, stop_z, max_hold_bars
        The band rule (see :class:`ThresholdRule`).
    units
        Coins per leg per unit of position (long 1 perp / short 1 spot).
    capital
        USD capital the returns are measured on.
    fees
        The fee model; both legs pay its taker rates (default
        :meth:`FeeModel.default`: the simulated venue charges Binance's base
        tier, perpetual 0.05%, spot 0.10%).
    min_edge_multiple
        Enter only if |basis - rolling mean| >= this multiple of the round-trip cost.
    delay_bars
        Bars between decision and execution.
    """

    market: MarketConfig = field(default_factory=demo_market)
    window_bars: int = 240
    entry_z: float = 2.0
    exit_z: float = 0.0
    stop_z: float = 6.0
    max_hold_bars: int = 0
    units: float = 1.0
    capital: float = 100_000.0
    fees: FeeModel = field(default_factory=FeeModel.default)
    min_edge_multiple: float = 1.0
    delay_bars: int = 1

    def __post_init__(self) -> None:
        if self.window_bars < 2:
            raise ValidationError(f"window_bars={self.window_bars} must be >= 2")
        ThresholdRule(
            entry_z=self.entry_z, exit_z=self.exit_z, stop_z=self.stop_z, max_hold_bars=self.max_hold_bars
        )
        require_positive("units", self.units)
        require_positive("capital", self.capital)
        if not isinstance(self.fees, FeeModel):
            raise ValidationError(f"fees={self.fees!r} must be a FeeModel")
        require_non_negative("min_edge_multiple", self.min_edge_multiple)
        if self.delay_bars < 1:
            raise ValidationError(f"delay_bars={self.delay_bars} must be >= 1 (no look-ahead)")


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoResult:
    """What the demo produced."""

    config: BasisDemoConfig
    spread: Spread
    ts_ns: IntArray
    basis_bp: FloatArray
    backtest: VectorizedResult
    bursts: int
    bursts_traded: int
    report_path: Path
    trades_path: Path

    def summary(self) -> dict[str, object]:
        """JSON-ready summary: the metrics, what was traded and where the files are."""
        m = self.backtest.metrics
        return {
            "spread": self.spread.label,
            "start": ns_to_iso(int(self.ts_ns[0])),
            "end": ns_to_iso(int(self.ts_ns[-1])),
            "bars": int(self.ts_ns.size),
            "metrics": m.to_dict(),
            "premium_bursts_injected": self.bursts,
            "premium_bursts_traded": self.bursts_traded,
            "report": str(self.report_path),
            "trades": str(self.trades_path),
        }


def _leg_quotes(market: SimulatedMarket, iid: InstrumentId) -> pl.DataFrame:
    q = market.quotes.filter(pl.col("instrument_id") == str(iid)).select("ts_event", "bid", "ask")
    if q.is_empty():
        raise DataError(f"the market has no quotes for {iid}")
    return q.sort("ts_event")


def run_basis_demo(
    config: BasisDemoConfig, *, out_dir: str | Path, progress: Progress | None = None
) -> DemoResult:
    """Build the market, trade the perp–spot basis, write the report and the trade list.

    Parameters
    ----------
    config
        The demo's parameters.
    out_dir
        Folder for ``report.html`` and ``trades.parquet`` (created if missing).
    progress
        Optional ``callback(stage, fraction_done)``.
    """
    say = progress or (lambda _stage, _done: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    say("building the simulated market", 0.0)
    market = build_market(config.market, progress=lambda stage, f: say(stage, 0.6 * f))
    perp, spot = market.perp, market.spot
    say("aligning quotes", 0.6)
    grid = _leg_quotes(market, perp.id).join(
        _leg_quotes(market, spot.id), on="ts_event", how="inner", suffix="_spot"
    )
    ts = grid["ts_event"].to_numpy()
    p_bid, p_ask = grid["bid"].to_numpy(), grid["ask"].to_numpy()
    s_bid, s_ask = grid["bid_spot"].to_numpy(), grid["ask_spot"].to_numpy()
    spread = Spread(
        legs=(Leg(instrument=perp, ratio=1.0), Leg(instrument=spot, ratio=-1.0)),
        quote=SpreadQuote.BASIS,
        name=f"basis {perp.id} / {spot.id}",
    )
    basis = spread.value([0.5 * (p_bid + p_ask), 0.5 * (s_bid + s_ask)])
    sell_at, buy_at = spread.executable([p_bid, s_bid], [p_ask, s_ask])
    say("scoring and trading", 0.7)
    w = config.window_bars
    model = ZScoreBands(
        window=w,
        rule=ThresholdRule(
            entry_z=config.entry_z,
            exit_z=config.exit_z,
            stop_z=config.stop_z,
            max_hold_bars=config.max_hold_bars,
        ),
    )
    fitted = model.fit(SignalFrame(ts=ts[: w - 1], columns={"spread": basis[: w - 1]}))
    live = SignalFrame(ts=ts[w - 1 :], columns={"spread": basis[w - 1 :]})
    mean, std = rolling_mean_std(np.ascontiguousarray(basis), w, w, 1)
    taker = config.fees.rate(perp, Liquidity.TAKER) + config.fees.rate(spot, Liquidity.TAKER)
    cost = (buy_at - sell_at) + 2.0 * taker * (1.0 + basis)
    edge_ok = np.abs(basis - mean) >= config.min_edge_multiple * cost
    out_rule = fitted.apply(live, allow=edge_ok[w - 1 :])
    state = np.concatenate((np.zeros(w - 1), out_rule.state))
    events = np.concatenate((np.zeros(w - 1, dtype=np.int64), out_rule.events))
    result = VectorizedBacktest(
        spread=spread, fees=config.fees, capital=config.capital, delay_bars=config.delay_bars
    ).run(
        ts_ns=ts,
        legs={
            perp.id: LegQuotes(bid=p_bid, ask=p_ask, **market_funding(market, perp.id)),
            spot.id: LegQuotes(bid=s_bid, ask=s_ask),
        },
        target_units=state * config.units,
        events=events,
    )
    bursts, traded = _bursts_traded(market, perp.id, ts, events)
    say("writing the report", 0.85)
    bp = 1e4
    entry_band = config.entry_z * std
    exit_band = config.exit_z * std
    report = write_report(
        out / "report.html",
        ReportData(
            title=f"spreadlab demo: {spread.name} (seed {config.market.seed})",
            ts_ns=ts,
            spread=basis * bp,
            spread_label="basis perp/spot - 1 (bp)",
            mean=mean * bp,
            upper_entry=(mean + entry_band) * bp,
            lower_entry=(mean - entry_band) * bp,
            upper_exit=(mean + exit_band) * bp,
            lower_exit=(mean - exit_band) * bp,
            position=result.positions[:, 0],
            events=_shift(events, config.delay_bars),
            equity=result.equity,
            convergence=result.convergence,
            crossing=result.crossing,
            fees=result.fees,
            funding=result.funding,
            metrics=result.metrics,
        ),
    )
    trades_path = out / "trades.parquet"
    result.trades.with_columns(
        pl.col("ts_ns").cast(pl.Datetime("ns", "UTC")).alias("time"),
        pl.col("event").replace_strict({int(e): e.name.lower() for e in RuleEvent}, return_dtype=pl.String),
    ).write_parquet(trades_path)
    say("done", 1.0)
    return DemoResult(
        config=config,
        spread=spread,
        ts_ns=ts,
        basis_bp=basis * bp,
        backtest=result,
        bursts=bursts,
        bursts_traded=traded,
        report_path=report,
        trades_path=trades_path,
    )


def _shift(events: IntArray, delay: int) -> IntArray:
    out = np.zeros_like(events)
    out[delay:] = events[: events.size - delay]
    return out


def _bursts_traded(
    market: SimulatedMarket, perp_id: InstrumentId, ts: IntArray, events: IntArray
) -> tuple[int, int]:
    """Count the injected premium bursts, and those with an entry decided inside them."""
    truth = market.ground_truth.filter(
        (pl.col("instrument_id") == str(perp_id)) & (pl.col("kind") == "premium_burst")
    )
    entries = ts[np.flatnonzero(events == int(RuleEvent.ENTRY))]
    traded = 0
    for start, end in zip(truth["start_ns"].to_list(), truth["end_ns"].to_list(), strict=True):
        if np.any((entries >= start) & (entries < end)):
            traded += 1
    return truth.height, traded
