"""Checks run on every imported batch.

Two classes of finding:

*Bad values* never enter the catalog (DESIGN: NaN prices never enter the
system): a price column (:data:`~spreadlab.data.schema.PRICE_COLUMNS`) that
is NaN, infinite, zero or negative, or a size column
(:data:`~spreadlab.data.schema.SIZE_COLUMNS`) that is NaN, infinite or
negative. Without ``skip_bad`` the first one raises
:class:`~spreadlab.errors.DataError` naming file, line and field; with
``skip_bad`` the rows are quarantined and counted.

*Market facts* are stored and reported (counts plus the first example):
timestamps out of order or duplicated within one series (duplicates are
not flagged for trades, book deltas, marks and option quotes, where equal
stamps are normal)
(:data:`~spreadlab.data.schema.SERIES_KEYS`), crossed (bid > ask) or locked
(bid == ask) quotes and snapshots, bars whose high/low do not bound
open/close, and gaps between consecutive events of a series longer than a
threshold (bars/funding: 1.5 x their interval; ticks: 5 min; marks and
option quotes: 24 h; or a fixed ``gap_ns``). Order, duplicate and gap checks
carry each series' last timestamp across batches, so chunk boundaries do not
hide them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import polars as pl

from spreadlab.core.enums import Venue
from spreadlab.core.ids import InstrumentId
from spreadlab.core.time import NS_PER_DAY, NS_PER_MINUTE, ns_to_iso
from spreadlab.data.domains import TS_MAX, TS_MIN, field_rules
from spreadlab.data.importers.base import QUARANTINE_SCHEMA, ImportBatch, empty_quarantine
from spreadlab.data.schema import SERIES_KEYS, EventKind
from spreadlab.errors import DataError, UnknownSymbolError, ValidationError
from spreadlab.instruments.base import Option
from spreadlab.instruments.symbols import parse_symbol

__all__ = ["Check", "Finding", "Validator", "default_gap_ns"]

_PARSED_VENUES = frozenset(v.value for v in Venue if v not in (Venue.SIM, Venue.SIM2))


class Check(StrEnum):
    """What a finding is about."""

    BAD_PRICE = "bad_price"
    BAD_SIZE = "bad_size"
    BAD_VALUE = "bad_value"
    BAD_INSTRUMENT = "bad_instrument"
    NAME_MISMATCH = "name_mismatch"
    OUT_OF_ORDER = "out_of_order"
    DUPLICATE_TS = "duplicate_ts"
    CROSSED = "crossed"
    LOCKED = "locked"
    BAR_RANGE = "bar_range"
    GAP = "gap"


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """A counted validation finding with its first example.

    Parameters
    ----------
    check
        The check.
    kind
        The event kind of the rows.
    count
        How many rows (or gaps) were found.
    example
        A description of the first occurrence.
    """

    check: Check
    kind: EventKind
    count: int
    example: str

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict."""
        return {
            "check": self.check.value,
            "kind": self.kind.value,
            "count": self.count,
            "example": self.example,
        }


def default_gap_ns(kind: EventKind) -> int | None:
    """Return the default gap threshold of ``kind`` (None: use 1.5 x the row's interval)."""
    if kind in (EventKind.BARS, EventKind.FUNDING):
        return None
    if kind in (EventKind.MARK, EventKind.OPTION_QUOTES):
        return NS_PER_DAY
    return 5 * NS_PER_MINUTE


