"""Every recorded dislocation appears in the data with its recorded size, and nothing else does.

The same seed built with ``dislocations=False`` is the counterfactual: every
other random stream is unchanged, so the difference between the two markets
is exactly the injected episodes (up to one tick of quoting).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from spreadlab.data.market import DislocationKind, SimulatedMarket, SizeUnit


def _mid(frame: pl.DataFrame) -> np.ndarray:
    return ((frame["bid"] + frame["ask"]) / 2).to_numpy()


def _window(ts: np.ndarray, row: dict) -> np.ndarray:
    return (ts >= row["start_ns"]) & (ts < row["end_ns"])


def _check_bp(ts: np.ndarray, diff_bp: np.ndarray, truth: pl.DataFrame, tol_bp: float) -> None:
    expected = np.zeros_like(diff_bp)
    for row in truth.iter_rows(named=True):
        w = _window(ts, row)
        assert w.any(), row
        expected[w] += row["size"]
    np.testing.assert_allclose(diff_bp, expected, atol=tol_bp)


def test_ground_truth_table_is_well_formed(market: SimulatedMarket) -> None:
    gt = market.ground_truth
    kinds = set(gt["kind"])
    assert kinds == {k.value for k in DislocationKind}
    assert (gt["end_ns"] > gt["start_ns"]).all()
    assert set(gt["unit"]) == {u.value for u in SizeUnit}
    assert (gt.filter(pl.col("unit") == "vol_points")["kind"] == "iv_mispricing").all()
    cfg = market.config
    assert (gt["start_ns"] >= cfg.start_ns).all() and (gt["end_ns"] <= cfg.end_ns + cfg.step_ns).all()
    ids = {str(i.id) for i in market.instruments}
    assert set(gt["instrument_id"]) <= ids
    # episodes of one instrument never overlap
    for _, g in gt.sort("start_ns").group_by("instrument_id"):
        assert (g["start_ns"][1:].to_numpy() >= g["end_ns"][:-1].to_numpy()).all()
    # sizes lie in the configured ranges
    bursts = gt.filter(pl.col("kind") == "premium_burst")["size"].abs()
    assert bursts.min() >= cfg.perp.burst_size_bp[0] and bursts.max() <= cfg.perp.burst_size_bp[1]


def test_premium_bursts_appear_with_the_recorded_size(market, calm_market) -> None:
    iid = "SIM:BTC-PERP"
    q, q0 = market.frame(iid), calm_market.frame(iid)
    index = market.frame(iid, "mark")["index"].to_numpy()
    np.testing.assert_array_equal(index, calm_market.frame(iid, "mark")["index"].to_numpy())
    ts = q["ts_event"].to_numpy()
    diff_bp = (_mid(q) - _mid(q0)) / index * 1e4
    truth = market.ground_truth.filter(pl.col("instrument_id") == iid)
    assert set(truth["kind"]) == {"premium_burst"} and truth.height >= 3
    _check_bp(ts, diff_bp, truth, tol_bp=0.1 / 50_000 * 1e4 * 2 + 0.01)


def test_venue_dislocations_appear_with_the_recorded_size(market, calm_market) -> None:
    lag = market.config.venue2.lag_steps
    a, a0 = _mid(market.frame("SIM:BTC-PERP")), _mid(calm_market.frame("SIM:BTC-PERP"))
    q = market.frame("SIM2:BTC-PERP")
    b, b0 = _mid(q), _mid(calm_market.frame("SIM2:BTC-PERP"))
    idx = np.maximum(np.arange(a.shape[0]) - lag, 0)
    # SIM2 follows SIM's lagged mid, so remove SIM's own bursts before comparing
    diff_bp = ((b / b0) / (a[idx] / a0[idx]) - 1.0) * 1e4
    truth = market.ground_truth.filter(pl.col("instrument_id") == "SIM2:BTC-PERP")
    assert set(truth["kind"]) == {"venue_dislocation"} and truth.height >= 5
    _check_bp(q["ts_event"].to_numpy(), diff_bp, truth, tol_bp=0.1)


def test_basis_dislocations_appear_with_the_recorded_size(market, calm_market) -> None:
    truth_all = market.ground_truth.filter(pl.col("kind") == "basis_dislocation")
    assert truth_all.height >= 1
    for iid in {str(i.id) for i in market.instruments if type(i).__name__ == "Future"}:
        q, q0 = market.frame(iid), calm_market.frame(iid)
        diff_bp = (_mid(q) / _mid(q0) - 1.0) * 1e4
        _check_bp(q["ts_event"].to_numpy(), diff_bp, truth_all.filter(pl.col("instrument_id") == iid), 0.1)


def test_pair_spread_shocks_appear_with_the_recorded_size(market, calm_market) -> None:
    truth = market.ground_truth.filter(pl.col("kind") == "pair_spread")
    assert truth.height >= 3
    for row in market.pairs.iter_rows(named=True):
        lead, fol = row["leader_id"], row["follower_id"]
        b, b0 = market.frame(fol), calm_market.frame(fol)
        np.testing.assert_array_equal(market.frame(lead)["close"], calm_market.frame(lead)["close"])
        diff_bp = np.log(b["close"].to_numpy() / b0["close"].to_numpy()) * 1e4
        tick = market.instrument(fol).tick_size
        tol = 2 * tick / b["close"].min() * 1e4 + 0.01
        # a bar shows the spread at its close, ts_recv
        _check_bp(b["ts_recv"].to_numpy(), diff_bp, truth.filter(pl.col("instrument_id") == fol), tol)


def test_iv_mispricings_touch_only_the_recorded_option_and_window(market, calm_market) -> None:
    truth = market.ground_truth.filter(pl.col("kind") == "iv_mispricing")
    assert truth.height >= 5
    a, b = market.option_quotes, calm_market.option_quotes
    assert a["mark"].equals(b["mark"]) and a["mark_iv"].equals(b["mark_iv"])
    moved = (a["ask"] != b["ask"]).to_numpy() | (a["bid"].fill_null(0) != b["bid"].fill_null(0)).to_numpy()
    flagged = np.zeros(a.height, dtype=bool)
    ts = a["ts_event"].to_numpy()
    ids = a["instrument_id"].to_numpy()
    for row in truth.iter_rows(named=True):
        w = _window(ts, row) & (ids == row["instrument_id"])
        assert w.sum() >= 2, row
        flagged |= w
        # the quote's mid moves the way of the recorded IV bump, by about vega x size
        dm = _mid(a.filter(pl.Series(w))) - _mid(b.filter(pl.Series(w)))
        assert np.sign(dm).tolist() == [np.sign(row["size"])] * int(w.sum())
    assert not (moved & ~flagged).any()
    assert moved[flagged].mean() > 0.9


@pytest.mark.parametrize("kind", list(DislocationKind))
def test_no_dislocations_when_switched_off(calm_market, kind) -> None:
    assert calm_market.ground_truth.filter(pl.col("kind") == kind.value).height == 0
