"""Generic long OHLCV/funding and freqtrade importers on the real shared files."""

from __future__ import annotations

import csv
import gzip

import pandas as pd
import polars as pl
import pyarrow.feather as feather
import pytest
from tests.conftest import need_shared

from spreadlab.data.importers.freqtrade import read_freqtrade
from spreadlab.data.importers.ohlcv import interval_from_name, read_ohlcv
from spreadlab.errors import DataError

# (file, venue, kind, rows per PROVENANCE.md)
FILES = [
    ("hyperliquid_perps/perp_ohlcv_1h.csv.gz", "HYPERLIQUID", "bars", 299661),
    ("hyperliquid_perps/perp_ohlcv_4h.csv.gz", "HYPERLIQUID", "bars", 189803),
    ("hyperliquid_perps/funding_1h.csv.gz", "HYPERLIQUID", "funding", 731248),
    ("binance_bybit_perps/binance_usdm_perp_5m.csv.gz", "BINANCE_USDM", "bars", 123063),
    ("binance_bybit_perps/binance_usdm_mark_8h.csv.gz", "BINANCE_USDM", "bars", 1281),
    ("binance_bybit_perps/binance_usdm_funding.csv.gz", "BINANCE_USDM", "funding", 854),
    ("binance_bybit_perps/bybit_linear_perp_5m.csv.gz", "BYBIT_LINEAR", "bars", 77760),
    ("binance_bybit_perps/bybit_linear_mark_4h.csv.gz", "BYBIT_LINEAR", "bars", 1620),
    ("binance_bybit_perps/bybit_linear_funding.csv.gz", "BYBIT_LINEAR", "funding", 200),
    ("binance_spot_perp_daily/funding_BTCUSDT_2021-01_2023-06.csv.gz", "BINANCE_USDM", "funding", 2733),
    ("binance_spot_perp_daily/funding_ETHUSDT_2021-01_2023-06.csv.gz", "BINANCE_USDM", "funding", 2733),
    ("binance_spot_perp_daily/perp_BTCUSDT_1d_2021-01_2023-06.csv.gz", "BINANCE_USDM", "bars", 911),
    ("binance_spot_perp_daily/perp_ETHUSDT_1d_2021-01_2023-06.csv.gz", "BINANCE_USDM", "bars", 911),
    ("binance_spot_perp_daily/spot_BTCUSDT_1d_2021-01_2023-06.csv.gz", "BINANCE", "bars", 911),
    ("binance_spot_perp_daily/spot_ETHUSDT_1d_2021-01_2023-06.csv.gz", "BINANCE", "bars", 911),
]


@pytest.mark.parametrize(("rel", "venue", "kind", "rows"), FILES, ids=[f[0].split("/")[-1] for f in FILES])
def test_real_long_files_row_counts(rel, venue, kind, rows):
    path = need_shared(rel)
    batches = [b for b in read_ohlcv(path, venue=venue) if b.kind.value == kind]
    assert sum(b.frame.height for b in batches) == rows
    assert sum(b.rows_read for b in batches) == rows


def test_long_bars_values_against_pandas():
    path = need_shared("binance_bybit_perps/binance_usdm_mark_8h.csv.gz")
    ref = pd.read_csv(path)
    got = pl.concat([b.frame for b in read_ohlcv(path, venue="BINANCE_USDM")])
    assert (
        got["ts_event"].to_list()
        == pd.to_datetime(ref["date"], utc=True).dt.as_unit("ns").astype("int64").tolist()
    )
    assert got["close"].to_list() == ref["close"].tolist()
    assert (
        got["instrument_id"].to_list() == ("BINANCE_USDM:" + ref["symbol"] + "USDT").tolist()
    )  # bare coins -> USDT pairs
    assert set(got["price_type"].to_list()) == {"mark"}
    assert set(got["interval_ns"].to_list()) == {8 * 3600 * 10**9}
    # a bar is known at its close: ts_recv = open + 8h
    assert (got["ts_recv"] - got["ts_event"]).unique().to_list() == [8 * 3600 * 10**9]


