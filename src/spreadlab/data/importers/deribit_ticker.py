"""Deribit ``public/ticker`` and ``public/get_book_summary_by_currency`` responses -> canonical tables.

What a user's own collector or a REST downloader writes, in any of these shapes:

- JSON lines, each one of: a JSON-RPC response (``{"result": {...}}`` from
  ``public/ticker``, ``{"result": [{...}, ...]}`` from
  ``get_book_summary_by_currency``), a subscription notification
  (``{"method": "subscription", "params": {"channel": "ticker.<name>...",
  "data": {...}}}``), a bare ticker or summary object, or a JSON array of them.
  A line may start with its receive time (``1626993723.804855: {...}`` as
  cryptofeed records, or ``<int ns|us|ms> {...}``); lines of a capture's
  connection log (``wss://... <-> ...``, ``wss://... <- ...``) and
  notifications of other channels (``book.*``, ``trades.*``) are counted and
  give no rows.
- CSV flattened from those objects: nested fields as dotted columns
  (``greeks.delta``, ``stats.volume``), as ``pandas.json_normalize`` writes.

Mapping (prices in the instrument's quote: coin for options and inverse
futures; IVs are in percent at Deribit and stored as decimals; times in ms):

==========================  ===============================================================
instrument                  rows
==========================  ===============================================================
option (``...-C``/``-P``)   ``option_quotes``: bid/ask (``best_bid_price``/``bid_price``;
                            a 0 price means no quote on that side: null, with its IV),
                            sizes, mark, ``bid_iv``/``ask_iv``/``mark_iv`` / 100, greeks,
                            underlying price and id (``underlying_index``), index price,
                            open interest, last price, ``stats.volume``/``volume``;
                            strike, expiry and kind from the name
future or perpetual         ``quotes`` (bid/ask and sizes, where either side is quoted)
                            and ``mark`` (mark, index = ``index_price`` or
                            ``estimated_delivery_price``, open interest, last price)
==========================  ===============================================================

A perpetual's ``current_funding``/``funding_8h`` are not stored: Deribit
funds continuously, and they are rates of the moment or of the past 8 hours,
not settlements (funding rows come from a funding-rate history).

``ts_event`` is ``timestamp`` (ticker) or ``creation_timestamp`` (summary);
``ts_recv`` is the line's receive-time prefix, else the response's ``usOut``,
else ``ts_event``. The venue is always ``DERIBIT``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from spreadlab.core.enums import Venue
from spreadlab.data.importers._common import make_batch, reject_rows, symbol_ids
from spreadlab.data.importers._csv import iter_csv, read_header
from spreadlab.data.importers.base import (
    DEFAULT_CHUNK_ROWS,
    ImportBatch,
    ImporterSpec,
    ImportFormat,
    empty_quarantine,
    open_binary,
    read_head,
)
from spreadlab.data.schema import EventKind, empty_frame
from spreadlab.errors import DataError, UnknownSymbolError, ValidationError
from spreadlab.instruments.base import Option
from spreadlab.instruments.symbols import parse_symbol

__all__ = ["IMPORTER", "read_deribit_ticker"]

_F = pl.Float64()
_S = pl.String()
_I = pl.Int64()
_RAW: dict[str, pl.DataType] = {
    "timestamp": _I, "creation_timestamp": _I, "ts_recv": _I, "instrument_name": _S,
    "best_bid_price": _F, "best_ask_price": _F, "bid_price": _F, "ask_price": _F,
    "best_bid_amount": _F, "best_ask_amount": _F, "mark_price": _F, "mark_iv": _F, "bid_iv": _F,
    "ask_iv": _F, "underlying_price": _F, "underlying_index": _S, "index_price": _F,
    "estimated_delivery_price": _F, "greeks.delta": _F, "greeks.gamma": _F, "greeks.vega": _F,
    "greeks.theta": _F, "greeks.rho": _F, "open_interest": _F, "last_price": _F, "last": _F,
    "stats.volume": _F, "volume": _F,
}  # fmt: skip
_VENUE = Venue.DERIBIT.value
_PREFIX = re.compile(rb"^(\d+(?:\.\d+)?):?\s+(?=[\[{])")
_KNOWN = frozenset({"instrument_name", "best_bid_price", "creation_timestamp", "greeks.delta", "mark_iv"})


def _ns(text: bytes) -> int:
    """A receive-time prefix: seconds with a fraction, else an integer in ns, us, ms or s by magnitude."""
    if b"." in text:
        sec, _, frac = text.partition(b".")
        return int(sec) * 1_000_000_000 + int((frac + b"000000000")[:9])
    v = int(text)
    for scale in (1, 1_000, 1_000_000, 1_000_000_000):
        if v * scale >= 10**18:
            return v * scale
    return v * 1_000_000_000


def _flat(obj: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in obj.items():
        if isinstance(v, dict):
            for k2, v2 in v.items():
                out[f"{k}.{k2}"] = v2
        else:
            out[k] = v
    return out


def _records(line: bytes, lineno: int, path: Path) -> tuple[list[dict[str, Any]], str | None]:
    """Return the ticker/summary records of one line and, for a bad line, why."""
    text = line.strip()
    if not text or text.startswith((b"wss://", b"ws://")):
        return [], None
    recv: int | None = None
    m = _PREFIX.match(text)
    if m:
        recv = _ns(m.group(1))
        text = text[m.end() :]
    try:
        obj = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        return [], f"not JSON ({exc})"
    if isinstance(obj, dict) and "error" in obj and "result" not in obj:
        return [], f"a JSON-RPC error response: {obj['error']!r}"[:300]
    if isinstance(obj, dict) and isinstance(obj.get("params"), dict) and "data" in obj["params"]:
        if not str(obj["params"].get("channel", "")).startswith("ticker."):
            return [], None  # another channel of a capture (book, trades)
        payload: Any = obj["params"]["data"]
    elif isinstance(obj, dict) and "result" in obj:
        payload = obj["result"]
        if recv is None and isinstance(obj.get("usOut"), int):
            recv = int(obj["usOut"]) * 1000
    else:
        payload = obj
    items = payload if isinstance(payload, list) else [payload]
    if isinstance(payload, list) and not any(isinstance(i, dict) for i in items):
        return [], None  # an empty summary, or the acknowledgement of a subscription (channel names)
    if not all(isinstance(i, dict) and "instrument_name" in i for i in items):
        return [], "not a Deribit ticker or book summary (no instrument_name)"
    recs = []
    for item in items:
        rec = _flat(item)
        rec["ts_recv"] = recv
        recs.append(rec)
    return recs, None


def _iter_json(
    path: Path, *, chunk_rows: int, skip_bad: bool
) -> Iterator[tuple[pl.DataFrame, pl.Series, pl.DataFrame, int]]:
    recs: list[dict[str, Any]] = []
    lines: list[int] = []
    bad: list[dict[str, object]] = []
    n_lines = 0
    with open_binary(path) as fh:
        for lineno, raw in enumerate(fh, start=1):
            n_lines += 1
            got, why = _records(raw, lineno, path)
            if why is not None:
                if not skip_bad:
                    raise DataError(why, path=str(path), row=lineno, field="json")
                bad.append({"file": str(path), "line": lineno, "field": "json", "reason": why,
                            "raw": raw[:1000].decode("utf-8", errors="replace")})  # fmt: skip
                continue
            recs.extend(got)
            lines.extend([lineno] * len(got))
            if len(recs) >= chunk_rows:
                yield _frame(recs), pl.Series("line", lines, _I), _quarantine(bad), n_lines
                recs, lines, bad, n_lines = [], [], [], 0
    if recs or bad or n_lines:
        yield _frame(recs), pl.Series("line", lines, _I), _quarantine(bad), n_lines


def _frame(recs: list[dict[str, Any]]) -> pl.DataFrame:
    cols = {c: [r.get(c) for r in recs] for c in _RAW}
    return pl.DataFrame(cols, schema=_RAW, strict=False)


def _quarantine(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=empty_quarantine().schema) if rows else empty_quarantine()


def read_deribit_ticker(
    path: Path,
    *,
    venue: str | None = None,
    symbol: str | None = None,
    skip_bad: bool = False,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[ImportBatch]:
    """Read Deribit ticker / book-summary responses (JSON lines or flattened CSV).

    ``venue`` and ``symbol`` are ignored: the venue is Deribit and every record names its
    instrument.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.jsonl"
    >>> _ = p.write_text('{"result": {"timestamp": 1700000000000, "instrument_name": "BTC-PERPETUAL", '
    ...                  '"best_bid_price": 36000.5, "best_ask_price": 36001.0, "mark_price": 36000.7}}\\n')
    >>> [b.kind.value for b in read_deribit_ticker(p)]
    ['quotes', 'mark']
    """
    path = Path(path)
    first = read_head(path, 4096).split(b"\n", 1)[0]
    if (
        first.lstrip()[:1] not in (b"{", b"[")
        and not _PREFIX.match(first.strip())
        and not first.startswith(b"ws")
    ):
        yield from _read_csv(path, skip_bad=skip_bad, chunk_rows=chunk_rows)
        return
    for frame, lines, quarantine, n in _iter_json(path, chunk_rows=chunk_rows, skip_bad=skip_bad):
        yield from _convert(frame, lines, path, skip_bad, [quarantine], n)


def _read_csv(path: Path, *, skip_bad: bool, chunk_rows: int) -> Iterator[ImportBatch]:
    header = read_header(path)
    if "instrument_name" not in header:
        raise DataError(
            f"no instrument_name column in {header}", path=str(path), row=1, field="instrument_name"
        )
    dtypes = {c: (_RAW.get(c, _S) if _RAW.get(c) != _I else _F) for c in header}  # ms times may be floats
    for chunk in iter_csv(path, names=header, dtypes=dtypes, required=("instrument_name",), has_header=True,
                          chunk_rows=chunk_rows, skip_bad=skip_bad):  # fmt: skip
        raw = chunk.frame.select([pl.col(c) for c in header if c in _RAW])
        raw = raw.with_columns(
            [pl.lit(None, dtype=t).alias(c) for c, t in _RAW.items() if c not in raw.columns]
        )
        raw = raw.select([pl.col(c).cast(t, strict=False) for c, t in _RAW.items()])
        yield from _convert(raw, chunk.line, path, skip_bad, [chunk.quarantine], chunk.rows_read)


def _spec(name: str) -> tuple[float, int, str] | None:
    try:
        inst = parse_symbol(_VENUE, name)
    except (UnknownSymbolError, ValidationError):
        return None  # the id check of the catalog names it
    if isinstance(inst, Option):
        return float(inst.strike), int(inst.expiry_ns), inst.kind.value
    return None


def _convert(
    raw: pl.DataFrame, lines: pl.Series, path: Path, skip_bad: bool, qs: list[pl.DataFrame], n: int
) -> Iterator[ImportBatch]:
    if raw.height == 0:
        yield make_batch(
            EventKind.QUOTES, empty_frame(EventKind.QUOTES), rows_read=n, quarantine=pl.concat(qs)
        )
        return
    ts = pl.coalesce("timestamp", "creation_timestamp")
    raw = raw.with_columns((ts * 1_000_000).alias("ts_event"))
    raw, lines, q = reject_rows(raw, lines, raw["ts_event"].is_null(), field="timestamp",
                                reason="no timestamp or creation_timestamp (ms)", path=path,
                                skip_bad=skip_bad)  # fmt: skip
    qs.append(q)
    venues = pl.Series([_VENUE] * raw.height, dtype=pl.String)
    raw = raw.with_columns(symbol_ids(venues, raw["instrument_name"], path=path, lines=lines,
                                      field="instrument_name"))  # fmt: skip
    names = raw["instrument_name"].unique().to_list()
    specs = {nm: _spec(nm) for nm in names}
    opts = {nm: s for nm, s in specs.items() if s is not None}
    is_opt = pl.col("instrument_name").is_in(list(opts))
    raw = raw.with_columns(pl.coalesce("ts_recv", "ts_event").alias("ts_recv"))
    bid = pl.coalesce("best_bid_price", "bid_price")
    ask = pl.coalesce("best_ask_price", "ask_price")
    common = [pl.col("ts_event"), pl.col("ts_recv"), pl.col("instrument_id")]
    out_q = empty_quarantine()
    first = True

    def batch(kind: EventKind, frame: pl.DataFrame, ln: pl.Series) -> ImportBatch:
        nonlocal first
        b = make_batch(
            kind, frame, rows_read=n if first else 0, quarantine=pl.concat(qs) if first else out_q, line=ln
        )
        first = False
        return b

    o = raw.filter(is_opt)
    if o.height:
        o_lines = lines.filter(raw.select(is_opt).to_series())
        name = pl.col("instrument_name")
        nz = lambda e: pl.when(e > 0).then(e)  # noqa: E731 - a 0 price at Deribit: no quote
        quotes = o.select(
            *common,
            nz(bid).alias("bid"), nz(ask).alias("ask"), pl.col("mark_price").alias("mark"),
            pl.col("underlying_price"),
            pl.when(bid > 0).then(pl.col("bid_iv") / 100).alias("bid_iv"),
            pl.when(ask > 0).then(pl.col("ask_iv") / 100).alias("ask_iv"),
            (pl.col("mark_iv") / 100).alias("mark_iv"),
            pl.col("greeks.delta").alias("delta"), pl.col("open_interest"),
            pl.when(bid > 0).then(pl.col("best_bid_amount")).alias("bid_size"),
            pl.when(ask > 0).then(pl.col("best_ask_amount")).alias("ask_size"),
            pl.col("greeks.gamma").alias("gamma"), pl.col("greeks.vega").alias("vega"),
            pl.col("greeks.theta").alias("theta"), pl.col("greeks.rho").alias("rho"),
            pl.col("index_price"),
            pl.when(pl.col("underlying_index").is_not_null() & (pl.col("underlying_index") != "index_price"))
            .then(pl.lit(_VENUE + ":") + pl.col("underlying_index")).alias("underlying_id"),
            name.replace_strict({k: v[0] for k, v in opts.items()}, return_dtype=_F).alias("strike"),
            name.replace_strict({k: v[1] for k, v in opts.items()}, return_dtype=_I).alias("expiry_ns"),
            name.replace_strict({k: v[2] for k, v in opts.items()}, return_dtype=_S).alias("option_kind"),
            pl.coalesce("last_price", "last").alias("last_price"),
            pl.coalesce("stats.volume", "volume").alias("volume"),
        )  # fmt: skip
        yield batch(EventKind.OPTION_QUOTES, quotes, o_lines)
    f = raw.filter(~is_opt)
    if f.height:
        f_lines = lines.filter(raw.select(~is_opt).to_series())
        quoted = f.select((bid > 0) | (ask > 0)).to_series()
        quotes = f.filter(quoted).select(
            *common,
            pl.when(bid > 0).then(bid).alias("bid"), pl.when(ask > 0).then(ask).alias("ask"),
            pl.when(bid > 0).then(pl.col("best_bid_amount")).alias("bid_size"),
            pl.when(ask > 0).then(pl.col("best_ask_amount")).alias("ask_size"),
        )  # fmt: skip
        if quotes.height:
            yield batch(EventKind.QUOTES, quotes, f_lines.filter(quoted))
        marked = f.select(pl.col("mark_price").is_not_null()).to_series()
        marks = f.filter(marked).select(
            *common, pl.col("mark_price").alias("mark"),
            pl.coalesce("index_price", "estimated_delivery_price").alias("index"),
            pl.col("open_interest"), pl.coalesce("last_price", "last").alias("last_price"),
        )  # fmt: skip
        if marks.height:
            yield batch(EventKind.MARK, marks, f_lines.filter(marked))
    if first:  # nothing stored from this chunk: still count its records
        yield make_batch(
            EventKind.QUOTES, empty_frame(EventKind.QUOTES), rows_read=n, quarantine=pl.concat(qs)
        )


def _sniff(name: str, head: bytes) -> bool:
    text = head[:8192]
    if b"instrument_name" not in text:
        return False
    first = text.split(b"\n", 1)[0]
    if b"," in first and not first.lstrip().startswith((b"{", b"[")) and not _PREFIX.match(first.strip()):
        cols = {c.strip().strip('"') for c in next(csv.reader(io.StringIO(first.decode("utf-8", "replace"))))}
        return "instrument_name" in cols and bool(
            cols & {"best_bid_price", "greeks.delta", "creation_timestamp", "mark_iv"}
        )
    return any(k.encode() in text for k in _KNOWN - {"instrument_name"}) and (
        b'"timestamp"' in text or b'"creation_timestamp"' in text
    )


IMPORTER = ImporterSpec(
    fmt=ImportFormat.DERIBIT_TICKER, read=read_deribit_ticker, sniff=_sniff, options=frozenset()
)
