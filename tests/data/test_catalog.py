"""Catalog: idempotent, atomic (a killed import leaves exactly the earlier data), appendable, queryable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import polars as pl
import pytest
from tests.conftest import need_shared

from spreadlab.data.catalog import Catalog
from spreadlab.data.importers.tardis import read_tardis
from spreadlab.errors import DataError

L2 = "nautilus_fixtures/tardis_format/deribit_incremental_book_L2_BTC-PERPETUAL.csv"
HEADER = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n"


def _l2_file(path: Path, *, rows: int, t0_us: int, symbol: str = "BTCUSDT") -> Path:
    """A Tardis incremental_book_L2 file: alternating bid/ask updates 1 ms apart."""
    lines = [HEADER]
    for i in range(rows):
        side = "bid" if i % 2 == 0 else "ask"
        px = 50000.0 - (i % 50) * 0.5 if side == "bid" else 50001.0 + (i % 50) * 0.5
        ts = t0_us + i * 1000
        lines.append(f"binance-futures,{symbol},{ts},{ts + 150},false,{side},{px},{(i % 7) * 0.25}\n")
    path.write_text("".join(lines))
    return path


def test_import_query_and_counts(tmp_path):
    cat = Catalog(tmp_path / "cat")
    path = need_shared(L2)
    rep = cat.import_("tardis", [path])
    (f,) = rep.files
    assert (f.status, f.rows_read, f.rows_stored, f.rows_quarantined) == ("imported", 15, 15, 0)
    assert f.instruments == ("DERIBIT:BTC-PERPETUAL",)
    direct = pl.concat([b.frame for b in read_tardis(path)])
    assert cat.query("book_deltas").equals(direct)
    inst = cat.instruments()
    assert inst.row(0, named=True)["rows"] == 15 and inst["kind"][0] == "book_deltas"
    assert cat.sql("SELECT count(*) AS n, sum(size) AS s FROM book_deltas").row(0) == (
        15,
        direct["size"].sum(),
    )
    assert cat.sql("SELECT rows_read FROM imports")["rows_read"][0] == 15


def test_reimport_adds_nothing(tmp_path):
    cat = Catalog(tmp_path / "cat")
    path = need_shared("binance_bybit_perps/bybit_linear_mark_4h.csv.gz")
    first = cat.import_("ohlcv", [path], venue="BYBIT_LINEAR")
    files_before = sorted((tmp_path / "cat" / "data").rglob("*.parquet"))
    again = cat.import_("ohlcv", [path], venue="BYBIT_LINEAR")
    assert first.files[0].rows_stored == 1620
    assert again.files[0].status == "already_imported" and again.rows_stored == 0
    assert cat.query("bars").height == 1620
    assert sorted((tmp_path / "cat" / "data").rglob("*.parquet")) == files_before
    assert cat.imports().height == 1


def test_append_later_day_and_time_filters(tmp_path):
    cat = Catalog(tmp_path / "cat")
    day1 = _l2_file(tmp_path / "d1.csv", rows=500, t0_us=1_704_067_200_000_000)  # 2024-01-01
    day2 = _l2_file(tmp_path / "d2.csv", rows=300, t0_us=1_704_153_600_000_000)  # 2024-01-02
    cat.import_("tardis", [day1])
    cat.import_("tardis", [day2])
    all_rows = cat.query("book_deltas", ["BINANCE_USDM:BTCUSDT"])
    assert all_rows.height == 800 and all_rows["ts_event"].is_sorted()
    assert cat.query("book_deltas", start="2024-01-02").height == 300
    assert cat.query("book_deltas", end="2024-01-02").height == 500
    assert cat.query("book_deltas", ["BINANCE_USDM:ETHUSDT"]).height == 0
    dates = sorted(p.name for p in (tmp_path / "cat" / "data").rglob("date=*"))
    assert dates == ["date=2024-01-01", "date=2024-01-02"]


def test_bad_file_midway_leaves_earlier_data(tmp_path):
    cat = Catalog(tmp_path / "cat")
    good = _l2_file(tmp_path / "good.csv", rows=100, t0_us=1_704_067_200_000_000)
    bad = _l2_file(tmp_path / "bad.csv", rows=5000, t0_us=1_704_153_600_000_000, symbol="ETHUSDT")
    text = bad.read_text().splitlines()
    text[4000] = text[4000].replace(",false,", ",maybe,")
    bad.write_text("\n".join(text) + "\n")
    cat.import_("tardis", [good])
    with pytest.raises(DataError) as exc:
        cat.import_("tardis", [bad], chunk_rows=1000)  # chunks before line 4001 were already written
    assert exc.value.row == 4001 and exc.value.field == "is_snapshot"
    assert cat.query("book_deltas").height == 100
    assert cat.instruments()["instrument_id"].to_list() == ["BINANCE_USDM:BTCUSDT"]
    assert (
        len(list((tmp_path / "cat" / "data").rglob("*.parquet"))) == 1
    )  # the failed import's files are gone
    rep = cat.import_("tardis", [bad], chunk_rows=1000, skip_bad=True)
    assert rep.files[0].rows_quarantined == 1 and rep.files[0].rows_stored == 4999
    q = cat.quarantine()
    assert q["line"].to_list() == [4001] and q["field"].to_list() == ["is_snapshot"]


_KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from spreadlab.data.catalog import Catalog

    def progress(path, rows):
        print("CHUNK", rows, flush=True)
        time.sleep(60)  # wait to be killed after the first chunk has been written

    Catalog(sys.argv[1]).import_("tardis", [Path(sys.argv[2])], chunk_rows=2000, progress=progress)
    print("DONE", flush=True)
    """
)


