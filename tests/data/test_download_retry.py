"""Retries, backoff and resume against a loopback server (127.0.0.1) with scripted faults, serving real files."""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import need_shared
from tests.data._http_server import LoopbackServer, loopback

from spreadlab.data.download import (
    BinanceArchive,
    DownloadStatus,
    RetryPolicy,
    UrllibTransport,
    download_file,
    fetch_binance_archive,
    fetch_tardis,
    parse_retry_after,
    tardis_url,
)
from spreadlab.data.download.rest import fetch_book_snapshot, fetch_ohlcv
from spreadlab.errors import DataError, ValidationError

ccxt = pytest.importorskip("ccxt")

NO_JITTER = RetryPolicy(max_attempts=5, base_delay=1.0, multiplier=2.0, max_delay=60.0, jitter=0.0)
REAL = "binance_spot_perp_daily/perp_BTCUSDT_1d_2021-01_2023-06.csv.gz"


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    yield from loopback()


def _serve_real(server: LoopbackServer, path: str = "/f.csv.gz") -> bytes:
    real = need_shared(REAL).read_bytes()
    server.files[path] = real
    return real


def test_503_then_success_backs_off_exponentially(server: LoopbackServer, tmp_path: Path) -> None:
    real = _serve_real(server)
    server.fail("/f.csv.gz", ("status", 503, {}), ("status", 502, {}), ("status", 500, {}))
    waits: list[float] = []
    res = download_file(server.base + "/f.csv.gz", tmp_path / "f.csv.gz", retry=NO_JITTER, sleep=waits.append)
    assert res.path.read_bytes() == real
    assert res.sha256 == hashlib.sha256(real).hexdigest() == hashlib.sha256(res.path.read_bytes()).hexdigest()
    assert len(server.requests) == 4 and res.attempts == 4
    assert waits == [1.0, 2.0, 4.0]
    assert server.ranges("/f.csv.gz") == [None] * 4  # nothing was written before the 200


def test_connection_dropped_twice_resumes_with_range(server: LoopbackServer, tmp_path: Path) -> None:
    real = _serve_real(server)
    k1, k2 = 10_000, 7_777
    server.fail("/f.csv.gz", ("cut", k1), ("cut", k2))
    waits: list[float] = []
    res = download_file(server.base + "/f.csv.gz", tmp_path / "f.csv.gz", retry=NO_JITTER, sleep=waits.append)
    assert res.path.read_bytes() == real and res.status is DownloadStatus.RESUMED
    assert res.sha256 == hashlib.sha256(real).hexdigest()
    assert server.ranges("/f.csv.gz") == [None, f"bytes={k1}-", f"bytes={k1 + k2}-"]
    assert waits == [1.0, 2.0] and res.attempts == 3
    assert not (tmp_path / "f.csv.gz.part").exists()
    assert gzip.decompress(res.path.read_bytes()).startswith(b"open_time,")


def test_connection_reset_before_any_reply_is_retried(server: LoopbackServer, tmp_path: Path) -> None:
    real = _serve_real(server)
    server.fail("/f.csv.gz", ("reset",))
    waits: list[float] = []
    res = download_file(server.base + "/f.csv.gz", tmp_path / "f", retry=NO_JITTER, sleep=waits.append)
    assert res.path.read_bytes() == real and len(server.requests) == 2 and waits == [1.0]


def test_timeout_is_retried(server: LoopbackServer, tmp_path: Path) -> None:
    real = _serve_real(server)
    server.fail("/f.csv.gz", ("stall", 1.5))
    waits: list[float] = []
    res = download_file(
        server.base + "/f.csv.gz",
        tmp_path / "f",
        transport=UrllibTransport(timeout=0.3),
        retry=NO_JITTER,
        sleep=waits.append,
    )
    assert res.path.read_bytes() == real and waits == [1.0] and res.attempts == 2


def test_stale_part_file_longer_than_the_remote_is_replaced(server: LoopbackServer, tmp_path: Path) -> None:
    real = _serve_real(server)
    dest = tmp_path / "f"
    dest.with_name("f.part").write_bytes(real + b"stale tail from another version")
    waits: list[float] = []
    res = download_file(server.base + "/f.csv.gz", dest, retry=NO_JITTER, sleep=waits.append)
    assert server.ranges("/f.csv.gz") == [f"bytes={len(real) + 31}-", None]  # 416, then a clean start
    assert res.path.read_bytes() == real and waits == [1.0]


