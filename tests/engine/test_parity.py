"""The compiled decision step and its plain-Python twin give identical orders and fills on the same tape."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from spreadlab.backtest.result import result_from_state
from spreadlab.engine.core import Engine, EngineConfig
from spreadlab.engine.tape import build_tape
from spreadlab.execution.venue import LatencyModel, SimulatedVenue
from spreadlab.instruments import parse_symbol
from spreadlab.signals.spread import Leg, Spread, SpreadQuote
from spreadlab.strategy.convergence import Bands, HedgeKind, Legging, SpreadConvergence
from spreadlab.strategy.convergence_py import SpreadConvergencePy

from .helpers import deltas, quotes

PERP = parse_symbol("BINANCE_USDM", "BTCUSDT")
DPERP = parse_symbol("DERIBIT", "BTC-PERPETUAL")


def _tables(seed: int) -> dict[str, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    n = 3000
    idx = 60_000 + np.cumsum(rng.normal(0, 8, n))
    prem = np.zeros(n)
    for k in range(1, n):
        prem[k] = 0.97 * prem[k - 1] + rng.normal(0, 6)
    a = [
        (k * 1.0, round(m - 0.5, 1), round(m + 0.5, 1), float(rng.integers(1, 4)), float(rng.integers(1, 4)))
        for k, m in enumerate(idx)
    ]
    # the Deribit leg as a depth book: a snapshot, then top-level deltas every second
    rows = [(0.0, 1, 60_000.0, 1e5, True), (0.0, -1, 60_000.5, 1e5, True)]
    bid, ask = 60_000.0, 60_000.5
    for k, m in enumerate(idx + prem):
        t = k + 0.4
        nb = round(m * 2) / 2 - 0.5
        rows += [
            (t, 1, bid, 0.0, False),
            (t, -1, ask, 0.0, False),
            (t, 1, nb, 2e4, False),
            (t, -1, nb + 0.5, 2e4, False),
        ]
        bid, ask = nb, nb + 0.5
    return {
        "quotes": quotes(PERP.id, a, lag=3_000_000),
        "book_deltas": deltas(DPERP.id, rows, lag=20_000_000),
    }


@pytest.mark.parametrize(("hedge", "market"), [(HedgeKind.FIXED, False), (HedgeKind.ROLLING, True)])
def test_compiled_and_python_paths_send_the_same_orders_and_get_the_same_fills(
    hedge: HedgeKind, market: bool
) -> None:
    tables = _tables(3)
    ids = [str(PERP.id), str(DPERP.id)]
    tape = build_tape(tables, ids)
    strat = SpreadConvergence(
        spread=Spread(
            legs=(Leg(instrument=DPERP, ratio=1.0), Leg(instrument=PERP, ratio=-1.0)),
            quote=SpreadQuote.DIFFERENCE,
        ),
        hedge=hedge,
        window=30,
        bar_ns=10_000_000_000,
        bands=Bands(entry=1.5, exit=0.2, stop=4.0),
        legging=Legging(market=market, slippage_bp=1.0, timeout_ns=500_000_000),
        notional_usd=20_000.0,
        max_hold_ns=600_000_000_000,
    )
    prog = strat.program(tape, ids)
    venues = (
        SimulatedVenue(
            venue="BINANCE_USDM",
            impact_bp=0.5,
            latency=LatencyModel(
                entry_samples=(2_000_000, 9_000_000, 30_000_000), response_samples=(4_000_000,)
            ),
        ),
        SimulatedVenue(
            venue="DERIBIT",
            balances={"BTC": 1.0},
            latency=LatencyModel.constant(entry_ns=15_000_000, response_ns=15_000_000),
        ),
    )
    cfg = EngineConfig(venues=venues, seed=11)
    insts = [PERP, DPERP]
    compiled = result_from_state(Engine(insts, tape, config=cfg, programs=[prog]).run())
    twin = SpreadConvergencePy(prog, insts)
    python = result_from_state(Engine(insts, tape, config=cfg, strategy=twin).run())
    cols = ["instrument_id", "side", "type", "price", "quantity", "filled", "status", "ts_sent", "ts_arrive"]
    a = compiled.orders.filter(pl.col("owner") != "engine").select(cols)
    b = python.orders.filter(pl.col("owner") != "engine").select(cols)
    assert a.height > 20, "the tape must make the strategy trade"
    assert a.equals(b)
    fcols = ["instrument_id", "side", "ts", "price", "quantity", "fee", "level"]
    assert compiled.fills.select(fcols).equals(python.fills.select(fcols))
    assert compiled.metrics.pnl_usd == python.metrics.pnl_usd
