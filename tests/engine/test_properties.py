"""Invariants of the engine on random order flow: cash is conserved up to fees and funding, no fill beats the book."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from spreadlab.backtest.engine_run import Backtest, BacktestConfig
from spreadlab.core.enums import Side
from spreadlab.engine.core import EngineConfig
from spreadlab.execution.venue import LatencyModel, SimulatedVenue
from spreadlab.instruments import parse_symbol

from .helpers import Action, Scripted, funding, quotes

PERP = parse_symbol("BINANCE_USDM", "BTCUSDT")
DPERP = parse_symbol("DERIBIT", "BTC-PERPETUAL")


def _market(seed: int) -> tuple[dict[str, pl.DataFrame], list[Action]]:
    rng = np.random.default_rng(seed)
    n = 400
    mid = 60_000 + np.cumsum(rng.normal(0, 30, n))
    rows_a = [(k * 1.0, round(m - 0.5, 1), round(m + 0.5, 1), 2.0, 2.0) for k, m in enumerate(mid)]
    rows_b = [
        (k + 0.5, round((m + 20) * 2) / 2 - 0.5, round((m + 20) * 2) / 2, 1e5, 1e5) for k, m in enumerate(mid)
    ]
    tables = {
        "quotes": pl.concat(
            [quotes(PERP.id, rows_a, lag=2_000_000), quotes(DPERP.id, rows_b, lag=9_000_000)]
        ),
        "funding": pl.concat(
            [funding(PERP.id, [(100, 0.0001), (300, -0.0002)]), funding(DPERP.id, [(200, 0.00005)])]
        ),
    }
    acts = []
    for t in sorted(rng.uniform(1, n - 5, 60)):
        inst = PERP if rng.random() < 0.5 else DPERP
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        qty = float(rng.integers(1, 30)) * (0.001 if inst is PERP else 10.0)
        acts.append(Action(float(t), inst.id, side, qty))
    return tables, acts


@pytest.mark.parametrize("seed", range(4))
def test_cash_changes_by_realised_pnl_minus_fees_plus_funding_and_no_fill_beats_the_book(seed: int) -> None:
    tables, acts = _market(seed)
    venues = (
        SimulatedVenue(
            venue="BINANCE_USDM",
            impact_bp=0.0,
            latency=LatencyModel.constant(entry_ns=3_000_000, response_ns=3_000_000),
        ),
        SimulatedVenue(venue="DERIBIT", impact_bp=0.0, balances={"BTC": 2.0}),
    )
    strat = Scripted(acts)
    bt = Backtest(
        config=BacktestConfig(engine=EngineConfig(venues=venues)),
        python_strategy=strat,
        extra_instruments=[PERP, DPERP],
    )
    res = bt.run(tables)
    assert res.fills.height > 20
    # conservation per venue and settlement currency, exact up to float rounding
    pos = res.positions
    for inst, ccy, venue in ((PERP, "USDT", "BINANCE_USDM"), (DPERP, "BTC", "DERIBIT")):
        p = pos.filter(pl.col("instrument_id") == str(inst.id)).to_dicts()[0]
        b = res.balances.filter((pl.col("venue") == venue) & (pl.col("currency") == ccy)).to_dicts()[0]
        assert p["quantity"] == 0.0  # closed at the end
        assert b["final"] - b["initial"] == pytest.approx(p["realised"] - p["fees"] + p["funding"], abs=1e-9)
        fl = res.fills.filter(pl.col("instrument_id") == str(inst.id))
        assert float(fl["realised"].sum()) == pytest.approx(p["realised"], abs=1e-9)
        assert float(fl["fee"].sum()) == pytest.approx(p["fees"], abs=1e-12)
    # every taker fill is at the venue's touch in force at the fill time (quotes: no better, no worse)
    q = tables["quotes"].sort("ts_event")
    for f in res.fills.filter(pl.col("liquidity") == "taker").to_dicts():
        book = q.filter(
            (pl.col("instrument_id") == f["instrument_id"]) & (pl.col("ts_event") <= f["ts"])
        ).tail(1)
        touch = book["ask"][0] if f["side"] > 0 else book["bid"][0]
        assert f["price"] == touch
    # no order reached the venue before its entry latency
    o = res.orders.filter((pl.col("instrument_id") == str(PERP.id)) & (pl.col("owner") == "python"))
    assert ((o["ts_arrive"] - o["ts_sent"]) == 3_000_000).all()
    assert res.metrics.events == tables["quotes"].height + tables["funding"].height
