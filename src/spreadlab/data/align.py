"""As-of alignment of several instruments onto one clock, and funding on settlement times.

Alignment
---------
Given series ``X_j`` (rows with a time ``t`` and values), a clock
``T = (T_0 < T_1 < ...)`` and a staleness limit ``L_j`` per series, the value
of series ``j`` at clock time ``T_i`` is the last row with ``t <= T_i`` --
provided ``T_i - t <= L_j``; otherwise it is null. A value is never carried
forward for ever: a feed that stops goes null after ``L_j``. The clock is
either the union of every series' times (event-driven) or a fixed grid
``T_i = T_0 + i * step``. Aligning on ``ts_recv`` (the default) only uses
what had arrived by ``T_i``, so there is no look-ahead.

The output is wide: ``ts`` then ``<name>.<column>`` for every requested
column of every series, plus ``<name>.age_ns`` (``T_i - t``) if asked.

Funding
-------
A funding table holds observations of the rate for a settlement at
``funding_time_ns`` (a live stream repeats the predicted rate many times
before the settlement; an archive holds one realised rate per settlement).
:func:`funding_settlements` keeps, per instrument and settlement, the last
observation known at or before the settlement time, and derives the
interval from consecutive settlements where the source does not say.
:func:`funding_on_clock` then books each settlement on the first clock time
at or after it: the rate paid in ``(T_{i-1}, T_i]`` is the sum of rates
settling in that interval (0 where none settles, never carried over).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

import polars as pl

from spreadlab.errors import DataError, ValidationError

__all__ = ["ClockKind", "align_asof", "funding_on_clock", "funding_settlements", "split_by_instrument"]


class ClockKind(StrEnum):
    """The common clock: the union of all series' times, or a fixed grid."""

    UNION = "union"
    GRID = "grid"


