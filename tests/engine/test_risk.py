"""The risk layer refuses orders no strategy can bypass; reducing orders always pass."""

from __future__ import annotations

import polars as pl
import pytest

from spreadlab.backtest.engine_run import Backtest, BacktestConfig
from spreadlab.core.enums import Side
from spreadlab.engine.core import EngineConfig
from spreadlab.execution.venue import SimulatedVenue
from spreadlab.instruments import parse_symbol
from spreadlab.risk import RiskLimits

from .helpers import Action, Scripted, quotes

PERP = parse_symbol("BINANCE_USDM", "BTCUSDT")
HPERP = parse_symbol("HYPERLIQUID", "BTC")


def _run(actions, rows, risk, *, capital=100_000.0):
    q = pl.concat([quotes(PERP.id, rows), quotes(HPERP.id, rows)])
    venues = (
        SimulatedVenue(venue="BINANCE_USDM", impact_bp=0.0),
        SimulatedVenue(venue="HYPERLIQUID", impact_bp=0.0),
    )
    strat = Scripted(actions)
    cfg = BacktestConfig(
        engine=EngineConfig(venues=venues, risk=risk, capital_usd=capital), close_at_end=False
    )
    return Backtest(config=cfg, python_strategy=strat, extra_instruments=[PERP, HPERP]).run(
        {"quotes": q}
    ), strat


def test_leg_venue_gross_and_open_order_limits_refuse_orders_and_reducing_orders_pass() -> None:
    rows = [(0, 99.9, 100.1, 1e3, 1e3), (100, 99.9, 100.1, 1e3, 1e3)]
    risk = RiskLimits(
        max_leg_notional_usd=5_000.0, max_venue_notional_usd=6_000.0, max_gross_notional_usd=9_000.0
    )
    acts = [
        Action(1, PERP.id, Side.BUY, 60.0),  # 6,000 USD leg > 5,000: refused
        Action(2, PERP.id, Side.BUY, 45.0),  # 4,500: accepted
        Action(3, PERP.id, Side.BUY, 10.0),  # leg 5,500 > 5,000: refused
        Action(4, HPERP.id, Side.SELL, 45.0),  # its venue 4,500, gross 9,000: accepted
        Action(5, HPERP.id, Side.SELL, 1.0),  # gross 9,100 > 9,000: refused
        Action(6, PERP.id, Side.SELL, 20.0),  # reduces: always passes
        Action(7, PERP.id, Side.SELL, 100.0),  # flips to -75 (7,500 USD leg): refused
    ]
    res, strat = _run(acts, rows, risk)
    o = res.orders.sort("order_id")
    assert o["reason"].to_list() == [
        "risk_leg_notional",
        "",
        "risk_leg_notional",
        "",
        "risk_gross_notional",
        "",
        "risk_leg_notional",
    ]
    assert o["status"].to_list()[:2] == ["rejected", "filled"]
    # a refusal reaches the strategy at once, without a venue round trip
    rej = [r for r in strat.reports if r.kind.value == "reject"]
    assert len(rej) == 4 and all(r.reason >= 10 for r in rej)
    assert res.risk_rejections["risk_leg_notional"] == 3 and res.risk_rejections["risk_gross_notional"] == 1
    assert res.positions.filter(pl.col("instrument_id") == str(PERP.id))["quantity"][0] == pytest.approx(25.0)


def test_the_drawdown_switch_stops_new_exposure_for_good() -> None:
    # long 500 at 100.1; the price falls 10%: equity 100k -> ~95k, drawdown 5% > 3%
    rows = [
        (0, 99.9, 100.1, 1e4, 1e4),
        (60, 89.9, 90.1, 1e4, 1e4),
        (200, 99.9, 100.1, 1e4, 1e4),
        (400, 99.9, 100.1, 1e4, 1e4),
    ]
    acts = [
        Action(10, PERP.id, Side.BUY, 500.0),
        Action(150, PERP.id, Side.BUY, 1.0),
        Action(300, PERP.id, Side.BUY, 1.0),
        Action(310, PERP.id, Side.SELL, 100.0),
    ]
    res, _ = _run(acts, rows, RiskLimits(max_drawdown=0.03))
    o = res.orders.sort("order_id")
    assert o["reason"].to_list() == ["", "risk_loss_switch", "risk_loss_switch", ""]  # reducing still passes
    assert o["status"].to_list()[-1] == "filled"
