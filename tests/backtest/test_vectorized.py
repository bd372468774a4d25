"""The vectorised backtest: hand-worked trades, funding timing, inverse legs and PnL conservation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spreadlab.backtest import EndOfRun, LegQuotes, VectorizedBacktest
from spreadlab.core.time import NS_PER_HOUR
from spreadlab.errors import ValidationError
from spreadlab.instruments import parse_symbol
from spreadlab.instruments.fees import FeeModel
from spreadlab.signals.spread import Leg, Spread, SpreadQuote

PERP = parse_symbol("BINANCE_USDM", "BTCUSDT")
SPOT = parse_symbol("BINANCE", "BTCUSDT")
COINM = parse_symbol("BINANCE_COINM", "BTCUSD_PERP")
BASIS = Spread(
    legs=(Leg(instrument=PERP, ratio=1.0), Leg(instrument=SPOT, ratio=-1.0)), quote=SpreadQuote.BASIS
)
FEES = FeeModel.default()  # Binance USDⓈ-M VIP 0 taker 0.05%, spot 0.10%


def test_hand_worked_round_trip_with_funding() -> None:
    # hourly bars from 06:00; an 8h funding at 08:00 is paid on the position held over it
    ts = (np.arange(5, dtype=np.int64) + 6) * NS_PER_HOUR
    legs = {
        PERP.id: LegQuotes(
            bid=np.array([100.0, 110.0, 108.0, 104.0, 104.0]),
            ask=np.array([101.0, 111.0, 109.0, 105.0, 105.0]),
            funding_times_ns=np.array([8 * NS_PER_HOUR]),
            funding_rates=np.array([0.001]),
        ),
        SPOT.id: LegQuotes(bid=np.array([99.0, 99.0, 99.0, 99.0, 99.0]), ask=np.array([100.0] * 5)),
    }
    # decide short 2 units at bar 0 (executes at bar 1), flat at bar 2 (executes at bar 3)
    res = VectorizedBacktest(spread=BASIS, fees=FEES, capital=1_000.0).run(
        ts_ns=ts, legs=legs, target_units=np.array([-2.0, -2.0, 0.0, 0.0, 0.0])
    )
    # bar 1: sell 2 perp at 110 (mid 110.5), buy 2 spot at 100 (mid 99.5)
    assert res.crossing[1] == pytest.approx(2 * (110 - 110.5) + 2 * (99.5 - 100))
    assert res.fees[1] == pytest.approx(-(2 * 110 * 0.0005 + 2 * 100 * 0.001))
    # bar 2 (08:00): mark perp 110.5 -> 108.5 (short gains 4); short perp receives 0.1% of 2 * 108.5
    assert res.convergence[2] == pytest.approx(4.0)
    assert res.funding[2] == pytest.approx(2 * 108.5 * 0.001)
    assert res.funding.sum() == pytest.approx(2 * 108.5 * 0.001)
    # bar 3: buy back 2 perp at 105, sell 2 spot at 99
    assert res.convergence[3] == pytest.approx(2 * (108.5 - 104.5))
    assert res.crossing[3] == pytest.approx(2 * (104.5 - 105) + 2 * (99 - 99.5))
    assert res.fees[3] == pytest.approx(-(2 * 105 * 0.0005 + 2 * 99 * 0.001))
    # cash accounting gives the same total: perp sold 220, bought 210; spot bought 200, sold 198
    cash = (220 - 210) + (198 - 200) + 2 * 108.5 * 0.001 - res.trades["fee_usd"].sum()
    assert res.pnl.sum() == pytest.approx(cash)
    assert res.metrics.n_trades == 1
    assert res.trades.height == 4 and set(res.trades["side"].to_list()) == {-1, 1}


def test_funding_before_first_bar_and_flat_positions_pay_nothing() -> None:
    ts = np.arange(3, dtype=np.int64) * NS_PER_HOUR + 10 * NS_PER_HOUR
    legs = {
        PERP.id: LegQuotes(
            bid=np.full(3, 100.0),
            ask=np.full(3, 100.5),
            funding_times_ns=np.array([8 * NS_PER_HOUR, 16 * NS_PER_HOUR]),
            funding_rates=np.array([0.01, 0.01]),
        ),
        SPOT.id: LegQuotes(bid=np.full(3, 100.0), ask=np.full(3, 100.5)),
    }
    res = VectorizedBacktest(spread=BASIS, fees=FEES).run(ts_ns=ts, legs=legs, target_units=np.ones(3))
    assert res.funding.sum() == 0.0


def test_inverse_leg_settles_in_coin_converted_at_mid() -> None:
    spread = Spread(legs=(Leg(instrument=COINM, ratio=1.0), Leg(instrument=SPOT, ratio=-0.002)))
    ts = np.arange(3, dtype=np.int64) * NS_PER_HOUR
    legs = {
        COINM.id: LegQuotes(
            bid=np.array([50_000.0, 55_000.0, 55_000.0]), ask=np.array([50_000.0, 55_000.0, 55_000.0])
        ),
        SPOT.id: LegQuotes(bid=np.full(3, 50_000.0), ask=np.full(3, 50_000.0)),
    }
    res = VectorizedBacktest(spread=spread, fees=FeeModel.zero(), delay_bars=0).run(
        ts_ns=ts, legs=legs, target_units=np.array([1.0, 1.0, 1.0])
    )
    # one COIN-M contract = 100 USD: 100 * (1/50,000 - 1/55,000) BTC, worth that times 55,000 USD
    assert res.convergence[1] == pytest.approx(100 * (1 / 50_000 - 1 / 55_000) * 55_000)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), delay=st.integers(0, 3))
def test_pnl_is_conserved_between_kernel_and_cash_accounting(seed: int, delay: int) -> None:
    rng = np.random.default_rng(seed)
    n = 200
    ts = np.arange(n, dtype=np.int64) * NS_PER_HOUR
    perp_mid = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    spot_mid = perp_mid * (1 + rng.normal(0, 0.001, n))
    hs = rng.uniform(0.01, 0.1, n)
    times = np.arange(8, n, 8, dtype=np.int64) * NS_PER_HOUR
    rates = rng.normal(0, 1e-4, times.size)
    legs = {
        PERP.id: LegQuotes(bid=perp_mid - hs, ask=perp_mid + hs, funding_times_ns=times, funding_rates=rates),
        SPOT.id: LegQuotes(bid=spot_mid - hs, ask=spot_mid + hs),
    }
    target = np.round(rng.normal(0, 1, n) * (rng.uniform(size=n) < 0.2))
    target = np.where(rng.uniform(size=n) < 0.8, 0, target).cumsum() % 3 - 1
    res = VectorizedBacktest(spread=BASIS, fees=FEES, delay_bars=delay).run(
        ts_ns=ts, legs=legs, target_units=target
    )
    t = res.trades
    cash = float((-(t["side"] * t["qty"] * t["price"])).sum() - t["fee_usd"].sum())
    final = res.positions[-1]
    cash += final[0] * perp_mid[-1] + final[1] * spot_mid[-1] + res.funding.sum()
    assert res.pnl.sum() == pytest.approx(cash, rel=1e-9, abs=1e-9)
    assert res.metrics.pnl.total == pytest.approx(res.pnl.sum())


def test_bad_inputs_name_the_leg_and_bar() -> None:
    ts = np.arange(3, dtype=np.int64)
    good = LegQuotes(bid=np.full(3, 1.0), ask=np.full(3, 1.1))
    bt = VectorizedBacktest(spread=BASIS)
    with pytest.raises(ValidationError, match=r"BINANCE:BTCUSDT bid\[1\]=nan"):
        bt.run(
            ts_ns=ts,
            legs={PERP.id: good, SPOT.id: LegQuotes(bid=np.array([1.0, np.nan, 1.0]), ask=np.full(3, 1.1))},
            target_units=np.zeros(3),
        )
    with pytest.raises(ValidationError, match="crossed at bar 0"):
        bt.run(
            ts_ns=ts,
            legs={PERP.id: LegQuotes(bid=np.full(3, 2.0), ask=np.full(3, 1.0)), SPOT.id: good},
            target_units=np.zeros(3),
        )
    with pytest.raises(ValidationError, match="no quotes for BINANCE:BTCUSDT"):
        bt.run(ts_ns=ts, legs={PERP.id: good}, target_units=np.zeros(3))


def test_option_leg_converges_in_coin_and_converts_at_the_underlying() -> None:
    # long 1 Deribit BTC call (premium in BTC), short 0.5 BTC of the USDT perpetual; no delay
    call = parse_symbol("DERIBIT", "BTC-27JUN25-100000-C")
    spread = Spread(legs=(Leg(instrument=call, ratio=1.0), Leg(instrument=PERP, ratio=-0.5)))
    ts = np.arange(3, dtype=np.int64) * NS_PER_HOUR
    legs = {
        call.id: LegQuotes(
            bid=np.array([0.049, 0.059, 0.059]),
            ask=np.array([0.051, 0.061, 0.061]),
            underlying=np.array([60_000.0, 62_000.0, 62_000.0]),
        ),
        PERP.id: LegQuotes(
            bid=np.array([59_990.0, 61_990.0, 61_990.0]), ask=np.array([60_010.0, 62_010.0, 62_010.0])
        ),
    }
    res = VectorizedBacktest(spread=spread, fees=FEES, delay_bars=0).run(
        ts_ns=ts, legs=legs, target_units=np.array([1.0, 1.0, 0.0])
    )
    # call: mid 0.05 -> 0.06 BTC = +0.01 BTC, worth 0.01 x 62,000 = 620 USD; perp: -0.5 x 2,000 = -1,000
    assert res.convergence.tolist() == pytest.approx([0.0, 620.0 - 1_000.0, 0.0])
    # crossing: call 0.001 BTC each way (x 60,000 in, x 62,000 out), perp 10 USDT x 0.5 each way
    assert res.crossing.tolist() == pytest.approx([-60.0 - 5.0, 0.0, -62.0 - 5.0])
    # fees: call 0.0003 BTC per contract (under 12.5% of the premium) x 60,000 / 62,000;
    # perp 0.05% of 0.5 x 59,990 and of 0.5 x 62,010
    assert res.fees.tolist() == pytest.approx([-(18.0 + 14.9975), 0.0, -(18.6 + 15.5025)])
    call_fills = res.trades.filter(res.trades["instrument_id"] == str(call.id))
    assert call_fills["fee_usd"].to_list() == pytest.approx([18.0, 18.6])
    assert call_fills["price"].to_list() == [0.051, 0.059]
    assert call_fills["notional_usd"].to_list() == pytest.approx([0.051 * 60_000, 0.059 * 62_000])
    assert res.metrics.pnl.total == pytest.approx(-380.0 - 132.0 - 67.1)
    with pytest.raises(ValidationError, match="LegQuotes.underlying"):
        VectorizedBacktest(spread=spread, fees=FEES).run(
            ts_ns=ts,
            legs={call.id: LegQuotes(bid=legs[call.id].bid, ask=legs[call.id].ask), PERP.id: legs[PERP.id]},
            target_units=np.ones(3),
        )


def _open_at_end_case(at_end: EndOfRun):  # type: ignore[no-untyped-def]
    ts = np.arange(3, dtype=np.int64) * NS_PER_HOUR
    legs = {
        PERP.id: LegQuotes(bid=np.array([99.0, 109.0, 119.0]), ask=np.array([101.0, 111.0, 121.0])),
        SPOT.id: LegQuotes(bid=np.array([99.5, 104.5, 109.5]), ask=np.array([100.5, 105.5, 110.5])),
    }
    return VectorizedBacktest(spread=BASIS, fees=FEES, delay_bars=0, at_end=at_end).run(
        ts_ns=ts, legs=legs, target_units=np.ones(3)
    )


def test_a_position_open_at_the_end_is_closed_at_the_touch_with_fees_and_reported() -> None:
    # long 1 perp / short 1 spot from bar 0, still wanted at the last bar.
    # entry: buy perp at 101 (mid 100), sell spot at 99.5 (mid 100): crossing -1.5, fees 0.0505 + 0.0995
    # held: perp mid 100 -> 120 (+20), spot 100 -> 110 (-10)
    # exit at the last bar: sell perp at 119, buy spot at 110.5: crossing -1.5, fees 0.0595 + 0.1105
    res = _open_at_end_case(EndOfRun.CLOSE)
    assert res.metrics.pnl.total == pytest.approx(10.0 - 3.0 - 0.32)
    assert res.positions[-1].tolist() == [0.0, 0.0]
    assert res.metrics.n_trades == 1
    assert res.trades["at_end"].to_list() == [False, False, True, True]
    last = res.trades.filter(res.trades["at_end"])
    assert last["price"].to_list() == [119.0, 110.5]
    assert last["fee_usd"].to_list() == pytest.approx([119 * 0.0005, 110.5 * 0.001])
    rep = res.open_at_end
    assert rep["instrument_id"].to_list() == [str(PERP.id), str(SPOT.id)]
    assert rep["qty"].to_list() == [1.0, -1.0] and rep["closed"].all()
    assert rep["entry_ts_ns"].to_list() == [0, 0] and rep["mark"].to_list() == [120.0, 110.0]
    assert rep["unrealised_usd"].to_list() == pytest.approx([20 - 1 - 0.0505, -10 - 0.5 - 0.0995])
    assert rep["exit_price"].to_list() == [119.0, 110.5]
    assert rep["exit_cost_usd"].to_list() == pytest.approx([-1 - 0.0595, -0.5 - 0.1105])
    assert rep["unrealised_usd"].sum() + rep["exit_cost_usd"].sum() == pytest.approx(res.metrics.pnl.total)


def test_marking_at_the_end_leaves_the_position_open_and_uncounted() -> None:
    res = _open_at_end_case(EndOfRun.MARK)
    assert res.metrics.pnl.total == pytest.approx(10.0 - 1.5 - 0.15)
    assert res.positions[-1].tolist() == [1.0, -1.0]
    assert res.metrics.n_trades == 0  # the round trip never closed
    rep = res.open_at_end
    assert not rep["closed"].any() and rep["exit_price"].null_count() == 2
    assert rep["unrealised_usd"].sum() == pytest.approx(res.metrics.pnl.total)


def test_funding_is_charged_on_the_mark_then_the_index_then_the_mid() -> None:
    # hourly bars 06:00..13:00 and 1h funding times 08:00, 09:00, 10:00 on a long 1 perp / short 1 spot
    ts = (np.arange(8, dtype=np.int64) + 6) * NS_PER_HOUR
    legs = {
        PERP.id: LegQuotes(
            bid=np.full(8, 99.5),
            ask=np.full(8, 100.5),
            funding_times_ns=np.array([8, 9, 10]) * NS_PER_HOUR,
            funding_rates=np.array([0.001, 0.001, 0.001]),
            funding_marks=np.array([102.0, np.nan, np.nan]),
            funding_index=np.array([101.0, 101.5, np.nan]),
        ),
        SPOT.id: LegQuotes(bid=np.full(8, 99.5), ask=np.full(8, 100.5)),
    }
    res = VectorizedBacktest(spread=BASIS, fees=FEES, delay_bars=0).run(
        ts_ns=ts, legs=legs, target_units=np.ones(8)
    )
    # the long pays 0.1% of the mark 102, then of the index 101.5, then of the mid 100
    assert res.funding[2:5].tolist() == pytest.approx([-0.102, -0.1015, -0.100])
    ev = res.funding_events
    assert ev["price_source"].to_list() == ["mark", "index", "mid"]
    assert ev["price"].to_list() == [102.0, 101.5, 100.0]
    assert ev["payment_usd"].sum() == pytest.approx(res.funding.sum())


def test_several_funding_times_in_one_bar_each_pay_at_their_own_price() -> None:
    # daily bars, 8h funding: three events fall in one bar, each at its own mark
    day = 24 * NS_PER_HOUR
    ts = np.arange(3, dtype=np.int64) * day
    legs = {
        COINM.id: LegQuotes(
            bid=np.full(3, 50_000.0),
            ask=np.full(3, 50_000.0),
            funding_times_ns=np.array([day + 8 * NS_PER_HOUR, day + 16 * NS_PER_HOUR, 2 * day]),
            funding_rates=np.array([1e-4, 2e-4, 3e-4]),
            funding_marks=np.array([40_000.0, 50_000.0, 62_500.0]),
        ),
        SPOT.id: LegQuotes(bid=np.full(3, 50_000.0), ask=np.full(3, 50_000.0)),
    }
    spread = Spread(legs=(Leg(instrument=COINM, ratio=1.0), Leg(instrument=SPOT, ratio=-0.002)))
    res = VectorizedBacktest(spread=spread, fees=FeeModel.zero(), delay_bars=0, at_end=EndOfRun.MARK).run(
        ts_ns=ts, legs=legs, target_units=np.ones(3)
    )
    # 1 contract = 100 USD: pays 100 / mark x rate BTC each time, worth x 50,000 USD (the bar's mid)
    coin = [100 / 40_000 * 1e-4, 100 / 50_000 * 2e-4]
    assert res.funding[2] == pytest.approx(-(sum(coin) + 100 / 62_500 * 3e-4) * 50_000)
    assert res.funding_events.height == 3
    assert res.funding_events["payment_usd"].sum() == pytest.approx(res.funding.sum())
