"""Downloaders for the Tardis.dev daily datasets and Binance's public data archives.

Tardis.dev
    ``<base>/<exchange>/<data_type>/<yyyy>/<mm>/<dd>/<symbol>.csv.gz`` with
    ``base = https://datasets.tardis.dev/v1``. The first day of every month
    is free without an API key; other days need ``api_key`` (sent as
    ``Authorization: Bearer <key>``). Tardis publishes no checksums.

Binance (data.binance.vision)
    ``<base>/data/<market path>/<daily|monthly>/<data_type>/<SYMBOL>/[<interval>/]``
    ``<SYMBOL>-<data_type or interval>-<date>.zip`` with market path ``spot``,
    ``futures/um`` (USDT-M) or ``futures/cm`` (COIN-M); every zip has a
    ``.CHECKSUM`` file (``<sha256>  <file name>``) which is fetched first and
    verified against the download.

Every request is retried on transient failures (connection errors,
timeouts, HTTP 429/5xx, honouring ``Retry-After``) under the ``retry``
policy; a missing file (HTTP 404) fails at once naming its URL.

Files land under ``dest_dir`` with the remote path kept, so a re-run finds
them (verified Binance zips are not fetched again; interrupted downloads
resume from their ``.part`` file).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

import numpy as np

from spreadlab.data.download.http import (
    DEFAULT_RETRY,
    DownloadResult,
    Transport,
    UrllibTransport,
    download_file,
    fetch_bytes,
)
from spreadlab.data.download.retry import RetryPolicy, Sleep
from spreadlab.errors import DataError, ValidationError

__all__ = [
    "BINANCE_BASE_URL",
    "TARDIS_BASE_URL",
    "BinanceArchive",
    "BinanceMarket",
    "Period",
    "binance_archive_url",
    "fetch_binance_archive",
    "fetch_tardis",
    "tardis_url",
]

TARDIS_BASE_URL = "https://datasets.tardis.dev/v1"
BINANCE_BASE_URL = "https://data.binance.vision"

_TARDIS_TYPES = frozenset(
    {
        "trades",
        "incremental_book_L2",
        "quotes",
        "book_snapshot_25",
        "book_snapshot_5",
        "derivative_ticker",
        "options_chain",
        "liquidations",
        "book_ticker",
    }
)
_NAME = re.compile(r"^[A-Za-z0-9_\-.]+$")


def _as_date(value: date | str, name: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValidationError(f"{name}={value!r} is not a date (YYYY-MM-DD)") from exc


def _check_name(name: str, value: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValidationError(f"{name}={value!r} is invalid: expected letters, digits and '_-.'")
    return value


def tardis_url(
    exchange: str, data_type: str, day: date | str, symbol: str, *, base_url: str = TARDIS_BASE_URL
) -> str:
    """Return the URL of one Tardis.dev daily dataset file.

    Examples
    --------
    >>> tardis_url("binance-futures", "incremental_book_L2", "2024-08-01", "BTCUSDT")
    'https://datasets.tardis.dev/v1/binance-futures/incremental_book_L2/2024/08/01/BTCUSDT.csv.gz'
    """
    if data_type not in _TARDIS_TYPES:
        raise ValidationError(
            f"data_type={data_type!r} is not a Tardis dataset; valid: {sorted(_TARDIS_TYPES)}"
        )
    d = _as_date(day, "day")
    _check_name("exchange", exchange)
    _check_name("symbol", symbol)
    day_path = f"{d.year:04d}/{d.month:02d}/{d.day:02d}"
    return f"{base_url.rstrip('/')}/{exchange}/{data_type}/{day_path}/{symbol}.csv.gz"


def fetch_tardis(
    exchange: str,
    data_type: str,
    day: date | str,
    symbols: list[str],
    dest_dir: Path,
    *,
    api_key: str | None = None,
    transport: Transport | None = None,
    base_url: str = TARDIS_BASE_URL,
    retry: RetryPolicy = DEFAULT_RETRY,
    sleep: Sleep = time.sleep,
    rng: np.random.Generator | None = None,
) -> list[DownloadResult]:
    """Download Tardis.dev daily files (one per symbol) into ``dest_dir``.

    Without ``api_key`` only the first day of a month is available (free
    access); other days raise :class:`ValidationError` before any request.
    ``retry``, ``sleep`` and ``rng`` are passed to :func:`download_file`.
    """
    d = _as_date(day, "day")
    if api_key is None and d.day != 1:
        raise ValidationError(
            f"day={d.isoformat()}: without an API key Tardis.dev serves only the first day of each month"
        )
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    transport = transport or UrllibTransport()
    out = []
    for sym in symbols:
        url = tardis_url(exchange, data_type, d, sym, base_url=base_url)
        dest = Path(dest_dir) / "tardis" / exchange / data_type / f"{d.isoformat()}_{sym}.csv.gz"
        out.append(
            download_file(url, dest, transport=transport, headers=headers, retry=retry, sleep=sleep, rng=rng)
        )
    return out


class BinanceMarket(StrEnum):
    """Product lines of data.binance.vision."""

    SPOT = "spot"
    USDM = "um"
    COINM = "cm"

    @property
    def path(self) -> str:
        """The URL path segment."""
        return "spot" if self is BinanceMarket.SPOT else f"futures/{self.value}"


class Period(StrEnum):
    """Daily or monthly archive files."""

    DAILY = "daily"
    MONTHLY = "monthly"


_FUTURES_TYPES = frozenset(
    {
        "klines",
        "trades",
        "aggTrades",
        "bookTicker",
        "fundingRate",
        "markPriceKlines",
        "indexPriceKlines",
        "premiumIndexKlines",
        "bookDepth",
        "metrics",
    }
)  # USDⓈ-M and COIN-M publish the same data types
_BINANCE_TYPES = {
    BinanceMarket.SPOT: frozenset({"klines", "trades", "aggTrades"}),
    BinanceMarket.USDM: _FUTURES_TYPES,
    BinanceMarket.COINM: _FUTURES_TYPES,
}
_KLINE_TYPES = {"klines", "markPriceKlines", "indexPriceKlines", "premiumIndexKlines"}


@dataclass(frozen=True, slots=True, kw_only=True)
class BinanceArchive:
    """One archive file of data.binance.vision.

    Parameters
    ----------
    market
        Spot, USDT-M (``um``) or COIN-M (``cm``).
    data_type
        ``klines``, ``trades``, ``aggTrades``, ``bookTicker``, ``fundingRate`` (monthly), ...
    symbol
        Upper-case symbol, e.g. ``BTCUSDT`` or ``BTCUSD_PERP``.
    day
        The date (daily files) or any day of the month (monthly files).
    period
        Daily or monthly.
    interval
        Kline interval (``1m``, ``1h``, ``1d`` ...), for kline types only.
    """

    market: BinanceMarket
    data_type: str
    symbol: str
    day: date
    period: Period = Period.DAILY
    interval: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "market", BinanceMarket(self.market))
        object.__setattr__(self, "period", Period(self.period))
        object.__setattr__(self, "day", _as_date(self.day, "day"))
        valid = _BINANCE_TYPES[self.market]
        if self.data_type not in valid:
            raise ValidationError(
                f"data_type={self.data_type!r} is not archived for {self.market.value}; "
                f"valid: {sorted(valid)}"
            )
        _check_name("symbol", self.symbol)
        if self.data_type in _KLINE_TYPES:
            if self.interval is None:
                raise ValidationError(f"interval is required for {self.data_type} (e.g. '1m', '1h', '1d')")
            _check_name("interval", self.interval)
        elif self.interval is not None:
            raise ValidationError(f"interval={self.interval!r} applies to kline types only")
        if self.data_type == "fundingRate" and self.period is not Period.MONTHLY:
            raise ValidationError("fundingRate is archived monthly only: pass period='monthly'")

    @property
    def filename(self) -> str:
        """The zip's file name."""
        stamp = self.day.isoformat() if self.period is Period.DAILY else self.day.isoformat()[:7]
        middle = self.interval if self.data_type in _KLINE_TYPES else self.data_type
        return f"{self.symbol}-{middle}-{stamp}.zip"

    def path(self) -> str:
        """The path below the base URL."""
        parts = ["data", self.market.path, self.period.value, self.data_type, self.symbol]
        if self.interval is not None:
            parts.append(self.interval)
        return "/".join([*parts, self.filename])


