"""Tardis CSV importer against the real Tardis-format fixtures (values checked with the csv module)."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest
from tests.conftest import need_shared

from spreadlab.data.importers.tardis import read_tardis, tardis_data_type
from spreadlab.errors import DataError

T = "nautilus_fixtures/tardis_format/"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


def _us_to_ns(text: str) -> int:
    v = int(text)
    return v * 1000 if v < 10**17 else v


def _collect(path: Path, **kw) -> dict[str, pl.DataFrame]:
    out: dict[str, list[pl.DataFrame]] = {}
    for b in read_tardis(path, **kw):
        out.setdefault(b.kind.value, []).append(b.frame)
    return {k: pl.concat(v) for k, v in out.items()}


def test_incremental_l2_values_match_source():
    path = need_shared(T + "deribit_incremental_book_L2_BTC-PERPETUAL.csv")
    src = _rows(path)
    df = _collect(path)["book_deltas"]
    assert df.height == len(src) == 15
    assert df["instrument_id"].unique().to_list() == ["DERIBIT:BTC-PERPETUAL"]
    for r, s in zip(df.iter_rows(named=True), src):
        assert r["ts_event"] == _us_to_ns(s["timestamp"])
        assert r["ts_recv"] == _us_to_ns(s["local_timestamp"])
        assert r["side"] == (1 if s["side"] == "bid" else -1)
        assert r["price"] == float(s["price"]) and r["size"] == float(s["amount"])
        assert r["is_snapshot"] == (s["is_snapshot"] == "true")


def test_nanosecond_and_microsecond_files_agree():
    # deltas_1.csv carries ns stamps, the Deribit fixture us stamps of the same first rows
    ns = _collect(need_shared(T + "deltas_1.csv"))["book_deltas"]
    us = _collect(need_shared(T + "deribit_incremental_book_L2_BTC-PERPETUAL.csv"))["book_deltas"]
    assert ns["ts_event"][0] == us["ts_event"][0] == 1585699200245000000


def test_trades_quotes_snapshots():
    trades = _collect(need_shared(T + "bitmex_trades_XBTUSD.csv"))["trades"]
    src = _rows(need_shared(T + "bitmex_trades_XBTUSD.csv"))
    assert trades["aggressor"].to_list() == [1 if s["side"] == "buy" else -1 for s in src]
    assert trades["trade_id"].to_list() == [s["id"] for s in src]
    quotes = _collect(need_shared(T + "huobi-dm-swap_quotes_BTC-USD.csv"))["quotes"]
    qsrc = _rows(need_shared(T + "huobi-dm-swap_quotes_BTC-USD.csv"))
    assert quotes["instrument_id"][0] == "HUOBI_DM_SWAP:BTC-USD"
    assert quotes["ask"].to_list() == [float(s["ask_price"]) for s in qsrc]
    assert quotes["bid_size"].to_list() == [float(s["bid_amount"]) for s in qsrc]
    for depth in (5, 25):
        p = need_shared(T + f"binance-futures_book_snapshot_{depth}_BTCUSDT.csv")
        snap = _collect(p)["book_snapshots"]
        ssrc = _rows(p)
        assert snap.height == len(ssrc) == 10
        assert snap["instrument_id"][0] == "BINANCE_USDM:BTCUSDT"
        row = snap.row(0, named=True)
        assert len(row["bid_prices"]) == depth
        assert row["bid_prices"] == [float(ssrc[0][f"bids[{i}].price"]) for i in range(depth)]
        assert row["ask_sizes"] == [float(ssrc[0][f"asks[{i}].amount"]) for i in range(depth)]


def test_derivative_ticker_gives_funding_and_marks():
    p = need_shared(T + "derivative_ticker_1.csv")
    out = _collect(p)
    src = _rows(p)
    assert out["mark"]["mark"].to_list() == [float(s["mark_price"]) for s in src]
    assert out["mark"]["open_interest"].to_list() == [float(s["open_interest"]) for s in src]
    assert out["funding"]["rate"].to_list() == [float(s["funding_rate"]) for s in src]
    assert out["funding"]["funding_time_ns"][0] == _us_to_ns(src[0]["funding_timestamp"])


def test_options_chain_iv_in_decimals():
    p = need_shared(T + "options_chain.csv")
    oq = _collect(p)["option_quotes"]
    src = _rows(p)
    assert oq["mark_iv"].to_list() == pytest.approx([float(s["mark_iv"]) / 100 for s in src])
    assert oq["option_kind"][0] == "put"
    assert oq["underlying_id"][0] == "DERIBIT:SYN.BTC-9JUN20"
    assert oq["strike"][0] == 9875.0


def test_header_detection():
    head = ["exchange", "symbol", "timestamp", "local_timestamp"]
    assert tardis_data_type([*head, "is_snapshot", "side", "price", "amount"]) == "incremental_book_L2"
    with pytest.raises(DataError):
        tardis_data_type(["a", "b"])


def _bad_file(tmp_path: Path) -> Path:
    src = need_shared(T + "deribit_incremental_book_L2_BTC-PERPETUAL.csv").read_text().splitlines()
    src[5] = src[5].replace(",6423.5,", ",64x3.5,")  # line 6 of the file
    src[9] = src[9].replace(",ask,", ",middle,")  # line 10
    p = tmp_path / "bad.csv"
    p.write_text("\n".join(src) + "\n")
    return p


def test_malformed_row_names_file_line_field(tmp_path):
    p = _bad_file(tmp_path)
    with pytest.raises(DataError) as exc:
        list(read_tardis(p))
    assert exc.value.row == 6 and exc.value.field == "price" and exc.value.path == str(p)
    assert "bad.csv, row 6, field 'price'" in str(exc.value)


def test_skip_bad_quarantines(tmp_path):
    p = _bad_file(tmp_path)
    batches = list(read_tardis(p, skip_bad=True))
    q = pl.concat([b.quarantine for b in batches])
    assert sorted(zip(q["line"].to_list(), q["field"].to_list())) == [(6, "price"), (10, "side")]
    assert sum(b.frame.height for b in batches) == 13
    assert sum(b.rows_read for b in batches) == 15


def test_chunking_keeps_every_row_and_line(tmp_path):
    p = need_shared(T + "deribit_incremental_book_L2_BTC-PERPETUAL.csv")
    whole = _collect(p)["book_deltas"]
    chunks = list(read_tardis(p, chunk_rows=1))
    assert len(chunks) > 3
    assert pl.concat([b.frame for b in chunks]).equals(whole)
    lines = pl.concat([b.line for b in chunks if b.line is not None]).to_list()
    assert lines == list(range(2, 17))


def test_gzip_read_transparently(tmp_path):
    import gzip

    p = need_shared(T + "bitmex_trades_XBTUSD.csv")
    gz = tmp_path / "t.csv.gz"
    gz.write_bytes(gzip.compress(p.read_bytes()))
    assert _collect(gz)["trades"].equals(_collect(p)["trades"])


def _l2_lines(n: int, symbol: str, t0: int) -> list[str]:
    return [
        f"binance-futures,{symbol},{t0 + i * 1000},{t0 + i * 1000 + 7},false,{'bid' if i % 2 else 'ask'},"
        f"{100 + i % 5},{i % 3}\n"
        for i in range(n)
    ]


def test_fast_path_hands_over_on_second_symbol_and_blank_line(tmp_path):
    """The fused fast path and the general path give identical rows and lines on awkward files."""
    head = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n"
    body = _l2_lines(3000, "BTCUSDT", 1_700_000_000_000_000) + _l2_lines(
        2000, "ETHUSDT", 1_700_000_100_000_000
    )
    p = tmp_path / "two.csv"
    p.write_text(head + "".join(body))
    fast = list(read_tardis(p, chunk_rows=1000))
    df = pl.concat([b.frame for b in fast])
    assert df.height == 5000 and sum(b.rows_read for b in fast) == 5000
    assert df["instrument_id"].value_counts().sort("instrument_id")["count"].to_list() == [3000, 2000]
    lines = pl.concat([b.line for b in fast if b.line is not None]).to_list()
    assert lines == list(range(2, 5002))
    gz = tmp_path / "two.csv.gz"  # compressed files always take the general path
    import gzip

    gz.write_bytes(gzip.compress(p.read_bytes()))
    assert pl.concat([b.frame for b in read_tardis(gz, chunk_rows=1000)]).equals(df)
    blank = tmp_path / "blank.csv"
    blank.write_text(head + "".join(body[:2500]) + "\n" + "".join(body[2500:]))
    got = list(read_tardis(blank, chunk_rows=1000))
    assert pl.concat([b.frame for b in got]).equals(df)
    assert pl.concat([b.line for b in got if b.line is not None]).to_list()[-1] == 5002