def test_binance_kline_csv_with_close_time_and_symbol_from_name():
    path = need_shared("binance_spot_perp_daily/spot_BTCUSDT_1d_2021-01_2023-06.csv.gz")
    got = pl.concat([b.frame for b in read_ohlcv(path, venue="BINANCE")])
    with gzip.open(path, "rt") as fh:
        src = list(csv.DictReader(fh))
    assert got["instrument_id"][0] == "BINANCE:BTCUSDT"
    assert got["interval_ns"][0] == 86_400 * 10**9
    assert got["trade_count"].to_list() == [int(s["trades"]) for s in src]
    assert got["quote_volume"][5] == float(src[5]["quote_volume"])


def test_funding_interval_inferred():
    path = need_shared("binance_bybit_perps/binance_usdm_funding.csv.gz")  # WIF pays every 4h
    got = pl.concat([b.frame for b in read_ohlcv(path, venue="BINANCE_USDM")])
    assert got["interval_ns"].mode().to_list() == [4 * 3600 * 10**9]


def test_missing_venue_is_an_error():
    with pytest.raises(DataError, match="venue"):
        next(read_ohlcv(need_shared("hyperliquid_perps/funding_1h.csv.gz")))


def test_single_pair_file_needs_symbol():
    path = need_shared("nautilus_fixtures/ftx_perp_1m/btc-perp-20211231-20220201_1m.csv.gz")
    with pytest.raises(DataError, match="symbol"):
        list(read_ohlcv(path, venue="FTX"))
    got = pl.concat([b.frame for b in read_ohlcv(path, venue="FTX", symbol="BTC-PERP")])
    assert got.height == 45031 and got["instrument_id"][0] == "FTX:BTC-PERP"
    assert got["interval_ns"][0] == 60 * 10**9


def test_bad_number_names_line_and_field(tmp_path):
    p = tmp_path / "x_1h.csv"
    p.write_text("date,symbol,open,high,low,close,volume\n"
                 "2024-01-01 00:00:00+00:00,BTC,1,2,0.5,1.5,10\n"
                 "2024-01-01 01:00:00+00:00,BTC,1,2,zero,1.5,10\n")  # fmt: skip
    with pytest.raises(DataError) as exc:
        list(read_ohlcv(p, venue="BINANCE_USDM"))
    assert (exc.value.row, exc.value.field) == (3, "low")
    b = list(read_ohlcv(p, venue="BINANCE_USDM", skip_bad=True))
    assert b[0].frame.height == 1 and b[0].quarantine["line"].to_list() == [3]


def test_parquet_input(tmp_path):
    src = need_shared("binance_bybit_perps/bybit_linear_mark_4h.csv.gz")
    p = tmp_path / "bybit_mark_4h.parquet"
    pl.read_csv(src).write_parquet(p)
    a = pl.concat([b.frame for b in read_ohlcv(p, venue="BYBIT_LINEAR")])
    c = pl.concat([b.frame for b in read_ohlcv(src, venue="BYBIT_LINEAR")])
    assert a.equals(c)


def test_interval_from_name():
    assert interval_from_name("perp_ohlcv_4h.csv.gz") == 4 * 3600 * 10**9
    assert interval_from_name("BTCUSDT-1d-2024.csv") == 86_400 * 10**9
    assert interval_from_name("nothing.csv") is None


FT = [
    ("XRP_USDT_USDT-1h-futures.feather", "bars", "trade"),
    ("XRP_USDT_USDT-5m-futures.feather", "bars", "trade"),
    ("XRP_USDT_USDT-1h-mark.feather", "bars", "mark"),
    ("XRP_USDT_USDT-8h-mark.feather", "bars", "mark"),
    ("XRP_USDT_USDT-8h-funding_rate.feather", "funding", None),
]


@pytest.mark.parametrize(("name", "kind", "ptype"), FT)
def test_freqtrade_files(name, kind, ptype):
    path = need_shared("freqtrade_testdata/" + name)
    ref = feather.read_table(path).to_pandas()
    got = pl.concat([b.frame for b in read_freqtrade(path, venue="BINANCE_USDM")])
    assert got.height == len(ref)
    assert got["instrument_id"][0] == "BINANCE_USDM:XRPUSDT"
    assert got["ts_event"].to_list() == ref["date"].dt.as_unit("ns").astype("int64").tolist()
    if kind == "funding":
        assert got["rate"].to_list() == ref["open"].tolist()  # freqtrade keeps funding in 'open'
    else:
        assert got["close"].to_list() == ref["close"].tolist()
        assert set(got["price_type"].to_list()) == {ptype}
