"""How ``data list`` and ``data show`` lay stored rows out for a person at 100 columns.

Times are ISO 8601 UTC (``2024-08-09T00:01:02.345Z``; milliseconds for tick
kinds, seconds otherwise), the receive time is shown as its delay after the
venue time in ms, an option's expiry as its date, intervals as ``8h``/``5m``.
Each kind shows the columns that say what a row is; ``--json`` keeps every
column with raw nanoseconds and adds an ``_iso`` twin for each time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fnmatch import fnmatchcase
from typing import Any

import polars as pl

from spreadlab.core.time import ns_to_iso

__all__ = ["collapse_options", "filter_instruments", "iso", "json_rows", "show_table"]

_TICK = frozenset({"quotes", "trades", "book_deltas", "book_snapshots"})
_TIME_COLS = ("ts_event", "ts_recv", "funding_time_ns", "expiry_ns")


def iso(ns: int | None, *, ms: bool = False) -> str:
    """ISO 8601 UTC of int ns: to the second, or the millisecond with ``ms``.

    Examples
    --------
    >>> iso(1723161662345678901, ms=True), iso(1723161662345678901)
    ('2024-08-09T00:01:02.345Z', '2024-08-09T00:01:02Z')
    """
    if ns is None:
        return "-"
    text = ns_to_iso(int(ns))
    return text[:23] + "Z" if ms else text[:19] + "Z"


def _interval(ns: int | None) -> str:
    if ns is None:
        return "-"
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        if ns % (size * 1_000_000_000) == 0:
            return f"{ns // (size * 1_000_000_000)}{unit}"
    return f"{ns / 1e9:g}s"


def _num(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):  # tables show 6 significant digits or cents (JSON keeps every digit)
        if math.isnan(v):
            return "nan"
        return f"{v:,.2f}".rstrip("0").rstrip(".") if abs(v) >= 1000 else f"{v:.6g}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v}"
    return str(v)


def _side(v: object) -> str:
    return {1: "buy", -1: "sell", 0: "-"}.get(v, str(v)) if isinstance(v, int) else "-"


def _book_side(v: object) -> str:
    return {1: "bid", -1: "ask"}.get(v, str(v)) if isinstance(v, int) else "-"


Cell = Callable[[dict[str, Any]], str]


def _views(kind: str) -> list[tuple[str, Cell]]:
    ms = kind in _TICK
    time: list[tuple[str, Cell]] = [
        ("time (UTC)", lambda r: iso(r["ts_event"], ms=ms)),
        ("recv ms", lambda r: _num(round((r["ts_recv"] - r["ts_event"]) / 1e6, 3))),
    ]
    col: Callable[[str], Cell] = lambda c: lambda r: _num(r.get(c))  # noqa: E731
    views: dict[str, list[tuple[str, Cell]]] = {
        "quotes": [
            ("bid", col("bid")),
            ("ask", col("ask")),
            ("bid size", col("bid_size")),
            ("ask size", col("ask_size")),
            ("seq", col("sequence")),
        ],
        "trades": [
            ("price", col("price")),
            ("size", col("size")),
            ("aggressor", lambda r: _side(r["aggressor"])),
            ("trade id", col("trade_id")),
        ],
        "book_deltas": [
            ("side", lambda r: _book_side(r["side"])),
            ("price", col("price")),
            ("size", col("size")),
            ("snap", lambda r: "yes" if r["is_snapshot"] else ""),
            ("seq", col("sequence")),
        ],
        "book_snapshots": [
            ("levels", lambda r: f"{len(r['bid_prices'] or [])}/{len(r['ask_prices'] or [])}"),
            ("best bid", lambda r: _num((r["bid_prices"] or [None])[0])),
            ("size", lambda r: _num((r["bid_sizes"] or [None])[0])),
            ("best ask", lambda r: _num((r["ask_prices"] or [None])[0])),
            ("size ", lambda r: _num((r["ask_sizes"] or [None])[0])),
        ],
        "funding": [
            ("rate", col("rate")),
            ("funding time", lambda r: iso(r["funding_time_ns"])),
            ("interval", lambda r: _interval(r["interval_ns"])),
            ("predicted", col("predicted_rate")),
        ],
        "mark": [
            ("mark", col("mark")),
            ("index", col("index")),
            ("open interest", col("open_interest")),
            ("last", col("last_price")),
        ],
        "option_quotes": [
            ("expiry", lambda r: iso(r["expiry_ns"])[:10]),
            ("strike", col("strike")),
            ("C/P", lambda r: (r["option_kind"] or "-")[:1].upper()),
            ("bid", col("bid")),
            ("ask", col("ask")),
            ("mark", col("mark")),
            ("iv", col("mark_iv")),
            ("delta", col("delta")),
            ("undl", col("underlying_price")),
        ],
        "bars": [
            ("interval", lambda r: _interval(r["interval_ns"])),
            ("open", col("open")),
            ("high", col("high")),
            ("low", col("low")),
            ("close", col("close")),
            ("volume", col("volume")),
        ],
    }
    rest = views.get(kind, [])
    return time[:1] + rest if kind not in _TICK else time + rest


def show_table(df: pl.DataFrame, kind: str) -> tuple[list[str], list[list[str]]]:
    """Return (headers, rows of text) of stored rows of ``kind`` for a terminal table."""
    view = _views(kind)
    rows = [[cell(r) for _, cell in view] for r in df.iter_rows(named=True)]
    return [h for h, _ in view], rows


def json_rows(df: pl.DataFrame) -> list[dict[str, Any]]:
    """Every column of ``df`` as dicts, with an ISO twin (``<col>_iso``) of each nanosecond time."""
    extra = [
        pl.col(c).map_elements(ns_to_iso, return_dtype=pl.String).alias(f"{c.removesuffix('_ns')}_iso")
        for c in _TIME_COLS
        if c in df.columns
    ]
    return df.with_columns(extra).to_dicts() if extra and df.height else df.to_dicts()


def filter_instruments(
    df: pl.DataFrame, *, venues: Sequence[str], kinds: Sequence[str], like: str | None
) -> pl.DataFrame:
    """Keep the rows of the instruments listing whose venue and kind are listed and id matches ``like``.

    ``like`` is a glob (``*``, ``?``) or, when it holds ``%``, an SQL LIKE pattern (``%``, ``_``),
    matched case-insensitively against the whole id when it holds ``:``, else against the symbol;
    without a wildcard it matches ids containing it.
    """
    out = df
    if venues:
        out = out.filter(pl.col("venue").is_in([v.upper() for v in venues]))
    if kinds:
        out = out.filter(pl.col("kind").is_in(list(kinds)))
    if like:
        pat = like.upper()
        if "%" in pat:  # SQL LIKE
            pat = pat.replace("%", "*").replace("_", "?")
        glob = pat if any(ch in pat for ch in "*?") else f"*{pat}*"
        whole = ":" in glob  # else the pattern is matched against the symbol
        ids = [
            i for i in out["instrument_id"].unique().to_list()
            if fnmatchcase((i if whole else i.partition(":")[2]).upper(), glob)
        ]  # fmt: skip
        out = out.filter(pl.col("instrument_id").is_in(ids))
    return out


def collapse_options(df: pl.DataFrame) -> pl.DataFrame:
    """One row per option expiry (``DERIBIT:BTC-16JAN26-*``, with the option count), not one per option."""
    opt = df.filter(pl.col("kind") == "option_quotes")
    if opt.height == 0:
        return df.with_columns(pl.lit(None, pl.Int64).alias("options"))
    rest = df.filter(pl.col("kind") != "option_quotes").with_columns(pl.lit(None, pl.Int64).alias("options"))
    parts = pl.col("instrument_id").str.split("-")
    grouped = (
        opt.with_columns((parts.list.slice(0, 2).list.join("-") + "-*").alias("__series"))
        .group_by("__series", "venue", "kind", maintain_order=True)
        .agg(
            pl.len().cast(pl.Int64).alias("options"),
            pl.col("rows").sum(),
            pl.col("first_ts").min(),
            pl.col("last_ts").max(),
        )
        .rename({"__series": "instrument_id"})
        .select(rest.columns)
    )
    return pl.concat([rest, grouped]).sort("instrument_id", "kind")
