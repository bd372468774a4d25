from __future__ import annotations

import math

import polars as pl
import pytest

from spreadlab.core import InstrumentId, Side
from spreadlab.errors import ValidationError
from spreadlab.events import (
    BookDelta,
    BookSnapshot,
    EventKind,
    FundingRate,
    Quote,
    arrow_schema,
    polars_schema,
)

IID = InstrumentId("DERIBIT", "BTC-PERPETUAL")


def test_quote_rejects_nan_crossed_and_bad_times() -> None:
    q = Quote(instrument_id=IID, ts_event=1, ts_recv=2, bid=100.0, ask=100.5, bid_size=1.0, ask_size=2.0)
    assert q.mid == 100.25
    with pytest.raises(ValidationError, match="bid=nan must be finite"):
        Quote(instrument_id=IID, ts_event=1, ts_recv=2, bid=math.nan, ask=1.0, bid_size=1.0, ask_size=1.0)
    with pytest.raises(ValidationError, match="crossed"):
        Quote(instrument_id=IID, ts_event=1, ts_recv=2, bid=101.0, ask=100.0, bid_size=1.0, ask_size=1.0)
    with pytest.raises(ValidationError, match="ts_event=1.5"):
        Quote(instrument_id=IID, ts_event=1.5, ts_recv=2, bid=1.0, ask=1.0, bid_size=1.0, ask_size=1.0)  # type: ignore[arg-type]


def test_book_messages_validate_levels() -> None:
    BookDelta(instrument_id=IID, ts_event=0, ts_recv=0, side=Side.BUY, price=1.0, size=0.0)
    with pytest.raises(ValidationError, match="size=-1.0 must be >= 0"):
        BookDelta(instrument_id=IID, ts_event=0, ts_recv=0, side=Side.BUY, price=1.0, size=-1.0)
    with pytest.raises(ValidationError, match="descending"):
        BookSnapshot(instrument_id=IID, ts_event=0, ts_recv=0, bids=((1.0, 1.0), (2.0, 1.0)), asks=())
    with pytest.raises(ValidationError, match="crossed"):
        BookSnapshot(instrument_id=IID, ts_event=0, ts_recv=0, bids=((3.0, 1.0),), asks=((2.0, 1.0),))
    with pytest.raises(ValidationError, match="interval_ns=0"):
        FundingRate(instrument_id=IID, ts_event=0, ts_recv=0, rate=1e-4, funding_time_ns=0, interval_ns=0)


@pytest.mark.parametrize("kind", list(EventKind))
def test_every_kind_has_matching_polars_and_arrow_schemas(kind: EventKind) -> None:
    ps = polars_schema(kind)
    arrow = arrow_schema(kind)
    assert list(ps) == arrow.names
    assert ps["ts_event"] == pl.Int64 and ps["ts_recv"] == pl.Int64
