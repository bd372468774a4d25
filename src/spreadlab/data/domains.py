"""The domain of every stored field: what a value must be to enter the catalog.

Each canonical column of each kind has a rule (:func:`field_rules`); a row
breaking any rule is a *bad value* (:mod:`spreadlab.data.validation` rejects
it, or quarantines it with ``skip_bad``). The bounds are deliberately wide
(they catch corruption, not unusual markets):

- times (``ts_event``, ``ts_recv``, ``funding_time_ns``, ``expiry_ns``) lie in
  ``[2009-01-03, 2100-01-01)``: no crypto market data predates the Bitcoin
  genesis block, so ``-1``, ``0`` or a price read as a time (1970) is
  rejected, and so is a year-2200 stamp;
- prices are finite and in ``(0, 1e12]``; sizes, volumes and open interest
  finite and in ``[0, 1e16]`` (``1e308`` is rejected; PEPE's daily base
  volume is about 1e13);
- option premia are finite and in ``[0, 1e12]`` (a missing bid is 0 or null),
  IVs in ``[0, 10]`` (decimal, 1000 %), deltas in ``[-1.5, 1.5]``, other
  greeks finite;
- a funding rate is finite with ``|rate| <= 0.05`` per interval (every venue
  caps far below: Hyperliquid 4 % per hour, Binance and Bybit at most 3 %
  per interval; the real Hyperliquid history peaks at 1.75 %), and a funding
  or bar interval is positive;
- ``side`` is +1/-1, ``aggressor`` +1/0/-1, ``trade_count`` >= 0,
  ``option_kind`` ``call``/``put``, bar ``price_type`` trade/mark/index;
- the columns of :data:`~spreadlab.data.schema.REQUIRED_COLUMNS` are never
  null, and a ``mark`` row holds at least one value.

Rules are polars expressions that are True on a *bad* row (null counts as
fine, except for required columns).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from spreadlab.data.schema import PRICE_COLUMNS, REQUIRED_COLUMNS, SIZE_COLUMNS, EventKind

__all__ = [
    "MAX_FUNDING_RATE",
    "MAX_PRICE",
    "MAX_SIZE",
    "TS_MAX",
    "TS_MIN",
    "Rule",
    "field_rules",
]

TS_MIN = 1_230_940_800_000_000_000
"""2009-01-03 00:00 UTC (the Bitcoin genesis block) in ns: the earliest plausible market time."""
TS_MAX = 4_102_444_800_000_000_000
"""2100-01-01 00:00 UTC in ns: the latest plausible time (expiries included)."""
MAX_PRICE = 1e12
MAX_SIZE = 1e16
MAX_FUNDING_RATE = 0.05
MAX_IV = 10.0
MAX_ABS_DELTA = 1.5


@dataclass(frozen=True, slots=True)
class Rule:
    """One field's domain check: ``bad`` is True on rows whose ``column`` is out of its domain."""

    column: str
    bad: pl.Expr
    reason: str
    check: str = "bad_value"  # the finding it is counted under: bad_price, bad_size or bad_value


_TIME_COLUMNS = ("ts_event", "ts_recv", "funding_time_ns", "expiry_ns")


def _range(col: str, lo: float, hi: float, *, lo_open: bool = False) -> pl.Expr:
    c = pl.col(col)
    low = c > lo if lo_open else c >= lo
    return c.is_not_null() & ~(c.is_finite() & low & (c <= hi))


def _int_range(col: str, lo: int, hi: int) -> pl.Expr:
    c = pl.col(col)
    return c.is_not_null() & ((c < lo) | (c >= hi))


def _one_of(col: str, values: list[object]) -> pl.Expr:
    c = pl.col(col)
    return c.is_not_null() & ~c.is_in(values)


