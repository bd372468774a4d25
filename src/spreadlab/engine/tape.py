"""The engine's tape: every market event of every instrument as one set of columns in receive-time order.

Sources per instrument, best first: book deltas and snapshots (depth; a
snapshot becomes a ``CLEAR`` row and its levels; Binance diffs pass the
venue's update-id rules first, see :func:`_sequenced`), else top-of-book quotes
(quote-only: fills use the impact model), else bars (a quote at the bar's
close time: close -+ half the configured spread, depth unknown). Trades,
marks/index prices and funding rates come with any of them. Funding rows
are applied at their funding time, marks at their own time.

Rows are sorted by ``(t_recv, kind priority, instrument, source row)``; the
venue order (``vorder``) sorts by ``(t_venue, kind priority, instrument,
row)``, where ``t_venue`` is ``ts_event`` made non-decreasing along each of an
instrument's streams (depth, quotes, trades, each on its own) so that no
message is applied before one the venue sent earlier on the same stream.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from spreadlab.core.ids import InstrumentId
from spreadlab.data.book_types import EventOutcome, SequenceRule
from spreadlab.data.orderbook import OrderBook
from spreadlab.errors import ValidationError
from spreadlab.kernels.engine_layout import TK_CLEAR, TK_DELTA, TK_FUNDING, TK_MARK, TK_QUOTE, TK_TRADE
from spreadlab.kernels.orderbook import event_starts

__all__ = ["Tape", "build_tape"]

_PRIORITY = {TK_CLEAR: 0, TK_DELTA: 1, TK_QUOTE: 2, TK_TRADE: 3, TK_MARK: 4, TK_FUNDING: 5}
_COLS = ("t_recv", "t_venue", "kind", "inst", "flag", "f0", "f1", "f2", "f3")


@dataclass(frozen=True, slots=True, kw_only=True)
class Tape:
    """The columns of a tape and what each instrument's prices came from.

    ``source`` maps instrument id -> ``"depth"``, ``"quotes"`` or ``"bars"``.
    """

    t_recv: np.ndarray
    t_venue: np.ndarray
    kind: np.ndarray
    inst: np.ndarray
    flag: np.ndarray
    f0: np.ndarray
    f1: np.ndarray
    f2: np.ndarray
    f3: np.ndarray
    vorder: np.ndarray
    source: Mapping[str, str]
    max_levels: int
    book_checks: Mapping[str, str] = field(default_factory=dict)

    @property
    def n_events(self) -> int:
        """Number of rows."""
        return int(self.t_recv.shape[0])

    def arrays(self) -> tuple[np.ndarray, ...]:
        """The tuple the loop kernel reads."""
        return (
            self.t_recv,
            self.t_venue,
            self.kind,
            self.inst,
            self.flag,
            self.f0,
            self.f1,
            self.f2,
            self.f3,
            self.vorder,
        )

    @property
    def start_ns(self) -> int:
        """First receive time (0 for an empty tape)."""
        return int(self.t_recv[0]) if self.n_events else 0

    @property
    def end_ns(self) -> int:
        """Last receive or venue time (0 for an empty tape)."""
        if not self.n_events:
            return 0
        return int(max(self.t_recv.max(), self.t_venue.max()))


def _frame(df: pl.DataFrame, kind: int, index: Mapping[str, int], **cols: pl.Expr) -> pl.DataFrame:
    exprs = {
        "t_recv": pl.col("ts_recv").cast(pl.Int64),
        "t_venue": pl.col("ts_event").cast(pl.Int64),
        "kind": pl.lit(kind, dtype=pl.Int8),
        "inst": pl.col("instrument_id").cast(pl.String).replace_strict(index, return_dtype=pl.Int32),
        "flag": pl.lit(0, dtype=pl.Int8),
        "f0": pl.lit(np.nan, dtype=pl.Float64),
        "f1": pl.lit(np.nan, dtype=pl.Float64),
        "f2": pl.lit(np.nan, dtype=pl.Float64),
        "f3": pl.lit(np.nan, dtype=pl.Float64),
    }
    exprs.update(cols)
    return df.select(**exprs)


def _f(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Float64).fill_null(np.nan)


_RULES = {
    "BINANCE": SequenceRule.BINANCE_SPOT,
    "BINANCE_USDM": SequenceRule.BINANCE_FUTURES,
    "BINANCE_COINM": SequenceRule.BINANCE_FUTURES,
}


def _sequenced(df: pl.DataFrame, checks: dict[str, str]) -> pl.DataFrame:
    """Keep the rows of the messages a venue-rule book applies; a gap becomes a cleared book.

    Binance diffs carry update ids; the order-book replay
    (:class:`spreadlab.data.orderbook.OrderBook`) says per message whether it
    was applied, a snapshot, stale (older than the book), unsynced (no valid
    book yet) or a gap. Stale and unsynced messages are dropped; at a gap the
    book is cleared (``is_snapshot`` rows of no levels) until the next
    snapshot, as a venue-rule client would do.
    """
    out = []
    for iid, part in df.group_by("instrument_id", maintain_order=True):
        sid = str(iid[0])
        rule = _RULES.get(sid.split(":", 1)[0])
        if (
            rule is None
            or part["sequence"].null_count() == part.height
            or "first_sequence" not in part.columns
        ):
            out.append(part)
            continue
        rep = OrderBook(rule=rule).replay(part)
        seq = part["sequence"].fill_null(-1).cast(pl.Int64).to_numpy()
        snap = part["is_snapshot"].fill_null(False).to_numpy()
        ts = part["ts_recv"].cast(pl.Int64).to_numpy()
        starts = event_starts(seq, snap, ts)
        outcome = rep.frame["outcome"].to_numpy()
        per_row = np.repeat(outcome, np.diff(starts))
        keep = (per_row == EventOutcome.APPLIED.value) | (per_row == EventOutcome.SNAPSHOT.value)
        gap = per_row == EventOutcome.GAP.value
        kept = part.filter(pl.Series(keep & (part["side"].to_numpy() != 0)))
        if gap.any():  # one empty snapshot row per gap message: the engine clears the book there
            first = np.zeros(part.height, dtype=bool)
            first[starts[:-1]] = True
            g = part.filter(pl.Series(gap & first)).with_columns(
                pl.lit(True).alias("is_snapshot"), pl.lit(0, dtype=pl.Int8).alias("side")
            )
            kept = pl.concat([kept, g]).sort("ts_recv", maintain_order=True)
        checks[sid] = (
            f"{rule.value} sequence checks: {rep.applied} diffs applied, {rep.snapshots} snapshots, "
            f"{rep.stale} stale and {rep.unsynced} unsynced dropped, {rep.gaps} gaps cleared"
            + (f", {rep.buffered} pre-snapshot diffs not re-applied" if rep.buffered else "")
        )
        out.append(kept)
    return pl.concat(out) if out else df


def _deltas(df: pl.DataFrame, index: Mapping[str, int]) -> pl.DataFrame:
    rows = _frame(
        df.filter(pl.col("side") != 0),
        TK_DELTA,
        index,
        flag=pl.col("side").cast(pl.Int8),
        f0=_f("price"),
        f1=_f("size"),
    )
    snap = df["is_snapshot"].fill_null(False).to_numpy()
    if not snap.any():
        return rows
    starts = df.with_row_index("_r").filter(
        pl.col("is_snapshot").fill_null(False)
        & (
            ~pl.col("is_snapshot").shift(1).fill_null(False)
            | (pl.col("ts_recv") != pl.col("ts_recv").shift(1))
            | (pl.col("instrument_id") != pl.col("instrument_id").shift(1))
        )
    )
    clears = _frame(starts, TK_CLEAR, index)
    return pl.concat([rows, clears])


def _snapshots(df: pl.DataFrame, index: Mapping[str, int]) -> pl.DataFrame:
    clears = _frame(df, TK_CLEAR, index)
    parts = [clears]
    for px, sz, sd in (("bid_prices", "bid_sizes", 1), ("ask_prices", "ask_sizes", -1)):
        ex = df.select("ts_event", "ts_recv", "instrument_id", px, sz).explode(px, sz).drop_nulls(px)
        parts.append(_frame(ex, TK_DELTA, index, flag=pl.lit(sd, dtype=pl.Int8), f0=_f(px), f1=_f(sz)))
    return pl.concat(parts)


def build_tape(
    tables: Mapping[str, pl.DataFrame],
    instruments: Sequence[InstrumentId | str],
    *,
    bar_half_spread_bp: float = 1.0,
) -> Tape:
    """Build the tape of ``instruments`` from canonical tables keyed by kind.

    Parameters
    ----------
    tables
        ``{"quotes": ..., "book_deltas": ..., "book_snapshots": ..., "trades": ...,
        "mark": ..., "funding": ..., "bars": ...}`` in the catalog's schemas (any subset).
    instruments
        The engine's instruments; index ``k`` of this sequence is instrument ``k`` of the tape.
    bar_half_spread_bp
        Half spread (bp of the close) of the quotes made from bars.
    """
    ids = [str(i) for i in instruments]
    index = {s: k for k, s in enumerate(ids)}

    def rows(kind: str) -> pl.DataFrame | None:
        df = tables.get(kind)
        if df is None or df.is_empty():
            return None
        return df.filter(pl.col("instrument_id").cast(pl.String).is_in(ids))

    parts: list[pl.DataFrame] = []
    source: dict[str, str] = {}
    checks: dict[str, str] = {}
    depth: set[str] = set()
    for kind, fn in (("book_deltas", _deltas), ("book_snapshots", _snapshots)):
        df = rows(kind)
        if df is not None and not df.is_empty() and kind == "book_deltas" and "sequence" in df.columns:
            df = _sequenced(df, checks)
        if df is not None and not df.is_empty():
            depth |= set(df["instrument_id"].cast(pl.String).unique().to_list())
            parts.append(fn(df, index))
    for s in depth:
        source[s] = "depth"
    q = rows("quotes")
    if q is not None:
        q = q.filter(~pl.col("instrument_id").cast(pl.String).is_in(list(depth)))
        if not q.is_empty():
            for s in q["instrument_id"].cast(pl.String).unique().to_list():
                source[s] = "quotes"
            parts.append(
                _frame(q, TK_QUOTE, index, f0=_f("bid"), f1=_f("bid_size"), f2=_f("ask"), f3=_f("ask_size"))
            )
    b = rows("bars")
    if b is not None:
        b = b.filter(~pl.col("instrument_id").cast(pl.String).is_in(list(source)))
        if "price_type" in b.columns:
            trade_px = b.filter(pl.col("price_type").cast(pl.String).is_in(["trade", "last"]))
            b = trade_px if not trade_px.is_empty() else b
        if not b.is_empty():
            for s in b["instrument_id"].cast(pl.String).unique().to_list():
                source[s] = "bars"
            h = bar_half_spread_bp * 1e-4
            close_t = pl.max_horizontal(pl.col("ts_recv"), pl.col("ts_event") + pl.col("interval_ns"))
            b = b.with_columns(close_t.alias("ts_event"), close_t.alias("ts_recv"))
            parts.append(_frame(b, TK_QUOTE, index, f0=_f("close") * (1 - h), f2=_f("close") * (1 + h)))
    t = rows("trades")
    if t is not None:
        parts.append(
            _frame(
                t,
                TK_TRADE,
                index,
                flag=pl.col("aggressor").cast(pl.Int8).fill_null(0),
                f0=_f("price"),
                f1=_f("size"),
            )
        )
    m = rows("mark")
    if m is not None:
        parts.append(_frame(m, TK_MARK, index, f0=_f("mark"), f1=_f("index")))
    fu = rows("funding")
    if fu is not None:
        fu = fu.with_columns(pl.coalesce("funding_time_ns", "ts_event").alias("ts_event"))
        fu = fu.with_columns(pl.max_horizontal("ts_recv", "ts_event").alias("ts_recv"))
        parts.append(_frame(fu, TK_FUNDING, index, f0=_f("rate")))
    missing = [s for s in ids if s not in source]
    if missing:
        raise ValidationError(f"instruments {missing} have no quotes, book data or bars in the window")
    if not parts:
        raise ValidationError("the tape is empty: no market data for the instruments in the window")
    df = pl.concat([p.select(_COLS) for p in parts]).with_row_index("_row")
    prio = pl.col("kind").replace_strict(_PRIORITY, return_dtype=pl.Int8)
    df = df.with_columns(prio.alias("_prio")).sort(["t_recv", "_prio", "inst", "_row"])
    # each venue stream (depth, quotes, trades) keeps its own order; streams do not order each other
    stream = pl.col("kind").is_in([TK_CLEAR, TK_DELTA, TK_QUOTE, TK_TRADE])
    grp = pl.when(pl.col("kind").is_in([TK_CLEAR, TK_DELTA])).then(0).otherwise(pl.col("kind").cast(pl.Int32))
    df = (
        df.with_columns(grp.alias("_grp"))
        .with_columns(
            pl.when(stream)
            .then(pl.col("t_venue"))
            .otherwise(None)
            .cum_max()
            .over("inst", "_grp")
            .alias("_cm")
        )
        .with_columns(pl.when(stream).then(pl.col("_cm")).otherwise(pl.col("t_venue")).alias("t_venue"))
    )
    vorder = np.lexsort(
        (np.arange(df.height), df["inst"].to_numpy(), df["_prio"].to_numpy(), df["t_venue"].to_numpy())
    ).astype(np.int64)
    levels = 2
    dd = df.filter(pl.col("kind") == TK_DELTA)
    if not dd.is_empty():
        levels = int(dd.group_by("inst", "flag").agg(pl.col("f0").n_unique().alias("n"))["n"].max())  # type: ignore[arg-type]
    out = {c: np.ascontiguousarray(df[c].to_numpy()) for c in _COLS}
    return Tape(
        t_recv=out["t_recv"].astype(np.int64),
        t_venue=out["t_venue"].astype(np.int64),
        kind=out["kind"].astype(np.int8),
        inst=out["inst"].astype(np.int32),
        flag=out["flag"].astype(np.int8),
        f0=out["f0"].astype(np.float64),
        f1=out["f1"].astype(np.float64),
        f2=out["f2"].astype(np.float64),
        f3=out["f3"].astype(np.float64),
        vorder=vorder,
        source=source,
        max_levels=levels,
        book_checks=checks,
    )
