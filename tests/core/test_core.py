from __future__ import annotations

from datetime import UTC, datetime

import pytest

from spreadlab.core import InstrumentId, SimClock, WallClock, parse_time
from spreadlab.core.time import ns_to_iso
from spreadlab.errors import ValidationError


def test_parse_time_keeps_nanoseconds_and_reads_naive_as_utc() -> None:
    assert parse_time("2024-08-09T00:00:00.123456789Z") == 1723161600123456789
    assert parse_time("2024-08-09 00:00:00") == 1723161600000000000
    assert parse_time("2024-08-09T02:00:00+02:00") == 1723161600000000000
    assert ns_to_iso(parse_time("2024-08-09T00:00:00.123456789Z")) == "2024-08-09T00:00:00.123456789Z"
    assert parse_time(datetime(2024, 8, 9, tzinfo=UTC)) == 1723161600000000000


def test_parse_time_rejects_garbage_and_naive_datetimes() -> None:
    with pytest.raises(ValidationError, match="not an ISO 8601"):
        parse_time("yesterday")
    with pytest.raises(ValidationError, match="no time zone"):
        parse_time(datetime(2024, 8, 9))


def test_sim_clock_never_moves_backwards() -> None:
    clock = SimClock(start_ns=10)
    clock.advance_to(20)
    assert clock.timestamp_ns() == 20
    with pytest.raises(ValidationError, match="never moves backwards"):
        clock.advance_to(19)


def test_wall_clock_reads_system_time() -> None:
    assert WallClock().timestamp_ns() > parse_time("2024-01-01")


def test_instrument_id_round_trip_and_validation() -> None:
    iid = InstrumentId.parse("BINANCE_USDM:BTCUSDT")
    assert (iid.venue, iid.symbol, str(iid)) == ("BINANCE_USDM", "BTCUSDT", "BINANCE_USDM:BTCUSDT")
    with pytest.raises(ValidationError, match="VENUE:SYMBOL"):
        InstrumentId.parse("BTCUSDT")
    with pytest.raises(ValidationError, match="venue='binance'"):
        InstrumentId("binance", "BTCUSDT")
