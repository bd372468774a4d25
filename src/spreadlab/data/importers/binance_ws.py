"""Raw Binance websocket captures (``binance-ws``) -> canonical tables.

Input: one message per line, ``<local_recv_ts> <json>``, as recorded by
hftbacktest's collector (``.gz`` or plain). The receive time is an integer
in ns (2024 captures) or us (2023 captures); its unit is read from its
magnitude. The JSON is a combined-stream message ``{"stream", "data"}`` or a
REST depth snapshot (no ``stream``; has ``lastUpdateId``).

Mapping (``ts_recv`` is always the line prefix; ``ts_event`` is the venue's
transaction time ``T`` where sent, else its event time ``E``, else -- spot
``bookTicker`` and spot REST snapshots carry no time -- ``ts_recv``, the
Tardis convention):

=====================  ==============================================================
message                rows
=====================  ==============================================================
REST depth snapshot    ``book_deltas`` with ``is_snapshot`` true, ``sequence`` =
                       ``lastUpdateId`` (one row per level)
``depthUpdate`` diff   ``book_deltas``, one row per level; ``sequence`` = ``u``,
                       ``first_sequence`` = ``U``, ``prev_sequence`` = ``pu``
                       (futures; null on spot)
``depth<N>`` partial   ``book_snapshots`` (top N, best first), ``sequence`` = ``u``
``bookTicker``         ``quotes`` (``sequence`` = its ``u``, the book update id)
``trade``/``aggTrade`` ``trades``; aggressor = -1 when the buyer is the maker (``m``)
``markPriceUpdate``    ``mark`` (mark ``p``, index ``i``) and ``funding`` (rate ``r``
                       for the settlement at ``T``; skipped where ``r`` is empty,
                       as for COIN-M delivery contracts)
anything else          counted in ``rows_read``, no rows (e.g. ``kline``)
=====================  ==============================================================

``first_sequence``/``prev_sequence`` (book deltas) and ``sequence`` (quotes)
are written when the canonical schema has those columns; the full-detail
reader :func:`read_binance_ws_tables` always keeps them, which is what
:class:`~spreadlab.data.orderbook.OrderBook` needs to check Binance's
``U``/``u``/``pu`` chain.

A diff with no levels changes nothing but is a link of the update-id chain;
it is merged into the next diff of the same symbol (whose ``U``, or ``pu`` on
futures, is replaced by the empty one's when they chain exactly), so the
chain stays checkable without a row of no price.

The venue (``BINANCE`` spot, ``BINANCE_USDM``, ``BINANCE_COINM``) is inferred
from the first messages (futures diffs carry ``pu``; COIN-M symbols end in
``_PERP`` or a delivery date and carry ``ps``); pass ``venue=`` to override.
Spot REST snapshots do not name their symbol: it comes from ``symbol=`` or
the file's only symbol.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from spreadlab.core.enums import Venue
from spreadlab.data.importers.base import (
    DEFAULT_CHUNK_ROWS,
    QUARANTINE_SCHEMA,
    ImportBatch,
    ImporterSpec,
    ImportFormat,
    empty_quarantine,
    open_binary,
)
from spreadlab.data.schema import canonical_schema
from spreadlab.errors import DataError, ValidationError
from spreadlab.events.schema import EventKind

__all__ = [
    "BOOK_DELTA_EXTRAS",
    "IMPORTER",
    "QUOTE_EXTRAS",
    "read_binance_ws",
    "read_binance_ws_tables",
    "sniff",
]

BOOK_DELTA_EXTRAS: dict[str, pl.DataType] = {"first_sequence": pl.Int64(), "prev_sequence": pl.Int64()}
"""Columns the book needs for Binance's rules beyond the canonical ``book_deltas`` ones."""

QUOTE_EXTRAS: dict[str, pl.DataType] = {"sequence": pl.Int64()}
"""The ``bookTicker`` update id, beyond the canonical ``quotes`` columns."""

_HEAD_LINES = 400
_MS = 1_000_000


def sniff(name: str, head: bytes) -> bool:
    """Return True if ``head`` looks like a raw Binance capture (``<int> {json}`` lines)."""
    for raw in head.splitlines()[:5]:
        line = raw.strip()
        if not line:
            continue
        prefix, _, rest = line.partition(b" ")
        if not prefix.isdigit() or not rest.startswith(b"{"):
            return False
        if b'"stream"' in rest[:40] or b'"lastUpdateId"' in rest[:40]:
            continue
        return False
    return bool(head.strip())


