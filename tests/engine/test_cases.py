"""Hand-worked engine cases: every fill price, fee, funding payment and settlement checked by arithmetic."""

from __future__ import annotations

import math

import polars as pl
import pytest

from spreadlab.backtest.engine_run import Backtest, BacktestConfig
from spreadlab.core.enums import Side
from spreadlab.engine.core import EngineConfig
from spreadlab.execution.venue import LatencyModel, QueueKind, QueueModel, SimulatedVenue
from spreadlab.instruments import parse_symbol

from .helpers import T0, Action, S, Scripted, deltas, funding, marks, quotes, trades

PERP = parse_symbol("BINANCE_USDM", "BTCUSDT")
DPERP = parse_symbol("DERIBIT", "BTC-PERPETUAL")
DFUT = parse_symbol("DERIBIT", "BTC-27JUN25")
DOPT = parse_symbol("DERIBIT", "BTC-27JUN25-100000-C")
HPERP = parse_symbol("HYPERLIQUID", "BTC")


def _run(tables, insts, actions, *, venues=(), queue=None, capital=100_000.0, close=True, liquidate=True):
    strat = Scripted(actions)
    cfg = EngineConfig(
        venues=tuple(venues), capital_usd=capital, queue=queue or QueueModel(), liquidate=liquidate
    )
    bt = Backtest(
        config=BacktestConfig(engine=cfg, close_at_end=close), python_strategy=strat, extra_instruments=insts
    )
    return bt.run(tables), strat


def test_linear_perp_round_trip_pays_the_touch_and_binance_taker_fees_after_the_entry_latency() -> None:
    # the order is sent at 10 s and reaches the venue 50 ms later: the quote of 10.02 s is what it meets
    q = quotes(
        PERP.id,
        [
            (0, 100.0, 101.0, 5, 5),
            (10.02, 100.5, 101.5, 5, 5),
            (20, 110.0, 111.0, 5, 5),
            (40, 110.0, 111.0, 5, 5),
        ],
    )
    venue = SimulatedVenue(
        venue="BINANCE_USDM",
        impact_bp=0.0,
        latency=LatencyModel.constant(entry_ns=50_000_000, response_ns=30_000_000),
    )
    res, strat = _run(
        {"quotes": q},
        [PERP],
        [Action(10, PERP.id, Side.BUY, 1.0), Action(30, PERP.id, Side.SELL, 1.0)],
        venues=[venue],
    )
    f = res.fills.sort("ts")
    assert f["price"].to_list() == [101.5, 110.0]
    assert f["ts"].to_list() == [T0 + 10 * S + 50_000_000, T0 + 30 * S + 50_000_000]
    assert f["fee"].to_list() == pytest.approx([101.5 * 0.0005, 110.0 * 0.0005], rel=1e-12)
    assert f["liquidity"].to_list() == ["taker", "taker"]
    fill_reports = [r for r in strat.reports if r.kind.value == "fill"]
    assert [r.ts for r in fill_reports] == [T0 + 10 * S + 80_000_000, T0 + 30 * S + 80_000_000]
    pnl = (110.0 - 101.5) - (101.5 + 110.0) * 0.0005
    assert res.metrics.pnl_usd == pytest.approx(pnl, abs=1e-9)
    assert res.positions.filter(pl.col("instrument_id") == str(PERP.id))["quantity"][0] == 0.0


def test_inverse_perpetual_pnl_and_fees_are_in_coin() -> None:
    q = quotes(
        DPERP.id,
        [
            (0, 49_999.5, 50_000.0, 1e6, 1e6),
            (20, 55_000.0, 55_000.5, 1e6, 1e6),
            (40, 55_000.0, 55_000.5, 1e6, 1e6),
        ],
    )
    res, _ = _run(
        {"quotes": q},
        [DPERP],
        [Action(10, DPERP.id, Side.BUY, 1000.0), Action(30, DPERP.id, Side.SELL, 1000.0)],
        venues=[SimulatedVenue(venue="DERIBIT", impact_bp=0.0, balances={"BTC": 1.0})],
    )
    f = res.fills.sort("ts")
    pnl_btc = 1000.0 * (1 / 50_000.0 - 1 / 55_000.0)
    fees_btc = 1000.0 / 50_000.0 * 0.0005 + 1000.0 / 55_000.0 * 0.0005
    assert f["realised"].to_list() == pytest.approx([0.0, pnl_btc], rel=1e-12)
    assert f["fee"].sum() == pytest.approx(fees_btc, rel=1e-12)
    # equity: 1 BTC + pnl - fees, valued at the final mid
    final_mid = 0.5 * (55_000.0 + 55_000.5)
    assert res.metrics.final_equity_usd == pytest.approx((1.0 + pnl_btc - fees_btc) * final_mid, rel=1e-12)


