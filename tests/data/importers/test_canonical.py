"""The canonical-Parquet importer: the built-in market's tables go into a catalog unchanged; others are refused."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from spreadlab.data.catalog import Catalog
from spreadlab.data.market import MarketConfig, build_market
from spreadlab.errors import DataError


def test_market_tables_round_trip_and_a_non_canonical_file_is_refused(tmp_path: Path) -> None:
    market = build_market(MarketConfig(days=0.25, seed=2, universe=None, options=None))
    paths = market.write_parquet(tmp_path / "m")
    cat = Catalog(tmp_path / "cat")
    rep = cat.import_("parquet", [paths["quotes"], paths["trades"], paths["mark"]])
    assert [f.status for f in rep.files] == ["imported"] * 3
    for kind in ("quotes", "trades", "mark"):
        got = cat.query(kind)
        want = getattr(market, kind)
        assert got.height == want.height
        key = ["instrument_id", "ts_event", "ts_recv"]
        assert got.sort(key).equals(want.sort(key)), kind
    again = cat.import_("parquet", [paths["quotes"]])
    assert again.files[0].status == "already_imported"
    with pytest.raises(
        DataError, match=r"no canonical table has the columns .*ground_truth.parquet|ground_truth"
    ):
        cat.import_("parquet", [paths["ground_truth"]])
    assert cat.query("quotes").height == market.quotes.height  # nothing stored was lost
    assert pl.read_parquet(paths["ground_truth"]).height > 0
