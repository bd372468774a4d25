"""Downloaders: Tardis.dev daily files, Binance public archives, ccxt REST (see each module).

They need the network (users have it); tests run them against a loopback
server. Downloads resume from ``.part`` files, retry transient failures with backoff
(:class:`RetryPolicy`) and verify published checksums.
"""

from spreadlab.data.download.archives import (
    BINANCE_BASE_URL,
    TARDIS_BASE_URL,
    BinanceArchive,
    BinanceMarket,
    Period,
    binance_archive_url,
    fetch_binance_archive,
    fetch_tardis,
    tardis_url,
)
from spreadlab.data.download.http import (
    DownloadResult,
    DownloadStatus,
    HttpResponse,
    Transport,
    UrllibTransport,
    download_file,
    fetch_bytes,
    sha256_file,
)
from spreadlab.data.download.retry import RETRYABLE_STATUSES, RetryPolicy, TransportError, parse_retry_after

__all__ = [
    "BINANCE_BASE_URL",
    "RETRYABLE_STATUSES",
    "TARDIS_BASE_URL",
    "BinanceArchive",
    "BinanceMarket",
    "DownloadResult",
    "DownloadStatus",
    "HttpResponse",
    "Period",
    "RetryPolicy",
    "Transport",
    "TransportError",
    "UrllibTransport",
    "binance_archive_url",
    "download_file",
    "fetch_binance_archive",
    "fetch_bytes",
    "fetch_tardis",
    "parse_retry_after",
    "sha256_file",
    "tardis_url",
]
