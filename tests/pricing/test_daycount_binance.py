"""Binance options count ACT/365: its published mark-price payload is reproduced in that day count.

The payloads are the two example rows of Binance's options ``<underlying>@optionMarkPrice``
stream documentation (https://developers.binance.com/docs/derivatives/options-trading/
websocket-market-streams/Mark-Price): event time ``E`` 1762867543321 ms, index ``i``
104334.60217391, risk-free rate ``rf`` 0, mark price ``mp`` (USDT), mark IV ``vo`` and delta ``d``.
Binance options expire at 08:00 UTC. Black-76 on the index at ``vo`` gives ``mp`` to 0.01 USDT and
``d`` to 1e-7 with years counted ACT/365; a 365.25-day year misses the price by about 1 USDT.
"""

from __future__ import annotations

import pytest

from spreadlab.core.enums import DayCount, Venue
from spreadlab.core.time import venue_day_count, year_fraction
from spreadlab.pricing.black76 import black76_greeks

EVENT_NS = 1_762_867_543_321 * 1_000_000
INDEX = 104334.60217391
# (symbol, published mark price USDT, mark IV, delta)
ROWS = [
    ("BTC-251120-126000-C", 770.543, 0.9408058, 0.11111964),
    ("BTC-251123-126000-C", 1249.61, 0.93310237, 0.14869196),
]


def _binance_option(symbol: str) -> tuple[int, float]:
    # Binance's own option symbols: BTC-YYMMDD-STRIKE-C, expiring 08:00 UTC
    from datetime import UTC, datetime

    _, date, strike, _ = symbol.split("-")
    expiry = datetime(2000 + int(date[:2]), int(date[2:4]), int(date[4:]), 8, tzinfo=UTC)
    return int(expiry.timestamp()) * 1_000_000_000, float(strike)


@pytest.mark.parametrize(("symbol", "mark", "vol", "delta"), ROWS)
def test_binance_marks_are_act_365(symbol: str, mark: float, vol: float, delta: float) -> None:
    expiry_ns, strike = _binance_option(symbol)
    # spreadlab has no Binance options venue yet; every venue's table entry is ACT/365, checked here
    assert {venue_day_count(v) for v in Venue} == {DayCount.ACT_365}
    t = year_fraction(EVENT_NS, expiry_ns, DayCount.ACT_365)
    g = black76_greeks(INDEX, strike, t, vol, kind="call")
    assert float(g.price) == pytest.approx(mark, abs=0.01)
    assert float(g.delta) == pytest.approx(delta, abs=1e-7)
    old = black76_greeks(
        INDEX, strike, year_fraction(EVENT_NS, expiry_ns, DayCount.ACT_365_25), vol, kind="call"
    )
    assert abs(float(old.price) - mark) > 0.9  # a 365.25-day year is visibly off
