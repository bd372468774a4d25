"""Feature and label kernels for the machine-learning signals.

First-passage (triple-barrier) label of a band trade on a score ``z``. For a
bar ``i`` with ``z_i != 0`` let ``d = sign(z_i)`` (the side a band rule would
fade). Scanning ``k = i + 1 .. i + horizon``, the first bar with

- ``d z_k <= exit``  -> outcome REVERTED (the trade would take profit),
- ``d z_k >= stop``  -> outcome STOPPED (the stop-loss would fire),

ends the label window at ``k``; if neither happens by ``i + horizon`` the
outcome is TIMEOUT and the window ends at ``i + horizon``; if the data end
first the outcome is UNKNOWN (window end ``n - 1``: the label is not
observable yet and must not be trained on). A NaN ``z_i`` gives UNKNOWN; a NaN
``z_k`` inside the scan is skipped (no decision without data).

Rolling correlation spectrum of a universe. At each bar ``t >= window - 1``
the correlation matrix ``C`` of the ``N`` columns of ``returns`` over the
trailing ``window`` rows is decomposed, ``C v_j = lambda_j v_j`` with
``lambda_1 >= lambda_2 >= ...``; each eigenvector's sign is fixed so that
``sum(v_j) >= 0`` (the market mode is positive). The outputs are the
leading ``k`` eigenvalues divided by ``N`` (the share of total variance each
factor explains) and the target series' loading on each factor: with
``c`` the vector of correlations between ``target`` and the ``N`` columns,
the factor return ``f_j = Z v_j`` (``Z`` the standardised returns) has
variance ``lambda_j``, so ``corr(target, f_j) = c . v_j / sqrt(lambda_j)``.
A window where a column (or the target) is constant gives NaN for that bar.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from spreadlab._typing import FloatArray, IntArray

__all__ = [
    "OUTCOME_REVERTED",
    "OUTCOME_STOPPED",
    "OUTCOME_TIMEOUT",
    "OUTCOME_UNKNOWN",
    "first_passage",
    "first_passage_py",
    "rolling_corr_spectrum",
    "rolling_corr_spectrum_py",
]

OUTCOME_UNKNOWN = 0
OUTCOME_REVERTED = 1
OUTCOME_STOPPED = 2
OUTCOME_TIMEOUT = 3


@njit(cache=True, nogil=True)
def first_passage(z: FloatArray, exit_: float, stop: float, horizon: int) -> tuple[IntArray, IntArray]:
    """Return (outcome code, label-window end index) per bar; see the module docstring."""
    n = z.shape[0]
    outcome = np.zeros(n, dtype=np.int64)
    end = np.full(n, n - 1, dtype=np.int64)
    for i in range(n):
        zi = z[i]
        if math.isnan(zi) or zi == 0.0:
            continue
        d = 1.0 if zi > 0.0 else -1.0
        last = i + horizon
        stop_at = min(last, n - 1)
        done = False
        for k in range(i + 1, stop_at + 1):
            x = z[k]
            if math.isnan(x):
                continue
            if d * x <= exit_:
                outcome[i] = OUTCOME_REVERTED
                end[i] = k
                done = True
                break
            if d * x >= stop:
                outcome[i] = OUTCOME_STOPPED
                end[i] = k
                done = True
                break
        if not done and last <= n - 1:
            outcome[i] = OUTCOME_TIMEOUT
            end[i] = last
    return outcome, end


def first_passage_py(z: FloatArray, exit_: float, stop: float, horizon: int) -> tuple[IntArray, IntArray]:
    """Plain-Python twin of :func:`first_passage`."""
    n = len(z)
    outcome = [OUTCOME_UNKNOWN] * n
    end = [n - 1] * n
    for i in range(n):
        if math.isnan(z[i]) or z[i] == 0.0:
            continue
        d = math.copysign(1.0, z[i])
        for k in range(i + 1, min(i + horizon, n - 1) + 1):
            if math.isnan(z[k]):
                continue
            if d * z[k] <= exit_:
                outcome[i], end[i] = OUTCOME_REVERTED, k
                break
            if d * z[k] >= stop:
                outcome[i], end[i] = OUTCOME_STOPPED, k
                break
        else:
            if i + horizon <= n - 1:
                outcome[i], end[i] = OUTCOME_TIMEOUT, i + horizon
    return np.array(outcome, dtype=np.int64), np.array(end, dtype=np.int64)


@njit(cache=True, nogil=True)
def rolling_corr_spectrum(
    returns: FloatArray, target: FloatArray, window: int, k: int
) -> tuple[FloatArray, FloatArray]:
    """Return (leading eigenvalues / N, target loadings), each ``(n, k)``; NaN during warm-up."""
    n, m = returns.shape
    share = np.full((n, k), np.nan)
    loading = np.full((n, k), np.nan)
    z = np.empty((window, m))
    zt = np.empty(window)
    for t in range(window - 1, n):
        lo = t - window + 1
        ok = True
        for j in range(m):
            s = 0.0
            for r in range(window):
                s += returns[lo + r, j]
            mu = s / window
            ss = 0.0
            for r in range(window):
                d = returns[lo + r, j] - mu
                z[r, j] = d
                ss += d * d
            if ss <= 0.0:
                ok = False
                break
            sd = math.sqrt(ss)
            for r in range(window):
                z[r, j] /= sd
        s = 0.0
        for r in range(window):
            s += target[lo + r]
        mu = s / window
        ss = 0.0
        for r in range(window):
            d = target[lo + r] - mu
            zt[r] = d
            ss += d * d
        if not ok or ss <= 0.0:
            continue
        sd = math.sqrt(ss)
        for r in range(window):
            zt[r] /= sd
        corr = z.T @ z
        c = zt @ z
        vals, vecs = np.linalg.eigh(corr)
        for q in range(k):
            col = m - 1 - q
            lam = vals[col]
            tot = 0.0
            for j in range(m):
                tot += vecs[j, col]
            sign = -1.0 if tot < 0.0 else 1.0
            dot = 0.0
            for j in range(m):
                dot += c[j] * vecs[j, col]
            share[t, q] = lam / m
            loading[t, q] = sign * dot / math.sqrt(lam) if lam > 0.0 else np.nan
    return share, loading


def rolling_corr_spectrum_py(
    returns: FloatArray, target: FloatArray, window: int, k: int
) -> tuple[FloatArray, FloatArray]:
    """Plain-Python (numpy ``corrcoef`` + ``eigh``) twin of :func:`rolling_corr_spectrum`."""
    n, m = returns.shape
    share = np.full((n, k), np.nan)
    loading = np.full((n, k), np.nan)
    for t in range(window - 1, n):
        block = np.column_stack((returns[t - window + 1 : t + 1], target[t - window + 1 : t + 1]))
        if np.any(block.std(axis=0) == 0.0):
            continue
        full = np.asarray(np.corrcoef(block, rowvar=False), dtype=np.float64).reshape(m + 1, m + 1)
        vals, vecs = np.linalg.eigh(full[:m, :m])
        for q in range(k):
            v = vecs[:, m - 1 - q]
            if v.sum() < 0:
                v = -v
            share[t, q] = vals[m - 1 - q] / m
            loading[t, q] = float(full[m, :m] @ v) / math.sqrt(vals[m - 1 - q])
    return share, loading
