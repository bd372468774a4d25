"""Deribit chain snapshots, Bybit ob500 and Binance archive importers on real files."""

from __future__ import annotations

import csv
import gzip
import json
import zipfile
from pathlib import Path

import polars as pl
import pytest
from tests.conftest import need_shared

from spreadlab.data.importers.base import ImportFormat, detect_format
from spreadlab.data.importers.binance_archive import archive_type, read_binance_archive
from spreadlab.data.importers.bybit_ob import read_bybit_ob
from spreadlab.data.importers.deribit_chain import read_deribit_chain
from spreadlab.errors import DataError

SNAP = "deribit_options/snapshots/deribit_options_snapshot_20251230T173115Z.csv.gz"


def _provenance_rows() -> dict[str, int]:
    text = need_shared("PROVENANCE.md").read_text()
    out = {}
    for line in text.splitlines():
        if line.startswith("| `deribit_options_snapshot_"):
            cells = [c.strip() for c in line.split("|")]
            out[cells[1].strip("`")] = int(cells[2])
    return out


def test_chain_snapshot_values():
    path = need_shared(SNAP)
    with gzip.open(path, "rt") as fh:
        src = list(csv.DictReader(fh))
    batches = list(read_deribit_chain(path))
    oq = pl.concat([b.frame for b in batches if b.kind.value == "option_quotes"])
    marks = pl.concat([b.frame for b in batches if b.kind.value == "mark"])
    assert oq.height == len(src) == 1304
    r, s = oq.row(0, named=True), src[0]
    assert r["instrument_id"] == "DERIBIT:" + s["instrument_name"]
    assert r["mark"] == float(s["mark_price"]) and r["mark_iv"] == float(s["implied_volatility"])
    assert r["strike"] == float(s["strike"]) and r["option_kind"] == s["option_type"]
    assert r["underlying_id"] == "DERIBIT:" + s["underlying_name"]
    # empty bid stays null (no quote), it is not 0
    empty_bid = [i for i, x in enumerate(src) if x["bid_price"] == ""]
    assert empty_bid and oq["bid"][empty_bid[0]] is None
    # one mark per listed future, none for SYN.* forwards
    listed = {
        x["futures_instrument_name"] for x in src if not x["futures_instrument_name"].startswith("SYN.")
    }
    assert set(marks["instrument_id"].str.replace("DERIBIT:", "").to_list()) == listed
    assert marks.height == len(listed)


def test_chain_snapshot_counts_sample():
    counts = _provenance_rows()
    names = sorted(counts)[::60]
    for name in names:
        path = need_shared("deribit_options/snapshots/" + name)
        n = sum(b.frame.height for b in read_deribit_chain(path) if b.kind.value == "option_quotes")
        assert n == counts[name], name


@pytest.mark.slow
def test_all_604_chain_snapshots():
    counts = _provenance_rows()
    assert len(counts) == 604
    total = 0
    for name, rows in counts.items():
        batches = list(read_deribit_chain(need_shared("deribit_options/snapshots/" + name)))
        n = sum(b.frame.height for b in batches if b.kind.value == "option_quotes")
        assert n == rows == sum(b.rows_read for b in batches), name
        total += n
    assert total == 973412


def test_companion_marks_files():
    term = list(read_deribit_chain(need_shared("deribit_options/term_futures_marks.csv.gz")))
    assert sum(b.frame.height for b in term) == 5854
    perp = pl.concat(
        [b.frame for b in read_deribit_chain(need_shared("deribit_options/perpetual_futures_prices.csv.gz"))]
    )
    assert perp.height == 838
    assert set(perp["instrument_id"].to_list()) == {"DERIBIT:BTC-PERPETUAL", "DERIBIT:ETH-PERPETUAL"}
    with pytest.raises(DataError, match="not a Deribit"):
        list(read_deribit_chain(need_shared("deribit_options/snapshot_currency_combos.csv.gz")))


def test_bybit_ob500_levels_match_messages():
    path = need_shared("nautilus_fixtures/bybit_ob500/xrpusdt-ob500.data.zip")
    zf = zipfile.ZipFile(path)
    msgs = [json.loads(x) for x in zf.open(zf.namelist()[0])]
    batches = list(read_bybit_ob(path, chunk_rows=7))
    df = pl.concat([b.frame for b in batches])
    assert sum(b.rows_read for b in batches) == len(msgs) == 50
    assert df.height == sum(len(m["data"]["b"]) + len(m["data"]["a"]) for m in msgs)
    assert df["instrument_id"].unique().to_list() == ["BYBIT_LINEAR:XRPUSDT"]
    snap = df.filter(pl.col("is_snapshot"))
    assert snap.height == len(msgs[0]["data"]["b"]) + len(msgs[0]["data"]["a"])
    assert snap["sequence"][0] == msgs[0]["data"]["u"]
    first_bid = msgs[0]["data"]["b"][0]
    assert (snap["price"][0], snap["size"][0], snap["side"][0]) == (
        float(first_bid[0]),
        float(first_bid[1]),
        1,
    )
    assert snap["ts_recv"][0] == msgs[0]["ts"] * 1_000_000


