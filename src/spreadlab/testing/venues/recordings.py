"""Real venue payloads that the loopback venues serve, read from ``../shared/data`` by path.

- Binance USDⓈ-M: ``binance_l2_hftbacktest/usdm/<sym>_20240808.gz``, a raw
  websocket capture (``<recv_ns> <json>`` per line) with the REST depth
  snapshot ``{lastUpdateId, E, T, bids, asks}`` and the ``<sym>@depth@0ms``
  diffs ``{U, u, pu, b, a}`` around it. The venue starts from the snapshot
  and replays the diffs that follow it, with their real update ids.
- Deribit: ``cryptofeed_raw_ws/DERIBIT.ws.1.0.gz``, a raw capture of
  ``book.<option>.raw`` (a snapshot, then changes carrying ``change_id`` and
  ``prev_change_id``) and ``ticker.<option>.raw`` for ten BTC/ETH options;
  and ``nautilus_fixtures/tardis_format/deribit_incremental_book_L2_BTC-PERPETUAL.csv``,
  a Tardis snapshot of the BTC-PERPETUAL book (its ask side), with the best bid of the same
  instant from ``nautilus_fixtures/tardis_format/deltas_1.csv``.

Nothing is copied into the repository. A missing file raises
:class:`FileNotFoundError` naming it, so a test can skip with the reason.
"""

from __future__ import annotations

import csv
import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spreadlab.testing.paths import shared_file

__all__ = [
    "BINANCE_USDM_CAPTURE",
    "BYBIT_OB500",
    "DERIBIT_PERP_BOOK",
    "DERIBIT_PERP_TOP",
    "DERIBIT_WS_CAPTURE",
    "BinanceRecording",
    "BybitRecording",
    "DeribitRecording",
    "binance_or_skip",
    "bybit_or_skip",
    "deribit_or_skip",
    "load_binance_usdm",
    "load_bybit_ob",
    "load_deribit",
    "need",
    "replay_best_asks",
]

BINANCE_USDM_CAPTURE = "binance_l2_hftbacktest/usdm/btcusdt_20240808.gz"
DERIBIT_WS_CAPTURE = "cryptofeed_raw_ws/DERIBIT.ws.1.0.gz"
DERIBIT_PERP_BOOK = "nautilus_fixtures/tardis_format/deribit_incremental_book_L2_BTC-PERPETUAL.csv"
DERIBIT_PERP_TOP = "nautilus_fixtures/tardis_format/deltas_1.csv"  # the same instant's best bid and ask


def need(relative: str) -> Path:
    """Return ``../shared/data/<relative>`` or raise FileNotFoundError naming it."""
    path = shared_file(relative)
    if path is None:
        raise FileNotFoundError(
            f"../shared/data/{relative} is absent: the loopback venue serves that real file"
        )
    return path


@dataclass(slots=True)
class BinanceRecording:
    """A REST depth snapshot and the diffs that follow it, for one USDⓈ-M symbol."""

    symbol: str
    snapshot: dict[str, Any]
    diffs: list[dict[str, Any]]
    book_tickers: list[dict[str, Any]]
    trades: list[dict[str, Any]]


def load_binance_usdm(path: Path, *, max_diffs: int = 2_000) -> BinanceRecording:
    """Read the snapshot and up to ``max_diffs`` diffs after it from a raw capture."""
    snapshot: dict[str, Any] | None = None
    diffs: list[dict[str, Any]] = []
    tickers: list[dict[str, Any]] = []
    trades: list[dict[str, Any]] = []
    symbol = ""
    before: list[dict[str, Any]] = []  # diffs received before the snapshot line may still follow it
    with gzip.open(path, "rt") as fh:
        for line in fh:
            _, _, body = line.partition(" ")
            msg = json.loads(body)
            if "stream" not in msg:
                if snapshot is None:
                    snapshot = msg
                continue
            data = msg["data"]
            stream = msg["stream"]
            if snapshot is None:
                if "@depth" in stream:
                    before.append(data)
                continue
            if before:
                diffs.extend(d for d in before if d["u"] >= snapshot["lastUpdateId"])
                before.clear()
            if "@depth" in stream:
                if data["u"] < snapshot["lastUpdateId"]:
                    continue
                symbol = data["s"]
                diffs.append(data)
                if len(diffs) >= max_diffs:
                    break
            elif stream.endswith("@bookTicker"):
                tickers.append(data)
            elif stream.endswith("@trade"):
                trades.append(data)
    if snapshot is None or not diffs:
        raise ValueError(f"{path}: no REST depth snapshot followed by depth diffs")
    return BinanceRecording(
        symbol=symbol, snapshot=snapshot, diffs=diffs, book_tickers=tickers, trades=trades
    )


@dataclass(slots=True)
class DeribitRecording:
    """Recorded ``book.*.raw`` messages and the latest ticker per Deribit instrument."""

    books: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tickers: dict[str, dict[str, Any]] = field(default_factory=dict)