def test_sigkill_midway_leaves_exactly_earlier_data(tmp_path):
    cat_dir = tmp_path / "cat"
    cat = Catalog(cat_dir)
    early = _l2_file(tmp_path / "early.csv", rows=1000, t0_us=1_704_067_200_000_000)
    big = _l2_file(tmp_path / "big.csv", rows=20_000, t0_us=1_704_153_600_000_000, symbol="ETHUSDT")
    cat.import_("tardis", [early])
    before = cat.query("book_deltas")
    script = tmp_path / "imp.py"
    script.write_text(_KILL_SCRIPT)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(cat_dir), str(big)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("CHUNK"), line
        written = list((cat_dir / "data").rglob("*ETHUSDT*/**/*.parquet"))
        assert written, "the first chunk should be on disk before the kill"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    after = Catalog(cat_dir)
    assert after.query("book_deltas").equals(before)
    assert after.instruments()["instrument_id"].to_list() == ["BINANCE_USDM:BTCUSDT"]
    assert after.sql("SELECT count(*) AS n FROM book_deltas")["n"][0] == 1000
    # the next import cleans the orphans up and can import the file completely
    rep = after.import_("tardis", [big])
    assert rep.files[0].rows_stored == 20_000
    assert after.query("book_deltas").height == 21_000
    assert not list((cat_dir / "pending").glob("*.txt"))


def test_validation_findings_in_report(tmp_path):
    p = tmp_path / "q.csv"
    p.write_text(
        "exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount\n"
        "binance,BTCUSDT,1704067200000000,1704067200000100,1,100.5,100.0,1\n"
        "binance,BTCUSDT,1704067199000000,1704067200000200,1,100.5,100.6,1\n"  # out of order, crossed
        "binance,BTCUSDT,1704067199000000,1704067200000300,1,100.5,100.5,1\n"  # duplicate, locked
        "binance,BTCUSDT,1704068200000000,1704068200000300,1,100.5,100.4,1\n"  # gap of 1000 s
    )
    rep = Catalog(tmp_path / "c").import_("tardis", [p])
    found = {f.check.value: f.count for f in rep.files[0].findings}
    assert found == {"out_of_order": 1, "crossed": 1, "duplicate_ts": 1, "locked": 1, "gap": 1}
    assert rep.files[0].rows_stored == 4  # market facts are stored and reported


def test_nan_and_negative_prices_never_stored(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text(
        "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
        "bitmex,XBTUSD,1583020803145000,1583020803307160,a,sell,8531.5,2152\n"
        "bitmex,XBTUSD,1583020803146000,1583020803307160,b,sell,NaN,1\n"
        "bitmex,XBTUSD,1583020803147000,1583020803307160,c,buy,-1,1\n"
        "bitmex,XBTUSD,1583020803148000,1583020803307160,d,buy,8531.0,-3\n"
    )
    cat = Catalog(tmp_path / "c")
    with pytest.raises(DataError) as exc:
        cat.import_("tardis", [p])
    assert (exc.value.row, exc.value.field) == (3, "price")
    assert cat.query("trades").height == 0
    rep = cat.import_("tardis", [p], skip_bad=True)
    assert (rep.files[0].rows_stored, rep.files[0].rows_quarantined) == (1, 3)
    assert sorted(cat.quarantine()["line"].to_list()) == [3, 4, 5]
    assert cat.query("trades")["price"].to_list() == [8531.5]


def test_auto_detects_each_format(tmp_path):
    cat = Catalog(tmp_path / "c")
    files = [
        need_shared(L2),
        need_shared("deribit_options/snapshots/deribit_options_snapshot_20251230T173115Z.csv.gz"),
        need_shared("nautilus_fixtures/bybit_ob500/xrpusdt-ob500.data.zip"),
        need_shared("freqtrade_testdata/XRP_USDT_USDT-8h-funding_rate.feather"),
        need_shared("binance_bybit_perps/binance_usdm_funding.csv.gz"),
    ]
    rep = cat.import_("auto", files, venue="BINANCE_USDM")
    assert [f.fmt for f in rep.files] == ["tardis", "deribit-chain", "bybit-ob", "freqtrade", "ohlcv"]
    assert cat.query("option_quotes").height == 1304
    assert cat.query("option_quotes", ["DERIBIT:BTC-27MAR26-340000-C"]).height == 1
    assert cat.query("mark").height > 0


def test_catalog_db_is_plain_duckdb(tmp_path):
    cat = Catalog(tmp_path / "c")
    cat.import_("tardis", [need_shared(L2)])
    con = duckdb.connect(str(tmp_path / "c" / "catalog.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT sum(rows) FROM files").fetchone() == (15,)
    finally:
        con.close()