@dataclass
class _Chunk:
    """Column buffers of one chunk of messages."""

    first_line: int = 0
    messages: int = 0
    levels: int = 0  # book-delta rows buffered (one per price level of every diff or snapshot)
    # book deltas: per message metadata + level arrays
    d_ts_e: list[int] = field(default_factory=list)
    d_ts_r: list[int] = field(default_factory=list)
    d_inst: list[str] = field(default_factory=list)
    d_seq: list[int] = field(default_factory=list)
    d_first: list[int] = field(default_factory=list)
    d_prev: list[int | None] = field(default_factory=list)
    d_snap: list[bool] = field(default_factory=list)
    d_nb: list[int] = field(default_factory=list)
    d_na: list[int] = field(default_factory=list)
    d_levels: list[np.ndarray] = field(default_factory=list)  # per message: bids then asks, (n, 2)
    quotes: dict[str, list[Any]] = field(default_factory=dict)
    trades: dict[str, list[Any]] = field(default_factory=dict)
    mark: dict[str, list[Any]] = field(default_factory=dict)
    funding: dict[str, list[Any]] = field(default_factory=dict)
    snaps: dict[str, list[Any]] = field(default_factory=dict)
    quarantine: list[tuple[str, int, str, str, str]] = field(default_factory=list)


def _append(buf: dict[str, list[Any]], **values: Any) -> None:
    for key, v in values.items():
        buf.setdefault(key, []).append(v)


def _recv_ns(prefix: str) -> int:
    v = int(prefix)
    if v < 100_000_000_000_000_000:  # microseconds (2023 captures)
        v *= 1_000
    return v


