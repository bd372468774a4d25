"""Chunks are bounded in rows, not messages (issue 10 item 7): a depth message holds hundreds of levels,
so a chunk of N messages could hold many times N rows and memory grew with the file's depth."""

from __future__ import annotations

from tests.conftest import need_shared

from spreadlab.data.importers.base import DEFAULT_CHUNK_ROWS
from spreadlab.data.importers.binance_ws import read_binance_ws
from spreadlab.data.importers.bybit_ob import read_bybit_ob

WS = "binance_l2_hftbacktest/usdm/btcusdt_20240808.gz"  # 93,954 messages, 445,521 level updates
OB = "nautilus_fixtures/bybit_ob500/xrpusdt-ob500.data.zip"  # 50 messages, 3,966 level rows, 500-level snapshot


def test_binance_ws_chunks_hold_at_most_chunk_rows_plus_one_message():
    batches = [
        b for b in read_binance_ws(need_shared(WS), chunk_rows=20_000) if b.kind.value == "book_deltas"
    ]
    sizes = [b.frame.height for b in batches]
    assert sum(sizes) == 445_521
    biggest_message = 1_000  # the REST snapshot: 1000 levels (500 a side)
    assert max(sizes) <= 20_000 + biggest_message
    assert len(sizes) >= 445_521 // (20_000 + biggest_message)


def test_bybit_chunks_are_bounded_in_rows():
    sizes = [b.frame.height for b in read_bybit_ob(need_shared(OB), chunk_rows=1_000)]
    assert sum(sizes) == 3_966
    assert max(sizes) <= 1_000 + 1_000  # at most one 500-a-side snapshot beyond the bound
    assert len(sizes) >= 2  # before: 50 messages < 1,000, one chunk of 3,966 rows


def test_default_is_modest():
    assert DEFAULT_CHUNK_ROWS <= 250_000  # with two chunks in flight: well under 100 MB of rows
