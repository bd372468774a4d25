"""Raw Hyperliquid websocket captures (``hyperliquid-ws``) -> canonical tables.

Input: one message of ``wss://api.hyperliquid.xyz/ws`` per line, as sent
(``{"channel": ..., "data": ...}``), optionally after its receive time
(``<int ns|us|ms> {...}`` or ``<seconds.fraction>: {...}``); ``.gz`` or plain.

==========================  ================================================================
channel                     rows
==========================  ================================================================
``l2Book``                  ``book_snapshots``: ``levels`` = [bids, asks], each best first,
                            ``{"px", "sz", "n"}`` with prices and sizes as strings
``trades``                  ``trades``, one per element: ``px``, ``sz``; aggressor +1 for
                            ``side`` ``"B"`` (the buyer took liquidity), -1 for ``"A"``;
                            ``trade_id`` = ``tid``
``bbo``                     ``quotes`` from ``bbo`` = [best bid, best ask]; a side may be
                            null, and such a one-sided message gives no row
anything else               counted in ``rows_read``, no rows (``subscriptionResponse``,
                            ``pong``, ``candle``, ...)
==========================  ================================================================

``ts_event`` is the message's ``time`` (ms); ``ts_recv`` the line's prefix,
else ``ts_event``. The instrument is ``HYPERLIQUID:<coin>`` (perpetuals name
their coin, ``BTC``); the catalog's id check rejects names that are not
Hyperliquid perpetuals (spot ``@107``), naming the line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from spreadlab.core.enums import Venue
from spreadlab.data.importers._common import make_batch
from spreadlab.data.importers.base import (
    DEFAULT_CHUNK_ROWS,
    QUARANTINE_SCHEMA,
    ImportBatch,
    ImporterSpec,
    ImportFormat,
    empty_quarantine,
    open_binary,
)
from spreadlab.data.schema import EventKind, empty_frame
from spreadlab.errors import DataError

__all__ = ["IMPORTER", "read_hyperliquid_ws"]

_VENUE = Venue.HYPERLIQUID.value
_PREFIX = re.compile(rb"^(\d+(?:\.\d+)?):?\s+(?=\{)")
_CHANNELS = (b'"l2Book"', b'"trades"', b'"bbo"')


def _recv_ns(text: bytes) -> int:
    if b"." in text:
        sec, _, frac = text.partition(b".")
        return int(sec) * 1_000_000_000 + int((frac + b"000000000")[:9])
    v = int(text)
    for scale in (1, 1_000, 1_000_000, 1_000_000_000):
        if v * scale >= 10**18:
            return v * scale
    return v * 1_000_000_000


class _Rows:
    """Rows of one chunk, per kind, with their source lines."""

    def __init__(self) -> None:
        self.book: list[tuple[Any, ...]] = []
        self.trades: list[tuple[Any, ...]] = []
        self.quotes: list[tuple[Any, ...]] = []
        self.bad: list[dict[str, object]] = []

    def __len__(self) -> int:
        return len(self.book) + len(self.trades) + len(self.quotes)


def _levels(side: Any) -> tuple[list[float], list[float]]:
    return [float(x["px"]) for x in side], [float(x["sz"]) for x in side]


def _parse(msg: dict[str, Any], recv: int | None, line: int, rows: _Rows) -> None:
    channel = msg.get("channel")
    data: Any = msg.get("data")
    if channel == "l2Book":
        ts = int(data["time"]) * 1_000_000
        bids, asks = data["levels"]
        bp, bs = _levels(bids)
        ap, az = _levels(asks)
        rows.book.append((ts, recv or ts, f"{_VENUE}:{data['coin']}", bp, bs, ap, az, line))
    elif channel == "trades":
        for t in data:
            ts = int(t["time"]) * 1_000_000
            side = {"B": 1, "A": -1}.get(t["side"])
            if side is None:
                raise ValueError(f"side {t['side']!r} is not 'B' or 'A'")
            rows.trades.append((ts, recv or ts, f"{_VENUE}:{t['coin']}", float(t["px"]), float(t["sz"]), side,
                                str(t["tid"]), line))  # fmt: skip
    elif channel == "bbo":
        ts = int(data["time"]) * 1_000_000
        bid, ask = data["bbo"]
        if not bid or not ask:
            return  # a quote needs both sides: a one-sided book gives no row
        rows.quotes.append((
            ts, recv or ts, f"{_VENUE}:{data['coin']}",
            float(bid["px"]) if bid else None, float(ask["px"]) if ask else None,
            float(bid["sz"]) if bid else None, float(ask["sz"]) if ask else None, line,
        ))  # fmt: skip


def _batches(rows: _Rows, n_lines: int) -> Iterator[ImportBatch]:
    q = pl.DataFrame(rows.bad, schema=QUARANTINE_SCHEMA) if rows.bad else empty_quarantine()
    out: list[tuple[EventKind, pl.DataFrame, pl.Series]] = []
    if rows.book:
        cols = [
            "ts_event",
            "ts_recv",
            "instrument_id",
            "bid_prices",
            "bid_sizes",
            "ask_prices",
            "ask_sizes",
            "line",
        ]
        df = pl.DataFrame(rows.book, schema=cols, orient="row")
        out.append((EventKind.BOOK_SNAPSHOTS, df.drop("line"), df["line"]))
    if rows.trades:
        cols = ["ts_event", "ts_recv", "instrument_id", "price", "size", "aggressor", "trade_id", "line"]
        df = pl.DataFrame(rows.trades, schema=cols, orient="row")
        out.append((EventKind.TRADES, df.drop("line"), df["line"]))
    if rows.quotes:
        cols = ["ts_event", "ts_recv", "instrument_id", "bid", "ask", "bid_size", "ask_size", "line"]
        df = pl.DataFrame(rows.quotes, schema=cols, orient="row")
        out.append((EventKind.QUOTES, df.drop("line"), df["line"]))
    if not out:
        yield make_batch(EventKind.TRADES, empty_frame(EventKind.TRADES), rows_read=n_lines, quarantine=q)
        return
    for i, (kind, df, line) in enumerate(out):
        yield make_batch(kind, df, rows_read=n_lines if i == 0 else 0, quarantine=q if i == 0 else None,
                         line=line.cast(pl.Int64))  # fmt: skip


def read_hyperliquid_ws(
    path: Path,
    *,
    venue: str | None = None,
    symbol: str | None = None,
    skip_bad: bool = False,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[ImportBatch]:
    """Read a raw Hyperliquid websocket capture (``venue`` and ``symbol`` are ignored).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "hl.jsonl"
    >>> _ = p.write_text('{"channel":"trades","data":[{"coin":"BTC","side":"B","px":"97000.5","sz":"0.01",'
    ...                  '"hash":"0x0","time":1733000000123,"tid":42,"users":["0xa","0xb"]}]}\\n')
    >>> b = next(read_hyperliquid_ws(p))
    >>> b.kind.value, b.frame["price"][0], b.frame["aggressor"][0]
    ('trades', 97000.5, 1)
    """
    path = Path(path)
    rows = _Rows()
    n_lines = 0
    with open_binary(path) as fh:
        for lineno, raw in enumerate(fh, start=1):
            n_lines += 1
            text = raw.strip()
            if not text:
                continue
            recv = None
            m = _PREFIX.match(text)
            if m:
                recv = _recv_ns(m.group(1))
                text = text[m.end() :]
            try:
                msg = json.loads(text)
                if not isinstance(msg, dict):
                    raise ValueError("not a JSON object")
                _parse(msg, recv, lineno, rows)
            except (ValueError, KeyError, TypeError, IndexError) as exc:
                why = f"not a Hyperliquid message ({type(exc).__name__}: {exc})"[:300]
                if not skip_bad:
                    raise DataError(why, path=str(path), row=lineno, field="json") from exc
                rows.bad.append({"file": str(path), "line": lineno, "field": "json", "reason": why,
                                 "raw": raw[:1000].decode("utf-8", errors="replace")})  # fmt: skip
            if len(rows) >= chunk_rows:
                yield from _batches(rows, n_lines)
                rows, n_lines = _Rows(), 0
    if len(rows) or rows.bad or n_lines:
        yield from _batches(rows, n_lines)


def _sniff(name: str, head: bytes) -> bool:
    for raw in head.splitlines()[:5]:
        line = raw.strip()
        m = _PREFIX.match(line)
        if m:
            line = line[m.end() :]
        if line.startswith(b"{") and b'"channel"' in line[:40] and any(c in line[:60] for c in _CHANNELS):
            return True
    return False


IMPORTER = ImporterSpec(
    fmt=ImportFormat.HYPERLIQUID_WS, read=read_hyperliquid_ws, sniff=_sniff, options=frozenset()
)