def test_funding_at_the_mark_on_binance_and_at_the_mid_on_hyperliquid_hourly() -> None:
    q = pl.concat(
        [
            quotes(PERP.id, [(0, 99.9, 100.1, 50, 50), (7200, 99.9, 100.1, 50, 50)]),
            quotes(HPERP.id, [(0, 99.8, 100.2, 50, 50), (7200, 99.8, 100.2, 50, 50)]),
        ]
    )
    m = marks(PERP.id, [(3000, 100.5, 100.4)])
    fu = pl.concat(
        [funding(PERP.id, [(3600, 0.0001)]), funding(HPERP.id, [(3600, 0.00002), (7200, -0.00001)])]
    )
    venues = [SimulatedVenue(venue=v, impact_bp=0.0) for v in ("BINANCE_USDM", "HYPERLIQUID")]
    res, _ = _run(
        {"quotes": q, "mark": m, "funding": fu},
        [PERP, HPERP],
        [Action(10, PERP.id, Side.BUY, 2.0), Action(10, HPERP.id, Side.SELL, 3.0)],
        venues=venues,
    )
    led = res.funding.sort("ts", "instrument_id")
    rows = {(r["instrument_id"], r["ts"]): r for r in led.to_dicts()}
    b = rows[(str(PERP.id), T0 + 3600 * S)]
    assert b["price_source"] == "mark" and b["price"] == 100.5
    assert b["amount"] == pytest.approx(-2.0 * 100.5 * 0.0001, rel=1e-12)  # long pays a positive rate
    h1 = rows[(str(HPERP.id), T0 + 3600 * S)]
    assert h1["price_source"] == "mid" and h1["amount"] == pytest.approx(3.0 * 100.0 * 0.00002, rel=1e-12)
    h2 = rows[(str(HPERP.id), T0 + 7200 * S)]
    assert h2["amount"] == pytest.approx(-3.0 * 100.0 * 0.00001, rel=1e-12)  # short pays a negative rate
    assert res.metrics.funding_usd == pytest.approx(-0.0201 + 0.006 - 0.003, rel=1e-9)


def test_liquidation_when_equity_falls_below_maintenance() -> None:
    # 1,000 USDT, 9x long at 100 (IM 10%: fits), price falls to 90: equity 1000 - 90 < MM 5% of 810
    q = quotes(
        PERP.id, [(0, 99.9, 100.0, 500, 500), (100, 89.9, 90.0, 500, 500), (300, 89.9, 90.0, 500, 500)]
    )
    m = marks(PERP.id, [(100, 89.95, 89.95)])
    venue = SimulatedVenue(venue="BINANCE_USDM", impact_bp=0.0, balances={"USDT": 1_000.0})
    res, strat = _run({"quotes": q, "mark": m}, [PERP], [Action(10, PERP.id, Side.BUY, 90.0)], venues=[venue])
    liq = res.fills.filter(pl.col("liquidity") == "liquidation")
    assert liq.height == 1 and liq["price"][0] == 89.95 and liq["quantity"][0] == 90.0
    assert liq["ts"][0] == T0 + 120 * S  # the first equity sample after the fall (every 60 s)
    assert any(r.kind.value == "settle" for r in strat.reports)
    loss = 90.0 * (89.95 - 100.0) - 90.0 * 100.0 * 0.0005 - 90.0 * 89.95 * 0.0005
    assert res.metrics.final_equity_usd == pytest.approx(1_000.0 + loss, rel=1e-12)


def test_margin_rejects_an_order_beyond_the_initial_margin() -> None:
    q = quotes(PERP.id, [(0, 99.9, 100.0, 500, 500), (60, 99.9, 100.0, 500, 500)])
    venue = SimulatedVenue(venue="BINANCE_USDM", impact_bp=0.0, balances={"USDT": 1_000.0})
    res, _ = _run({"quotes": q}, [PERP], [Action(10, PERP.id, Side.BUY, 101.0)], venues=[venue])
    assert res.orders["status"].to_list() == ["rejected"] and res.orders["reason"].to_list() == ["margin"]