def test_server_ignoring_range_restarts_cleanly(server: LoopbackServer, tmp_path: Path) -> None:
    real = _serve_real(server)
    server.fail("/f.csv.gz", ("cut", 5_000), ("full",))
    res = download_file(server.base + "/f.csv.gz", tmp_path / "f", retry=NO_JITTER, sleep=lambda s: None)
    assert server.ranges("/f.csv.gz") == [None, "bytes=5000-"]  # asked for the tail, got the whole file
    assert res.path.read_bytes() == real  # not 5000 stale bytes + the whole body
    assert res.status is DownloadStatus.DOWNLOADED and res.bytes == len(real)


def test_429_honours_retry_after(server: LoopbackServer, tmp_path: Path) -> None:
    real = _serve_real(server)
    server.fail("/f.csv.gz", ("status", 429, {"Retry-After": "7"}), ("status", 429, {"Retry-After": "1"}))
    waits: list[float] = []
    res = download_file(server.base + "/f.csv.gz", tmp_path / "f", retry=NO_JITTER, sleep=waits.append)
    assert res.path.read_bytes() == real
    assert waits == [7.0, 2.0]  # at least Retry-After, never less than the backoff
    assert len(server.requests) == 3


def test_retry_after_beyond_the_cap_fails_at_once(server: LoopbackServer, tmp_path: Path) -> None:
    _serve_real(server)
    server.fail("/f.csv.gz", ("status", 429, {"Retry-After": "3600"}))
    waits: list[float] = []
    with pytest.raises(DataError, match=r"retry after 3600 s, more than max_retry_after=300"):
        download_file(server.base + "/f.csv.gz", tmp_path / "f", retry=NO_JITTER, sleep=waits.append)
    assert len(server.requests) == 1 and waits == []


def test_404_fails_at_once_naming_the_url(server: LoopbackServer, tmp_path: Path) -> None:
    waits: list[float] = []
    url = server.base + "/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2099-01-01.zip"
    with pytest.raises(DataError, match="HTTP 404") as exc:
        download_file(url, tmp_path / "z", retry=NO_JITTER, sleep=waits.append)
    assert url in str(exc.value)
    assert len(server.requests) == 1 and waits == []
    server.fail("/f", ("status", 403, {}))
    with pytest.raises(DataError, match="HTTP 403: access denied"):
        download_file(server.base + "/f", tmp_path / "z", retry=NO_JITTER, sleep=waits.append)
    assert len(server.requests) == 2 and waits == []


def test_retries_are_bounded(server: LoopbackServer, tmp_path: Path) -> None:
    _serve_real(server)
    server.fail("/f.csv.gz", *[("status", 503, {})] * 10)
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=3, base_delay=0.5, jitter=0.0)
    with pytest.raises(DataError, match=r"gave up after 3 attempt\(s\); last error: .*HTTP 503") as exc:
        download_file(server.base + "/f.csv.gz", tmp_path / "f", retry=policy, sleep=waits.append)
    assert server.base + "/f.csv.gz" in str(exc.value)
    assert len(server.requests) == 3 and waits == [0.5, 1.0]
    assert not (tmp_path / "f").exists()


def test_jitter_is_drawn_from_the_injected_generator(server: LoopbackServer, tmp_path: Path) -> None:
    _serve_real(server)
    server.fail("/f.csv.gz", ("status", 503, {}), ("status", 503, {}))
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=3, base_delay=1.0, jitter=0.5)
    download_file(
        server.base + "/f.csv.gz",
        tmp_path / "f",
        retry=policy,
        sleep=waits.append,
        rng=np.random.default_rng(7),
    )
    u = np.random.default_rng(7).random(2)
    assert waits == pytest.approx([1.0 * (1 - 0.5 * u[0]), 2.0 * (1 - 0.5 * u[1])])


def _zip(csv_bytes: bytes, name: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, csv_bytes)
    return buf.getvalue()


