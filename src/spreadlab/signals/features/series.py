"""Features of one series on the bar grid: spread momentum, z-score, realised volatility, funding, OI.

With the spread ``x_t`` on the bar grid:

- momentum over ``k`` bars: ``x_t - x_{t-k}``;
- z-score over ``w`` bars: :func:`spreadlab.signals.zscore.rolling_zscore`
  (trailing window including ``t``, sample std), the same score
  :class:`~spreadlab.signals.rules.ZScoreBands` trades;
- realised volatility over ``w`` bars: ``sqrt(sum_{j=t-w+1..t} r_j^2)`` with
  ``r_j = x_j - x_{j-1}`` (:attr:`ReturnKind.DIFF`, spreads) or
  ``ln(x_j / x_{j-1})`` (:attr:`ReturnKind.LOG`, prices); not de-meaned, not
  annualised (multiply by ``sqrt(periods_per_year / w)`` for that).

Event series (funding rates, open interest) are transformed on their own
timeline (change over ``k`` observations, mean of the last ``m``) and then
attached to the bars with :func:`~spreadlab.signals.features.asof.asof_join`,
so a bar only sees observations published at or before it. Warm-up rows are
null (never NaN); every value uses rows ``<= t`` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import numpy as np
import polars as pl

from spreadlab._typing import FloatArray, IntArray
from spreadlab.errors import ValidationError
from spreadlab.signals.base import as_float_series, require_same_length
from spreadlab.signals.features.asof import asof_join, check_ts
from spreadlab.signals.zscore import rolling_zscore

__all__ = [
    "ReturnKind",
    "event_features",
    "funding_features",
    "open_interest_features",
    "realised_volatility",
    "spread_features",
]


class ReturnKind(StrEnum):
    """How one-bar returns are taken for realised volatility."""

    DIFF = "diff"
    LOG = "log"


def _windows(name: str, values: Sequence[int], *, lowest: int) -> tuple[int, ...]:
    out = []
    for w in values:
        if isinstance(w, bool) or not isinstance(w, int | np.integer) or w < lowest:
            raise ValidationError(f"{name} entry {w!r} must be an int >= {lowest}")
        out.append(int(w))
    if len(set(out)) != len(out):
        raise ValidationError(f"{name}={tuple(values)} repeats a value")
    return tuple(out)


def _null_nan(arr: FloatArray, name: str) -> pl.Series:
    return pl.Series(name, arr).fill_nan(None)


def realised_volatility(values: FloatArray, *, window: int, kind: ReturnKind = ReturnKind.DIFF) -> FloatArray:
    """Return ``sqrt(sum of the last window squared one-bar returns)``; NaN for the first ``window`` bars.

    Examples
    --------
    >>> realised_volatility(np.array([0.0, 3.0, 3.0, 7.0]), window=2).tolist()
    [nan, nan, 3.0, 4.0]
    """
    (w,) = _windows("window", (window,), lowest=1)
    kind = ReturnKind(kind)
    x = as_float_series("values", values)
    if kind is ReturnKind.LOG:
        if np.any(x <= 0):
            i = int(np.argmax(x <= 0))
            raise ValidationError(f"values[{i}]={x[i]} must be > 0 for log returns")
        r = np.diff(np.log(x))
    else:
        r = np.diff(x)
    out = np.full(x.size, np.nan)
    if r.size >= w:
        sq = pl.Series(r * r).rolling_sum(window_size=w).to_numpy()
        out[1:] = np.sqrt(np.maximum(sq, 0.0))
    return out


def spread_features(
    ts: IntArray,
    spread: FloatArray,
    *,
    momentum: Sequence[int] = (1, 6, 24),
    zscore_windows: Sequence[int] = (24, 168),
    vol_windows: Sequence[int] = (24,),
    prefix: str = "spread",
) -> pl.DataFrame:
    """Build momentum, z-score and realised-volatility features of a spread.

    Parameters
    ----------
    ts
        Bar times, strictly increasing int64 ns.
    spread
        The spread on those bars (finite).
    momentum
        Lags ``k`` of ``x_t - x_{t-k}``.
    zscore_windows
        Windows of the rolling z-score (>= 2).
    vol_windows
        Windows of the realised volatility of one-bar changes.
    prefix
        Column-name prefix.

    Returns
    -------
    polars.DataFrame
        ``ts``, ``<prefix>`` (the spread itself), ``<prefix>_mom_<k>``,
        ``<prefix>_z_<w>``, ``<prefix>_rv_<w>``; null during each warm-up.

    Examples
    --------
    >>> f = spread_features(np.arange(4), np.array([1.0, 2.0, 4.0, 3.0]), momentum=(2,),
    ...                     zscore_windows=(3,), vol_windows=(2,), prefix="s")
    >>> f["s_mom_2"].to_list(), f["s_rv_2"].to_list()[2:]
    ([None, None, 3.0, 1.0], [2.23606797749979, 2.23606797749979])
    """
    grid = check_ts("ts", ts)
    x = as_float_series("spread", spread)
    require_same_length(ts=grid, spread=x)
    cols: list[pl.Series] = [pl.Series("ts", grid), pl.Series(prefix, x)]
    for k in _windows("momentum", momentum, lowest=1):
        m = np.full(x.size, np.nan)
        m[k:] = x[k:] - x[:-k]
        cols.append(_null_nan(m, f"{prefix}_mom_{k}"))
    for w in _windows("zscore_windows", zscore_windows, lowest=2):
        z = rolling_zscore(x, window=w) if x.size >= w else np.full(x.size, np.nan)
        cols.append(_null_nan(z, f"{prefix}_z_{w}"))
    for w in _windows("vol_windows", vol_windows, lowest=1):
        cols.append(_null_nan(realised_volatility(x, window=w), f"{prefix}_rv_{w}"))
    return pl.DataFrame(cols)


def event_features(
    bar_ts: IntArray,
    ts: IntArray,
    values: FloatArray,
    *,
    name: str,
    max_staleness_ns: int,
    changes: Sequence[int] = (1,),
    pct_changes: Sequence[int] = (),
    means: Sequence[int] = (),
    lag_ns: int = 0,
) -> pl.DataFrame:
    """Transform an event series on its own timeline, then attach it to the bars as of each bar.

    Columns: ``<name>`` (the last value), ``<name>_chg_<k>`` (``v_j - v_{j-k}``),
    ``<name>_pct_<k>`` (``v_j / v_{j-k} - 1``), ``<name>_mean_<m>`` (mean of the
    last ``m`` observations), all taken at the last observation available at
    the bar and null if it is older than ``max_staleness_ns``.
    """
    t = check_ts(f"{name} ts", ts)
    v = as_float_series(f"{name} values", values)
    if t.size != v.size:
        raise ValidationError(
            f"series must have the same length: {name} ts has {t.size}, values has {v.size}"
        )
    cols = [pl.Series("ts", t), pl.Series(name, v)]
    for k in _windows("changes", changes, lowest=1):
        c = np.full(v.size, np.nan)
        c[k:] = v[k:] - v[:-k]
        cols.append(_null_nan(c, f"{name}_chg_{k}"))
    for k in _windows("pct_changes", pct_changes, lowest=1):
        if np.any(v[:-k] == 0.0):
            i = int(np.argmax(v[:-k] == 0.0))
            raise ValidationError(f"{name} values[{i}] is 0: a percentage change over {k} is undefined")
        c = np.full(v.size, np.nan)
        c[k:] = v[k:] / v[:-k] - 1.0
        cols.append(_null_nan(c, f"{name}_pct_{k}"))
    for m in _windows("means", means, lowest=1):
        cols.append(_null_nan(pl.Series(v).rolling_mean(window_size=m).to_numpy(), f"{name}_mean_{m}"))
    return asof_join(bar_ts, pl.DataFrame(cols), max_staleness_ns=max_staleness_ns, lag_ns=lag_ns)


def funding_features(
    bar_ts: IntArray,
    funding_ts: IntArray,
    rates: FloatArray,
    *,
    max_staleness_ns: int,
    changes: Sequence[int] = (1, 3),
    means: Sequence[int] = (3,),
    name: str = "funding",
) -> pl.DataFrame:
    """Attach the last funding rate, its changes and its recent mean to every bar.

    A funding rate is known at its funding time (the settlement), so a bar
    sees it from that time on. See :func:`event_features`.

    Examples
    --------
    >>> f = funding_features(np.array([5, 15, 25]), np.array([0, 10, 20]), np.array([1e-4, 3e-4, 2e-4]),
    ...                      max_staleness_ns=10, changes=(1,), means=())
    >>> [round(v * 1e4, 6) for v in f["funding_chg_1"].to_list()[1:]]
    [2.0, -1.0]
    """
    return event_features(
        bar_ts, funding_ts, rates, name=name, max_staleness_ns=max_staleness_ns, changes=changes, means=means
    )


def open_interest_features(
    bar_ts: IntArray,
    oi_ts: IntArray,
    open_interest: FloatArray,
    *,
    max_staleness_ns: int,
    pct_changes: Sequence[int] = (1, 24),
    name: str = "oi",
) -> pl.DataFrame:
    """Attach open interest and its percentage changes to every bar (see :func:`event_features`)."""
    oi = as_float_series(f"{name} values", open_interest)
    if np.any(oi < 0):
        i = int(np.argmax(oi < 0))
        raise ValidationError(f"open_interest[{i}]={oi[i]} must be >= 0")
    return event_features(
        bar_ts, oi_ts, oi, name=name, max_staleness_ns=max_staleness_ns, changes=(), pct_changes=pct_changes
    )