def binance_archive_url(archive: BinanceArchive, *, base_url: str = BINANCE_BASE_URL) -> str:
    """Return the URL of an archive file.

    Examples
    --------
    >>> a = BinanceArchive(market="um", data_type="klines", symbol="BTCUSDT", day="2024-08-08", interval="1m")
    >>> binance_archive_url(a)
    'https://data.binance.vision/data/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-08-08.zip'
    """
    return f"{base_url.rstrip('/')}/{archive.path()}"


def fetch_binance_archive(
    archive: BinanceArchive,
    dest_dir: Path,
    *,
    transport: Transport | None = None,
    base_url: str = BINANCE_BASE_URL,
    verify: bool = True,
    retry: RetryPolicy = DEFAULT_RETRY,
    sleep: Sleep = time.sleep,
    rng: np.random.Generator | None = None,
) -> DownloadResult:
    """Download one archive zip, verifying it against its published ``.CHECKSUM``.

    Both requests (checksum, zip) retry transient failures under ``retry``.

    Raises
    ------
    DataError
        If the archive or its checksum file does not exist (HTTP 404, URL
        named), the checksum file is malformed, the zip does not match it, or
        the retries are used up.
    """
    transport = transport or UrllibTransport()
    url = binance_archive_url(archive, base_url=base_url)
    dest = Path(dest_dir) / "binance" / archive.path().removeprefix("data/")
    expected = None
    if verify:
        body = fetch_bytes(url + ".CHECKSUM", transport=transport, retry=retry, sleep=sleep, rng=rng)
        text = body.decode("utf-8", errors="replace")
        fields = text.split()
        if len(fields) < 2 or fields[1] != archive.filename or len(fields[0]) != 64:
            raise DataError(f"{url}.CHECKSUM is malformed: {text[:200]!r}")
        expected = fields[0].lower()
    return download_file(
        url, dest, transport=transport, expected_sha256=expected, retry=retry, sleep=sleep, rng=rng
    )
