"""Resumable, checksum-verified HTTP downloads over an injected transport.

A download writes ``<dest>.part`` and renames it to ``dest`` only once it is
complete (and its SHA-256 matches, when one is known), so ``dest`` never
holds a partial file. An interrupted download resumes: the next attempt
sends ``Range: bytes=<size of .part>-``; a ``206`` reply is appended, a
``200`` (server ignores ranges) restarts the file, a ``416`` means the part
is already complete. A file already at ``dest`` with the expected checksum
is not fetched again.

Every request is retried on transient failures under a
:class:`~spreadlab.data.download.retry.RetryPolicy` (exponential backoff
with jitter, ``Retry-After`` honoured); each retry re-reads the size of the
``.part`` file, so a body cut short resumes where it stopped rather than
starting over. A 4xx answer other than 408/425/429 fails at once with the
URL in the message; a checksum mismatch deletes the part file and names the
file, the published and the actual digest.

The transport is injected (:class:`Transport`); :class:`UrllibTransport` is
the standard-library one. Tests point it at a loopback server.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np

from spreadlab.data.download.retry import RetryPolicy, Sleep, TransportError, parse_retry_after
from spreadlab.errors import DataError, ValidationError

__all__ = [
    "DownloadResult",
    "DownloadStatus",
    "HttpResponse",
    "Transport",
    "UrllibTransport",
    "download_file",
    "fetch_bytes",
    "sha256_file",
]

_CHUNK = 1 << 20
_T = TypeVar("_T")
DEFAULT_RETRY = RetryPolicy()


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpResponse:
    """A streamed HTTP response: status, lower-cased headers and the body in chunks."""

    status: int
    headers: Mapping[str, str]
    body: Iterator[bytes]


class Transport(Protocol):
    """Performs one GET request."""

    def get(self, url: str, *, headers: Mapping[str, str]) -> HttpResponse:
        """Return the response to ``GET url``; do not raise on 4xx/5xx statuses.

        Raise :class:`~spreadlab.data.download.retry.TransportError` when the
        request fails in transit (also from the body iterator, when the
        connection drops part-way), so that callers retry.
        """
        ...


class UrllibTransport:
    """A :class:`Transport` on :mod:`urllib.request` (no third-party dependency).

    Parameters
    ----------
    timeout
        Seconds to wait for the server.
    """

    __slots__ = ("timeout",)

    def __init__(self, *, timeout: float = 60.0) -> None:
        self.timeout = timeout

    def get(self, url: str, *, headers: Mapping[str, str]) -> HttpResponse:
        """Perform ``GET url``."""
        req = urllib.request.Request(url, headers=dict(headers), method="GET")
        try:
            resp = urllib.request.urlopen(req, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            try:
                payload = exc.read()
            except (OSError, http.client.HTTPException):
                payload = b""  # the status is the answer; a body lost in transit does not matter
            return HttpResponse(status=exc.code, headers=_lower(exc.headers), body=iter([payload]))
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            raise TransportError(f"cannot reach {url}: {exc}") from exc

        def body() -> Iterator[bytes]:
            with resp:
                while True:
                    try:
                        chunk = resp.read(_CHUNK)
                    except http.client.IncompleteRead as exc:
                        yield exc.partial
                        raise TransportError(
                            f"GET {url}: the connection dropped; run again to resume"
                        ) from exc
                    except (OSError, http.client.HTTPException) as exc:
                        raise TransportError(f"GET {url}: {exc}; run again to resume") from exc
                    if not chunk:
                        return
                    yield chunk

        return HttpResponse(status=resp.status, headers=_lower(resp.headers), body=body())


def _lower(headers: object) -> dict[str, str]:
    items = headers.items() if hasattr(headers, "items") else []
    return {str(k).lower(): str(v) for k, v in items}


class DownloadStatus(StrEnum):
    """How a file came to be at its destination."""

    DOWNLOADED = "downloaded"
    RESUMED = "resumed"
    CACHED = "cached"  # already present and verified


@dataclass(frozen=True, slots=True, kw_only=True)
class DownloadResult:
    """A completed download."""

    url: str
    path: Path
    bytes: int
    sha256: str
    status: DownloadStatus
    verified: bool
    """True when the SHA-256 was checked against a published value."""
    attempts: int = 1
    """Requests made (1 when the first succeeded; 0 for a cached file)."""


def sha256_file(path: Path) -> str:
    """Return the hex SHA-256 of a file."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def download_file(
    url: str,
    dest: Path,
    *,
    transport: Transport | None = None,
    expected_sha256: str | None = None,
    headers: Mapping[str, str] | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
    sleep: Sleep = time.sleep,
    rng: np.random.Generator | None = None,
) -> DownloadResult:
    """Download ``url`` to ``dest``, resuming a ``.part`` file, retrying and verifying the checksum.

    Parameters
    ----------
    url
        What to fetch.
    dest
        Where to put it (its folder is created).
    transport
        The HTTP transport (default :class:`UrllibTransport`).
    expected_sha256
        The published SHA-256; a mismatch deletes the part file and raises.
    headers
        Extra request headers (e.g. ``Authorization``).
    retry
        When and how long to retry transient failures (see :mod:`.retry`).
    sleep
        Called with the seconds to wait between attempts (tests pass a recorder).
    rng
        Draws the backoff jitter (default: a fresh unseeded generator).

    Raises
    ------
    DataError
        On a non-transient HTTP status (404 names the URL), on a checksum
        mismatch, or when the retries are used up.

    Examples
    --------
    >>> import tempfile
    >>> class Echo:
    ...     def get(self, url, *, headers):
    ...         return HttpResponse(status=200, headers={"content-length": "5"}, body=iter([b"hello"]))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     res = download_file("http://x/y", Path(d) / "y", transport=Echo())
    >>> res.bytes, res.status.value, res.attempts
    (5, 'downloaded', 1)
    """
    if expected_sha256 is not None and (len(expected_sha256) != 64 or not _is_hex(expected_sha256)):
        raise ValidationError(f"expected_sha256={expected_sha256!r} is not a 64-digit hex SHA-256")
    tr = transport or UrllibTransport()
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.is_file() and expected_sha256 is not None:
        digest = sha256_file(dest)
        if digest == expected_sha256.lower():
            return DownloadResult(
                url=url,
                path=dest,
                bytes=dest.stat().st_size,
                sha256=digest,
                status=DownloadStatus.CACHED,
                verified=True,
                attempts=0,
            )
    part = dest.with_name(dest.name + ".part")
    statuses: list[DownloadStatus] = []

    def once() -> None:
        statuses.append(_fetch_once(url, part, tr, dict(headers or {}), retry))

    _, attempts = with_retries(once, what=f"GET {url}", retry=retry, sleep=sleep, rng=rng)
    status = DownloadStatus.RESUMED if DownloadStatus.RESUMED in statuses else statuses[-1]
    digest = sha256_file(part)
    if expected_sha256 is not None and digest != expected_sha256.lower():
        part.unlink()
        raise DataError(
            f"checksum mismatch for {dest.name} from {url}: published sha256 {expected_sha256.lower()}, "
            f"downloaded {digest}; the partial file was removed",
            path=str(dest),
        )
    size = part.stat().st_size
    os.replace(part, dest)
    return DownloadResult(
        url=url,
        path=dest,
        bytes=size,
        sha256=digest,
        status=status,
        verified=expected_sha256 is not None,
        attempts=attempts,
    )