def field_rules(kind: EventKind, columns: list[str]) -> list[Rule]:
    """Return the domain rules of ``kind`` for the ``columns`` present.

    Examples
    --------
    >>> df = pl.DataFrame({"rate": [1e-4, -1.0, float("nan")]})
    >>> rule = [r for r in field_rules(EventKind.FUNDING, df.columns) if r.column == "rate"][-1]
    >>> df.select(rule.bad)["rate"].to_list()
    [False, True, True]
    """
    have = set(columns)
    rules: list[Rule] = []
    for c in REQUIRED_COLUMNS[kind]:
        if c in have:
            rules.append(Rule(c, pl.col(c).is_null(), "required value is empty"))
    for c in _TIME_COLUMNS:
        if c in have:
            rules.append(Rule(c, _int_range(c, TS_MIN, TS_MAX), "time must lie in 2009-01-03 .. 2100-01-01"))
    for c in PRICE_COLUMNS[kind]:
        if c in have:
            bad = _range(c, 0.0, MAX_PRICE, lo_open=True)
            rules.append(Rule(c, bad, "price must be finite, > 0 and <= 1e12", check="bad_price"))
    for c in SIZE_COLUMNS[kind]:
        if c in have:
            rules.append(
                Rule(c, _range(c, 0.0, MAX_SIZE), "size must be finite, >= 0 and <= 1e16", check="bad_size")
            )
    if kind is EventKind.OPTION_QUOTES:
        for c in ("last_price",):  # premia (bid, ask, mark) are sizes: >= 0, as a missing bid is 0
            if c in have:
                rules.append(Rule(c, _range(c, 0.0, MAX_PRICE), "premium must be finite, >= 0 and <= 1e12",
                                  check="bad_price"))  # fmt: skip
        for c in ("bid_iv", "ask_iv", "mark_iv"):
            if c in have:
                rules.append(Rule(c, _range(c, 0.0, MAX_IV), "IV must be finite and in [0, 10] (decimal)"))
        if "delta" in have:
            rules.append(
                Rule("delta", _range("delta", -MAX_ABS_DELTA, MAX_ABS_DELTA), "delta must be in [-1.5, 1.5]")
            )
        for c in ("gamma", "vega", "theta", "rho"):
            if c in have:
                rules.append(
                    Rule(c, pl.col(c).is_not_null() & ~pl.col(c).is_finite(), "greek must be finite")
                )
        if "option_kind" in have:
            rules.append(Rule("option_kind", _one_of("option_kind", ["call", "put"]), "must be call or put"))
    if kind is EventKind.FUNDING:
        for c in ("rate", "predicted_rate"):
            if c in have:
                rules.append(Rule(c, _range(c, -MAX_FUNDING_RATE, MAX_FUNDING_RATE),
                                  "funding rate must be finite and within +-0.05 per interval"))  # fmt: skip
    if "interval_ns" in have:
        rules.append(Rule("interval_ns", pl.col("interval_ns").is_not_null() & (pl.col("interval_ns") <= 0),
                          "interval must be > 0"))  # fmt: skip
    if kind is EventKind.BARS:
        if "trade_count" in have:
            rules.append(Rule("trade_count", pl.col("trade_count") < 0, "trade count must be >= 0"))
        if "price_type" in have:
            rules.append(Rule("price_type", _one_of("price_type", ["trade", "mark", "index"]),
                              "must be trade, mark or index"))  # fmt: skip
    if kind is EventKind.BOOK_DELTAS and "side" in have:
        rules.append(Rule("side", _one_of("side", [1, -1]), "side must be +1 (bid) or -1 (ask)"))
    if kind is EventKind.TRADES and "aggressor" in have:
        rules.append(Rule("aggressor", _one_of("aggressor", [1, 0, -1]), "aggressor must be +1, 0 or -1"))
    if kind is EventKind.MARK:
        values = [c for c in ("mark", "index", "open_interest", "last_price") if c in have]
        if values:
            rules.append(Rule(values[0], pl.all_horizontal([pl.col(c).is_null() for c in values]),
                              "a mark row holds no value"))  # fmt: skip
    if kind is EventKind.BOOK_SNAPSHOTS:
        for c in ("bid_prices", "ask_prices"):
            el = pl.element()
            bad = pl.col(c).list.eval(~(el.is_finite() & (el > 0) & (el <= MAX_PRICE))).list.any()
            rules.append(
                Rule(c, bad.fill_null(False), "price must be finite, > 0 and <= 1e12", check="bad_price")
            )
        for c in ("bid_sizes", "ask_sizes"):
            el = pl.element()
            bad = pl.col(c).list.eval(~(el.is_finite() & (el >= 0) & (el <= MAX_SIZE))).list.any()
            rules.append(
                Rule(c, bad.fill_null(False), "size must be finite, >= 0 and <= 1e16", check="bad_size")
            )
        for side in ("bid", "ask"):
            differ = pl.col(f"{side}_prices").list.len() != pl.col(f"{side}_sizes").list.len()
            rules.append(Rule(f"{side}_sizes", differ, "price and size lists differ in length"))
    return rules
