from __future__ import annotations

import numpy as np
import pytest

from spreadlab.core.time import NS_PER_DAY, parse_time
from spreadlab.errors import ValidationError
from spreadlab.instruments import parse_symbol
from spreadlab.signals.rules import RuleEvent, ThresholdRule
from spreadlab.signals.spread import Leg, Spread, SpreadQuote

PERP = parse_symbol("BINANCE_USDM", "BTCUSDT")
SPOT = parse_symbol("BINANCE", "BTCUSDT")
FUT = parse_symbol("DERIBIT", "BTC-27JUN25")
ETH = parse_symbol("BINANCE_USDM", "ETHUSDT")


def test_executable_basis_buys_at_ask_and_sells_at_bid() -> None:
    s = Spread(
        legs=(Leg(instrument=PERP, ratio=1.0), Leg(instrument=SPOT, ratio=-1.0)), quote=SpreadQuote.BASIS
    )
    bids = {PERP.id: np.array([101.0]), SPOT.id: np.array([99.0])}
    asks = {PERP.id: np.array([102.0]), SPOT.id: np.array([100.0])}
    bid, ask = s.executable(bids, asks)
    assert bid[0] == pytest.approx(101.0 / 100.0 - 1)  # sell perp at bid, buy spot at ask
    assert ask[0] == pytest.approx(102.0 / 99.0 - 1)  # buy perp at ask, sell spot at bid
    mid = s.value({PERP.id: np.array([101.5]), SPOT.id: np.array([99.5])})
    assert bid[0] < mid[0] < ask[0]


def test_difference_and_log_ratio_with_hedge_ratio() -> None:
    s = Spread(legs=(Leg(instrument=PERP, ratio=1.0), Leg(instrument=ETH, ratio=-15.0)))
    bid, ask = s.executable(
        [np.array([60_000.0]), np.array([4_000.0])], [np.array([60_010.0]), np.array([4_001.0])]
    )
    assert bid[0] == 60_000.0 - 15 * 4_001.0
    assert ask[0] == 60_010.0 - 15 * 4_000.0
    lr = Spread(
        legs=(Leg(instrument=PERP, ratio=1.0), Leg(instrument=ETH, ratio=-1.2)), quote=SpreadQuote.LOG_RATIO
    )
    assert lr.value([np.array([np.e**2]), np.array([np.e])])[0] == pytest.approx(2 - 1.2)


def test_annualised_basis_uses_time_to_expiry() -> None:
    s = Spread(
        legs=(Leg(instrument=FUT, ratio=1.0), Leg(instrument=SPOT, ratio=-1.0)),
        quote=SpreadQuote.ANNUALISED_BASIS,
    )
    ts = np.array([FUT.expiry_ns - 365 * NS_PER_DAY // 4])  # type: ignore[attr-defined]  # 0.25 y ACT/365
    got = s.value([np.array([101.0]), np.array([100.0])], ts_ns=ts)
    assert got[0] == pytest.approx(0.01 / 0.25)
    with pytest.raises(ValidationError, match="expiry"):
        s.value([np.array([101.0]), np.array([100.0])], ts_ns=np.array([parse_time("2025-07-01")]))


def test_bad_spreads_are_rejected() -> None:
    with pytest.raises(ValidationError, match="at least 2"):
        Spread(legs=(Leg(instrument=PERP, ratio=1.0),))
    with pytest.raises(ValidationError, match="ratio=0.0"):
        Leg(instrument=PERP, ratio=0.0)
    with pytest.raises(ValidationError, match="leg 1 long"):
        Spread(
            legs=(Leg(instrument=PERP, ratio=-1.0), Leg(instrument=SPOT, ratio=1.0)), quote=SpreadQuote.RATIO
        )
    with pytest.raises(ValidationError, match="Future"):
        Spread(
            legs=(Leg(instrument=PERP, ratio=1.0), Leg(instrument=SPOT, ratio=-1.0)),
            quote=SpreadQuote.ANNUALISED_BASIS,
        )


def test_threshold_rule_validation_and_counts() -> None:
    with pytest.raises(ValidationError, match="exit_z=3.0"):
        ThresholdRule(entry_z=2.0, exit_z=3.0)
    with pytest.raises(ValidationError, match="stop_z=1.5"):
        ThresholdRule(entry_z=2.0, stop_z=1.5)
    out = ThresholdRule(entry_z=1.0, stop_z=3.0).apply(np.array([0, 1.5, 0.5, -0.1, -1.5, -3.5]))
    assert (
        out.count(RuleEvent.ENTRY) == 2 and out.count(RuleEvent.EXIT) == 1 and out.count(RuleEvent.STOP) == 1
    )
