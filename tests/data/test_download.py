"""Downloaders against a loopback HTTP server (127.0.0.1) serving copies of real files; never the internet."""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import ClassVar

import polars as pl
import pytest
from tests.conftest import need_shared
from tests.data._http_server import LoopbackServer as _Server
from tests.data._http_server import loopback

from spreadlab.data.download import (
    BinanceArchive,
    DownloadStatus,
    RetryPolicy,
    UrllibTransport,
    binance_archive_url,
    download_file,
    fetch_binance_archive,
    fetch_tardis,
    tardis_url,
)
from spreadlab.data.download.rest import (
    fetch_book_snapshot,
    fetch_funding_history,
    fetch_ohlcv,
    fetch_option_chain,
    make_exchange,
    venue_of,
)
from spreadlab.data.schema import canonical_schema
from spreadlab.errors import DataError, ValidationError


@pytest.fixture
def server() -> Iterator[_Server]:
    yield from loopback()


def test_download_resumes_after_a_dropped_connection(server: _Server, tmp_path: Path) -> None:
    real = need_shared("binance_spot_perp_daily/perp_BTCUSDT_1d_2021-01_2023-06.csv.gz").read_bytes()
    server.files["/f.csv.gz"] = real
    server.fail("/f.csv.gz", ("cut", len(real) // 3))
    dest = tmp_path / "out" / "f.csv.gz"
    one_try = RetryPolicy(max_attempts=1)
    with pytest.raises(DataError, match="gave up after 1 attempt"):
        download_file(server.base + "/f.csv.gz", dest, retry=one_try)
    part = dest.with_name("f.csv.gz.part")
    assert part.is_file() and part.stat().st_size == len(real) // 3 and not dest.exists()
    have = part.stat().st_size
    res = download_file(server.base + "/f.csv.gz", dest, retry=one_try)
    assert res.status is DownloadStatus.RESUMED
    assert server.requests[-1][1] == f"bytes={have}-"  # only the missing tail was requested
    assert dest.read_bytes() == real and not part.exists()
    assert res.sha256 == hashlib.sha256(real).hexdigest()
    assert gzip.decompress(dest.read_bytes()).startswith(b"open_time,")  # the real file, whole


def test_complete_part_file_and_http_errors(server: _Server, tmp_path: Path) -> None:
    body = b"x" * 1000
    server.files["/a"] = body
    dest = tmp_path / "a"
    dest.with_name("a.part").write_bytes(body)  # already complete: the server answers 416
    res = download_file(server.base + "/a", dest)
    assert dest.read_bytes() == body and res.bytes == 1000
    with pytest.raises(DataError, match="HTTP 404"):
        download_file(server.base + "/missing", tmp_path / "m")
    waits: list[float] = []
    with pytest.raises(DataError, match="gave up after 2 attempt.*cannot reach"):
        download_file(
            "http://127.0.0.1:9/x",
            tmp_path / "n",
            transport=UrllibTransport(timeout=2),
            retry=RetryPolicy(max_attempts=2, jitter=0.0),
            sleep=waits.append,
        )
    assert waits == [1.0]
    with pytest.raises(ValidationError, match="expected_sha256"):
        download_file(server.base + "/a", dest, expected_sha256="abc")


def _binance_zip(csv_bytes: bytes, name: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, csv_bytes)
    return buf.getvalue()


def test_binance_archive_checksum_verified_and_cached(server: _Server, tmp_path: Path) -> None:
    csv = gzip.decompress(
        need_shared("binance_spot_perp_daily/funding_BTCUSDT_2021-01_2023-06.csv.gz").read_bytes()
    )
    archive = BinanceArchive(
        market="um", data_type="fundingRate", symbol="BTCUSDT", day=date(2021, 3, 1), period="monthly"
    )
    assert archive.filename == "BTCUSDT-fundingRate-2021-03.zip"
    payload = _binance_zip(csv, archive.filename.replace(".zip", ".csv"))
    path = "/" + archive.path()
    assert path == "/data/futures/um/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2021-03.zip"
    server.files[path] = payload
    digest = hashlib.sha256(payload).hexdigest()
    server.files[path + ".CHECKSUM"] = f"{digest}  {archive.filename}\n".encode()
    res = fetch_binance_archive(archive, tmp_path, base_url=server.base)
    assert res.verified and res.sha256 == digest
    with zipfile.ZipFile(res.path) as zf:
        assert zf.read(zf.namelist()[0]) == csv
    # a second run does not download the zip again
    n = len(server.requests)
    again = fetch_binance_archive(archive, tmp_path, base_url=server.base)
    assert again.status is DownloadStatus.CACHED
    assert [r[0] for r in server.requests[n:]] == [path + ".CHECKSUM"]
    # a corrupted download is rejected and removed
    res.path.unlink()
    server.files[path] = payload[:-10] + b"0123456789"
    with pytest.raises(DataError, match="checksum mismatch"):
        fetch_binance_archive(archive, tmp_path, base_url=server.base)
    assert not res.path.exists() and not res.path.with_name(res.path.name + ".part").exists()


def test_binance_archive_urls_and_validation() -> None:
    a = BinanceArchive(market="spot", data_type="klines", symbol="BTCUSDT", day="2024-08-08", interval="1m")
    assert binance_archive_url(a) == (
        "https://data.binance.vision/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-08-08.zip"
    )
    b = BinanceArchive(market="cm", data_type="bookTicker", symbol="BTCUSD_PERP", day="2024-08-08")
    assert b.path() == "data/futures/cm/daily/bookTicker/BTCUSD_PERP/BTCUSD_PERP-bookTicker-2024-08-08.zip"
    with pytest.raises(ValidationError, match="interval is required"):
        BinanceArchive(market="spot", data_type="klines", symbol="BTCUSDT", day="2024-08-08")
    with pytest.raises(ValidationError, match="monthly only"):
        BinanceArchive(market="um", data_type="fundingRate", symbol="BTCUSDT", day="2024-08-08")
    with pytest.raises(ValidationError, match="not archived for spot"):
        BinanceArchive(market="spot", data_type="bookTicker", symbol="BTCUSDT", day="2024-08-08")


def test_tardis_free_day_and_api_key(server: _Server, tmp_path: Path) -> None:
    raw = need_shared(
        "nautilus_fixtures/tardis_format/deribit_incremental_book_L2_BTC-PERPETUAL.csv"
    ).read_bytes()
    gz = gzip.compress(raw)
    url = tardis_url("deribit", "incremental_book_L2", "2020-04-01", "BTC-PERPETUAL", base_url=server.base)
    server.files[url.removeprefix(server.base)] = gz
    (res,) = fetch_tardis(
        "deribit", "incremental_book_L2", "2020-04-01", ["BTC-PERPETUAL"], tmp_path, base_url=server.base
    )
    assert gzip.decompress(res.path.read_bytes()) == raw
    assert server.requests[-1][2] is None  # free day: no credentials sent
    with pytest.raises(ValidationError, match="first day of each month"):
        fetch_tardis("deribit", "trades", "2020-04-02", ["BTC-PERPETUAL"], tmp_path, base_url=server.base)
    url2 = tardis_url("deribit", "incremental_book_L2", "2020-04-02", "BTC-PERPETUAL", base_url=server.base)
    server.files[url2.removeprefix(server.base)] = gz
    fetch_tardis(
        "deribit", "incremental_book_L2", date(2020, 4, 2), ["BTC-PERPETUAL"], tmp_path, api_key="K",
        base_url=server.base,
    )  # fmt: skip
    assert server.requests[-1][2] == "Bearer K"


# ------------------------------------------------------------------ ccxt layer (a venue with ccxt's unified API)


class _FakeVenue:
    """Implements the ccxt unified methods the REST layer calls, with ccxt's paging semantics."""

    id = "binanceusdm"
    has: ClassVar[dict[str, bool]] = {"fetchOptionChain": False}

    def __init__(self, candles: list[list[float]], funding: list[dict]) -> None:
        self.candles = candles
        self.funding = funding
        self.calls: list[tuple] = []
        self.markets = {
            "BTC/USDT:USDT": {"id": "BTCUSDT", "swap": True, "linear": True, "inverse": False, "spot": False}
        }

    def load_markets(self) -> dict:
        return self.markets

    def market(self, symbol: str) -> dict:
        if symbol not in self.markets:
            raise KeyError(symbol)
        return self.markets[symbol]

    def fetch_ohlcv(self, symbol: str, timeframe: str, since: int, limit: int, params: dict) -> list:
        self.calls.append(("ohlcv", since, limit, params))
        return [c for c in self.candles if c[0] >= since][:limit]

    def fetch_funding_rate_history(self, symbol: str, since: int, limit: int) -> list:
        return [f for f in self.funding if f["timestamp"] >= since][:limit]

    def fetch_order_book(self, symbol: str, limit: int | None) -> dict:
        return {
            "bids": [[100.0, 1.0], [99.5, 2.0]],
            "asks": [[100.5, 3.0]],
            "timestamp": 1_700_000_000_000,
            "nonce": 42,
        }


def _real_daily_candles() -> list[list[float]]:
    df = pl.read_csv(need_shared("binance_spot_perp_daily/perp_BTCUSDT_1d_2021-01_2023-06.csv.gz"))
    ts = df[df.columns[0]].str.to_datetime(time_zone="UTC").dt.epoch("ms")
    return [
        [int(t), o, h, lo, c, v]
        for t, o, h, lo, c, v in zip(ts, df["open"], df["high"], df["low"], df["close"], df["volume"])
    ]


def test_ccxt_ohlcv_paging_and_funding_on_real_values() -> None:
    candles = _real_daily_candles()
    fr = pl.read_csv(need_shared("binance_spot_perp_daily/funding_BTCUSDT_2021-01_2023-06.csv.gz"))
    fts = fr["funding_time"].str.to_datetime(time_zone="UTC").dt.epoch("ms")
    funding = [{"timestamp": int(t), "fundingRate": r} for t, r in zip(fts, fr["funding_rate"])]
    venue = _FakeVenue(candles, funding)
    start, end = candles[10][0] * 10**6, candles[400][0] * 10**6
    bars = fetch_ohlcv(venue, "BTC/USDT:USDT", "1d", start=start, end=end, limit=100)
    assert bars.schema == canonical_schema("bars")
    assert len(bars) == 391 and bars["ts_event"].is_unique().all()
    assert bars["open"].to_list() == [c[1] for c in candles[10:401]]
    assert len([c for c in venue.calls if c[0] == "ohlcv"]) == 4  # 391 rows in pages of 100
    assert bars["instrument_id"][0] == "BINANCE_USDM:BTCUSDT"
    assert (bars["ts_recv"] - bars["ts_event"] == 86_400 * 10**9).all()
    f = fetch_funding_history(
        venue,
        "BTC/USDT:USDT",
        start=funding[0]["timestamp"] * 10**6,
        end=funding[-1]["timestamp"] * 10**6,
        limit=500,
    )
    assert len(f) == len(funding) and f["rate"].to_list() == [x["fundingRate"] for x in funding]
    snap = fetch_book_snapshot(venue, "BTC/USDT:USDT", ts_recv=5)
    assert snap.row(0, named=True)["bid_prices"] == [100.0, 99.5] and snap["sequence"][0] == 42
    with pytest.raises(DataError, match="no market"):
        fetch_ohlcv(venue, "ETH/USDT:USDT", "1d", start=0, end=1)
    with pytest.raises(ValidationError, match="timeframe"):
        fetch_ohlcv(venue, "BTC/USDT:USDT", "1x", start=0, end=1)
    with pytest.raises(DataError, match="option-chain"):
        fetch_option_chain(venue, "BTC", ts_recv=0)


def test_real_ccxt_exchanges_build_and_map_venues() -> None:
    pytest.importorskip("ccxt")
    deribit = make_exchange("deribit")
    assert deribit.has["fetchOptionChain"] and venue_of(deribit, {"option": True}) == "DERIBIT"
    bybit = make_exchange("bybit")
    assert venue_of(bybit, {"option": True}) == "BYBIT_OPTION"
    assert venue_of(bybit, {"swap": True, "inverse": True}) == "BYBIT_INVERSE"
    assert venue_of(make_exchange("okx"), {"swap": True}) == "OKX"
    with pytest.raises(DataError, match="no exchange"):
        make_exchange("nope")


def test_fetch_cli_against_loopback(server: _Server, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from spreadlab.cli.fetch import app

    raw = need_shared("nautilus_fixtures/tardis_format/trades_1.csv").read_bytes()
    url = tardis_url("binance-futures", "trades", "2020-02-01", "BTCUSDT", base_url=server.base)
    server.files[url.removeprefix(server.base)] = gzip.compress(raw)
    args = ["tardis", "binance-futures", "trades", "2020-02-01", "BTCUSDT", "--dest", str(tmp_path)]
    res = CliRunner().invoke(app, [*args, "--base-url", server.base, "--json"])
    assert res.exit_code == 0, res.output
    assert '"status": "downloaded"' in res.output
    bad = CliRunner().invoke(
        app, ["tardis", "deribit", "trades", "2020-02-03", "X", "--base-url", server.base]
    )
    assert bad.exit_code == 2 and "first day of each month" in bad.output