def split_by_instrument(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Split a long frame into ``{instrument_id: rows}`` (input order kept).

    Examples
    --------
    >>> df = pl.DataFrame({"instrument_id": ["A:X", "B:Y", "A:X"], "ts_recv": [1, 2, 3]})
    >>> {k: v.height for k, v in split_by_instrument(df).items()}
    {'A:X': 2, 'B:Y': 1}
    """
    if "instrument_id" not in frame.columns:
        raise DataError("frame has no 'instrument_id' column to split on", field="instrument_id")
    return {str(key[0]): sub for key, sub in frame.group_by("instrument_id", maintain_order=True)}


def _as_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name}={value!r} must be an int number of nanoseconds")
    return value


def align_asof(
    series: Mapping[str, pl.DataFrame],
    *,
    clock: ClockKind | str = ClockKind.UNION,
    step_ns: int | None = None,
    staleness_ns: int | Mapping[str, int] | None = None,
    columns: Mapping[str, Sequence[str]] | None = None,
    time_column: str = "ts_recv",
    start: int | None = None,
    end: int | None = None,
    with_age: bool = False,
) -> pl.DataFrame:
    """Align several series onto one clock with a staleness limit.

    Parameters
    ----------
    series
        ``{name: frame}``; each frame has ``time_column`` (int64 ns) and value columns.
    clock
        ``"union"`` (every time of every series) or ``"grid"`` (needs ``step_ns``).
    step_ns
        Grid step in ns.
    staleness_ns
        Limit on the age of a value, one for all series or per name; a name
        missing from the mapping (or None) has no limit.
    columns
        Value columns to take per name (default: all but times and ``instrument_id``).
    time_column
        The time to align on (``ts_recv``: what was known; ``ts_event``: venue time).
    start, end
        Clock bounds (inclusive); default: the first and last time of any series.
        A grid starts at ``start`` (floored to ``step_ns`` when defaulted).
    with_age
        Add ``<name>.age_ns`` columns.

    Returns
    -------
    polars.DataFrame
        ``ts`` and ``<name>.<column>`` columns, one row per clock time.

    Examples
    --------
    >>> a = pl.DataFrame({"ts_recv": [0, 10, 20], "mid": [1.0, 2.0, 3.0]})
    >>> b = pl.DataFrame({"ts_recv": [5], "mid": [9.0]})
    >>> out = align_asof({"a": a, "b": b}, staleness_ns={"b": 10})
    >>> out.rows()
    [(0, 1.0, None), (5, 1.0, 9.0), (10, 2.0, 9.0), (20, 3.0, None)]
    """
    if not series:
        raise ValidationError("series is empty: give at least one {name: frame}")
    try:
        kind = ClockKind(clock)
    except ValueError as exc:
        raise ValidationError(f"clock={clock!r} is unknown; valid: union, grid") from exc
    limits: dict[str, int | None]
    if staleness_ns is None or isinstance(staleness_ns, int):
        lim = None if staleness_ns is None else _as_int("staleness_ns", staleness_ns)
        if lim is not None and lim < 0:
            raise ValidationError(f"staleness_ns={lim} must be >= 0")
        limits = dict.fromkeys(series, lim)
    else:
        unknown = set(staleness_ns) - set(series)
        if unknown:
            raise ValidationError(f"staleness_ns names {sorted(unknown)} that are not in series")
        limits = {n: staleness_ns.get(n) for n in series}
        for n, v in limits.items():
            if v is not None and (_as_int(f"staleness_ns[{n!r}]", v) < 0):
                raise ValidationError(f"staleness_ns[{n!r}]={v} must be >= 0")
    prepared: dict[str, pl.DataFrame] = {}
    for name, frame in series.items():
        if time_column not in frame.columns:
            raise DataError(f"series {name!r} has no {time_column!r} column", field=time_column)
        if frame[time_column].null_count():
            raise DataError(f"series {name!r} has null times", field=time_column)
        skip = {"ts_event", "ts_recv", "instrument_id", time_column}
        cols = (
            list(columns[name])
            if columns and name in columns
            else [c for c in frame.columns if c not in skip]
        )
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise DataError(f"series {name!r} lacks columns {missing}")
        sub = frame.select(
            pl.col(time_column).cast(pl.Int64).alias("__t"),
            *[pl.col(c).alias(f"{name}.{c}") for c in cols],
        )
        # the last row wins among equal times (the latest update at that instant)
        prepared[name] = sub.with_row_index("__i").sort(["__t", "__i"]).drop("__i")
    lo = min(int(f["__t"].min()) for f in prepared.values() if f.height) if start is None else start  # type: ignore[arg-type]
    hi = max(int(f["__t"].max()) for f in prepared.values() if f.height) if end is None else end  # type: ignore[arg-type]
    if kind is ClockKind.GRID:
        if step_ns is None or _as_int("step_ns", step_ns) <= 0:
            raise ValidationError(f"step_ns={step_ns!r} must be an int > 0 for a grid clock")
        if start is None:
            lo = lo - lo % step_ns
        ts = pl.DataFrame({"ts": pl.int_range(lo, hi + 1, step_ns, dtype=pl.Int64, eager=True)})
    else:
        ts = (
            pl.concat([f.select(pl.col("__t").alias("ts")) for f in prepared.values()])
            .unique()
            .filter(pl.col("ts").is_between(lo, hi))
            .sort("ts")
        )
    out = ts
    for name, sub in prepared.items():
        sub = sub.unique("__t", keep="last", maintain_order=True).with_columns(
            pl.col("__t").alias(f"{name}.__t")
        )
        joined = ts.join_asof(sub, left_on="ts", right_on="__t", strategy="backward", tolerance=limits[name])
        vals = joined.drop("ts", "__t")
        if with_age:
            vals = vals.with_columns((joined["ts"] - pl.col(f"{name}.__t")).alias(f"{name}.age_ns"))
        out = out.hstack(vals.drop(f"{name}.__t"))
    return out


def funding_settlements(funding: pl.DataFrame, *, time_column: str = "ts_recv") -> pl.DataFrame:
    """Reduce funding observations to one known rate per instrument and settlement.

    Observations made after their settlement time are ignored (they were not
    known when it was paid). ``interval_ns`` is filled from the gap to the
    previous settlement where null.

    Examples
    --------
    >>> obs = pl.DataFrame({"instrument_id": ["X:P"] * 3, "ts_recv": [1, 5, 12],
    ...                     "rate": [1e-4, 2e-4, 3e-4], "funding_time_ns": [10, 10, 20]})
    >>> funding_settlements(obs).select("funding_time_ns", "rate").rows()
    [(10, 0.0002), (20, 0.0003)]
    """
    need = ["instrument_id", "rate", "funding_time_ns", time_column]
    missing = [c for c in need if c not in funding.columns]
    if missing:
        raise DataError(f"funding frame lacks columns {missing}")
    df = funding.with_row_index("__i").filter(pl.col(time_column) <= pl.col("funding_time_ns"))
    if "interval_ns" not in df.columns:
        df = df.with_columns(interval_ns=pl.lit(None, dtype=pl.Int64))
    last = (
        df.sort(["instrument_id", "funding_time_ns", time_column, "__i"])
        .group_by(["instrument_id", "funding_time_ns"], maintain_order=True)
        .agg(
            pl.col("rate").last(),
            pl.col(time_column).last().alias("ts_known"),
            pl.col("interval_ns").last(),
        )
    )
    return last.with_columns(
        pl.col("interval_ns")
        .fill_null(pl.col("funding_time_ns") - pl.col("funding_time_ns").shift(1).over("instrument_id"))
        .alias("interval_ns")
    ).select("instrument_id", "funding_time_ns", "rate", "interval_ns", "ts_known")


def funding_on_clock(
    settlements: pl.DataFrame, clock: pl.Series | Sequence[int], *, snap_ns: int = 1_000_000_000
) -> pl.DataFrame:
    """Book each settlement on the first clock time at or after it.

    Parameters
    ----------
    settlements
        The output of :func:`funding_settlements`.
    clock
        Increasing clock times (ns).
    snap_ns
        Venues stamp settlements a few ms late (Binance ``04:00:00.001``): a
        settlement up to ``snap_ns`` after a clock time is booked on that
        clock time. Keep it well below the clock step.

    Returns
    -------
    polars.DataFrame
        ``ts`` and, per instrument, ``<instrument>.funding_rate`` (sum of the
        rates settling in ``(previous ts, ts]``; 0 where none) and
        ``<instrument>.settlements`` (how many).

    Examples
    --------
    >>> s = pl.DataFrame({"instrument_id": ["X:P", "X:P"], "funding_time_ns": [10, 20],
    ...                   "rate": [1e-4, -2e-4]})
    >>> funding_on_clock(s, [0, 10, 15, 25], snap_ns=0).rows()
    [(0, 0.0, 0), (10, 0.0001, 1), (15, 0.0, 0), (25, -0.0002, 1)]
    """
    if isinstance(snap_ns, bool) or not isinstance(snap_ns, int) or snap_ns < 0:
        raise ValidationError(f"snap_ns={snap_ns!r} must be an int >= 0")
    values = clock if isinstance(clock, pl.Series) else list(clock)
    ts = pl.DataFrame({"ts": pl.Series(values, dtype=pl.Int64)})
    if ts["ts"].is_empty():
        raise ValidationError("clock is empty")
    if not ts["ts"].is_sorted() or ts["ts"].n_unique() != ts.height:
        raise ValidationError("clock must be strictly increasing")
    out = ts
    for inst, sub in split_by_instrument(settlements).items():
        booked = (
            sub.select((pl.col("funding_time_ns") - snap_ns).alias("__key"), "rate")
            .sort("__key")
            .join_asof(ts, left_on="__key", right_on="ts", strategy="forward")
            .drop_nulls("ts")
            .group_by("ts")
            .agg(pl.col("rate").sum().alias(f"{inst}.funding_rate"), pl.len().alias(f"{inst}.settlements"))
        )
        out = out.join(booked, on="ts", how="left").with_columns(
            pl.col(f"{inst}.funding_rate").fill_null(0.0),
            pl.col(f"{inst}.settlements").fill_null(0).cast(pl.Int64),
        )
    return out.sort("ts")
