"""Bybit historical order-book files (``ob500`` / ``ob200`` / ``ob50`` zips) -> ``book_deltas``.

Bybit publishes one zip per symbol and day holding NDJSON, one message a
line: ``{"topic": "orderbook.500.XRPUSDT", "type": "snapshot"|"delta",
"ts": <ms>, "data": {"s", "b": [[price, size], ...], "a": [...], "u", "seq"},
"cts": <ms>}``. Every price level of a message becomes one ``book_deltas``
row: side +1 for ``b``, -1 for ``a``; size 0 deletes the level; rows of a
``snapshot`` message have ``is_snapshot`` true (the book is replaced);
``sequence`` is the update id ``u``. ``ts_event`` is the matching-engine
time ``cts`` (``ts`` where absent), ``ts_recv`` the push time ``ts``.
``rows_read`` counts messages. The venue is ``venue=`` or, from the symbol,
``BYBIT_LINEAR`` (``...USDT``, ``...PERP``) / ``BYBIT_INVERSE`` (``...USD``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

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

_MSG_SCHEMA = {
    "topic": pl.String(),
    "type": pl.String(),
    "ts": pl.Int64(),
    "cts": pl.Int64(),
    "data": pl.Struct(
        {
            "s": pl.String(),
            "b": pl.List(pl.List(pl.String())),
            "a": pl.List(pl.List(pl.String())),
            "u": pl.Int64(),
            "seq": pl.Int64(),
        }
    ),
}


def read_bybit_ob(
    path: Path,
    *,
    venue: str | None = None,
    symbol: str | None = None,
    skip_bad: bool = False,
    chunk_rows: int = 20_000,
) -> Iterator[ImportBatch]:
    """Read a Bybit order-book NDJSON file (zip, gzip or plain) as ``book_deltas`` batches.

    ``chunk_rows`` counts messages (each may carry hundreds of levels).

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
        for raw in fh:
            buf.append(raw)
            if len(buf) >= chunk_rows:
                yield from _parse(buf, first, path, venue, skip_bad)
                first += len(buf)
                buf = []
        if buf:
            yield from _parse(buf, first, path, venue, skip_bad)


def _parse(
    raw: list[bytes], first: int, path: Path, venue: str | None, skip_bad: bool
) -> Iterator[ImportBatch]:
    bad: list[dict[str, object]] = []
    good: list[bytes] = []
    lines: list[int] = []
    for i, line in enumerate(raw):
        text = line.strip()
        if not text:
            continue
        ln = first + i
        reason, fld = _check(text)
        if reason is not None:
            if not skip_bad:
                raise DataError(reason, path=str(path), row=ln, field=fld)
            bad.append({"file": str(path), "line": ln, "field": fld, "reason": reason,
                        "raw": text[:1000].decode("utf-8", "replace")})  # fmt: skip
            continue
        good.append(text)
        lines.append(ln)
    quarantine = pl.DataFrame(bad, schema=QUARANTINE_SCHEMA)
    if not good:
        yield make_batch(EventKind.BOOK_DELTAS, pl.DataFrame(schema={
            "ts_event": pl.Int64(), "ts_recv": pl.Int64(), "instrument_id": pl.String(), "side": pl.Int8(),
            "price": pl.Float64(), "size": pl.Float64(), "is_snapshot": pl.Boolean()}),
            rows_read=len(bad), quarantine=quarantine)  # fmt: skip
        return
    msgs = pl.read_ndjson(b"\n".join(good), schema=_MSG_SCHEMA).with_columns(
        pl.Series("__line", lines, dtype=pl.Int64)
    )
    msgs = msgs.select(
        pl.col("cts").fill_null(pl.col("ts")).alias("ts_event"),
        pl.col("ts").alias("ts_recv"),
        pl.col("data").struct.field("s").alias("sym"),
        (pl.col("type") == "snapshot").alias("is_snapshot"),
        pl.col("data").struct.field("u").alias("sequence"),
        pl.col("data").struct.field("b").alias("b"),
        pl.col("data").struct.field("a").alias("a"),
        "__line",
    )
    sides = []
    for col, code in (("b", 1), ("a", -1)):
        part = msgs.drop("a" if col == "b" else "b").rename({col: "lvl"}).explode("lvl")
        part = part.filter(pl.col("lvl").is_not_null()).with_columns(
            pl.lit(code, dtype=pl.Int8).alias("side")
        )
        sides.append(part)
    rows = pl.concat(sides).sort("__line", "side", descending=[False, True], maintain_order=True)
    rows = rows.with_columns(
        pl.col("lvl").list.get(0).cast(pl.Float64).alias("price"),
        pl.col("lvl").list.get(1).cast(pl.Float64).alias("size"),
        (pl.col("ts_event") * 1_000_000).alias("ts_event"),
        (pl.col("ts_recv") * 1_000_000).alias("ts_recv"),
    )
    syms = rows["sym"]
    if venue:
        v = normalise_venue(venue)
        venues = pl.Series([v] * rows.height, dtype=pl.String)
    else:
        mapping = {s: tardis_venue("bybit", s) for s in syms.unique().to_list()}
        venues = syms.replace_strict(mapping, return_dtype=pl.String)
    rows = rows.with_columns(symbol_ids(venues, syms, path=path, lines=rows["__line"]))
    out = rows.select(
        "ts_event", "ts_recv", "instrument_id", "side", "price", "size", "sequence", "is_snapshot"
    )
    yield make_batch(
        EventKind.BOOK_DELTAS, out, rows_read=len(good) + len(bad), quarantine=quarantine, line=rows["__line"]
    )


def _check(text: bytes) -> tuple[str | None, str | None]:
    try:
        msg = json.loads(text)
    except ValueError as exc:
        return f"not JSON: {exc}", None
    if not isinstance(msg, dict) or not isinstance(msg.get("data"), dict):
        return "message has no 'data' object", "data"
    if msg.get("type") not in ("snapshot", "delta"):
        return f"type {msg.get('type')!r} is not 'snapshot' or 'delta'", "type"
    if not isinstance(msg.get("ts"), int):
        return "ts is missing or not an integer", "ts"
    data = msg["data"]
    if not isinstance(data.get("s"), str):
        return "data.s (symbol) is missing", "data.s"
    for side in ("b", "a"):
        for lvl in data.get(side) or []:
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


IMPORTER = ImporterSpec(fmt=ImportFormat.BYBIT_OB, read=read_bybit_ob, sniff=_sniff)