def test_future_settles_at_the_index_at_expiry_without_fees() -> None:
    exp = (DFUT.expiry_ns - T0) / S
    q = quotes(DFUT.id, [(exp - 100, 60_000.0, 60_002.5, 1e6, 1e6), (exp + 10, 60_000.0, 60_002.5, 1e6, 1e6)])
    perp = quotes(
        DPERP.id, [(exp - 100, 60_000.0, 60_000.5, 1e6, 1e6), (exp + 10, 62_000.0, 62_000.5, 1e6, 1e6)]
    )
    m = marks(DFUT.id, [(exp - 1, 61_990.0, 62_000.0)])
    res, _ = _run(
        {"quotes": pl.concat([q, perp]), "mark": m},
        [DFUT, DPERP],
        [Action(exp - 50, DFUT.id, Side.BUY, 1000.0)],
        venues=[SimulatedVenue(venue="DERIBIT", impact_bp=0.0, balances={"BTC": 1.0})],
    )
    st = res.fills.filter(pl.col("liquidity") == "settlement")
    assert st.height == 1 and st["price"][0] == 62_000.0 and st["fee"][0] == 0.0
    assert st["ts"][0] == DFUT.expiry_ns
    assert st["realised"][0] == pytest.approx(1000.0 * (1 / 60_002.5 - 1 / 62_000.0), rel=1e-12)


def test_coin_option_round_trip_pnl_is_premium_difference_in_coin_with_capped_fees() -> None:
    perp = quotes(DPERP.id, [(0, 60_000.0, 60_000.5, 1e6, 1e6), (40, 60_000.0, 60_000.5, 1e6, 1e6)])
    opt = quotes(DOPT.id, [(0, 0.0495, 0.05, 10, 10), (20, 0.06, 0.0605, 10, 10), (40, 0.06, 0.0605, 10, 10)])
    res, _ = _run(
        {"quotes": pl.concat([perp, opt])},
        [DOPT, DPERP],
        [Action(10, DOPT.id, Side.BUY, 1.0), Action(30, DOPT.id, Side.SELL, 1.0)],
        venues=[SimulatedVenue(venue="DERIBIT", impact_bp=0.0, balances={"BTC": 1.0})],
    )
    f = res.fills.filter(pl.col("instrument_id") == str(DOPT.id)).sort("ts")
    assert f["price"].to_list() == [0.05, 0.06]
    assert f["realised"][1] == pytest.approx(0.01, rel=1e-12)  # 1 x (0.06 - 0.05) BTC, not 3.33
    assert f["fee"].to_list() == pytest.approx([0.0003, 0.0003], rel=1e-12)  # min(0.0003, 12.5% of premium)
    assert f["usd_per_unit"][0] == pytest.approx(60_000.25)  # a coin option's BTC converts at the underlying


def test_market_order_walks_the_book_and_our_fills_consume_it_until_the_next_update() -> None:
    d = deltas(
        PERP.id,
        [
            (0, 1, 99.0, 5, True),
            (0, -1, 100.0, 1, True),
            (0, -1, 101.0, 2, True),
            (0, -1, 102.0, 5, True),
            (60, -1, 100.0, 3, False),
            (80, 1, 99.0, 5, False),
        ],
    )
    venue = SimulatedVenue(venue="BINANCE_USDM")
    res, _ = _run(
        {"book_deltas": d},
        [PERP],
        [
            Action(10, PERP.id, Side.BUY, 2.5),
            Action(20, PERP.id, Side.BUY, 1.0),
            Action(70, PERP.id, Side.BUY, 1.0),
        ],
        venues=[venue],
        close=False,
    )
    f = res.fills.sort("fill_id")
    assert list(zip(f["price"], f["quantity"], f["level"], strict=True)) == [
        (100.0, 1.0, 0),
        (101.0, 1.5, 1),
        (101.0, 0.5, 0),
        (102.0, 0.5, 1),
        (100.0, 1.0, 0),
    ]
    assert res.sources == {str(PERP.id): "depth"}


@pytest.mark.parametrize(
    ("kind", "filled"), [(QueueKind.CONSERVATIVE, 0.0), (QueueKind.PROBABILISTIC, 2.0 - (3.0 - 2.0 * 9 / 13))]
)
def test_queue_position_conservative_and_probabilistic(kind: QueueKind, filled: float) -> None:
    # join a bid of 3 at 99; 2 more join behind (5); 2 cancel (3); a sell of 2 trades at 99
    d = deltas(
        PERP.id,
        [(0, 1, 99.0, 3, True), (0, -1, 100.0, 5, True), (20, 1, 99.0, 5, False), (30, 1, 99.0, 3, False)],
    )
    t = trades(PERP.id, [(40, 99.0, 2.0, -1)])
    res, _ = _run(
        {"book_deltas": d, "trades": t},
        [PERP],
        [Action(10, PERP.id, Side.BUY, 1.0, price=99.0)],
        venues=[SimulatedVenue(venue="BINANCE_USDM")],
        queue=QueueModel(kind=kind, power=2.0),
        close=False,
    )
    maker = res.fills.filter(pl.col("liquidity") == "maker")
    assert float(maker["quantity"].sum()) == pytest.approx(filled, abs=1e-12)
    if filled:
        assert maker["price"][0] == 99.0 and maker["fee"][0] == pytest.approx(99.0 * filled * 0.0002)