def test_binance_archive_retries_checksum_and_zip(server: LoopbackServer, tmp_path: Path) -> None:
    csv = gzip.decompress(need_shared(REAL).read_bytes())
    archive = BinanceArchive(
        market="um", data_type="klines", symbol="BTCUSDT", day=date(2021, 1, 1), interval="1d"
    )
    payload = _zip(csv, archive.filename.replace(".zip", ".csv"))
    path = "/" + archive.path()
    server.files[path] = payload
    digest = hashlib.sha256(payload).hexdigest()
    server.files[path + ".CHECKSUM"] = f"{digest}  {archive.filename}\n".encode()
    server.fail(path + ".CHECKSUM", ("status", 503, {}))
    server.fail(path, ("cut", len(payload) // 2))
    waits: list[float] = []
    res = fetch_binance_archive(archive, tmp_path, base_url=server.base, retry=NO_JITTER, sleep=waits.append)
    assert res.verified and res.sha256 == digest and res.path.read_bytes() == payload
    assert [p for p, _, _ in server.requests] == [path + ".CHECKSUM"] * 2 + [path] * 2
    assert server.ranges(path) == [None, f"bytes={len(payload) // 2}-"]
    assert waits == [1.0, 1.0]  # one retry for each file
    with zipfile.ZipFile(res.path) as zf:
        assert zf.read(zf.namelist()[0]) == csv


def test_binance_missing_day_and_checksum_mismatch(server: LoopbackServer, tmp_path: Path) -> None:
    csv = gzip.decompress(need_shared(REAL).read_bytes())
    archive = BinanceArchive(
        market="spot", data_type="klines", symbol="BTCUSDT", day="2021-02-01", interval="1d"
    )
    waits: list[float] = []
    with pytest.raises(DataError, match="HTTP 404") as exc:
        fetch_binance_archive(archive, tmp_path, base_url=server.base, retry=NO_JITTER, sleep=waits.append)
    assert f"{server.base}/{archive.path()}.CHECKSUM" in str(exc.value)
    assert len(server.requests) == 1 and waits == []
    payload = _zip(csv, "x.csv")
    path = "/" + archive.path()
    mid = len(payload) // 2
    server.files[path] = payload[:mid] + bytes([payload[mid] ^ 0xFF]) + payload[mid + 1 :]  # one byte flipped
    published = hashlib.sha256(payload).hexdigest()
    server.files[path + ".CHECKSUM"] = f"{published}  {archive.filename}\n".encode()
    with pytest.raises(DataError) as exc:
        fetch_binance_archive(archive, tmp_path, base_url=server.base, retry=NO_JITTER, sleep=waits.append)
    message = str(exc.value)
    actual = hashlib.sha256(server.files[path]).hexdigest()
    assert archive.filename in message and published in message and actual in message
    dest = tmp_path / "binance" / archive.path().removeprefix("data/")
    assert not dest.exists() and not dest.with_name(dest.name + ".part").exists()
    assert waits == []  # a mismatch is not retried


def test_tardis_day_retried(server: LoopbackServer, tmp_path: Path) -> None:
    raw = need_shared(
        "nautilus_fixtures/tardis_format/deribit_incremental_book_L2_BTC-PERPETUAL.csv"
    ).read_bytes()
    url = tardis_url("deribit", "incremental_book_L2", "2020-04-01", "BTC-PERPETUAL", base_url=server.base)
    server.files[url.removeprefix(server.base)] = gzip.compress(raw)
    server.fail(url.removeprefix(server.base), ("status", 504, {}))
    waits: list[float] = []
    (res,) = fetch_tardis(
        "deribit", "incremental_book_L2", "2020-04-01", ["BTC-PERPETUAL"], tmp_path,
        base_url=server.base, retry=NO_JITTER, sleep=waits.append,
    )  # fmt: skip
    assert gzip.decompress(res.path.read_bytes()) == raw and waits == [1.0] and res.attempts == 2


# ------------------------------------------------------------------ policy values


def test_policy_validation_names_the_parameter() -> None:
    for kwargs, words in (
        ({"max_attempts": 0}, "max_attempts=0"),
        ({"max_attempts": True}, "max_attempts=True"),
        ({"base_delay": -1.0}, "base_delay=-1.0"),
        ({"multiplier": 0.5}, "multiplier=0.5"),
        ({"base_delay": 5.0, "max_delay": 1.0}, "max_delay=1.0 must be >= base_delay=5.0"),
        ({"jitter": 1.5}, "jitter=1.5"),
        ({"jitter": float("nan")}, "jitter=nan"),
        ({"retry_statuses": frozenset({503, 999})}, "retry_statuses=[999]"),
    ):
        with pytest.raises(ValidationError, match=re.escape(words)):
            RetryPolicy(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        RetryPolicy(3)  # type: ignore[misc]  # keyword-only


@settings(max_examples=200, deadline=None)
@given(
    base=st.floats(0.0, 10.0),
    mult=st.floats(1.0, 4.0),
    cap=st.floats(10.0, 100.0),
    jitter=st.floats(0.0, 1.0),
    retry=st.integers(1, 30),
    floor=st.floats(0.0, 5.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_backoff_bounds(
    base: float, mult: float, cap: float, jitter: float, retry: int, floor: float, seed: int
) -> None:
    p = RetryPolicy(base_delay=base, multiplier=mult, max_delay=cap, jitter=jitter)
    raw = min(cap, max(base, floor) * mult ** (retry - 1))
    assert p.backoff(retry, rng=None, floor=floor) == raw
    w = p.backoff(retry, rng=np.random.default_rng(seed), floor=floor)
    assert raw * (1 - jitter) - 1e-12 <= w <= raw + 1e-12
    assert p.wait(retry, rng=None, retry_after=raw + 3.0, floor=floor) == raw + 3.0


def test_parse_retry_after() -> None:
    assert parse_retry_after("120", now=0.0) == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0  # in the past
    assert parse_retry_after(None, now=0.0) is None and parse_retry_after("-5", now=0.0) is None


# ------------------------------------------------------------------ ccxt REST paging


class _FlakyVenue:
    """ccxt's unified methods over real candles; the first calls raise scripted ccxt errors."""

    id = "binanceusdm"
    rateLimit = 50  # ms between requests, as ccxt exchanges declare it
    has: ClassVar[dict[str, bool]] = {"fetchOptionChain": False}

    def __init__(self, candles: list[list[float]], errors: list[Exception]) -> None:
        self.candles = candles
        self.errors = list(errors)
        self.calls: list[int] = []
        self.markets = {"BTC/USDT:USDT": {"id": "BTCUSDT", "swap": True, "inverse": False, "spot": False}}

    def load_markets(self) -> dict[str, Any]:
        return self.markets

    def market(self, symbol: str) -> dict[str, Any]:
        return self.markets[symbol]

    def fetch_ohlcv(
        self, symbol: str, timeframe: str, since: int, limit: int, params: dict[str, Any]
    ) -> list:
        self.calls.append(since)
        if self.errors:
            raise self.errors.pop(0)
        return [c for c in self.candles if c[0] >= since][:limit]

    def fetch_order_book(self, symbol: str, limit: int | None) -> dict[str, Any]:
        if self.errors:
            raise self.errors.pop(0)
        return {"bids": [[100.0, 1.0]], "asks": [[100.5, 3.0]], "timestamp": 1, "nonce": 1}


def _candles() -> list[list[float]]:
    df = pl.read_csv(need_shared(REAL))
    ts = df[df.columns[0]].str.to_datetime(time_zone="UTC").dt.epoch("ms")
    return [
        [int(t), o, h, lo, c, v]
        for t, o, h, lo, c, v in zip(
            ts, df["open"], df["high"], df["low"], df["close"], df["volume"], strict=True
        )
    ]


def test_ccxt_paging_retries_network_errors_without_losing_rows() -> None:
    candles = _candles()
    venue = _FlakyVenue(candles, [ccxt.NetworkError("reset"), ccxt.RequestTimeout("slow")])
    waits: list[float] = []
    start, end = candles[0][0] * 10**6, candles[249][0] * 10**6
    bars = fetch_ohlcv(
        venue, "BTC/USDT:USDT", "1d", start=start, end=end, limit=100, retry=NO_JITTER, sleep=waits.append
    )
    assert bars["open"].to_list() == [c[1] for c in candles[:250]]
    assert bars["close"].to_list() == [c[4] for c in candles[:250]]
    assert venue.calls[:3] == [candles[0][0]] * 3  # the failed page was asked for again from the same since
    assert len(venue.calls) == 2 + 3
    assert waits == [1.0, 2.0]


def test_ccxt_rate_limit_sets_the_backoff_floor() -> None:
    candles = _candles()
    venue = _FlakyVenue(candles, [ccxt.RateLimitExceeded("429"), ccxt.DDoSProtection("slow down")])
    venue.rateLimit = 2500  # 2.5 s between requests: the backoff starts there, not at base_delay
    waits: list[float] = []
    fetch_ohlcv(
        venue, "BTC/USDT:USDT", "1d", start=candles[0][0] * 10**6, end=candles[5][0] * 10**6,
        retry=NO_JITTER, sleep=waits.append,
    )  # fmt: skip
    assert waits == [2.5, 5.0]


def test_ccxt_gives_up_and_does_not_retry_answers() -> None:
    venue = _FlakyVenue(_candles(), [ccxt.ExchangeNotAvailable("down")] * 3)
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=3, base_delay=0.1, jitter=0.0)
    with pytest.raises(DataError, match=r"binanceusdm.fetch_order_book\('BTC/USDT:USDT'\): gave up after 3"):
        fetch_book_snapshot(venue, "BTC/USDT:USDT", ts_recv=0, retry=policy, sleep=waits.append)
    assert waits == [0.1, 0.2]
    venue = _FlakyVenue(_candles(), [ccxt.BadRequest("bad since")])
    waits.clear()
    with pytest.raises(DataError, match="BadRequest: bad since") as exc:
        fetch_ohlcv(venue, "BTC/USDT:USDT", "1d", start=0, end=10**15, retry=policy, sleep=waits.append)
    assert isinstance(exc.value.__cause__, ccxt.BadRequest) and waits == [] and len(venue.calls) == 1