def load_deribit(
    ws_capture: Path, perp_book: Path | None = None, perp_top: Path | None = None
) -> DeribitRecording:
    """Read the option books and tickers of the capture, and the BTC-PERPETUAL Tardis snapshot.

    ``perp_top`` (Tardis rows of the same 2020-04-01 00:00:00.245 snapshot, with its best bid) adds
    the levels the ask-side file lacks, matched by the instant of the snapshot.
    """
    rec = DeribitRecording()
    with gzip.open(ws_capture, "rt") as fh:
        for line in fh:
            head, sep, body = line.partition(": ")
            if not sep or "<-" in head or "<->" in head:
                continue
            msg = json.loads(body)
            params = msg.get("params") or {}
            channel = params.get("channel", "")
            data: dict[str, Any] = params.get("data") or {}
            if channel.startswith("book."):
                rec.books.setdefault(data["instrument_name"], []).append(data)
            elif channel.startswith("ticker."):
                rec.tickers[data["instrument_name"]] = data
    if perp_book is not None:
        bids: list[list[Any]] = []
        asks: list[list[Any]] = []
        ts_us = 0
        with perp_book.open(newline="") as fh:
            for row in csv.DictReader(fh):
                if row["is_snapshot"] != "true":
                    continue
                ts_us = int(row["timestamp"])
                level = ["new", float(row["price"]), float(row["amount"])]
                (bids if row["side"] == "bid" else asks).append(level)
        if perp_top is not None:
            with perp_top.open(newline="") as fh:
                for row in csv.DictReader(fh):
                    same = int(row["timestamp"]) // 1000 == ts_us  # this file counts ns, the other µs
                    if row["exchange"] != "deribit" or row["symbol"] != "BTC-PERPETUAL" or not same:
                        continue
                    side = bids if row["side"] == "bid" else asks
                    if all(lvl[1] != float(row["price"]) for lvl in side):
                        side.append(["new", float(row["price"]), float(row["amount"])])
        bids.sort(key=lambda lvl: -lvl[1])
        asks.sort(key=lambda lvl: lvl[1])
        rec.books["BTC-PERPETUAL"] = [
            {
                "type": "snapshot",
                "timestamp": ts_us // 1000,
                "instrument_name": "BTC-PERPETUAL",
                "change_id": 1,
                "bids": bids,
                "asks": asks,
            }
        ]
    return rec


def binance_or_skip(*, max_diffs: int = 600) -> BinanceRecording:
    """The Binance recording for a test, or skip the test naming the absent file."""
    import pytest

    path = shared_file(BINANCE_USDM_CAPTURE)
    if path is None:
        pytest.skip(
            f"../shared/data/{BINANCE_USDM_CAPTURE} is absent: the loopback venue serves that recording"
        )
    return load_binance_usdm(path, max_diffs=max_diffs)


def deribit_or_skip() -> DeribitRecording:
    """The Deribit recording for a test, or skip the test naming the absent file."""
    import pytest

    ws, perp, top = (shared_file(r) for r in (DERIBIT_WS_CAPTURE, DERIBIT_PERP_BOOK, DERIBIT_PERP_TOP))
    for rel, path in ((DERIBIT_WS_CAPTURE, ws), (DERIBIT_PERP_BOOK, perp), (DERIBIT_PERP_TOP, top)):
        if path is None:
            pytest.skip(f"../shared/data/{rel} is absent: the loopback venue serves that recording")
    assert ws is not None
    return load_deribit(ws, perp, top)


def replay_best_asks(recording: BinanceRecording) -> list[float]:
    """The best ask after the snapshot and after each recorded diff (a plain replay of the recording)."""
    book = {float(p): float(q) for p, q in recording.snapshot["asks"]}
    out = [min(book)]
    for diff in recording.diffs:
        for p, q in diff["a"]:
            if float(q) == 0.0:
                book.pop(float(p), None)
            else:
                book[float(p)] = float(q)
        out.append(min(book))
    return out


BYBIT_OB500 = "nautilus_fixtures/bybit_ob500/xrpusdt-ob500.data.zip"


@dataclass(slots=True)
class BybitRecording:
    """Bybit's official ``orderbook.500`` file: a snapshot, then deltas with ``u`` and ``seq``."""

    symbol: str
    snapshot: dict[str, Any]
    deltas: list[dict[str, Any]]


def load_bybit_ob(path: Path) -> BybitRecording:
    """Read the NDJSON ``{topic, type, ts, data{s, b, a, u, seq}, cts}`` inside the zip."""
    import zipfile

    with zipfile.ZipFile(path) as zf:
        text = zf.read(zf.namelist()[0]).decode()
    msgs = [json.loads(line) for line in text.splitlines() if line.strip()]
    if not msgs or msgs[0]["type"] != "snapshot":
        raise ValueError(f"{path}: the first message is not an order book snapshot")
    return BybitRecording(symbol=msgs[0]["data"]["s"], snapshot=msgs[0], deltas=msgs[1:])


def bybit_or_skip() -> BybitRecording:
    """The Bybit recording for a test, or skip the test naming the absent file."""
    import pytest

    path = shared_file(BYBIT_OB500)
    if path is None:
        pytest.skip(f"../shared/data/{BYBIT_OB500} is absent: the loopback venue serves that recording")
    return load_bybit_ob(path)
