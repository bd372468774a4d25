"""The engine and the vectorised backtest agree on the same trades: quotes only, taker fills, funding at the mark.

The same target spread position per bar is traded by both: the vectorised
path executes each bar's target on the next bar at the touch
(``delay_bars=1``); on the engine a Python strategy, woken by a timer at each
bar, sends market orders for the previous bar's target with zero latency, so
they fill at the same quotes. Funding times fall between bars with a mark at each, so
both charge it on the same price. Both close what is open at the last bar at
the touch. The fills' prices, the fees, the funding and the total PnL agree
to float rounding (1e-6 USD on about 100 trades); nothing else differs.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from spreadlab.backtest.engine_run import Backtest, BacktestConfig
from spreadlab.backtest.vectorized import LegQuotes, VectorizedBacktest
from spreadlab.core.enums import Side
from spreadlab.engine.core import EngineConfig
from spreadlab.execution.venue import SimulatedVenue
from spreadlab.instruments import parse_symbol
from spreadlab.signals.spread import Leg, Spread, SpreadQuote

A = parse_symbol("BINANCE_USDM", "BTCUSDT")
B = parse_symbol("BYBIT_LINEAR", "BTCUSDT")
T0 = 1_750_000_000_000_000_000
STEP = 60_000_000_000


class TargetFollower:
    """At each bar, trade both legs to the target decided on the bar before (market orders)."""

    def __init__(self, ts: np.ndarray, target: np.ndarray) -> None:
        self.ts = ts
        self.index = {int(t): k for k, t in enumerate(ts)}
        self.target = target
        self.want = {str(A.id): 0.0, str(B.id): 0.0}
        self.ratios = {str(A.id): 1.0, str(B.id): -1.0}

    def subscriptions(self) -> tuple[object, ...]:
        return ()

    def on_start(self, ctx: object) -> None:
        ctx.set_timer(int(self.ts[1]))  # type: ignore[attr-defined]

    def on_market(self, ctx: object, instrument_id: object) -> None:
        pass

    def on_report(self, ctx: object, report: object) -> None:
        pass

    def on_timer(self, ctx: object) -> None:
        # timers fire after the venue applied the bar's quotes: the orders meet bar k's touch
        k = self.index[ctx.now]  # type: ignore[attr-defined]
        for iid, r in self.ratios.items():
            goal = round(self.target[k - 1] * r, 6)
            d = round(goal - self.want[iid], 6)
            if d != 0.0:
                ctx.submit(iid, Side.BUY if d > 0 else Side.SELL, abs(d))  # type: ignore[attr-defined]
                self.want[iid] = goal
        if k + 1 < len(self.ts):
            ctx.set_timer(int(self.ts[k + 1]))  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", [0, 1])
def test_same_targets_give_the_same_fills_fees_funding_and_pnl(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 1500
    ts = T0 + STEP * np.arange(n, dtype=np.int64)
    mid = 60_000 + np.cumsum(rng.normal(0, 15, n))
    prem = np.zeros(n)
    for k in range(1, n):
        prem[k] = 0.95 * prem[k - 1] + rng.normal(0, 4)
    a_mid, b_mid = np.round(mid + prem, 1), np.round(mid, 1)
    a_bid, a_ask = a_mid - 0.1, a_mid + 0.1
    b_bid, b_ask = b_mid - 0.2, b_mid + 0.2
    z = (prem - prem.mean()) / prem.std()
    target = np.where(z > 1.0, -0.05, np.where(z < -1.0, 0.05, 0.0))  # BTC per leg
    f_t = T0 + np.arange(1, 4) * 8 * 3_600_000_000_000 + STEP // 2  # between bars
    f_t = f_t[f_t < ts[-1]]
    rates = rng.normal(0.0001, 0.0002, f_t.size)
    marks_a = np.interp(f_t, ts, a_mid) + 1.0
    marks_b = np.interp(f_t, ts, b_mid) - 1.0
    vec = VectorizedBacktest(
        spread=Spread(
            legs=(Leg(instrument=A, ratio=1.0), Leg(instrument=B, ratio=-1.0)), quote=SpreadQuote.DIFFERENCE
        ),
        delay_bars=1,
    )
    vr = vec.run(
        ts_ns=ts,
        target_units=target,
        legs={
            A.id: LegQuotes(
                bid=a_bid, ask=a_ask, funding_times_ns=f_t, funding_rates=rates, funding_marks=marks_a
            ),
            B.id: LegQuotes(
                bid=b_bid, ask=b_ask, funding_times_ns=f_t, funding_rates=rates, funding_marks=marks_b
            ),
        },
    )

    def q(inst: object, bid: np.ndarray, ask: np.ndarray) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "ts_event": ts,
                "ts_recv": ts,
                "instrument_id": [str(inst)] * n,
                "bid": bid,
                "ask": ask,
                "bid_size": np.full(n, 1e6),
                "ask_size": np.full(n, 1e6),
            }
        )

    def fr(inst: object) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "ts_event": f_t,
                "ts_recv": f_t,
                "instrument_id": [str(inst)] * f_t.size,
                "rate": rates,
                "funding_time_ns": f_t,
            }
        )

    def mk(inst: object, m: np.ndarray) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "ts_event": f_t - 1,
                "ts_recv": f_t - 1,
                "instrument_id": [str(inst)] * f_t.size,
                "mark": m,
                "index": np.full(f_t.size, np.nan),
            }
        )

    tables = {
        "quotes": pl.concat([q(A.id, a_bid, a_ask), q(B.id, b_bid, b_ask)]),
        "funding": pl.concat([fr(A.id), fr(B.id)]),
        "mark": pl.concat([mk(A.id, marks_a), mk(B.id, marks_b)]),
    }
    venues = (
        SimulatedVenue(venue="BINANCE_USDM", impact_bp=0.0),
        SimulatedVenue(venue="BYBIT_LINEAR", impact_bp=0.0),
    )
    bt = Backtest(
        config=BacktestConfig(engine=EngineConfig(venues=venues, capital_usd=100_000.0)),
        python_strategy=TargetFollower(ts, target),
        extra_instruments=[A, B],
    )
    er = bt.run(tables)
    vt = vr.trades
    assert vt.height > 20
    fees_vec = float(vr.fees.sum())
    fund_vec = float(vr.funding.sum())
    total_vec = float(vr.convergence.sum() + vr.crossing.sum() + vr.fees.sum() + vr.funding.sum())
    assert -er.metrics.fees_usd == pytest.approx(-fees_vec, abs=1e-6)
    assert er.metrics.funding_usd == pytest.approx(fund_vec, abs=1e-6)
    assert (er.funding["price_source"] == "mark").all()
    assert er.metrics.pnl_usd == pytest.approx(total_vec, abs=1e-6)
