"""Rolling and exponentially weighted moments, rolling median/MAD, rolling OLS.

Trailing windows include the current point: the statistic at ``i`` uses
``x[i - window + 1 : i + 1]`` (fewer points during the warm-up).

Rolling mean and variance (O(n)): Welford's update while the window fills,
then the sliding form for a window of fixed size ``w`` that adds ``x_new`` and
drops ``x_old``::

    d      = x_new - x_old
    mean'  = mean + d / w
    M2'    = M2 + d * (x_new - mean' + x_old - mean)

The sums are re-anchored (recomputed exactly, two-pass) every ``w`` steps so
rounding error cannot accumulate over long series; a window whose variance is
below ``(1e-12 |mean|)^2`` is recomputed exactly, and a window of identical
values has variance exactly 0. ``std = sqrt(M2 / (count - ddof))``.

Exponentially weighted moments (pandas ``ewm(alpha, adjust=True)``): weights
``(1 - alpha)^k`` on the point ``k`` steps back. With ``S1 = sum w``,
``S2 = sum w^2`` and the weighted West update (old weights decay by
``c = 1 - alpha``, the new point has weight 1)::

    S1' = c S1 + 1,  S2' = c^2 S2 + 1
    mean' = mean + (x - mean) / S1'
    M2' = c M2 + (x - mean)(x - mean')
    var (bias-corrected) = M2' S1' / (S1'^2 - S2')

Rolling median and MAD: the window is kept sorted (binary-search insertion and
removal, O(w) memory moves per step, so O(n w) in the worst case with a small
constant); the median of ``|x - median|`` is read by merging the two sorted
half-sequences of distances outward from the median (O(w / 2) per step).

Rolling OLS of ``y`` on ``[1, x]``: sliding sums of ``x, y, x^2, xy`` on
de-meaned (anchored) data, re-anchored every ``w`` steps.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from spreadlab._typing import FloatArray

__all__ = [
    "MAD_NORMAL_SCALE",
    "MEANAD_NORMAL_SCALE",
    "ewm_mean_std",
    "ewm_mean_std_py",
    "rolling_mean_std",
    "rolling_mean_std_py",
    "rolling_median_scale",
    "rolling_median_scale_py",
    "rolling_ols",
    "rolling_ols_py",
]

MAD_NORMAL_SCALE = 1.482602218505602
"""1 / Phi^-1(3/4): makes the MAD a consistent estimator of a normal sigma."""

MEANAD_NORMAL_SCALE = 1.2533141373155003
"""sqrt(pi / 2): makes the mean absolute deviation a consistent normal-sigma estimator."""


@njit(cache=True, nogil=True)
def _exact_window(x: FloatArray, start: int, stop: int) -> tuple[float, float]:
    """Return (mean, M2) of ``x[start:stop]`` by two passes; M2 is exactly 0 for a constant window."""
    lo = x[start]
    hi = x[start]
    s = 0.0
    for j in range(start, stop):
        v = x[j]
        s += v
        lo = min(lo, v)
        hi = max(hi, v)
    if lo == hi:
        return lo, 0.0
    m = s / (stop - start)
    m2 = 0.0
    for j in range(start, stop):
        d = x[j] - m
        m2 += d * d
    return m, m2


@njit(cache=True, nogil=True)
def rolling_mean_std(
    x: FloatArray, window: int, min_periods: int, ddof: int
) -> tuple[FloatArray, FloatArray]:
    """Trailing rolling mean and standard deviation, NaN where fewer than ``min_periods`` points.

    The running mean is kept relative to a shift (the latest anchor value) so
    the update's rounding error scales with the window's spread, not its level.
    """
    n = x.shape[0]
    mean_out = np.full(n, np.nan)
    std_out = np.full(n, np.nan)
    shift = x[0] if n > 0 else 0.0
    mean = 0.0
    m2 = 0.0
    count = 0
    for i in range(n):
        xi = x[i] - shift
        if i < window:
            count += 1
            d = xi - mean
            mean += d / count
            m2 += d * (xi - mean)
        elif (i + 1) % window == 0:
            m, m2 = _exact_window(x, i - window + 1, i + 1)
            shift = x[i]
            mean = m - shift
        else:
            xo = x[i - window] - shift
            d = xi - xo
            old = mean
            mean += d / window
            m2 += d * (xi - mean + xo - old)
        m2 = max(m2, 0.0)
        if count >= min_periods:
            var = m2 / (count - ddof)
            level = mean + shift
            if var <= (1e-12 * level) ** 2:
                level, m2 = _exact_window(x, i - count + 1, i + 1)
                mean = level - shift
                var = m2 / (count - ddof)
            mean_out[i] = level
            std_out[i] = math.sqrt(var)
    return mean_out, std_out


def rolling_mean_std_py(
    x: FloatArray, window: int, min_periods: int, ddof: int
) -> tuple[FloatArray, FloatArray]:
    """Plain-Python twin of :func:`rolling_mean_std` (direct two-pass per window)."""
    n = len(x)
    mean_out = np.full(n, np.nan)
    std_out = np.full(n, np.nan)
    for i in range(n):
        w = [float(v) for v in x[max(0, i - window + 1) : i + 1]]
        if len(w) < min_periods:
            continue
        if min(w) == max(w):
            mean_out[i] = w[0]
            std_out[i] = 0.0
            continue
        m = sum(w) / len(w)
        mean_out[i] = m
        std_out[i] = math.sqrt(sum((v - m) ** 2 for v in w) / (len(w) - ddof))
    return mean_out, std_out


@njit(cache=True, nogil=True)
def ewm_mean_std(x: FloatArray, alpha: float, min_periods: int) -> tuple[FloatArray, FloatArray]:
    """Exponentially weighted mean and bias-corrected std (pandas ``adjust=True``)."""
    n = x.shape[0]
    mean_out = np.full(n, np.nan)
    std_out = np.full(n, np.nan)
    c = 1.0 - alpha
    s1 = 0.0
    s2 = 0.0
    mean = 0.0
    m2 = 0.0
    for i in range(n):
        xi = x[i]
        s1 = c * s1 + 1.0
        s2 = c * c * s2 + 1.0
        d = xi - mean
        mean += d / s1
        m2 = c * m2 + d * (xi - mean)
        m2 = max(m2, 0.0)
        if i + 1 >= min_periods:
            mean_out[i] = mean
            denom = s1 * s1 - s2
            std_out[i] = math.sqrt(m2 * s1 / denom) if denom > 0.0 else 0.0
    return mean_out, std_out


def ewm_mean_std_py(x: FloatArray, alpha: float, min_periods: int) -> tuple[FloatArray, FloatArray]:
    """Plain-Python twin of :func:`ewm_mean_std` (explicit weights per point)."""
    n = len(x)
    mean_out = np.full(n, np.nan)
    std_out = np.full(n, np.nan)
    for i in range(n):
        if i + 1 < min_periods:
            continue
        w = [(1.0 - alpha) ** (i - j) for j in range(i + 1)]
        s1 = sum(w)
        s2 = sum(v * v for v in w)
        m = sum(wj * float(x[j]) for j, wj in enumerate(w)) / s1
        var_b = sum(wj * (float(x[j]) - m) ** 2 for j, wj in enumerate(w)) / s1
        mean_out[i] = m
        std_out[i] = math.sqrt(var_b * s1 * s1 / (s1 * s1 - s2)) if s1 * s1 - s2 > 0 else 0.0
    return mean_out, std_out


@njit(cache=True, nogil=True)
def _kth_distance(buf: FloatArray, cnt: int, med: float, k: int) -> float:
    """Return the k-th (0-based) smallest ``|buf[j] - med|`` of the sorted ``buf[:cnt]``."""
    hi = np.searchsorted(buf[:cnt], med)
    lo = hi - 1
    val = 0.0
    for _ in range(k + 1):
        if lo < 0:
            val = buf[hi] - med
            hi += 1
        elif hi >= cnt:
            val = med - buf[lo]
            lo -= 1
        else:
            dl = med - buf[lo]
            dh = buf[hi] - med
            if dl <= dh:
                val = dl
                lo -= 1
            else:
                val = dh
                hi += 1
    return val


@njit(cache=True, nogil=True)
def rolling_median_scale(x: FloatArray, window: int, min_periods: int) -> tuple[FloatArray, FloatArray]:
    """Trailing rolling median and robust scale ``1.4826 MAD`` (``1.2533 MeanAD`` where MAD is 0).

    The scale is 0 only for a window of identical values.
    """
    n = x.shape[0]
    med_out = np.full(n, np.nan)
    scale_out = np.full(n, np.nan)
    buf = np.empty(window)
    cnt = 0
    for i in range(n):
        if i >= window:
            xo = x[i - window]
            p = np.searchsorted(buf[:cnt], xo)
            for j in range(p, cnt - 1):
                buf[j] = buf[j + 1]
            cnt -= 1
        xi = x[i]
        p = np.searchsorted(buf[:cnt], xi)
        for j in range(cnt, p, -1):
            buf[j] = buf[j - 1]
        buf[p] = xi
        cnt += 1
        if cnt < min_periods:
            continue
        h = cnt // 2
        med = buf[h] if cnt % 2 == 1 else 0.5 * (buf[h - 1] + buf[h])
        if cnt % 2 == 1:
            mad = _kth_distance(buf, cnt, med, h)
        else:
            mad = 0.5 * (_kth_distance(buf, cnt, med, h - 1) + _kth_distance(buf, cnt, med, h))
        med_out[i] = med
        if mad > 0.0:
            scale_out[i] = MAD_NORMAL_SCALE * mad
        else:
            s = 0.0
            for j in range(cnt):
                s += abs(buf[j] - med)
            scale_out[i] = MEANAD_NORMAL_SCALE * s / cnt
    return med_out, scale_out


def rolling_median_scale_py(x: FloatArray, window: int, min_periods: int) -> tuple[FloatArray, FloatArray]:
    """Plain-Python twin of :func:`rolling_median_scale` (sort each window)."""
    n = len(x)
    med_out = np.full(n, np.nan)
    scale_out = np.full(n, np.nan)
    for i in range(n):
        w = sorted(float(v) for v in x[max(0, i - window + 1) : i + 1])
        if len(w) < min_periods:
            continue
        c = len(w)
        med = w[c // 2] if c % 2 else 0.5 * (w[c // 2 - 1] + w[c // 2])
        dist = sorted(abs(v - med) for v in w)
        mad = dist[c // 2] if c % 2 else 0.5 * (dist[c // 2 - 1] + dist[c // 2])
        med_out[i] = med
        scale_out[i] = MAD_NORMAL_SCALE * mad if mad > 0 else MEANAD_NORMAL_SCALE * sum(dist) / c
    return med_out, scale_out


@njit(cache=True, nogil=True)
def _ols_sums(x: FloatArray, y: FloatArray, start: int, stop: int, ax: float, ay: float) -> FloatArray:
    out = np.zeros(4)
    for j in range(start, stop):
        u = x[j] - ax
        v = y[j] - ay
        out[0] += u
        out[1] += v
        out[2] += u * u
        out[3] += u * v
    return out


@njit(cache=True, nogil=True)
def rolling_ols(y: FloatArray, x: FloatArray, window: int, min_periods: int) -> tuple[FloatArray, FloatArray]:
    """Trailing rolling OLS of ``y`` on ``[1, x]``: (beta, alpha); NaN where too few points.

    Where the window's ``x`` has no variance the slope is undefined and NaN is
    returned for that point; callers validate and report it.
    """
    n = y.shape[0]
    beta = np.full(n, np.nan)
    alpha = np.full(n, np.nan)
    ax = x[0]
    ay = y[0]
    s = np.zeros(4)
    for i in range(n):
        if i >= window and (i + 1) % window == 0:
            ax = x[i]
            ay = y[i]
            s = _ols_sums(x, y, i - window + 1, i + 1, ax, ay)
        else:
            u = x[i] - ax
            v = y[i] - ay
            s[0] += u
            s[1] += v
            s[2] += u * u
            s[3] += u * v
            if i >= window:
                uo = x[i - window] - ax
                vo = y[i - window] - ay
                s[0] -= uo
                s[1] -= vo
                s[2] -= uo * uo
                s[3] -= uo * vo
        cnt = min(i + 1, window)
        if cnt < min_periods:
            continue
        mu = s[0] / cnt
        mv = s[1] / cnt
        sxx = s[2] - cnt * mu * mu
        sxy = s[3] - cnt * mu * mv
        if sxx <= 1e-13 * s[2] or sxx <= 0.0:
            continue
        b = sxy / sxx
        beta[i] = b
        alpha[i] = (mv + ay) - b * (mu + ax)
    return beta, alpha


def rolling_ols_py(
    y: FloatArray, x: FloatArray, window: int, min_periods: int
) -> tuple[FloatArray, FloatArray]:
    """Plain-Python twin of :func:`rolling_ols` (direct per-window normal equations)."""
    n = len(y)
    beta = np.full(n, np.nan)
    alpha = np.full(n, np.nan)
    for i in range(n):
        lo = max(0, i - window + 1)
        xs = [float(v) for v in x[lo : i + 1]]
        ys = [float(v) for v in y[lo : i + 1]]
        c = len(xs)
        if c < min_periods:
            continue
        mx = sum(xs) / c
        my = sum(ys) / c
        sxx = sum((a - mx) ** 2 for a in xs)
        if sxx <= 0.0:
            continue
        b = sum((a - mx) * (v - my) for a, v in zip(xs, ys)) / sxx
        beta[i] = b
        alpha[i] = my - b * mx
    return beta, alpha
