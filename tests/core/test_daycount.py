"""Day counts: year fractions by hand, venue defaults, and instruments that carry their own."""

from __future__ import annotations

import numpy as np
import pytest

from spreadlab.core.enums import DayCount, Venue
from spreadlab.core.time import NS_PER_DAY, NS_PER_HOUR, VENUE_DAY_COUNT, venue_day_count, year_fraction
from spreadlab.errors import ValidationError
from spreadlab.instruments import Future, Option, parse_symbol


def test_year_fraction_by_hand() -> None:
    # 73 days = 0.2 of a 365-day year; 36 h = 1.5 / 365.25 of the other
    assert year_fraction(0, 73 * NS_PER_DAY, DayCount.ACT_365) == pytest.approx(0.2, rel=1e-15)
    assert year_fraction(0, 36 * NS_PER_HOUR, DayCount.ACT_365_25) == pytest.approx(1.5 / 365.25, rel=1e-15)
    assert year_fraction(10 * NS_PER_DAY, 0, DayCount.ACT_365) == pytest.approx(-10 / 365)
    out = year_fraction(np.array([0, 365 * NS_PER_DAY]), 730 * NS_PER_DAY, DayCount.ACT_365)
    np.testing.assert_allclose(out, [2.0, 1.0])
    with pytest.raises(ValidationError, match="day_count"):
        year_fraction(0, 1, "ACT/365")  # type: ignore[arg-type]


def test_every_venue_has_a_day_count() -> None:
    assert set(VENUE_DAY_COUNT) == set(Venue)
    assert venue_day_count(Venue.DERIBIT) is DayCount.ACT_365
    assert venue_day_count("NOT_A_VENUE") is DayCount.ACT_365


@pytest.mark.parametrize(
    ("venue", "symbol"),
    [
        ("DERIBIT", "BTC-27JUN25-100000-C"),
        ("DERIBIT", "BTC-27JUN25"),
        ("OKX", "BTC-USD-250627-100000-C"),
        ("BINANCE_USDM", "BTCUSDT_250627"),
        ("BYBIT_OPTION", "BTC-27JUN25-100000-C"),
    ],
)
def test_parsed_contracts_take_their_venue_day_count(venue: str, symbol: str) -> None:
    inst = parse_symbol(venue, symbol)
    assert isinstance(inst, Future | Option)
    assert inst.day_count is venue_day_count(venue)
    assert inst.time_to_expiry(inst.expiry_ns - 73 * NS_PER_DAY) == pytest.approx(0.2, rel=1e-15)


def test_an_instrument_can_override_its_day_count() -> None:
    import dataclasses

    opt = parse_symbol("DERIBIT", "BTC-27JUN25-100000-C")
    assert isinstance(opt, Option)
    other = dataclasses.replace(opt, day_count=DayCount.ACT_365_25)
    ts = np.array([opt.expiry_ns - 365 * NS_PER_DAY, opt.expiry_ns - NS_PER_DAY])
    np.testing.assert_allclose(other.years_to_expiry(ts), [365 / 365.25, 1 / 365.25])
    np.testing.assert_allclose(opt.years_to_expiry(ts), [1.0, 1 / 365])
    with pytest.raises(ValidationError, match="day_count"):
        dataclasses.replace(opt, day_count="ACT/365")
