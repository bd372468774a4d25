"""Perpetual funding and mark prices of the simulated market.

Funding (Binance's rule). At each funding time ``t_f`` (the multiples of the
interval since the epoch: 00:00, 08:00 and 16:00 UTC for 8 h) the rate paid
for the interval ending at ``t_f`` is::

    P    = mean of (mid_i / index_i - 1) over the steps with ts_i in (t_f - interval, t_f]
    rate = clip(P + clip(I - P, -c, c), -cap, cap)

where ``mid`` is the quoted mid ``(bid + ask) / 2`` and ``index`` the index
published in the mark table, ``I`` and ``c`` the interest and its clamp per
8 h scaled to the interval. A long position pays ``rate * notional`` when
the rate is positive.

Mark: ``mark = index * (1 + EMA(mid / index - 1))`` with an EMA of time
constant ``mark_smoothing_minutes`` (the mid itself when 0), on the tick grid.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from scipy.signal import lfilter

from spreadlab._typing import FloatArray, IntArray
from spreadlab.core.time import NS_PER_HOUR, NS_PER_MINUTE
from spreadlab.data.market.quoting import latency, on_grid
from spreadlab.data.schema import conform
from spreadlab.events.schema import EventKind

__all__ = ["funding_frame", "funding_rates", "funding_times", "mark_frame", "mark_prices"]


def funding_times(start_ns: int, end_ns: int, interval_ns: int) -> IntArray:
    """Funding times in ``(start_ns, end_ns]``: the multiples of ``interval_ns`` since the epoch.

    Examples
    --------
    >>> from spreadlab.core.time import ns_to_iso, parse_time
    >>> t = funding_times(parse_time("2024-03-01"), parse_time("2024-03-02"), 8 * NS_PER_HOUR)
    >>> [ns_to_iso(int(x))[11:16] for x in t]
    ['08:00', '16:00', '00:00']
    """
    first = (start_ns // interval_ns + 1) * interval_ns
    return np.arange(first, end_ns + 1, interval_ns, dtype=np.int64)


def funding_rates(
    ts: IntArray,
    premium: FloatArray,
    times: IntArray,
    *,
    interval_ns: int,
    interest_per_8h: float,
    clamp_per_8h: float,
    cap: float,
) -> FloatArray:
    """Apply the funding rule to the per-step ``premium`` (fraction) at each of ``times``."""
    scale = interval_ns / (8 * NS_PER_HOUR)
    interest = interest_per_8h * scale
    clamp = clamp_per_8h * scale
    csum = np.concatenate(([0.0], np.cumsum(premium)))
    hi = np.searchsorted(ts, times, side="right")
    lo = np.searchsorted(ts, times - interval_ns, side="right")
    count = hi - lo
    avg = np.where(count > 0, (csum[hi] - csum[lo]) / np.maximum(count, 1), 0.0)
    rate = np.clip(avg + np.clip(interest - avg, -clamp, clamp), -cap, cap)
    return np.round(rate, 10)


def funding_frame(
    instrument_id: str,
    ts: IntArray,
    premium: FloatArray,
    *,
    start_ns: int,
    end_ns: int,
    interval_ns: int,
    interest_per_8h: float,
    clamp_per_8h: float,
    cap: float,
    rng: np.random.Generator,
    latency_ms: float,
) -> pl.DataFrame:
    """Funding rows (``ts_event = funding_time_ns``) of one perpetual over the run."""
    times = funding_times(start_ns, end_ns, interval_ns)
    rates = funding_rates(
        ts,
        premium,
        times,
        interval_ns=interval_ns,
        interest_per_8h=interest_per_8h,
        clamp_per_8h=clamp_per_8h,
        cap=cap,
    )
    k = times.shape[0]
    return conform(
        pl.DataFrame(
            {
                "ts_event": times,
                "ts_recv": times + latency(rng, k, latency_ms),
                "instrument_id": [instrument_id] * k,
                "rate": rates,
                "funding_time_ns": times,
                "interval_ns": np.full(k, interval_ns, dtype=np.int64),
            }
        ),
        EventKind.FUNDING,
    )


def mark_prices(
    mid: FloatArray, index: FloatArray, *, smoothing_minutes: float, step_ns: int, tick: float
) -> FloatArray:
    """Return the mark: index times one plus the EMA of the premium, on the tick grid."""
    prem = mid / index - 1.0
    if smoothing_minutes > 0.0 and prem.shape[0] > 0:
        alpha = 1.0 - math.exp(-(step_ns / NS_PER_MINUTE) / smoothing_minutes)
        prem, _ = lfilter([alpha], [1.0, alpha - 1.0], prem, zi=[(1.0 - alpha) * prem[0]])
    return on_grid(np.round(index * (1.0 + prem) / tick), tick)


def mark_frame(
    instrument_id: str, ts: IntArray, ts_recv: IntArray, mark: FloatArray, index: FloatArray
) -> pl.DataFrame:
    """Mark/index rows of one instrument."""
    n = ts.shape[0]
    return conform(
        pl.DataFrame(
            {
                "ts_event": ts,
                "ts_recv": ts_recv,
                "instrument_id": [instrument_id] * n,
                "mark": mark,
                "index": index,
            }
        ),
        EventKind.MARK,
    )
