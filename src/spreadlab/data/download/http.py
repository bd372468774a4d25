"""Resumable, checksum-verified HTTP downloads over an injected transport.

A download writes ``<dest>.part`` and renames it to ``dest`` only once it is
complete (and its SHA-256 matches, when one is known), so ``dest`` never
holds a partial file. An interrupted download resumes: the next attempt
sends ``Range: bytes=<size of .part>-``; a ``206`` reply is appended, a
``200`` (server ignores ranges) restarts the file, a ``416`` means the part
is already complete. A file already at ``dest`` with the expected checksum
is not fetched again.

The transport is injected (:class:`Transport`); :class:`UrllibTransport` is
the standard-library one. Tests point it at a loopback server.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from spreadlab.errors import DataError, ValidationError

__all__ = [
    "DownloadResult",
    "DownloadStatus",
    "HttpResponse",
    "Transport",
    "UrllibTransport",
    "download_file",
    "sha256_file",
]

_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpResponse:
    """A streamed HTTP response: status, lower-cased headers and the body in chunks."""

    status: int
    headers: Mapping[str, str]
    body: Iterator[bytes]


class Transport(Protocol):
    """Performs one GET request."""

    def get(self, url: str, *, headers: Mapping[str, str]) -> HttpResponse:
        """Return the response to ``GET url``; do not raise on 4xx/5xx statuses."""
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
            return HttpResponse(status=exc.code, headers=_lower(exc.headers), body=iter([exc.read()]))
        except (urllib.error.URLError, OSError) as exc:
            raise DataError(f"cannot reach {url}: {exc}") from exc

        def body() -> Iterator[bytes]:
            with resp:
                while True:
                    try:
                        chunk = resp.read(_CHUNK)
                    except http.client.IncompleteRead as exc:
                        yield exc.partial
                        raise DataError(f"GET {url}: the connection dropped; run again to resume") from exc
                    except OSError as exc:
                        raise DataError(f"GET {url}: {exc}; run again to resume") from exc
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
) -> DownloadResult:
    """Download ``url`` to ``dest``, resuming a ``.part`` file and verifying the checksum.

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

    Raises
    ------
    DataError
        On an HTTP error status, a short body, or a checksum mismatch.
    """
    if expected_sha256 is not None and (len(expected_sha256) != 64 or not _is_hex(expected_sha256)):
        raise ValidationError(f"expected_sha256={expected_sha256!r} is not a 64-digit hex SHA-256")
    transport = transport or UrllibTransport()
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
            )
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.is_file() else 0
    req_headers = dict(headers or {})
    if have:
        req_headers["Range"] = f"bytes={have}-"
    resp = transport.get(url, headers=req_headers)
    status = DownloadStatus.DOWNLOADED
    if resp.status == 416 and have:
        pass  # the part file already holds the whole body
    elif resp.status == 206 and have:
        _check_range(resp, have, url)
        _write(part, resp.body, append=True)
        status = DownloadStatus.RESUMED
    elif resp.status == 200:
        _write(part, resp.body, append=False)
    else:
        for _ in resp.body:
            pass
        raise DataError(f"GET {url} returned HTTP {resp.status}")
    length = resp.headers.get("content-range", "").rpartition("/")[2]
    if resp.status == 200 and "content-length" in resp.headers:
        length = resp.headers["content-length"]
    if length.isdigit() and part.stat().st_size != int(length):
        raise DataError(
            f"GET {url}: got {part.stat().st_size} bytes of {length}; run again to resume", path=str(part)
        )
    digest = sha256_file(part)
    if expected_sha256 is not None and digest != expected_sha256.lower():
        part.unlink()
        raise DataError(
            f"checksum mismatch for {url}: sha256 {digest} != published {expected_sha256}; the partial "
            "file was removed",
            path=str(dest),
        )
    size = part.stat().st_size
    os.replace(part, dest)
    return DownloadResult(
        url=url, path=dest, bytes=size, sha256=digest, status=status, verified=expected_sha256 is not None
    )


def _is_hex(text: str) -> bool:
    try:
        int(text, 16)
    except ValueError:
        return False
    return True


def _check_range(resp: HttpResponse, have: int, url: str) -> None:
    content_range = resp.headers.get("content-range", "")
    start = content_range.removeprefix("bytes ").partition("-")[0]
    if start.isdigit() and int(start) != have:
        raise DataError(f"GET {url}: server resumed at byte {start}, expected {have}")


def _write(part: Path, body: Iterator[bytes], *, append: bool) -> None:
    with part.open("ab" if append else "wb") as fh:
        for chunk in body:
            fh.write(chunk)