def _levels(raw: Any, name: str) -> np.ndarray:
    if not raw:
        return np.empty((0, 2), dtype=np.float64)
    try:
        arr = np.array(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise _BadRecordError(name, f"levels are not [price, size] number pairs: {exc}") from exc
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise _BadRecordError(name, "levels are not [price, size] pairs")
    return arr[:, :2]


class _BadRecordError(Exception):
    def __init__(self, fld: str, reason: str) -> None:
        super().__init__(reason)
        self.field = fld
        self.reason = reason


class _State:
    """What the reader learns from the file and carries across chunks."""

    def __init__(self, path: Path, venue: str | None, symbol: str | None) -> None:
        self.path = path
        self.venue = venue
        self.symbol = symbol
        self.symbols: set[str] = set()
        # pending empty diff per symbol: (first U, prev pu, last u)
        self.pending_empty: dict[str, tuple[int, int | None, int]] = {}


def _infer(path: Path, venue: str | None, symbol: str | None) -> _State:
    st = _State(path, venue, symbol)
    futures: bool | None = None
    coinm = False
    with open_binary(path) as fh:
        for i, raw in enumerate(fh):
            if i >= _HEAD_LINES:
                break
            _, _, js = raw.decode("utf-8", errors="replace").partition(" ")
            try:
                msg = json.loads(js)
            except ValueError:
                continue
            data = msg.get("data", msg) if isinstance(msg, dict) else {}
            if not isinstance(data, dict):
                continue
            sym = data.get("s") or data.get("symbol")
            if isinstance(sym, str):
                st.symbols.add(sym)
                if "_" in sym:
                    coinm = True
            if "ps" in data or "pair" in data:
                coinm = True
                futures = True
            if data.get("e") == "depthUpdate":
                futures = "pu" in data
            elif data.get("e") == "markPriceUpdate":
                futures = True
            elif data.get("e") == "trade" and futures is None:
                futures = "X" in data
    if st.venue is None:
        if futures is None:
            raise DataError(
                "cannot tell spot from USDT-M/COIN-M futures from the first messages; pass venue=",
                path=str(path),
            )
        st.venue = (Venue.BINANCE_COINM if coinm else Venue.BINANCE_USDM) if futures else Venue.BINANCE
    return st


def _parse_line(st: _State, ch: _Chunk, line_no: int, text: str) -> None:
    prefix, sep, js = text.partition(" ")
    if not sep:
        raise _BadRecordError("line", "expected '<recv_ts> <json>'")
    try:
        ts_recv = _recv_ns(prefix)
    except ValueError as exc:
        raise _BadRecordError("recv_ts", f"receive time {prefix[:30]!r} is not an integer") from exc
    try:
        msg = json.loads(js)
    except ValueError as exc:
        raise _BadRecordError("json", f"invalid JSON: {exc}") from exc
    if not isinstance(msg, dict):
        raise _BadRecordError("json", "message is not a JSON object")
    stream = msg.get("stream")
    try:
        if stream is None:
            if "lastUpdateId" in msg:
                _snapshot(st, ch, ts_recv, msg)
            return
        data = msg.get("data")
        if not isinstance(data, dict):
            raise _BadRecordError("data", "combined-stream message without a 'data' object")
        _dispatch(st, ch, ts_recv, str(stream), data)
    except KeyError as exc:
        raise _BadRecordError(str(exc.args[0]), f"missing field {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        raise _BadRecordError("data", f"bad value: {exc}") from exc


def _inst(st: _State, sym: str) -> str:
    return f"{st.venue}:{sym}"


def _ts_event(data: dict[str, Any], ts_recv: int) -> int:
    t = data.get("T", data.get("E"))
    return int(t) * _MS if t is not None else ts_recv


def _snapshot(st: _State, ch: _Chunk, ts_recv: int, msg: dict[str, Any]) -> None:
    sym = msg.get("symbol") or st.symbol
    if sym is None:
        if len(st.symbols) != 1:
            raise _BadRecordError(
                "symbol", "a REST snapshot without 'symbol' in a file of several symbols; pass symbol="
            )
        sym = next(iter(st.symbols))
    bids = _levels(msg["bids"], "bids")
    asks = _levels(msg["asks"], "asks")
    lid = int(msg["lastUpdateId"])
    st.pending_empty.pop(sym, None)
    _add_deltas(ch, _ts_event(msg, ts_recv), ts_recv, _inst(st, sym), lid, lid, None, True, bids, asks)


def _add_deltas(
    ch: _Chunk,
    ts_e: int,
    ts_r: int,
    inst: str,
    seq: int,
    first: int,
    prev: int | None,
    snap: bool,
    bids: np.ndarray,
    asks: np.ndarray,
) -> None:
    ch.d_ts_e.append(ts_e)
    ch.d_ts_r.append(ts_r)
    ch.d_inst.append(inst)
    ch.d_seq.append(seq)
    ch.d_first.append(first)
    ch.d_prev.append(prev)
    ch.d_snap.append(snap)
    ch.d_nb.append(len(bids))
    ch.d_na.append(len(asks))
    ch.levels += len(bids) + len(asks)
    ch.d_levels.append(np.concatenate([bids, asks]) if len(asks) else bids)


def _dispatch(st: _State, ch: _Chunk, ts_recv: int, stream: str, data: dict[str, Any]) -> None:
    event = data.get("e")
    sym = data.get("s")
    if isinstance(sym, str):
        st.symbols.add(sym)
    if event == "depthUpdate" and "@depth" in stream and not _is_partial(stream):
        _diff(st, ch, ts_recv, data)
    elif _is_partial(stream):
        bids = _levels(data.get("bids", data.get("b")), "bids")
        asks = _levels(data.get("asks", data.get("a")), "asks")
        name = sym or stream.split("@", 1)[0].upper()
        seq = data.get("u", data.get("lastUpdateId", -1))
        _append(
            ch.snaps,
            ts_event=_ts_event(data, ts_recv),
            ts_recv=ts_recv,
            instrument_id=_inst(st, name),
            bid_prices=bids[:, 0].tolist(),
            bid_sizes=bids[:, 1].tolist(),
            ask_prices=asks[:, 0].tolist(),
            ask_sizes=asks[:, 1].tolist(),
            sequence=int(seq),
        )
    elif stream.endswith("@bookTicker") or event == "bookTicker":
        _append(
            ch.quotes,
            ts_event=_ts_event(data, ts_recv),
            ts_recv=ts_recv,
            instrument_id=_inst(st, data["s"]),
            bid=float(data["b"]),
            ask=float(data["a"]),
            bid_size=float(data["B"]),
            ask_size=float(data["A"]),
            sequence=int(data["u"]),
        )
    elif event in ("trade", "aggTrade"):
        tid = data["t"] if event == "trade" else data["a"]
        _append(
            ch.trades,
            ts_event=int(data["T"]) * _MS,
            ts_recv=ts_recv,
            instrument_id=_inst(st, data["s"]),
            price=float(data["p"]),
            size=float(data["q"]),
            aggressor=-1 if data["m"] else 1,
            trade_id=str(tid),
        )
    elif event == "markPriceUpdate":
        ts_e = int(data["E"]) * _MS
        inst = _inst(st, data["s"])
        idx = data.get("i")
        _append(
            ch.mark,
            ts_event=ts_e,
            ts_recv=ts_recv,
            instrument_id=inst,
            mark=float(data["p"]),
            index=float(idx) if idx not in (None, "") else None,
        )
        rate = data.get("r")
        if rate not in (None, ""):
            _append(
                ch.funding,
                ts_event=ts_e,
                ts_recv=ts_recv,
                instrument_id=inst,
                rate=float(rate),
                funding_time_ns=int(data["T"]) * _MS,
            )


def _is_partial(stream: str) -> bool:
    _, _, tail = stream.partition("@depth")
    return bool(tail) and tail[0].isdigit()


def _diff(st: _State, ch: _Chunk, ts_recv: int, data: dict[str, Any]) -> None:
    sym = data["s"]
    first, last = int(data["U"]), int(data["u"])
    prev = int(data["pu"]) if "pu" in data else None
    bids = _levels(data.get("b"), "b")
    asks = _levels(data.get("a"), "a")
    pending = st.pending_empty.pop(sym, None)
    if pending is not None:
        p_first, p_prev, p_last = pending
        if prev is not None and prev == p_last:
            first, prev = p_first, p_prev
        elif prev is None and first == p_last + 1:
            first = p_first
    if len(bids) == 0 and len(asks) == 0:
        st.pending_empty[sym] = (first, prev, last)
        return
    _add_deltas(ch, _ts_event(data, ts_recv), ts_recv, _inst(st, sym), last, first, prev, False, bids, asks)


def _deltas_frame(ch: _Chunk) -> pl.DataFrame:
    nb = np.asarray(ch.d_nb, dtype=np.int64)
    counts = nb + np.asarray(ch.d_na, dtype=np.int64)
    lv = np.concatenate(ch.d_levels) if ch.d_levels else np.empty((0, 2))
    msg_of_row = np.repeat(np.arange(len(counts)), counts)
    offsets = np.cumsum(counts) - counts
    pos = np.arange(len(msg_of_row)) - offsets[msg_of_row]
    side = np.where(pos < nb[msg_of_row], 1, -1).astype(np.int8)
    base = pl.DataFrame(
        {
            "ts_event": np.asarray(ch.d_ts_e, np.int64),
            "ts_recv": np.asarray(ch.d_ts_r, np.int64),
            "instrument_id": ch.d_inst,
            "sequence": np.asarray(ch.d_seq, np.int64),
            "is_snapshot": ch.d_snap,
            "first_sequence": np.asarray(ch.d_first, np.int64),
            "prev_sequence": pl.Series(ch.d_prev, dtype=pl.Int64),
        }
    )
    rows = base.select(pl.all().gather(pl.Series(msg_of_row)))
    return rows.with_columns(
        side=pl.Series(side, dtype=pl.Int8),
        price=pl.Series(lv[:, 0]),
        size=pl.Series(lv[:, 1]),
    ).select(
        "ts_event",
        "ts_recv",
        "instrument_id",
        "side",
        "price",
        "size",
        "sequence",
        "is_snapshot",
        "first_sequence",
        "prev_sequence",
    )


def _frames(ch: _Chunk) -> dict[EventKind, pl.DataFrame]:
    out: dict[EventKind, pl.DataFrame] = {}
    if ch.d_seq:
        out[EventKind.BOOK_DELTAS] = _deltas_frame(ch)
    for kind, buf in (
        (EventKind.QUOTES, ch.quotes),
        (EventKind.TRADES, ch.trades),
        (EventKind.MARK, ch.mark),
        (EventKind.FUNDING, ch.funding),
        (EventKind.BOOK_SNAPSHOTS, ch.snaps),
    ):
        if buf:
            schema = _full_schema(kind)
            raw = pl.DataFrame(buf, schema_overrides={c: t for c, t in schema.items() if c in buf})
            out[kind] = raw.select(
                [pl.col(c) if c in buf else pl.lit(None, dtype=t).alias(c) for c, t in schema.items()]
            )
    return out


def _full_schema(kind: EventKind) -> pl.Schema:
    schema = dict(canonical_schema(kind))
    extras = {EventKind.BOOK_DELTAS: BOOK_DELTA_EXTRAS, EventKind.QUOTES: QUOTE_EXTRAS}.get(kind, {})
    if kind is EventKind.BOOK_SNAPSHOTS:
        extras = {"sequence": pl.Int64()}
    for name, dtype in extras.items():
        schema.setdefault(name, dtype)
    return pl.Schema(schema)


def _to_canonical(kind: EventKind, frame: pl.DataFrame) -> pl.DataFrame:
    schema = canonical_schema(kind)
    return frame.select(
        [
            pl.col(n).cast(t) if n in frame.columns else pl.lit(None, dtype=t).alias(n)
            for n, t in schema.items()
        ]
    )


def _iter_chunks(
    path: Path, venue: str | None, symbol: str | None, skip_bad: bool, chunk_rows: int
) -> Iterator[tuple[dict[EventKind, pl.DataFrame], pl.DataFrame, int]]:
    path = Path(path)
    if venue is not None and venue not in (Venue.BINANCE, Venue.BINANCE_USDM, Venue.BINANCE_COINM):
        raise ValidationError(
            f"venue={venue!r} is not a Binance venue (BINANCE, BINANCE_USDM, BINANCE_COINM)"
        )
    st = _infer(path, None if venue is None else str(venue), symbol)
    ch = _Chunk(first_line=1)
    with open_binary(path) as fh:
        for line_no, raw in enumerate(fh, start=1):
            text = raw.decode("utf-8", errors="replace").strip()
            if not text:
                continue
            ch.messages += 1
            try:
                _parse_line(st, ch, line_no, text)
            except _BadRecordError as bad:
                if not skip_bad:
                    raise DataError(bad.reason, path=str(path), row=line_no, field=bad.field) from None
                ch.quarantine.append((str(path), line_no, bad.field, bad.reason, text[:2000]))
            # a chunk is bounded in rows, not messages: one depth message holds hundreds of levels
            if ch.messages + ch.levels >= chunk_rows:
                yield _frames(ch), _quarantine(ch), ch.messages
                ch = _Chunk(first_line=line_no + 1)
    if ch.messages:
        yield _frames(ch), _quarantine(ch), ch.messages


def _quarantine(ch: _Chunk) -> pl.DataFrame:
    if not ch.quarantine:
        return empty_quarantine()
    return pl.DataFrame(ch.quarantine, schema=QUARANTINE_SCHEMA, orient="row")


def read_binance_ws(
    path: Path,
    *,
    venue: str | None = None,
    symbol: str | None = None,
    skip_bad: bool = False,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[ImportBatch]:
    """Stream a raw Binance capture as canonical :class:`ImportBatch` values.

    Parameters
    ----------
    path
        The capture (``.gz`` or plain text).
    venue
        ``BINANCE``, ``BINANCE_USDM`` or ``BINANCE_COINM``; inferred if None.
    symbol
        The symbol of spot REST snapshots (which do not name it) when the
        file holds several symbols.
    skip_bad
        Quarantine malformed lines instead of raising :class:`DataError`.
    chunk_rows
        Rows per chunk: a chunk ends once its messages plus its book-delta rows (one per
        level) reach it, so memory is bounded whatever the depth of the messages.
    """
    for frames, quarantine, n in _iter_chunks(path, venue, symbol, skip_bad, chunk_rows):
        first = True
        if not frames:
            frames = {EventKind.BOOK_DELTAS: pl.DataFrame(schema=_full_schema(EventKind.BOOK_DELTAS))}
        for kind, frame in frames.items():
            yield ImportBatch(
                kind=kind,
                frame=_to_canonical(kind, frame),
                quarantine=quarantine if first else empty_quarantine(),
                rows_read=n if first else 0,
            )
            first = False


def read_binance_ws_tables(
    path: Path | list[Path],
    *,
    venue: str | None = None,
    symbol: str | None = None,
    skip_bad: bool = False,
) -> dict[EventKind, pl.DataFrame]:
    """Read whole captures into one frame per kind, keeping the update-id columns.

    Several paths (e.g. consecutive days of one symbol) are read in order and
    concatenated, so a book can be replayed across them.

    Examples
    --------
    >>> from spreadlab.testing import shared_file
    >>> p = shared_file("binance_l2_hftbacktest/spot/btcusdt_20240808.gz")
    >>> tables = read_binance_ws_tables(p) if p else {}
    >>> sorted(k.value for k in tables) if p else ['book_deltas', 'quotes', 'trades']
    ['book_deltas', 'quotes', 'trades']
    """
    paths = [path] if isinstance(path, str | Path) else list(path)
    parts: dict[EventKind, list[pl.DataFrame]] = {}
    for p in paths:
        for frames, _, _ in _iter_chunks(Path(p), venue, symbol, skip_bad, DEFAULT_CHUNK_ROWS):
            for kind, frame in frames.items():
                parts.setdefault(kind, []).append(frame)
    out = {}
    for kind, fs in parts.items():
        frame = pl.concat(fs, how="vertical")
        if frame.height and frame["instrument_id"].n_unique() == 1:
            # one instrument: the column is trivially sorted; the flag lets readers check it in O(1)
            frame = frame.with_columns(pl.col("instrument_id").set_sorted())
        out[kind] = frame
    return out


IMPORTER = ImporterSpec(fmt=ImportFormat.BINANCE_WS, read=read_binance_ws, sniff=sniff)