def test_bybit_bad_message(tmp_path):
    path = need_shared("nautilus_fixtures/bybit_ob500/xrpusdt-ob500.data.zip")
    zf = zipfile.ZipFile(path)
    lines = zf.open(zf.namelist()[0]).read().splitlines()
    lines[3] = (
        b'{"topic":"orderbook.500.XRPUSDT","type":"delta","ts":1,"data":{"s":"XRPUSDT","b":[["x","1"]],"a":[]}}'
    )
    p = tmp_path / "bad.data"
    p.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(DataError) as exc:
        list(read_bybit_ob(p))
    assert (exc.value.row, exc.value.field) == (4, "data.b")
    b = list(read_bybit_ob(p, skip_bad=True))
    assert sum(x.quarantine.height for x in b) == 1 and sum(x.rows_read for x in b) == 50


def test_binance_depth_csv():
    for name, snap in (("btcusdt-depth-snap.csv", True), ("btcusdt-depth-update.csv", False)):
        path = need_shared("nautilus_fixtures/binance_depth/" + name)
        with path.open() as fh:
            src = list(csv.DictReader(fh))
        df = pl.concat([b.frame for b in read_binance_archive(path, venue="BINANCE_USDM")])
        assert df.height == len(src) == 100
        assert df["is_snapshot"].all() == snap
        assert df["sequence"].to_list() == [int(s["last_update_id"]) for s in src]
        assert df["side"].to_list() == [1 if s["side"] == "b" else -1 for s in src]


def _write_zip(path: Path, inner: str, text: str) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(inner, text)
    return path


def test_binance_archives_with_and_without_header_ms_and_us(tmp_path):
    # spot klines since 2025 carry microseconds and no header; futures klines have a header and ms
    spot = _write_zip(tmp_path / "BTCUSDT-1m-2025-01-01.zip", "BTCUSDT-1m-2025-01-01.csv",
        "1735689600000000,93576.00,93610.93,93537.50,93610.93,8.21827,1735689659999999,768970.8,2453,3.2,299504.8,0\n"
        "1735689660000000,93610.93,93652.00,93606.00,93652.00,9.1,1735689719999999,851875.8,1896,4.7,440226.1,0\n")  # fmt: skip
    fut = _write_zip(tmp_path / "BTCUSDT-1m-2024-01-01.zip", "BTCUSDT-1m-2024-01-01.csv",
        "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n"
        "1704067200000,42314.0,42335.8,42289.6,42331.9,289.641,1704067259999,12254057.1,3109,200.1,8466530.3,0\n")  # fmt: skip
    s = pl.concat([b.frame for b in read_binance_archive(spot, venue="BINANCE")])
    f = pl.concat([b.frame for b in read_binance_archive(fut, venue="BINANCE_USDM")])
    assert s["ts_event"].to_list() == [1735689600 * 10**9, 1735689660 * 10**9]
    assert f["ts_event"][0] == 1704067200 * 10**9 and f["instrument_id"][0] == "BINANCE_USDM:BTCUSDT"
    assert s["interval_ns"][0] == f["interval_ns"][0] == 60 * 10**9
    assert s["trade_count"].to_list() == [2453, 1896]
    agg = _write_zip(tmp_path / "BTCUSDT-aggTrades-2024-01-01.zip", "a.csv",
        "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n"
        "1,42314.0,0.5,10,11,1704067200001,true\n2,42315.0,0.1,12,12,1704067200002,false\n")  # fmt: skip
    a = pl.concat([b.frame for b in read_binance_archive(agg, venue="BINANCE_USDM")])
    assert a["aggressor"].to_list() == [-1, 1] and a["size"].to_list() == [0.5, 0.1]
    fr = _write_zip(tmp_path / "BTCUSDT-fundingRate-2024-01.zip", "f.csv",
        "calc_time,funding_interval_hours,last_funding_rate\n1704067200000,8,0.00037409\n")  # fmt: skip
    fd = pl.concat([b.frame for b in read_binance_archive(fr, venue="BINANCE_USDM")])
    assert fd["rate"][0] == 0.00037409 and fd["interval_ns"][0] == 8 * 3600 * 10**9
    bt = _write_zip(tmp_path / "BTCUSDT-bookTicker-2024-01-01.zip", "b.csv",
        "update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time\n"
        "3755412345,42313.9,1.2,42314.0,3.4,1704067200001,1704067200003\n")  # fmt: skip
    q = pl.concat([b.frame for b in read_binance_archive(bt, venue="BINANCE_USDM")])
    assert (
        q.row(0)[3:] == (42313.9, 42314.0, 1.2, 3.4, 3755412345) and q["ts_recv"][0] == 1704067200003 * 10**6
    )
    assert detect_format(bt) is ImportFormat.BINANCE_ARCHIVE


def test_archive_type_errors():
    with pytest.raises(DataError):
        archive_type("random.csv", ["a", "b"])