def test_trade_through_fills_a_resting_order_in_full_as_maker() -> None:
    d = deltas(PERP.id, [(0, 1, 99.0, 3, True), (0, -1, 100.0, 5, True)])
    t = trades(PERP.id, [(40, 98.5, 10.0, -1)])
    res, _ = _run(
        {"book_deltas": d, "trades": t},
        [PERP],
        [Action(10, PERP.id, Side.BUY, 1.0, price=99.0)],
        venues=[SimulatedVenue(venue="BINANCE_USDM")],
        close=False,
    )
    assert res.fills["price"].to_list() == [99.0] and res.fills["liquidity"].to_list() == ["maker"]


def test_post_only_fok_and_reduce_only_rules() -> None:
    d = deltas(
        PERP.id,
        [(0, 1, 99.0, 3, True), (0, -1, 100.0, 1, True), (0, -1, 101.0, 1, True), (20, 1, 98.0, 1, False)],
    )
    acts = [
        Action(10, PERP.id, Side.BUY, 1.0, price=100.0, post_only=True),  # would cross: rejected
        Action(11, PERP.id, Side.BUY, 3.0, price=101.0, fok=True),  # only 2 available: cancelled whole
        Action(12, PERP.id, Side.SELL, 1.0, reduce_only=True),  # no position: rejected
        Action(13, PERP.id, Side.BUY, 1.5, price=100.5, ioc=True),  # 1 at 100, the rest cancelled
    ]
    res, _ = _run(
        {"book_deltas": d}, [PERP], acts, venues=[SimulatedVenue(venue="BINANCE_USDM")], close=False
    )
    o = res.orders.sort("order_id")
    assert o["status"].to_list() == ["rejected", "cancelled", "rejected", "cancelled"]
    assert o["reason"].to_list() == ["post_only", "fok", "reduce_only", "ioc_remainder"]
    assert o["filled"].to_list() == [0.0, 0.0, 0.0, 1.0]


def test_same_inputs_and_seed_give_identical_fills_with_empirical_latency() -> None:
    q = quotes(PERP.id, [(k, 100.0 + k * 0.1, 100.2 + k * 0.1, 5, 5) for k in range(60)])
    lat = LatencyModel(
        entry_ns=0,
        response_ns=0,
        entry_samples=(1_000_000, 400_000_000, 900_000_000),
        response_samples=(5_000_000, 7_000_000),
    )
    venue = SimulatedVenue(venue="BINANCE_USDM", latency=lat, impact_bp=0.0)
    acts = [Action(k, PERP.id, Side.BUY if k % 2 else Side.SELL, 0.01) for k in range(2, 50, 3)]
    a, _ = _run({"quotes": q}, [PERP], acts, venues=[venue])
    b, _ = _run({"quotes": q}, [PERP], acts, venues=[venue])
    assert a.fills.equals(b.fills) and a.orders.equals(b.orders)
    # every order reached the venue one of the sampled latencies after it was sent, never sooner
    lag = (a.orders["ts_arrive"] - a.orders["ts_sent"]).to_list()
    assert set(lag) <= {1_000_000, 400_000_000, 900_000_000} and len(set(lag)) > 1
    assert math.isfinite(a.metrics.pnl_usd)