@dataclass(slots=True)
class Validator:
    """Validate the batches of one file in order; accumulate findings.

    Parameters
    ----------
    path
        The file (for messages).
    skip_bad
        Quarantine bad values instead of raising.
    gap_ns
        Fixed gap threshold for every kind (None: :func:`default_gap_ns`).
    id_memo
        What parsing each instrument id found (a reason it is invalid, an option's strike,
        expiry and kind, or None); pass one dict to the validators of several files so that
        an id is parsed once per import call (a Deribit chain repeats its 1,300 names in every
        snapshot).
    """

    path: Path
    skip_bad: bool = False
    gap_ns: int | None = None
    _counts: dict[tuple[Check, EventKind], list[object]] = field(default_factory=dict)
    _last: dict[EventKind, pl.DataFrame] = field(default_factory=dict)
    id_memo: dict[str, str | tuple[float, int, str] | None] = field(default_factory=dict)

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Return the findings so far."""
        return tuple(
            Finding(check=c, kind=k, count=int(v[0]), example=str(v[1]))  # type: ignore[call-overload]
            for (c, k), v in self._counts.items()
        )

    def _add(self, check: Check, kind: EventKind, count: int, example: str) -> None:
        if count <= 0:
            return
        if (check, kind) in self._counts:
            self._counts[(check, kind)][0] = int(self._counts[(check, kind)][0]) + count  # type: ignore[call-overload]
        else:
            self._counts[(check, kind)] = [count, example]

    def check(self, batch: ImportBatch) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Validate ``batch``; return the rows to store and the rows quarantined for bad values."""
        frame = batch.frame
        kind = batch.kind
        if frame.height == 0:
            return frame, empty_quarantine()
        line = batch.line if batch.line is not None else pl.Series("line", [None] * frame.height, pl.Int64)
        frame, quarantine = self._bad_values(frame, line, kind)
        if frame.height:
            self._market_facts(frame, kind)
        return frame, quarantine

    def _bad_values(
        self, frame: pl.DataFrame, line: pl.Series, kind: EventKind
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        rules = [(r.column, Check(r.check), r.bad, r.reason) for r in field_rules(kind, frame.columns)]
        tests: list[tuple[str, Check, pl.Expr, str]] = list(rules)
        tests.extend(self._instrument_tests(frame, kind))
        if not frame.select(pl.any_horizontal([t[2].fill_null(False) for t in tests]).any()).item():
            return frame, empty_quarantine()  # the usual batch: one pass, nothing to report
        flags = frame.select([t[2].fill_null(False).alias(f"__bad{i}") for i, t in enumerate(tests)])
        any_bad = flags.select(pl.any_horizontal(pl.all())).to_series()
        rows: list[dict[str, object]] = []
        taken: set[int] = set()
        first_bad = int(any_bad.arg_true()[0])
        for i, (c, chk, _, reason) in enumerate(tests):
            mask = flags[f"__bad{i}"]
            n = int(mask.sum())
            if n == 0:
                continue
            idx = mask.arg_true().to_list()
            r0 = idx[0]
            if not self.skip_bad:
                if r0 != first_bad and not bool(flags[f"__bad{i}"][first_bad]):
                    continue  # report the earliest bad row of the batch, whichever rule it breaks
                ln = line[r0]
                where = (
                    None if ln is not None else f" (row {r0 + 1} of its batch, ts {frame['ts_event'][r0]})"
                )
                raise DataError(
                    f"{reason}: {frame[c][r0]!r} for {frame['instrument_id'][r0]}{where or ''}",
                    path=str(self.path),
                    row=int(ln) if ln is not None else None,
                    field=c,
                )
            for r in idx:
                if r not in taken:
                    taken.add(r)
                    rows.append(
                        {
                            "file": str(self.path),
                            "line": line[r],
                            "field": c,
                            "reason": f"{reason}: {frame[c][r]!r}",
                            "raw": str(frame.row(r))[:1000],
                        }
                    )
            self._add(chk, kind, n, f"{c}={frame[c][r0]!r} at {_when(frame['ts_event'][r0])}")
        quarantine = pl.DataFrame(rows, schema=QUARANTINE_SCHEMA)
        return frame.filter(~any_bad), quarantine

    def _instrument_tests(
        self, frame: pl.DataFrame, kind: EventKind
    ) -> list[tuple[str, Check, pl.Expr, str]]:
        """Rules on the instrument id: it parses on its venue, and an option's strike, expiry and kind
        agree with its name."""
        ids = frame["instrument_id"].drop_nulls().unique().to_list()
        for iid in ids:
            if iid not in self.id_memo:
                self.id_memo[iid] = _parse_id(iid)
        bad = {i: self.id_memo[i] for i in ids if isinstance(self.id_memo[i], str)}
        tests: list[tuple[str, Check, pl.Expr, str]] = []
        for iid, why in bad.items():
            tests.append(("instrument_id", Check.BAD_INSTRUMENT, pl.col("instrument_id") == iid, str(why)))
        if kind is EventKind.OPTION_QUOTES:
            opts = {i: v for i, v in ((i, self.id_memo[i]) for i in ids) if isinstance(v, tuple)}
            if opts:
                iid_col = pl.col("instrument_id")
                strike = iid_col.replace_strict({i: v[0] for i, v in opts.items()}, default=None,
                                                return_dtype=pl.Float64)  # fmt: skip
                expiry = iid_col.replace_strict({i: v[1] for i, v in opts.items()}, default=None,
                                                return_dtype=pl.Int64)  # fmt: skip
                okind = iid_col.replace_strict({i: v[2] for i, v in opts.items()}, default=None,
                                               return_dtype=pl.String)  # fmt: skip
                tests.append(("strike", Check.NAME_MISMATCH,
                              strike.is_not_null() & ((pl.col("strike") - strike).abs() > 1e-9 * strike),
                              "strike differs from the instrument name"))  # fmt: skip
                tests.append(("expiry_ns", Check.NAME_MISMATCH,
                              expiry.is_not_null() & ((pl.col("expiry_ns") - expiry).abs() >= NS_PER_DAY),
                              "expiry differs from the instrument name by a day or more"))  # fmt: skip
                tests.append(("option_kind", Check.NAME_MISMATCH,
                              okind.is_not_null() & (pl.col("option_kind") != okind),
                              "option kind differs from the instrument name"))  # fmt: skip
        return [(c, chk, e.fill_null(False), r) for c, chk, e, r in tests]

    def _market_facts(self, frame: pl.DataFrame, kind: EventKind) -> None:
        keys = list(SERIES_KEYS[kind])
        if kind in (EventKind.QUOTES, EventKind.OPTION_QUOTES):
            both = frame.filter(pl.col("bid").is_not_null() & pl.col("ask").is_not_null())
            if kind is EventKind.OPTION_QUOTES:
                both = both.filter((pl.col("bid") > 0) & (pl.col("ask") > 0))
            self._crossing(both, pl.col("bid"), pl.col("ask"), kind)
        elif kind is EventKind.BOOK_SNAPSHOTS:
            both = frame.filter((pl.col("bid_prices").list.len() > 0) & (pl.col("ask_prices").list.len() > 0))
            self._crossing(both, pl.col("bid_prices").list.first(), pl.col("ask_prices").list.first(), kind)
        elif kind is EventKind.BARS:
            bad = frame.filter(
                (pl.col("high") < pl.max_horizontal("open", "close", "low"))
                | (pl.col("low") > pl.min_horizontal("open", "close", "high"))
            )
            if bad.height:
                self._add(Check.BAR_RANGE, kind, bad.height, _describe(bad.row(0, named=True)))
        # order / duplicates / gaps per series, carrying the last row of the previous batch
        cur = frame.select([*keys, "ts_event", *(["interval_ns"] if "interval_ns" not in keys and
                                                   "interval_ns" in frame.columns else [])])  # fmt: skip
        cur = cur.with_columns(pl.lit(False).alias("__carry"))
        prev = self._last.get(kind)
        seq = pl.concat([prev, cur], how="vertical_relaxed") if prev is not None else cur
        first = cur.row(0)
        one_series = cur.select(
            pl.all_horizontal([pl.col(k) == first[i] for i, k in enumerate(keys)]).all()
        ).item()
        fast = one_series and (
            prev is None or (prev.height == 1 and all(prev.row(0)[i] == first[i] for i in range(len(keys))))
        )
        if fast and self._clean_series(cur, prev, kind):
            self._last[kind] = cur.tail(1).with_columns(pl.lit(True).alias("__carry"))
            return
        if fast:
            diff = pl.col("ts_event").diff()  # one series throughout: no grouping needed
        else:
            diff = pl.col("ts_event").diff().over(keys)
        seq = seq.with_columns(diff.alias("__d"))
        new = seq.filter(~pl.col("__carry"))
        ooo = new.filter(pl.col("__d") < 0)
        dup = new.filter(pl.col("__d") == 0)
        if kind in (EventKind.BOOK_DELTAS, EventKind.OPTION_QUOTES, EventKind.MARK, EventKind.TRADES):
            # many rows share one timestamp by construction (one depth update, one match of several fills)
            dup = dup.head(0)
        self._add(
            Check.OUT_OF_ORDER, kind, ooo.height, _describe(ooo.row(0, named=True)) if ooo.height else ""
        )
        self._add(
            Check.DUPLICATE_TS, kind, dup.height, _describe(dup.row(0, named=True)) if dup.height else ""
        )
        fixed = self.gap_ns if self.gap_ns is not None else default_gap_ns(kind)
        if fixed is not None:
            gaps = new.filter(pl.col("__d") > fixed)
        elif "interval_ns" in new.columns:
            gaps = new.filter(
                pl.col("interval_ns").is_not_null() & (pl.col("__d") > 1.5 * pl.col("interval_ns"))
            )
        else:
            gaps = new.head(0)
        if gaps.height:
            g = gaps.row(0, named=True)
            self._add(Check.GAP, kind, gaps.height,
                      f"{_describe(g)}: {g['__d'] / 1e9:.0f} s since the previous row")  # fmt: skip
        if fast:
            last = seq.tail(1)
        else:
            last = seq.group_by(keys, maintain_order=True).agg(pl.all().last())
        self._last[kind] = last.select(cur.columns).with_columns(pl.lit(True).alias("__carry"))

    def _clean_series(self, cur: pl.DataFrame, prev: pl.DataFrame | None, kind: EventKind) -> bool:
        """Return True when a one-series batch has no order, duplicate or gap finding (one pass)."""
        d = pl.col("ts_event").diff()
        if prev is not None:
            first = pl.col("ts_event").first() - int(prev["ts_event"][0])
            d = pl.when(pl.int_range(pl.len()) == 0).then(first).otherwise(d)
        fixed = self.gap_ns if self.gap_ns is not None else default_gap_ns(kind)
        if fixed is not None:
            gap = d > fixed
        elif "interval_ns" in cur.columns:
            gap = pl.col("interval_ns").is_not_null() & (d > 1.5 * pl.col("interval_ns"))
        else:
            gap = pl.lit(False)
        bad = (d < 0) | gap
        if kind not in (EventKind.BOOK_DELTAS, EventKind.OPTION_QUOTES, EventKind.MARK, EventKind.TRADES):
            bad = bad | (d == 0)
        return not cur.select(bad.fill_null(False).any()).item()

    def _crossing(self, frame: pl.DataFrame, bid: pl.Expr, ask: pl.Expr, kind: EventKind) -> None:
        if not frame.height:
            return
        flags = frame.select((bid > ask).alias("crossed"), (bid == ask).alias("locked"))
        for name, chk in (("crossed", Check.CROSSED), ("locked", Check.LOCKED)):
            mask = flags[name].fill_null(False)
            n = int(mask.sum())
            if n:
                self._add(chk, kind, n, _describe(frame.filter(mask).row(0, named=True)))


def _when(ts: object) -> str:
    return ns_to_iso(ts) if isinstance(ts, int) and TS_MIN <= ts < TS_MAX else repr(ts)


def _parse_id(text: str) -> str | tuple[float, int, str] | None:
    """Return why ``text`` is not a valid id (a str), an option's (strike, expiry, kind), or None."""
    try:
        iid = InstrumentId.parse(text)
    except ValidationError as exc:
        return str(exc)
    if iid.venue not in _PARSED_VENUES:
        return None  # a venue spreadlab has no symbol grammar for: the generic id check only
    try:
        inst = parse_symbol(iid.venue, iid.symbol)
    except UnknownSymbolError as exc:
        return str(exc)
    if isinstance(inst, Option):
        return (float(inst.strike), int(inst.expiry_ns), inst.kind.value)
    return None


def _describe(row: dict[str, object]) -> str:
    ts = row.get("ts_event")
    when = _when(ts) if isinstance(ts, int) else "?"
    return f"{row.get('instrument_id')} at {when}"
