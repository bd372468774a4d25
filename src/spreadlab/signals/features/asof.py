"""As-of joins without look-ahead: attach slower or external series to a bar grid.

A series observed at times ``s_j`` (optionally published ``lag`` later, so a
value is *available* at ``a_j = s_j + lag``) is attached to a bar at time
``t`` as the last value with ``a_j <= t`` (polars ``join_asof`` with
``strategy="backward"``), and only if it is fresh: ``t - a_j <= max_staleness``.
Older values give null, never a carried-forward stale number. A value is
never visible at a bar before it became available, so no future value can
leak into a feature.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from spreadlab._typing import IntArray
from spreadlab.errors import ValidationError

__all__ = ["AVAILABLE_TS", "asof_join", "check_ts"]

AVAILABLE_TS = "available_ts"
"""Suffix of the optional column holding the time each joined value became available."""


def check_ts(name: str, ts: object) -> IntArray:
    """Return ``ts`` as a strictly increasing 1-D int64 array or raise naming the first bad row."""
    arr = np.ascontiguousarray(np.asarray(ts))
    if arr.ndim != 1:
        raise ValidationError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise ValidationError(f"{name} must be int64 nanoseconds UTC, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.size > 1:
        bad = np.flatnonzero(np.diff(arr) <= 0)
        if bad.size:
            i = int(bad[0]) + 1
            raise ValidationError(
                f"{name} must be strictly increasing; row {i} ({arr[i]}) is not after "
                f"row {i - 1} ({arr[i - 1]})"
            )
    return arr


def asof_join(
    bar_ts: IntArray,
    series: pl.DataFrame,
    *,
    max_staleness_ns: int,
    on: str = "ts",
    lag_ns: int = 0,
    prefix: str = "",
    keep_available_ts: bool = False,
) -> pl.DataFrame:
    """Attach the latest available, fresh value of each column of ``series`` to every bar.

    Parameters
    ----------
    bar_ts
        The bar grid, strictly increasing int64 ns.
    series
        A frame with the time column ``on`` (int64 ns, strictly increasing)
        and numeric value columns (no NaN; null means "not observed").
    max_staleness_ns
        A value older than this at the bar (measured from when it became
        available) is not used: the bar gets null.
    on
        The time column of ``series``.
    lag_ns
        Publication delay: a value stamped ``s`` is available from ``s + lag_ns``.
    prefix
        Prepended to the value column names.
    keep_available_ts
        Also return ``<prefix>available_ts``, the availability time of the
        joined value (to audit that it is ``<=`` the bar time).

    Returns
    -------
    polars.DataFrame
        ``ts`` (the bar grid) and one column per value column of ``series``.

    Examples
    --------
    >>> macro = pl.DataFrame({"ts": [0, 10, 20], "rate": [1.0, 2.0, 3.0]})
    >>> asof_join(np.array([5, 10, 19, 45]), macro, max_staleness_ns=15)["rate"].to_list()
    [1.0, 2.0, 2.0, None]
    """
    grid = check_ts("bar_ts", bar_ts)
    if isinstance(max_staleness_ns, bool) or not isinstance(max_staleness_ns, int | np.integer):
        raise ValidationError(f"max_staleness_ns={max_staleness_ns!r} must be an int number of nanoseconds")
    if max_staleness_ns < 0:
        raise ValidationError(f"max_staleness_ns={max_staleness_ns} must be >= 0")
    if isinstance(lag_ns, bool) or not isinstance(lag_ns, int | np.integer) or lag_ns < 0:
        raise ValidationError(f"lag_ns={lag_ns!r} must be an int >= 0")
    if on not in series.columns:
        raise ValidationError(f"series has no time column {on!r}; columns are {series.columns}")
    src_ts = check_ts(f"series[{on!r}]", series[on].to_numpy())
    values = [c for c in series.columns if c != on]
    if not values:
        raise ValidationError("series has no value columns besides the time column")
    for c in values:
        dtype = series.schema[c]
        if not dtype.is_numeric():
            raise ValidationError(
                f"series column {c!r} has dtype {dtype}; only numeric columns can be joined"
            )
        if dtype.is_float():
            nan = series[c].is_nan().fill_null(False).to_numpy()
            if nan.any():
                rows = np.flatnonzero(nan)
                raise ValidationError(
                    f"series column {c!r} has {rows.size} NaN value(s), first at row {int(rows[0])}; "
                    "use null for 'not observed'"
                )
    avail = f"{prefix}{AVAILABLE_TS}"
    right = series.select(
        pl.Series(avail, src_ts + np.int64(lag_ns)), *[pl.col(c).alias(f"{prefix}{c}") for c in values]
    )
    left = pl.DataFrame({"ts": grid})
    joined = left.join_asof(
        right, left_on="ts", right_on=avail, strategy="backward", tolerance=int(max_staleness_ns)
    )
    if not keep_available_ts:
        joined = joined.drop(avail)
    return joined
