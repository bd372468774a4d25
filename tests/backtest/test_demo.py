"""The demo end to end on a one-day built-in market."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import polars as pl
import pytest

from spreadlab.backtest.demo import BasisDemoConfig, demo_market, run_basis_demo
from spreadlab.data.market import build_market


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory):
    cfg = BasisDemoConfig(market=dataclasses.replace(demo_market(), days=1.5, seed=11), window_bars=120)
    return run_basis_demo(cfg, out_dir=tmp_path_factory.mktemp("demo"))


def test_outputs_and_pnl_split(demo_run) -> None:
    res = demo_run
    m = res.backtest.metrics
    assert res.report_path.exists() and res.trades_path.exists()
    assert m.pnl.total == pytest.approx(float(res.backtest.pnl.sum()))
    assert m.pnl.total == pytest.approx(m.pnl.convergence + m.pnl.crossing + m.pnl.fees + m.pnl.funding)
    assert m.periods_per_year == pytest.approx(365.25 * 24 * 60)  # 1-minute bars
    trades = pl.read_parquet(res.trades_path)
    assert {"time", "instrument_id", "side", "qty", "price", "fee_usd", "event"} <= set(trades.columns)
    assert trades.height > 0
    assert (trades["fee_usd"] > 0).all()
    # entries and exits come in perp/spot pairs on the same bar
    assert trades.height % 2 == 0
    assert set(trades["event"].unique().to_list()) <= {"none", "entry", "exit", "stop", "time_exit"}
    summary = res.summary()
    assert summary["metrics"]["n_trades"] == m.n_trades
    assert 0 <= summary["premium_bursts_traded"] <= summary["premium_bursts_injected"]


def test_every_fill_is_at_its_bars_touch(demo_run) -> None:
    # buys pay the ask and sells receive the bid of the market's own quote at the fill's bar
    quotes = build_market(demo_run.config.market).quotes.select(
        pl.col("ts_event").alias("ts_ns"), "instrument_id", "bid", "ask"
    )
    fills = demo_run.backtest.trades.join(quotes, on=["ts_ns", "instrument_id"], how="left")
    assert fills.height == demo_run.backtest.trades.height > 0
    assert fills["bid"].null_count() == 0
    buys, sells = fills.filter(pl.col("side") == 1), fills.filter(pl.col("side") == -1)
    assert buys.height > 0 and sells.height > 0
    assert (buys["price"] == buys["ask"]).all()
    assert (sells["price"] == sells["bid"]).all()
    # and the fee is the venue's taker rate on the fill's notional (SIM: perp 0.05%, spot 0.10%)
    rate = pl.when(pl.col("instrument_id").str.contains("PERP")).then(0.0005).otherwise(0.001)
    want = fills.select(pl.col("qty") * pl.col("price") * rate).to_series()
    assert fills["fee_usd"].to_list() == pytest.approx(want.to_list(), rel=1e-12)


def test_report_is_self_contained_with_three_charts(demo_run) -> None:
    html = Path(demo_run.report_path).read_text()
    assert not re.search(r"<script[^>]+src=[\"']https?:", html), "report must not load scripts from a CDN"
    assert "plotly" in html.lower() and len(html) > 1_000_000  # plotly.js inlined
    for title in ("Spread: basis", "Position, entries and exits", "Equity (USD) and PnL split"):
        assert title in html


def test_same_seed_same_trades(tmp_path: Path, demo_run) -> None:
    again = run_basis_demo(demo_run.config, out_dir=tmp_path)
    assert again.backtest.trades.equals(demo_run.backtest.trades)
    other = run_basis_demo(
        dataclasses.replace(demo_run.config, market=dataclasses.replace(demo_run.config.market, seed=12)),
        out_dir=tmp_path / "other",
    )
    assert other.backtest.equity.tolist() != demo_run.backtest.equity.tolist()
