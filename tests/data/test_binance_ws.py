"""binance-ws importer: counts against the source files, message mapping on recorded payloads, errors."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl
import pytest
from tests.conftest import need_shared

from spreadlab.data.importers.base import ImportFormat, detect_format, get_importer
from spreadlab.data.importers.binance_ws import read_binance_ws, read_binance_ws_tables, sniff
from spreadlab.data.schema import canonical_schema
from spreadlab.errors import DataError, ValidationError
from spreadlab.events.schema import EventKind

# message counts published in ../shared/data/PROVENANCE.md
PROVENANCE = {
    "spot/ethusdt_20240808.gz": {
        "snap": 1,
        "bookTicker": 24077,
        "depth": 3434,
        "trade": 6106,
        "lines": 33618,
    },
    "cm/ethusd_perp_20240809.gz": {
        "snap": 0,
        "bookTicker": 19751,
        "depth": 16246,
        "trade": 1863,
        "lines": 37860,
    },
}


def _independent_level_count(path: Path) -> int:
    n = 0
    with gzip.open(path, "rt") as fh:
        for line in fh:
            msg = json.loads(line.split(" ", 1)[1])
            if "stream" not in msg:
                n += len(msg["bids"]) + len(msg["asks"])
            elif msg["data"].get("e") == "depthUpdate":
                n += len(msg["data"]["b"]) + len(msg["data"]["a"])
    return n


@pytest.mark.parametrize("name", sorted(PROVENANCE))
def test_counts_match_the_source(name: str) -> None:
    path = need_shared(f"binance_l2_hftbacktest/{name}")
    want = PROVENANCE[name]
    batches = list(read_binance_ws(path, chunk_rows=7_000))
    assert sum(b.rows_read for b in batches) == want["lines"]
    by_kind: dict[EventKind, list[pl.DataFrame]] = {}
    for b in batches:
        assert b.frame.schema == canonical_schema(b.kind)
        assert b.quarantine.is_empty()
        by_kind.setdefault(b.kind, []).append(b.frame)
    frames = {kind: pl.concat(v) for kind, v in by_kind.items()}
    assert set(frames) == {EventKind.BOOK_DELTAS, EventKind.QUOTES, EventKind.TRADES}
    assert len(frames[EventKind.QUOTES]) == want["bookTicker"]
    assert len(frames[EventKind.TRADES]) == want["trade"]
    d = frames[EventKind.BOOK_DELTAS]
    assert len(d) == _independent_level_count(path)
    events = d.select("sequence", "is_snapshot", "ts_recv").unique()
    assert events["is_snapshot"].sum() == want["snap"]
    assert len(events) == want["depth"] + want["snap"]
    # chunked and whole-file reads agree
    whole = read_binance_ws_tables(path)
    assert whole[EventKind.BOOK_DELTAS].equals(d)  # the canonical rows keep U and pu for replay


def test_venues_symbols_and_times_from_real_files() -> None:
    spot = need_shared("binance_l2_hftbacktest/spot/ethusdt_20240808.gz")
    usdm = need_shared("binance_l2_hftbacktest/usdm/ethusdt_20240808.gz")
    cm = need_shared("binance_l2_hftbacktest/cm/ethusd_perp_20240808.gz")
    ids = {}
    for p in (spot, usdm, cm):
        first = next(iter(read_binance_ws(p, chunk_rows=200)))
        ids[p.parent.name] = first.frame["instrument_id"][0]
    assert ids == {
        "spot": "BINANCE:ETHUSDT",
        "usdm": "BINANCE_USDM:ETHUSDT",
        "cm": "BINANCE_COINM:ETHUSD_PERP",
    }
    t = read_binance_ws_tables(usdm)
    q = t[EventKind.QUOTES]
    # first bookTicker line of the file: 1723161255146807466 ... "u":5123107841290,... "T":1723161256406
    with gzip.open(usdm, "rt") as fh:
        first_line = fh.read(200_000).splitlines()
    bt = next(ln for ln in first_line if "@bookTicker" in ln)
    ts, js = bt.split(" ", 1)
    data = json.loads(js)["data"]
    row = q.row(0, named=True)
    assert row["ts_recv"] == int(ts)
    assert row["ts_event"] == data["T"] * 1_000_000
    assert row["sequence"] == data["u"]
    assert (row["bid"], row["ask"], row["bid_size"], row["ask_size"]) == (
        float(data["b"]),
        float(data["a"]),
        float(data["B"]),
        float(data["A"]),
    )
    d = t[EventKind.BOOK_DELTAS]
    snap = d.filter(pl.col("is_snapshot"))
    assert len(snap) == 2000 and snap["sequence"].unique().to_list() == [5123107856276]
    diffs = d.filter(~pl.col("is_snapshot"))
    assert diffs["prev_sequence"].null_count() == 0 and diffs["first_sequence"].null_count() == 0
    # spot diffs have no pu
    s = read_binance_ws_tables(spot)[EventKind.BOOK_DELTAS].filter(~pl.col("is_snapshot"))
    assert s["prev_sequence"].null_count() == len(s)
    # the spot REST snapshot has no time of its own: ts_event = ts_recv (Tardis convention)
    ss = read_binance_ws_tables(spot)[EventKind.BOOK_DELTAS].filter(pl.col("is_snapshot"))
    assert (ss["ts_event"] == ss["ts_recv"]).all()


def _write(tmp_path: Path, lines: list[str], name: str = "cap.txt") -> Path:
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n")
    return p


MARK_USDM = (
    '{"stream":"btcusdt@markPrice@1s","data":{"e":"markPriceUpdate","E":1672531200000,"s":"BTCUSDT",'
    '"p":"16542.10000000","P":"16550.62041270","i":"16537.34500000","r":"0.00010000","T":1672560000000}}'
)
MARK_CM_DELIVERY = (
    '{"stream":"btcusd_230331@markPrice@1s","data":{"e":"markPriceUpdate","E":1672531200000,'
    '"s":"BTCUSD_230331","ps":"BTCUSD","p":"16600.1","P":"16601.2","i":"16537.3","r":"","T":0}}'
)


def test_mark_price_funding_and_microsecond_captures(tmp_path: Path) -> None:
    # 2023 captures stamp lines in microseconds
    p = _write(tmp_path, [f"1672531200123456 {MARK_USDM}", f"1672531201123456 {MARK_USDM}"])
    t = read_binance_ws_tables(p)
    mark, funding = t[EventKind.MARK], t[EventKind.FUNDING]
    assert mark["ts_recv"].to_list() == [1672531200123456000, 1672531201123456000]
    assert mark["instrument_id"][0] == "BINANCE_USDM:BTCUSDT"
    assert (mark["mark"][0], mark["index"][0], mark["ts_event"][0]) == (
        16542.1,
        16537.345,
        1672531200000 * 10**6,
    )
    assert funding["rate"][0] == 0.0001
    assert funding["funding_time_ns"][0] == 1672560000000 * 10**6
    # COIN-M delivery contracts have no funding: r is empty -> mark only
    q = _write(tmp_path, [f"1672531200123456789 {MARK_CM_DELIVERY}"], "cm.txt")
    t2 = read_binance_ws_tables(q)
    assert EventKind.FUNDING not in t2
    assert t2[EventKind.MARK]["instrument_id"][0] == "BINANCE_COINM:BTCUSD_230331"


def test_trades_aggressor_partial_depth_and_empty_diff(tmp_path: Path) -> None:
    lines = [
        '1 {"stream":"ethusdt@trade","data":{"e":"trade","E":1723161255343,"T":1723161255342,"s":"ETHUSDT",'
        '"t":7,"p":"2683.1","q":"0.5","X":"MARKET","m":true}}',
        '2 {"stream":"ethusdt@aggTrade","data":{"e":"aggTrade","E":1723161255343,"a":9,"s":"ETHUSDT",'
        '"p":"2683.2","q":"1.5","f":1,"l":2,"T":1723161255342,"m":false}}',
        '3 {"stream":"ethusdt@depth5@100ms","data":{"e":"depthUpdate","E":1723161255400,"T":1723161255399,'
        '"s":"ETHUSDT","U":10,"u":12,"pu":9,"b":[["2683.1","1"],["2683.0","2"]],"a":[["2683.2","3"]]}}',
        '4 {"stream":"ethusdt@depth@0ms","data":{"e":"depthUpdate","E":1,"T":1,"s":"ETHUSDT","U":13,"u":14,'
        '"pu":12,"b":[],"a":[]}}',
        '5 {"stream":"ethusdt@depth@0ms","data":{"e":"depthUpdate","E":2,"T":2,"s":"ETHUSDT","U":15,"u":16,'
        '"pu":14,"b":[["2683.0","0"]],"a":[]}}',
        '6 {"stream":"ethusdt@kline_1m","data":{"e":"kline","E":3,"s":"ETHUSDT","k":{}}}',
    ]
    t = read_binance_ws_tables(_write(tmp_path, [f"17231612553430000{ln}" for ln in lines]))
    tr = t[EventKind.TRADES]
    assert tr["aggressor"].to_list() == [-1, 1]  # m=true: the buyer was the maker, a seller hit
    assert tr["trade_id"].to_list() == ["7", "9"]
    snaps = t[EventKind.BOOK_SNAPSHOTS]
    assert snaps["bid_prices"][0].to_list() == [2683.1, 2683.0] and snaps["ask_sizes"][0].to_list() == [3.0]
    d = t[EventKind.BOOK_DELTAS]
    # the empty diff 13..14 (pu 12) is merged into the next: U=13, pu=12 keep the chain checkable
    assert d.select("sequence", "first_sequence", "prev_sequence").rows() == [(16, 13, 12)]


def test_malformed_lines_name_file_line_and_field(tmp_path: Path) -> None:
    good = '1723161255343000000 {"stream":"ethusdt@trade","data":{"e":"trade","E":1,"T":1,"s":"ETHUSDT","t":1,"p":"1","q":"1","X":"MARKET","m":true}}'
    bad_json = '1723161255343000001 {"stream":"ethusdt@trade","data":{"e":"tr'
    bad_price = '1723161255343000002 {"stream":"ethusdt@trade","data":{"e":"trade","E":1,"T":1,"s":"ETHUSDT","t":2,"p":"x","q":"1","m":true}}'
    missing = '1723161255343000003 {"stream":"ethusdt@trade","data":{"e":"trade","E":1,"T":1,"s":"ETHUSDT","t":3,"q":"1","m":true}}'
    p = _write(tmp_path, [good, bad_json, good, bad_price, missing])
    with pytest.raises(DataError, match=r"cap.txt, row 2, field 'json'"):
        list(read_binance_ws(p))
    batches = list(read_binance_ws(p, skip_bad=True))
    q = pl.concat([b.quarantine for b in batches])
    assert q["line"].to_list() == [2, 4, 5]
    assert q["field"].to_list() == ["json", "data", "p"]
    assert sum(b.rows_read for b in batches) == 5
    trades = pl.concat([b.frame for b in batches if b.kind is EventKind.TRADES])
    assert len(trades) == 2
    with pytest.raises(DataError, match="row 1, field 'recv_ts'"):
        list(read_binance_ws(_write(tmp_path, ["abc " + good.split(" ", 1)[1]], "t.txt")))
    with pytest.raises(ValidationError, match="venue='DERIBIT'"):
        list(read_binance_ws(p, venue="DERIBIT"))


def test_spot_snapshot_symbol_ambiguity(tmp_path: Path) -> None:
    lines = [
        '1 {"stream":"ethusdt@trade","data":{"e":"trade","E":1,"T":1,"s":"ETHUSDT","t":1,"p":"1","q":"1","m":true,"M":true}}',
        '2 {"stream":"btcusdt@trade","data":{"e":"trade","E":1,"T":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","m":true,"M":true}}',
        '3 {"lastUpdateId":5,"bids":[["1.0","1.0"]],"asks":[["2.0","1.0"]]}',
    ]
    p = _write(tmp_path, [f"172316125534300000{ln}" for ln in lines])
    with pytest.raises(DataError, match="several symbols"):
        read_binance_ws_tables(p)
    t = read_binance_ws_tables(p, symbol="BTCUSDT")
    assert t[EventKind.BOOK_DELTAS]["instrument_id"].unique().to_list() == ["BINANCE:BTCUSDT"]


def test_format_detection_and_registration(tmp_path: Path) -> None:
    path = need_shared("binance_l2_hftbacktest/spot/ethusdt_20240808.gz")
    assert get_importer("binance-ws").fmt is ImportFormat.BINANCE_WS
    assert detect_format(path) is ImportFormat.BINANCE_WS
    assert not sniff("x.csv", b"exchange,symbol,timestamp\nbinance,BTCUSDT,1\n")
    assert not sniff("x.txt", b"")
