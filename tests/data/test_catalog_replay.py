"""Book deltas stored in the catalog keep the venue's update ids, so a replay from the catalog
checks the Binance sequence exactly like a replay from the raw capture."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from tests.conftest import need_shared

from spreadlab.data.catalog import Catalog
from spreadlab.data.importers.binance_ws import read_binance_ws_tables
from spreadlab.data.orderbook import OrderBook, SequenceRule
from spreadlab.events.schema import EventKind


def test_replay_from_catalog_equals_replay_from_capture(tmp_path: Path) -> None:
    path = need_shared("binance_l2_hftbacktest/usdm/ethusdt_20240808.gz")
    direct = read_binance_ws_tables(path)[EventKind.BOOK_DELTAS]
    cat = Catalog(tmp_path / "cat")
    cat.import_("binance-ws", [path])
    stored = cat.query("book_deltas")
    assert stored.height == direct.height
    assert stored["first_sequence"].null_count() == 0 and stored["prev_sequence"].null_count() < stored.height
    rule = SequenceRule.for_venue(direct["instrument_id"][0].split(":")[0])
    assert rule is SequenceRule.BINANCE_FUTURES
    a = OrderBook(rule=rule).replay(direct)
    b = OrderBook(rule=rule).replay(stored.sort("ts_recv", "sequence", maintain_order=True))
    assert a.gaps == b.gaps == 0 and a.snapshots == b.snapshots == 1
    cols = ["sequence", "valid", "bid", "bid_size", "ask", "ask_size"]
    assert a.frame.select(cols).equals(b.frame.select(cols))
    # dropping one stored message is caught as a gap from catalog data too
    victim = int(stored.filter(~pl.col("is_snapshot"))["sequence"].unique(maintain_order=True)[100])
    holed = OrderBook(rule=rule).replay(stored.filter(pl.col("sequence") != victim))
    assert holed.gaps == 1
