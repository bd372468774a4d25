"""Validator: bad values, order/duplicates/gaps across batch boundaries, crossed books, bar ranges."""

from __future__ import annotations

import itertools
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spreadlab.data.importers.base import ImportBatch
from spreadlab.data.schema import EventKind, conform
from spreadlab.data.validation import Check, Validator
from spreadlab.errors import DataError

S = 1_000_000_000
T0 = 1_722_470_400 * S  # 2024-08-01: stamps are offsets from a plausible market time


def _quotes(ts, bid, ask, inst="BINANCE:BTCUSDT"):
    n = len(ts)
    ts = [T0 + t for t in ts]
    return ImportBatch(
        kind=EventKind.QUOTES,
        frame=conform(
            pl.DataFrame(
                {
                    "ts_event": ts,
                    "ts_recv": ts,
                    "instrument_id": [inst] * n,
                    "bid": bid,
                    "ask": ask,
                    "bid_size": [1.0] * n,
                    "ask_size": [1.0] * n,
                }
            ),
            EventKind.QUOTES,
        ),
        line=pl.Series(list(range(2, n + 2)), dtype=pl.Int64),
    )


def _counts(v: Validator) -> dict[str, int]:
    return {f.check.value: f.count for f in v.findings}


def test_order_and_duplicates_across_batches():
    v = Validator(path=Path("x.csv"))
    v.check(_quotes([10 * S, 20 * S], [1.0, 1.0], [2.0, 2.0]))
    v.check(_quotes([15 * S, 15 * S, 30 * S], [1.0, 1.0, 1.0], [2.0, 2.0, 2.0]))
    assert _counts(v) == {"out_of_order": 1, "duplicate_ts": 1}


def test_series_are_independent():
    v = Validator(path=Path("x.csv"))
    v.check(_quotes([10 * S, 20 * S], [1.0, 1.0], [2.0, 2.0], inst="A:X"))
    v.check(_quotes([5 * S], [1.0], [2.0], inst="A:Y"))
    assert _counts(v) == {}


def test_crossed_and_locked_and_gap():
    v = Validator(path=Path("x.csv"), gap_ns=60 * S)
    v.check(_quotes([0, S, 200 * S], [1.0, 2.0, 2.0], [2.0, 2.0, 1.5]))
    assert _counts(v) == {"locked": 1, "crossed": 1, "gap": 1}


def test_bad_price_raises_with_line_or_quarantines():
    batch = _quotes([0, S, 2 * S], [1.0, float("nan"), 0.0], [2.0, 2.0, 2.0])
    with pytest.raises(DataError) as exc:
        Validator(path=Path("x.csv")).check(batch)
    assert (exc.value.row, exc.value.field) == (3, "bid")
    keep, q = Validator(path=Path("x.csv"), skip_bad=True).check(batch)
    assert keep.height == 1 and q["line"].to_list() == [3, 4]


def test_bar_range_and_interval_gap():
    h = 3600 * S
    frame = conform(
        pl.DataFrame(
            {
                "ts_event": [T0, T0 + h, T0 + 5 * h],
                "ts_recv": [T0 + h, T0 + 2 * h, T0 + 6 * h],
                "instrument_id": ["V:B"] * 3,
                "open": [1.0, 1.0, 1.0],
                "high": [2.0, 0.5, 2.0],
                "low": [0.5, 0.4, 0.5],
                "close": [1.5, 1.0, 1.5],
                "interval_ns": [h] * 3,
                "price_type": ["trade"] * 3,
            }
        ),
        EventKind.BARS,
    )
    v = Validator(path=Path("b.csv"))
    v.check(ImportBatch(kind=EventKind.BARS, frame=frame))
    assert _counts(v) == {"bar_range": 1, "gap": 1}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=40), st.integers(1, 5))
def test_order_count_independent_of_chunking(stamps, parts):
    """Splitting the same rows into batches never changes the out-of-order / duplicate counts."""
    ts = [t * S for t in stamps]
    whole = Validator(path=Path("x"))
    whole.check(_quotes(ts, [1.0] * len(ts), [2.0] * len(ts)))
    split = Validator(path=Path("x"))
    size = max(1, len(ts) // parts)
    for i in range(0, len(ts), size):
        part = ts[i : i + size]
        split.check(_quotes(part, [1.0] * len(part), [2.0] * len(part)))
    assert _counts(whole) == _counts(split)
    expect_ooo = sum(1 for a, b in itertools.pairwise(ts) if b < a)
    assert _counts(whole).get(Check.OUT_OF_ORDER.value, 0) == expect_ooo


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=12), min_size=2, max_size=30),
    st.lists(st.integers(min_value=1, max_value=29), max_size=4),
)
def test_counts_match_hand_counts_for_any_batch_cut(steps_min, cuts):
    """Order, duplicate and gap counts equal the pairwise counts, wherever the batches are cut.

    Steps are minutes (0: duplicate, > 5: a gap over the 5-minute tick threshold); one step is
    made negative so out-of-order rows also occur, including exactly at a batch boundary.
    """
    ts = [0]
    for i, m in enumerate(steps_min):
        ts.append(ts[-1] + (-m if i == len(steps_min) // 2 else m) * 60 * S)
    bounds = sorted({0, len(ts), *(c for c in cuts if c < len(ts))})
    v = Validator(path=Path("x"))
    for a, b in itertools.pairwise(bounds):
        part = ts[a:b]
        v.check(_quotes(part, [1.0] * len(part), [2.0] * len(part)))
    diffs = [b - a for a, b in itertools.pairwise(ts)]
    expect = {
        Check.OUT_OF_ORDER.value: sum(d < 0 for d in diffs),
        Check.DUPLICATE_TS.value: sum(d == 0 for d in diffs),
        Check.GAP.value: sum(d > 5 * 60 * S for d in diffs),
    }
    assert _counts(v) == {k: n for k, n in expect.items() if n}
