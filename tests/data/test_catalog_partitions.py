"""Partition dates: the per-batch shortcut agrees with the per-row polars date expression."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from spreadlab.core.time import NS_PER_DAY
from spreadlab.data.catalog_parts import _day, _partitions
from spreadlab.data.schema import EventKind


@settings(max_examples=200, deadline=None)
@given(
    ns=st.lists(st.integers(-(10**18), 4 * 10**18), min_size=1, max_size=20),
    kind=st.sampled_from([EventKind.BOOK_DELTAS, EventKind.FUNDING]),
)
def test_partition_date_matches_polars_dates(ns: list[int], kind: EventKind) -> None:
    day = (pl.col("ts_event") // NS_PER_DAY).cast(pl.Int32).cast(pl.Date)
    expr = day if kind is EventKind.BOOK_DELTAS else day.dt.truncate("1mo")
    expected = pl.DataFrame({"ts_event": ns}).select(expr)["ts_event"].to_list()
    assert [_day(t, kind) for t in ns] == expected
    frame = pl.DataFrame({"ts_event": ns, "instrument_id": ["BINANCE:BTCUSDT"] * len(ns)})
    groups = {key[2]: sub.height for key, sub, _ in _partitions(frame, kind)}
    assert groups == {d: expected.count(d) for d in set(expected)}
