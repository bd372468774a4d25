"""The vectorised band objective: the demo's numbers, no look-ahead, warm-up from the training bars."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from spreadlab.backtest.demo import BasisDemoConfig, demo_market, run_basis_demo
from spreadlab.backtest.objective import BandObjective, Objective, SpreadData
from spreadlab.backtest.vectorized import LegQuotes
from spreadlab.data.market import build_market
from spreadlab.errors import ValidationError
from spreadlab.instruments.fees import FeeModel


@pytest.fixture(scope="module")
def market():  # type: ignore[no-untyped-def]
    return build_market(demo_market())


def _objective(market) -> BandObjective:  # type: ignore[no-untyped-def]
    return BandObjective(data=SpreadData.basis(market), fees=FeeModel.default())  # the demo's venue rates


def test_band_objective_reproduces_the_demo(market, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cfg = BasisDemoConfig(stop_z=6.0)
    demo = run_basis_demo(cfg, out_dir=tmp_path)
    obj = _objective(market)
    assert isinstance(obj, Objective)
    params = {"window": 240, "entry_z": 2.0, "exit_z": 0.0, "stop_z": 6.0, "min_edge_multiple": 1.0}
    res = obj.run(params)
    assert np.array_equal(res.positions, demo.backtest.positions)
    assert res.metrics == demo.backtest.metrics
    out = obj(params)
    assert out.metrics["sharpe"] == demo.backtest.metrics.sharpe
    assert out.returns.sum() == pytest.approx(demo.backtest.metrics.total_return)


def test_positions_never_depend_on_later_bars(market) -> None:  # type: ignore[no-untyped-def]
    obj = _objective(market)
    params = {"window": 120, "entry_z": 1.5}
    full = obj.positions(params)
    t = 2500
    data = obj.data
    scrambled = {}
    rng = np.random.default_rng(0)
    for iid, q in data.legs.items():
        bump = np.ones(len(data))
        bump[t + 1 :] = rng.uniform(0.99, 1.01, size=len(data) - t - 1)
        scrambled[iid] = LegQuotes(
            bid=np.asarray(q.bid) * bump, ask=np.asarray(q.ask) * bump,
            funding_times_ns=q.funding_times_ns, funding_rates=q.funding_rates,
        )  # fmt: skip
    other = obj.with_data(SpreadData(spread=data.spread, ts_ns=data.ts_ns, legs=scrambled, data_key="x"))
    assert np.array_equal(other.positions(params)[: t + 1], full[: t + 1])


def test_a_test_window_warmed_up_on_training_bars_trades_like_the_full_run(market) -> None:  # type: ignore[no-untyped-def]
    obj = _objective(market)
    params = {"window": 240, "entry_z": 2.0, "min_edge_multiple": 1.0}
    full = obj.positions(params)
    k = 3000
    assert full[k - 1] == 0.0  # flat at the split, so the rule's state carries nothing over
    test = obj.with_data(obj.data.slice(k, len(obj.data)))
    got = test.positions(params, warmup=obj.data.slice(0, k))
    assert np.array_equal(got, full[k:])
    # without warm-up the first window - 1 bars are flat
    assert np.all(test.positions(params)[:239] == 0.0)


def test_bad_parameters_are_clear_errors(market) -> None:  # type: ignore[no-untyped-def]
    obj = _objective(market)
    with pytest.raises(ValidationError, match="unknown band parameter"):
        obj({"windw": 10})
    with pytest.raises(ValidationError, match="window=1.5 must be an int >= 2"):
        obj({"window": 1.5})
    with pytest.raises(ValidationError, match="exit_z"):
        obj({"entry_z": 1.0, "exit_z": 1.0})


def test_the_basis_data_charges_funding_on_the_markets_mark_at_each_funding_time(market) -> None:  # type: ignore[no-untyped-def]
    perp = market.perp
    q = SpreadData.basis(market).legs[perp.id]
    marks = market.mark.filter(pl.col("instrument_id") == str(perp.id))
    want = {int(t): float(m) for t, m in zip(marks["ts_event"], marks["mark"], strict=True)}
    assert q.funding_marks is not None and q.funding_times_ns.size > 0
    # every funding time has a published mark exactly at it in the built-in market
    assert q.funding_marks.tolist() == [want[int(t)] for t in q.funding_times_ns]
    res = BandObjective(data=SpreadData.basis(market)).run({"window": 240, "entry_z": 1.0})
    assert set(res.funding_events["price_source"].to_list()) == {"mark"}
    assert res.funding_events["payment_usd"].sum() == pytest.approx(res.metrics.pnl.funding)
