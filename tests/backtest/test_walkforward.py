"""Walk-forward validation: window layout, the injected edge found out of sample, noise rejected, no look-ahead."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from spreadlab.backtest.objective import SpreadData
from spreadlab.backtest.refit import BandStrategy, Refittable
from spreadlab.backtest.search import Choice, FloatRange, GridSampler, IntRange
from spreadlab.backtest.vectorized import LegQuotes
from spreadlab.backtest.walkforward import WalkForward, walk_forward_search
from spreadlab.data.market import MarketConfig, SimulatedMarket, build_market
from spreadlab.data.market.config import PerpConfig
from spreadlab.data.trials import TrialLog
from spreadlab.errors import InsufficientDataError, ValidationError
from spreadlab.instruments import parse_symbol
from spreadlab.instruments.fees import FeeModel, FeeRate
from spreadlab.signals.hedge import ols_hedge
from spreadlab.signals.spread import Leg, Spread, SpreadQuote

SPACE = {
    "window": IntRange(low=120, high=480, step=120),
    "entry_z": FloatRange(low=1.5, high=3.0, step=0.5),
    "min_edge_multiple": Choice(options=(1.0, 1.5, 2.0)),
}  # 4 x 4 x 3 = 48 configurations


def _market(*, noise: bool, seed: int = 1) -> SimulatedMarket:
    # 40 days of 5-minute bars, six premium bursts a day: enough trades for the edge to clear deflation
    perp = (
        PerpConfig(burst_rate_per_day=0.0, premium_sd_bp=2000.0, premium_half_life_minutes=1e7)
        if noise  # the premium is a random walk: nothing reverts, no edge
        else PerpConfig(burst_rate_per_day=6.0)
    )
    cfg = MarketConfig(
        days=40.0, seed=seed, step_seconds=300.0, universe=None, venue2=None, options=None, perp=perp
    )
    return build_market(cfg)


def _strategy(market: SimulatedMarket) -> BandStrategy:
    fees = FeeModel.default(
        overrides={
            str(market.perp.id): FeeRate(maker=0.0, taker=0.0002),
            str(market.spot.id): FeeRate(maker=0.0, taker=0.0004),
        }
    )
    return BandStrategy(data=SpreadData.basis(market), fees=fees)


@pytest.fixture(scope="module")
def edge_market() -> SimulatedMarket:
    return _market(noise=False)


def test_windows_are_laid_out_as_documented() -> None:
    roll = WalkForward(scheme="rolling", n_windows=3, initial=0.4, gap_bars=2)
    # T = ceil(0.4 * 100) = 40, first test at 42, L = (100 - 42) // 3 = 19, the last takes the rest
    assert roll.windows(100) == [(0, 40, 42, 61), (19, 59, 61, 80), (38, 78, 80, 100)]
    anch = WalkForward(scheme="anchored", n_windows=2, train_bars=30, test_bars=10)
    assert anch.windows(100) == [(0, 30, 30, 40), (0, 40, 40, 50)]
    with pytest.raises(InsufficientDataError, match="cannot hold 5 test window"):
        WalkForward(n_windows=5, train_bars=90).windows(100)
    with pytest.raises(ValidationError, match="scheme='expanding'"):
        WalkForward(scheme="expanding")  # type: ignore[arg-type]


def test_walk_forward_recovers_the_injected_edge_out_of_sample(edge_market, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    strategy = _strategy(edge_market)
    assert isinstance(strategy, Refittable)
    log = TrialLog(tmp_path)
    res = walk_forward_search(strategy, SPACE, sampler=GridSampler(), walk=WalkForward(n_windows=4), log=log)
    assert res.verdict.passed, res.verdict.line
    assert res.verdict.line.startswith("PASS")
    assert res.stats.dsr >= 0.95 and res.stats.psr > 0.99
    # every window makes money out of sample with what it chose in sample
    assert all(w.oos_metrics["sharpe"] > 0 and w.oos_metrics["n_trades"] >= 1 for w in res.windows)
    assert res.pbo is not None and res.pbo.pbo < 0.2
    # every training evaluation is in the log; deflation counts the 48 distinct configurations
    assert log.read().height == 48 * 4
    assert res.n_trials == 48
    # the profit comes from the injected bursts: most out-of-sample PnL is made on bars inside one
    truth = edge_market.ground_truth.filter(
        (pl.col("instrument_id") == str(edge_market.perp.id)) & (pl.col("kind") == "premium_burst")
    )
    inside = np.zeros(res.oos_ts.size, dtype=bool)
    for lo, hi in zip(truth["start_ns"].to_list(), truth["end_ns"].to_list(), strict=True):
        inside |= (res.oos_ts >= lo) & (res.oos_ts < hi + 6 * 3600 * 10**9)  # and the reversion after it
    assert res.oos_returns[inside].sum() > 0.8 * res.oos_returns.sum() > 0


def test_walk_forward_on_a_pure_noise_market_reports_no_edge() -> None:
    res = walk_forward_search(
        _strategy(_market(noise=True)), SPACE, sampler=GridSampler(), walk=WalkForward(n_windows=4)
    )
    assert not res.verdict.passed
    assert res.verdict.line.startswith("FAIL")
    assert res.stats.dsr < 0.95
    assert res.n_trials == 48


def test_perturbing_a_test_window_never_changes_its_choice(edge_market) -> None:  # type: ignore[no-untyped-def]
    strategy = _strategy(edge_market)
    walk = WalkForward(scheme="rolling", n_windows=3)
    base = walk_forward_search(strategy, SPACE, sampler=GridSampler(), walk=walk)
    rng = np.random.default_rng(4)
    for k, (_, _, lo, hi) in enumerate(walk.windows(len(strategy))):
        legs = {}
        for iid, q in strategy.data.legs.items():
            bump = np.ones(len(strategy))
            bump[lo:hi] = rng.uniform(0.97, 1.03, size=hi - lo)  # scramble the test window's prices
            legs[iid] = dataclasses.replace(q, bid=np.asarray(q.bid) * bump, ask=np.asarray(q.ask) * bump)
        data = dataclasses.replace(strategy.data, legs=legs)
        got = walk_forward_search(
            dataclasses.replace(strategy, data=data), SPACE, sampler=GridSampler(), walk=walk
        )
        assert got.windows[k].params == base.windows[k].params
        assert got.windows[k].is_metrics == base.windows[k].is_metrics
        assert got.windows[k].fitted == base.windows[k].fitted
        assert got.windows[k].oos_metrics != base.windows[k].oos_metrics  # the test window did change


def _pair_data(beta: float, n: int = 600) -> SpreadData:
    rng = np.random.default_rng(9)
    x = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    y = beta * x + 5.0 + rng.normal(0, 0.3, n)  # cointegrated: a stationary residual
    a, b = parse_symbol("BINANCE_USDM", "ETHUSDT"), parse_symbol("BINANCE_USDM", "BTCUSDT")
    spread = Spread(legs=(Leg(instrument=a, ratio=1.0), Leg(instrument=b, ratio=-1.0)), name="pair")
    legs = {
        a.id: LegQuotes(bid=y - 0.01, ask=y + 0.01),
        b.id: LegQuotes(bid=x - 0.01, ask=x + 0.01),
    }
    return SpreadData(spread=spread, ts_ns=np.arange(n, dtype=np.int64) * 3_600_000_000_000, legs=legs,
                      data_key="pair")  # fmt: skip


def test_ols_hedge_and_size_are_refitted_on_the_training_bars_only() -> None:
    data = _pair_data(beta=2.0)
    s = BandStrategy(data=data, hedge="ols", notional_usd=10_000.0, fees=FeeModel.zero())
    fit = s.fit(np.arange(100, 300))
    ymid = np.asarray(data.legs[data.spread.legs[0].instrument.id].bid)[100:300] + 0.01
    xmid = np.asarray(data.legs[data.spread.legs[1].instrument.id].bid)[100:300] + 0.01
    slope = np.polyfit(xmid, ymid, 1)[0]
    assert fit.fitted()["hedge_ratio"] == pytest.approx(slope, rel=1e-9)
    assert fit.fitted()["hedge_ratio"] == pytest.approx(ols_hedge(ymid, xmid).beta, rel=1e-12)
    assert abs(slope - 2.0) < 0.05
    assert fit.data.spread.legs[1].ratio == pytest.approx(-slope)
    assert fit.fitted()["units"] == pytest.approx(10_000.0 / ymid.mean())
    # the window objective trades 1 : -beta and is flat on its last bars
    obj = fit.window(300, 400)
    pos = obj.positions({"window": 24, "entry_z": 1.0})
    assert pos[-2:].tolist() == [0.0, 0.0]
    with pytest.raises(ValidationError, match="quote must be 'difference'"):
        BandStrategy(
            data=dataclasses.replace(
                data, spread=dataclasses.replace(data.spread, quote=SpreadQuote.LOG_RATIO)
            ),
            hedge="ols",
        )


def test_a_strategy_with_its_fee_model_pickles_for_worker_processes(edge_market) -> None:  # type: ignore[no-untyped-def]
    import pickle

    s = _strategy(edge_market)
    back = pickle.loads(pickle.dumps(s))
    assert back.fees == s.fees and back.fees.rates == s.fees.rates
    params = {"window": 240, "entry_z": 2.0}
    assert back.window(100, 2000)(params).metrics == s.window(100, 2000)(params).metrics
