"""Executable spread prices at size, round-trip costs and the iv_residual quote."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spreadlab.core.enums import Side
from spreadlab.core.time import NS_PER_DAY
from spreadlab.data.orderbook import OrderBook
from spreadlab.errors import ValidationError
from spreadlab.instruments import parse_symbol
from spreadlab.instruments.fees import FeeModel
from spreadlab.pricing.black76 import black76
from spreadlab.signals.spread import Leg, LegMarket, PriceSource, Spread, SpreadQuote

PERP = parse_symbol("BINANCE_USDM", "BTCUSDT")
SPOT = parse_symbol("BINANCE", "BTCUSDT")
FUT = parse_symbol("DERIBIT", "BTC-27JUN25")
OPT = parse_symbol("DERIBIT", "BTC-27JUN25-100000-C")

BIDS = np.array([[100.0, 1.0], [99.5, 2.0], [99.0, 5.0]])
ASKS = np.array([[100.5, 1.5], [101.0, 1.0], [102.0, 4.0]])


def test_fill_walks_levels_like_the_order_book() -> None:
    m = LegMarket(instrument=PERP, bid=100.0, ask=100.5, bid_levels=BIDS, ask_levels=ASKS)
    f = m.fill(Side.BUY, 2.0)
    assert f.vwap == pytest.approx((1.5 * 100.5 + 0.5 * 101.0) / 2.0) and f.complete
    book = OrderBook()
    book.apply_snapshot(bids=BIDS, asks=ASKS)
    for q in (0.3, 1.0, 3.0, 7.9):
        assert m.fill(Side.SELL, q).vwap == pytest.approx(book.impact(Side.SELL, q).vwap)
    deep = m.fill(Side.SELL, 10.0)  # 8 units rest: the missing 2 priced at the worst level
    assert not deep.complete and deep.vwap == pytest.approx((100 + 2 * 99.5 + 5 * 99 + 2 * 99) / 10)
    touch = LegMarket(instrument=SPOT, bid=99.0, ask=100.0, bid_size=0.5, ask_size=0.5)
    assert touch.fill(Side.BUY, 0.4).complete and not touch.fill(Side.BUY, 0.6).complete
    unknown = LegMarket.from_price(SPOT, 100.0, half_spread_bp=2.0, source=PriceSource.MARK)
    assert unknown.bid == pytest.approx(99.98) and not unknown.fill(Side.BUY, 1.0).complete


@settings(max_examples=40, deadline=None)
@given(st.floats(0.01, 7.0), st.floats(0.01, 7.0))
def test_executable_band_widens_with_size(q1: float, q2: float) -> None:
    s = Spread(
        legs=(Leg(instrument=PERP, ratio=1.0), Leg(instrument=SPOT, ratio=-1.0)), quote=SpreadQuote.BASIS
    )
    mk = {
        PERP.id: LegMarket(instrument=PERP, bid=100.0, ask=100.5, bid_levels=BIDS, ask_levels=ASKS),
        SPOT.id: LegMarket(
            instrument=SPOT, bid=99.8, ask=100.1, bid_levels=BIDS - [0.2, 0], ask_levels=ASKS - [0.4, 0]
        ),
    }
    lo, hi = sorted((q1, q2))
    b1, a1 = s.executable_at_size(mk, quantity=lo)
    b2, a2 = s.executable_at_size(mk, quantity=hi)
    tb, ta = s.executable(
        {PERP.id: np.array([100.0]), SPOT.id: np.array([99.8])},
        {PERP.id: np.array([100.5]), SPOT.id: np.array([100.1])},
    )
    assert b2 <= b1 + 1e-15 <= tb[0] + 2e-15 and ta[0] - 2e-15 <= a1 <= a2 + 1e-15


def test_round_trip_cost_hand_worked() -> None:
    s = Spread(legs=(Leg(instrument=PERP, ratio=1.0), Leg(instrument=SPOT, ratio=-1.0)))
    mk = {
        PERP.id: LegMarket(instrument=PERP, bid=100.0, ask=100.5, bid_levels=BIDS, ask_levels=ASKS),
        SPOT.id: LegMarket(instrument=SPOT, bid=99.9, ask=100.1, bid_size=10.0, ask_size=10.0),
    }
    c = s.round_trip_cost(mk, quantity=2.0, fees=FeeModel.default())
    mid = 100.25
    buy = (1.5 * 100.5 + 0.5 * 101.0) / 2
    sell = (1.0 * 100.0 + 1.0 * 99.5) / 2
    assert c.half_spread_usd == pytest.approx(2 * 0.25 * 2 + 2 * 0.1 * 2)
    assert c.impact_usd == pytest.approx(2 * (buy - 100.5) + 2 * (100.0 - sell))
    fees = 2 * buy * 0.0005 + 2 * sell * 0.0005 + 2 * 100.1 * 0.001 + 2 * 99.9 * 0.001
    assert c.fees_usd == pytest.approx(fees)
    assert c.total_usd == pytest.approx(c.fees_usd + c.half_spread_usd + c.impact_usd)
    assert c.notional_usd == pytest.approx(2 * mid + 2 * 100.0) and c.complete


def test_iv_residual_quote_inverts_black76() -> None:
    s = Spread(
        legs=(Leg(instrument=OPT, ratio=1.0), Leg(instrument=FUT, ratio=-0.5)), quote=SpreadQuote.IV_RESIDUAL
    )
    ts = FUT.expiry_ns - 365 * NS_PER_DAY // 4  # type: ignore[attr-defined]  # 0.25 y in ACT/365
    price = float(black76(95_000.0, 100_000.0, 0.25, 0.55, kind="call", settlement="inverse"))
    got = s.value([np.array([price]), np.array([95_000.0])], ts_ns=np.array([ts]))
    assert got[0] == pytest.approx(0.55, abs=1e-10)
    mk = {
        OPT.id: LegMarket(
            instrument=OPT,
            bid=price - 0.001,
            ask=price + 0.001,
            usd_per_price=94_000.0,
            underlying_usd=94_000.0,
        ),
        FUT.id: LegMarket(instrument=FUT, bid=94_990.0, ask=95_010.0),
    }
    bid, ask = s.executable_at_size(mk, quantity=1.0, ts_ns=ts)
    assert bid < 0.55 < ask
    with pytest.raises(ValidationError, match="Option as leg 1"):
        Spread(
            legs=(Leg(instrument=FUT, ratio=1.0), Leg(instrument=OPT, ratio=-1.0)),
            quote=SpreadQuote.IV_RESIDUAL,
        )


def test_bad_leg_markets_name_the_field() -> None:
    with pytest.raises(ValidationError, match="crossed"):
        LegMarket(instrument=PERP, bid=101.0, ask=100.0)
    with pytest.raises(ValidationError, match="bid=nan"):
        LegMarket(instrument=PERP, bid=float("nan"), ask=100.0)
    with pytest.raises(ValidationError, match="underlying_usd"):
        LegMarket(instrument=OPT, bid=0.01, ask=0.02)
    with pytest.raises(ValidationError, match="quantity"):
        LegMarket(instrument=PERP, bid=99.0, ask=100.0).fill(Side.BUY, -1.0)
