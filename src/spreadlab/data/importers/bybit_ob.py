"""Bybit historical order-book files (``ob500`` / ``ob200`` / ``ob50`` zips) -> ``book_deltas``.

Bybit publishes one zip per symbol and day holding NDJSON, one message a
line: ``{"topic": "orderbook.500.XRPUSDT", "type": "snapshot"|"delta",
"ts": <ms>, "data": {"s", "b": [[price, size], ...], "a": [...], "u", "seq"},
"cts": <ms>}``. Every price level of a message becomes one ``book_deltas``
row: side +1 for ``b``, -1 for ``a``; size 0 deletes the level; rows of a
``snapshot`` message have ``is_snapshot`` true (the book is replaced);
``sequence`` is the update id ``u``. ``ts_event`` is the matching-engine
time ``cts`` (``ts`` where absent), ``ts_recv`` the push time ``ts``.
``rows_read`` counts messages.

Each message is decoded once (``json.loads``) and checked on the way with
per-message tests (types, int64 ranges; every level a two-element list,
tested with C-level ``map``); the level strings are gathered into flat
lists and converted to float64 by polars in one vectorised cast, and the
per-message fields are repeated over their levels with ``numpy.repeat``.
Only a message that fails is decoded again, by a line-by-line check that
names the field and reason. The venue is ``venue=`` or, from the symbol,
``BYBIT_LINEAR`` (``...USDT``, ``...PERP``) / ``BYBIT_INVERSE`` (``...USD``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl

from spreadlab.data.importers._common import make_batch, normalise_venue, symbol_ids, tardis_venue
from spreadlab.data.importers.base import (
    DEFAULT_CHUNK_ROWS,
    QUARANTINE_SCHEMA,
    ImportBatch,
    ImporterSpec,
    ImportFormat,
    open_binary,
)
from spreadlab.data.schema import EventKind
from spreadlab.errors import DataError

__all__ = ["IMPORTER", "read_bybit_ob"]


def read_bybit_ob(
    path: Path,
    *,
    venue: str | None = None,
    symbol: str | None = None,
    skip_bad: bool = False,
    chunk_rows: int = 20_000,
) -> Iterator[ImportBatch]:
    """Read a Bybit order-book NDJSON file (zip, gzip or plain) as ``book_deltas`` batches.

    ``chunk_rows`` bounds the rows of a chunk: a chunk ends after that many messages or once
    its bytes could hold that many levels (:data:`_BYTES_PER_LEVEL` each), whichever comes
    first, so a chunk of 500-level snapshots stays as small as one of small deltas.

    Examples
    --------
    >>> from spreadlab.testing import shared_file
    >>> f = shared_file("nautilus_fixtures/bybit_ob500/xrpusdt-ob500.data.zip")
    >>> sum(b.rows_read for b in read_bybit_ob(f)) if f else 50
    50
    """
    path = Path(path)
    chunk_rows = min(chunk_rows, DEFAULT_CHUNK_ROWS)
    with open_binary(path) as fh:
        buf: list[bytes] = []
        first = 1
        nbytes = 0
        for raw in fh:
            buf.append(raw)
            nbytes += len(raw)
            if len(buf) >= chunk_rows or nbytes >= chunk_rows * _BYTES_PER_LEVEL:
                yield from _parse(buf, first, path, venue, skip_bad)
                first += len(buf)
                buf = []
                nbytes = 0
        if buf:
            yield from _parse(buf, first, path, venue, skip_bad)


_BYTES_PER_LEVEL = 20  # a level is at least ["p","q"], about 20 bytes: bytes/20 bounds the rows

_EMPTY = {
    "ts_event": pl.Int64(),
    "ts_recv": pl.Int64(),
    "instrument_id": pl.String(),
    "side": pl.Int8(),
    "price": pl.Float64(),
    "size": pl.Float64(),
    "is_snapshot": pl.Boolean(),
}
_INT = int  # exact type test: bool is a subclass of int and must not pass as a time or update id
_MAX_MS = (2**63 - 1) // 1_000_000  # the largest millisecond time whose nanoseconds fit int64
_MAX_ID = 2**63 - 1


def _parse(
    raw: list[bytes], first: int, path: Path, venue: str | None, skip_bad: bool
) -> Iterator[ImportBatch]:
    """Decode each message once (``json.loads``) and gather its levels into flat columns."""
    loads = json.loads
    ts_event: list[int] = []
    ts_recv: list[int] = []
    syms: list[str] = []
    snaps: list[bool] = []
    seqs: list[int | None] = []
    msg_lines: list[int] = []
    counts: list[int] = []  # bids, asks, bids, asks, ... per message
    prices: list[object] = []
    sizes: list[object] = []
    suspects: dict[int, bytes] = {}
    n_msgs = 0
    for i, line in enumerate(raw):
        text = line.strip()
        if not text:
            continue
        n_msgs += 1
        ln = first + i
        try:
            msg = loads(text)
            data = msg["data"]
            kind = msg["type"]
            ts = msg["ts"]
            cts = msg.get("cts")
            sym = data["s"]
            seq = data.get("u")
            bids = data.get("b") or []
            asks = data.get("a") or []
            ok = (
                type(data) is dict
                and kind in ("snapshot", "delta")
                and type(ts) is _INT
                and 0 <= ts <= _MAX_MS
                and (cts is None or (type(cts) is _INT and 0 <= cts <= _MAX_MS))
                and type(sym) is str
                and (seq is None or (type(seq) is _INT and -_MAX_ID <= seq <= _MAX_ID))
                and _levels_ok(bids)
                and _levels_ok(asks)
            )
        except (ValueError, KeyError, TypeError, IndexError):
            ok = False
        if not ok:
            suspects[ln] = text
            continue
        ts_event.append(ts if cts is None else cts)
        ts_recv.append(ts)
        syms.append(sym)
        snaps.append(kind == "snapshot")
        seqs.append(seq)
        msg_lines.append(ln)
        counts.append(len(bids))
        counts.append(len(asks))
        prices.extend([lvl[0] for lvl in bids])
        sizes.extend([lvl[1] for lvl in bids])
        prices.extend([lvl[0] for lvl in asks])
        sizes.extend([lvl[1] for lvl in asks])
    per_side = np.asarray(counts, dtype=np.int64)
    per_msg = per_side[0::2] + per_side[1::2]
    rows = pl.DataFrame(
        {
            "ts_event": np.repeat(np.asarray(ts_event, dtype=np.int64), per_msg) * 1_000_000,
            "ts_recv": np.repeat(np.asarray(ts_recv, dtype=np.int64), per_msg) * 1_000_000,
            "sym": pl.Series(syms, dtype=pl.String).gather(np.repeat(np.arange(len(syms)), per_msg)),
            "side": np.repeat(np.tile(np.array([1, -1], dtype=np.int8), len(msg_lines)), per_side),
            "price": pl.Series(prices, dtype=pl.String, strict=False).cast(pl.Float64, strict=False),
            "size": pl.Series(sizes, dtype=pl.String, strict=False).cast(pl.Float64, strict=False),
            "sequence": pl.Series(seqs, dtype=pl.Int64).gather(np.repeat(np.arange(len(seqs)), per_msg)),
            "is_snapshot": np.repeat(np.asarray(snaps, dtype=np.bool_), per_msg),
            "__line": np.repeat(np.asarray(msg_lines, dtype=np.int64), per_msg),
        }
    )
    unparsed = rows.filter(pl.col("price").is_null() | pl.col("size").is_null())["__line"].unique()
    if len(unparsed):
        suspects.update({int(ln): raw[int(ln) - first].strip() for ln in unparsed})
        rows = rows.filter(~pl.col("__line").is_in(unparsed.implode()))
    bad = _screen(dict(sorted(suspects.items())), path, skip_bad)
    quarantine = pl.DataFrame(bad, schema=QUARANTINE_SCHEMA)
    if rows.height == 0:
        yield make_batch(EventKind.BOOK_DELTAS, pl.DataFrame(schema=_EMPTY), rows_read=n_msgs,
                         quarantine=quarantine)  # fmt: skip
        return
    sym_col = rows["sym"]
    if venue:
        v = normalise_venue(venue)
        venues = pl.repeat(v, rows.height, eager=True, dtype=pl.String)
    else:
        mapping = {s: tardis_venue("bybit", s) for s in sym_col.unique().to_list()}
        venues = sym_col.replace_strict(mapping, return_dtype=pl.String)
    rows = rows.with_columns(symbol_ids(venues, sym_col, path=path, lines=rows["__line"]))
    out = rows.select(
        "ts_event", "ts_recv", "instrument_id", "side", "price", "size", "sequence", "is_snapshot"
    )
    yield make_batch(EventKind.BOOK_DELTAS, out, rows_read=n_msgs, quarantine=quarantine, line=rows["__line"])


def _levels_ok(levels: object) -> bool:
    """True when ``levels`` is a list of two-element lists (checked without a Python loop per level)."""
    if type(levels) is not list:
        return False
    if not levels:
        return True
    return set(map(type, levels)) == {list} and min(map(len, levels)) == 2 == max(map(len, levels))


def _screen(suspects: dict[int, bytes], path: Path, skip_bad: bool) -> list[dict[str, object]]:
    """Name what is wrong with each rejected message: raise on the first, or return quarantine rows."""
    bad: list[dict[str, object]] = []
    for ln, text in suspects.items():
        reason, fld = _check(text)
        if reason is None:  # the fast checks are stricter than json.loads + float() on a few inputs
            reason = "a price or size is not a decimal number, or a field has the wrong JSON type"
        if not skip_bad:
            raise DataError(reason, path=str(path), row=ln, field=fld)
        bad.append({"file": str(path), "line": ln, "field": fld, "reason": reason,
                    "raw": text[:1000].decode("utf-8", "replace")})  # fmt: skip
    return bad


def _check(text: bytes) -> tuple[str | None, str | None]:
    try:
        msg = json.loads(text)
    except ValueError as exc:
        return f"not JSON: {exc}", None
    if not isinstance(msg, dict) or not isinstance(msg.get("data"), dict):
        return "message has no 'data' object", "data"
    if msg.get("type") not in ("snapshot", "delta"):
        return f"type {msg.get('type')!r} is not 'snapshot' or 'delta'", "type"
    for key in ("ts", "cts"):
        value = msg.get(key)
        if (key == "ts" or value is not None) and (type(value) is not int or not 0 <= value <= _MAX_MS):
            return f"{key}={value!r} is missing, not an integer or not a millisecond time", key
    data = msg["data"]
    if not isinstance(data.get("s"), str):
        return "data.s (symbol) is missing", "data.s"
    for key in ("u", "seq"):
        value = data.get(key)
        if value is not None and (type(value) is not int or abs(value) > _MAX_ID):
            return f"data.{key}={value!r} is not a 64-bit integer", f"data.{key}"
    for side in ("b", "a"):
        levels = data.get(side) or []
        if not isinstance(levels, list):
            return f"data.{side} is not a list of levels", f"data.{side}"
        for lvl in levels:
            if not (isinstance(lvl, list) and len(lvl) == 2):
                return f"level {lvl!r} is not [price, size]", f"data.{side}"
            try:
                float(lvl[0])
                float(lvl[1])
            except (TypeError, ValueError):
                return f"level {lvl!r} is not numeric", f"data.{side}"
    return None, None


def _sniff(name: str, head: bytes) -> bool:
    return head.lstrip().startswith(b'{"topic":"orderbook.') or (
        name.endswith((".data.zip", ".data")) and b'"orderbook.' in head[:200]
    )


IMPORTER = ImporterSpec(
    fmt=ImportFormat.BYBIT_OB, read=read_bybit_ob, sniff=_sniff, options=frozenset({"venue"})
)