def fetch_bytes(
    url: str,
    *,
    transport: Transport | None = None,
    headers: Mapping[str, str] | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
    sleep: Sleep = time.sleep,
    rng: np.random.Generator | None = None,
) -> bytes:
    """Return the body of a small file (a ``.CHECKSUM``), retrying like :func:`download_file`.

    Raises
    ------
    DataError
        On a non-transient HTTP status (404 names the URL) or when the retries are used up.
    """
    tr = transport or UrllibTransport()

    def once() -> bytes:
        resp = tr.get(url, headers=dict(headers or {}))
        _raise_for_status(resp, url, retry)
        if resp.status != 200:
            _drain(resp)
            raise DataError(f"GET {url} returned HTTP {resp.status}, expected 200")
        body = b"".join(resp.body)
        length = resp.headers.get("content-length", "")
        if length.isdigit() and len(body) != int(length):
            raise TransportError(f"GET {url}: got {len(body)} bytes of {length}")
        return body

    return with_retries(once, what=f"GET {url}", retry=retry, sleep=sleep, rng=rng)[0]


class _StatusError(TransportError):
    """A transient HTTP status (429, 503 ...), with the server's Retry-After if it sent one."""

    def __init__(self, message: str, *, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def with_retries(
    call: Callable[[], _T],
    *,
    what: str,
    retry: RetryPolicy,
    sleep: Sleep,
    rng: np.random.Generator | None,
    transient: tuple[type[BaseException], ...] = (TransportError,),
    floor: float = 0.0,
) -> tuple[_T, int]:
    """Call ``call`` until it succeeds, retrying the ``transient`` errors; return its value and the attempts.

    Raises
    ------
    DataError
        When ``retry.max_attempts`` are used up (chained to the last error), or a
        ``Retry-After`` exceeds ``retry.max_retry_after``. Other errors pass through.
    """
    if rng is None and retry.jitter > 0.0:
        rng = np.random.default_rng()
    attempt = 1
    while True:
        try:
            return call(), attempt
        except transient as exc:
            retry_after = getattr(exc, "retry_after", None)
            if attempt >= retry.max_attempts:
                raise DataError(f"{what}: gave up after {attempt} attempt(s); last error: {exc}") from exc
            if retry_after is not None and retry_after > retry.max_retry_after:
                raise DataError(
                    f"{what}: the server asks to retry after {retry_after:g} s, more than "
                    f"max_retry_after={retry.max_retry_after:g} s; last error: {exc}"
                ) from exc
            sleep(retry.wait(attempt, rng=rng, retry_after=retry_after, floor=floor))
            attempt += 1


def _fetch_once(
    url: str, part: Path, transport: Transport, headers: dict[str, str], retry: RetryPolicy
) -> DownloadStatus:
    """One request: append to (206), restart (200) or confirm (416) the part file."""
    have = part.stat().st_size if part.is_file() else 0
    if have:
        headers["Range"] = f"bytes={have}-"
    resp = transport.get(url, headers=headers)
    _raise_for_status(resp, url, retry)
    total = _content_total(resp)
    if resp.status == 416 and have:
        _drain(resp)
        if total is not None and total != have:
            part.unlink()
            raise TransportError(
                f"GET {url}: the part file ({have} bytes) is not a prefix of the {total}-byte file"
            )
        return DownloadStatus.RESUMED  # the part file already holds the whole body
    if resp.status == 206 and have:
        start = resp.headers.get("content-range", "").removeprefix("bytes ").partition("-")[0]
        if start.isdigit() and int(start) != have:
            _drain(resp)
            part.unlink()
            raise TransportError(f"GET {url}: server resumed at byte {start}, expected {have}; restarting")
        _write(part, resp.body, append=True)
        status = DownloadStatus.RESUMED
    elif resp.status == 200:
        _write(part, resp.body, append=False)  # a server that ignores Range sends it all: start over
        status = DownloadStatus.DOWNLOADED
    else:
        _drain(resp)
        raise DataError(f"GET {url} returned HTTP {resp.status}")
    size = part.stat().st_size
    if total is not None and size != total:
        raise TransportError(f"GET {url}: got {size} bytes of {total}", path=str(part))
    return status


def _content_total(resp: HttpResponse) -> int | None:
    """The whole file's size: Content-Range's total (206/416) or Content-Length (200)."""
    if resp.status == 200:
        length = resp.headers.get("content-length", "")
    else:
        length = resp.headers.get("content-range", "").rpartition("/")[2]
    return int(length) if length.isdigit() else None


def _raise_for_status(resp: HttpResponse, url: str, retry: RetryPolicy) -> None:
    """Raise a transient error for a retryable status, a DataError for other 4xx/5xx."""
    if resp.status in retry.retry_statuses:
        _drain(resp)
        wait = parse_retry_after(resp.headers.get("retry-after"), now=time.time())
        after = f" (Retry-After: {wait:g} s)" if wait is not None else ""
        raise _StatusError(f"GET {url} returned HTTP {resp.status}{after}", retry_after=wait)
    if resp.status == 404:
        _drain(resp)
        raise DataError(f"GET {url} returned HTTP 404: no such file (not published for this day or symbol?)")
    if resp.status in (401, 403):
        _drain(resp)
        raise DataError(f"GET {url} returned HTTP {resp.status}: access denied (is an API key needed?)")
    if resp.status >= 400 and resp.status != 416:
        _drain(resp)
        raise DataError(f"GET {url} returned HTTP {resp.status}")


def _drain(resp: HttpResponse) -> None:
    try:
        for _ in resp.body:
            pass
    except TransportError:
        pass  # the status already says what happened


def _is_hex(text: str) -> bool:
    try:
        int(text, 16)
    except ValueError:
        return False
    return True


def _write(part: Path, body: Iterator[bytes], *, append: bool) -> None:
    with part.open("ab" if append else "wb") as fh:
        for chunk in body:
            fh.write(chunk)