def test_portfolio_snapshot_values_positions_balances_and_margin_mid_run() -> None:
    q = quotes(PERP.id, [(0, 99.0, 101.0, 50, 50), (20, 109.0, 111.0, 50, 50), (60, 109.0, 111.0, 50, 50)])
    venue = SimulatedVenue(venue="BINANCE_USDM", impact_bp=0.0, balances={"USDT": 10_000.0})
    seen = []

    class Probe(Scripted):
        def on_timer(self, ctx: object) -> None:
            if ctx.now >= T0 + 30 * S:  # type: ignore[attr-defined]
                seen.append(ctx.snapshot())  # type: ignore[attr-defined]
            super().on_timer(ctx)

    strat = Probe([Action(10, PERP.id, Side.BUY, 2.0), Action(30, PERP.id, Side.BUY, 0.001)])
    cfg = EngineConfig(venues=(venue,))
    Backtest(config=BacktestConfig(engine=cfg), python_strategy=strat, extra_instruments=[PERP]).run(
        {"quotes": q}
    )
    snap = seen[0]
    p = snap.position(PERP.id)
    assert p is not None and p.quantity == 2.0 and p.avg_price == 101.0 and p.price == 110.0
    assert p.unrealised == pytest.approx(2 * (110.0 - 101.0)) and p.notional_usd == pytest.approx(220.0)
    fee = 2 * 101.0 * 0.0005
    assert snap.balances[0].amount == pytest.approx(10_000.0 - fee)
    assert snap.total_equity_usd == pytest.approx(10_000.0 - fee + 18.0)
    assert snap.initial_margin_usd["BINANCE_USDM"] == pytest.approx(22.0)  # 10% of 220
    assert snap.maintenance_margin_usd["BINANCE_USDM"] == pytest.approx(11.0)


def test_passive_entry_waits_in_the_queue_then_hedges_its_fill_at_market() -> None:
    import numpy as np

    from spreadlab.backtest.result import result_from_state
    from spreadlab.engine.core import Engine
    from spreadlab.engine.tape import build_tape
    from spreadlab.strategy.program import SpreadProgram

    spot = parse_symbol("BINANCE", "BTCUSDT")
    d = pl.concat(
        [
            deltas(PERP.id, [(0, 1, 100.0, 5, True), (0, -1, 100.1, 2, True), (60, 1, 99.0, 1, False)]),
            deltas(spot.id, [(0, 1, 99.0, 5, True), (0, -1, 99.1, 5, True), (60, 1, 98.0, 1, False)]),
        ]
    )
    t = trades(PERP.id, [(20, 100.1, 1.5, 1), (30, 100.1, 1.5, 1)])  # buyers lift the ask: 2 ahead of us
    tape = build_tape({"book_deltas": d, "trades": t}, [str(PERP.id), str(spot.id)])
    prog = SpreadProgram(
        name="passive",
        instrument_ids=(PERP.id, spot.id),
        ratios=(1.0, -1.0),
        quote_code=0,
        entry_z=2.0,
        exit_z=-1.0,
        stop_z=50.0,
        notional_usd=100.0,
        slippage_bp=0.0,
        market_orders=True,
        max_hold_ns=0,
        legging_timeout_ns=100 * S,
        cooldown_ns=0,
        maker_leg=0,
        schedule_t=np.array([T0], dtype=np.int64),
        schedule_beta=np.array([1.0]),
        schedule_mean=np.array([0.0]),
        schedule_std=np.array([0.3]),
    )
    venues = (
        SimulatedVenue(
            venue="BINANCE_USDM", latency=LatencyModel.constant(entry_ns=10_000_000, response_ns=10_000_000)
        ),
        SimulatedVenue(
            venue="BINANCE",
            latency=LatencyModel.constant(entry_ns=10_000_000, response_ns=10_000_000),
            balances={"USDT": 10_000.0},
        ),
    )
    res = result_from_state(
        Engine([PERP, spot], tape, config=EngineConfig(venues=venues), programs=[prog]).run(
            close_at_end=False
        )
    )
    o = res.orders.sort("order_id")
    # the perpetual is posted alone, post-only at its own touch (a sell at the ask), 0.999 = 100 USD / 100.05
    assert o["instrument_id"][0] == str(PERP.id) and o["price"][0] == 100.1 and o["quantity"][0] == 0.999
    f = res.fills.sort("fill_id")
    maker = f.filter(pl.col("liquidity") == "maker")
    # the first trade (1.5) only eats the 2 ahead of us; the second fills 1.0 of it: all 0.999
    assert maker["ts"].to_list() == [T0 + 30 * S] and maker["quantity"].to_list() == [0.999]
    assert maker["fee"][0] == pytest.approx(0.999 * 100.1 * 0.0002)  # USDT-M maker rate
    hedge = f.filter(pl.col("instrument_id") == str(spot.id))
    # the fill report arrives 10 ms later, the hedge reaches the venue 10 ms after that
    assert hedge["ts"].to_list() == [T0 + 30 * S + 20_000_000] and hedge["price"].to_list() == [99.1]
    assert hedge["quantity"].to_list() == [0.999] and hedge["liquidity"].to_list() == [
        "taker"
    ]  # as leg 0 holds
