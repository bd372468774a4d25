"""Least-squares kernels for unit-root and cointegration tests.

Augmented Dickey–Fuller regression (statsmodels' layout, ``p`` lagged
differences, deterministic order ``d``: 0 none, 1 constant, 2 + linear trend,
3 + quadratic trend, the trend counting 1, 2, ..., nobs)::

    Δx_t = γ x_{t-1} + Σ_{j=1..p} φ_j Δx_{t-j} + Σ_{k<d} δ_k t^k + ε_t,
    statistic = γ̂ / se(γ̂)

Automatic lag selection fits every ``p = 0..maxlag`` on the same sample
(``t = maxlag+1 .. n-1``) and keeps the minimum AIC/BIC (Gaussian
log-likelihood, ``k`` = number of regressors) or, for ``t-stat``, the
largest ``p`` whose last lag has ``|t| >= 1.6448536269514722`` (Ng and Perron
2001); the chosen ``p`` is then refitted on its own longest sample.

Two solvers:

* Householder QR of ``[X | y]`` (backward stable). One factorisation gives
  the residual sum of squares of *every* leading block of columns:
  ``SSR_k = Σ_{i>=k} (Qᵀy)_i²``, and the t statistic of the last of those
  columns: ``t_k = (Qᵀy)_{k-1} sign(R_{k-1,k-1}) / sqrt(SSR_k / (m - k))``.
  One factorisation therefore scores all ``maxlag+1`` candidate lags.
* For residuals of a cointegrating regression (ADF without deterministic
  terms) the Gram matrix of ``[x_{t-1}, Δx_{t-1..p}, Δx_t]`` is built in
  ``O(n p)`` because the lag columns are shifts of one series:
  ``S(i, j) = S(i-1, j-1) + d_{T0-i} d_{T0-j} - d_{T1-i+1} d_{T1-j+1}``;
  a Cholesky factor of the augmented Gram matrix then gives the same prefix
  SSRs and t statistics. The columns are nearly orthogonal after scaling, so
  squaring the condition number costs nothing measurable (tests compare
  with statsmodels to 1e-9).

Engle–Granger: OLS of ``y`` on ``[x, deterministic terms]`` by QR, then the
ADF statistic of the residuals without deterministic terms.

Status codes returned by the kernels: ``0`` fine, ``1`` regressors are
(numerically) collinear, ``2`` the cointegrating regression fits perfectly
(residual rms below 1e-8 of the rms of ``y``: the residuals would be rounding
noise), ``3`` zero residual variance. statsmodels' ``coint`` gives up
earlier, at ``R² >= 1 - 100 sqrt(eps)`` (returning -inf); the QR residuals
stay accurate well past that point (e.g. log perp on log spot, 1 - R² ≈ 1e-6),
so spreadlab reports the statistic there.

Every kernel ``foo`` has a plain-Python twin ``foo_py`` built on
``numpy.linalg.lstsq`` and explicit lag matrices (an independent algorithm).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from spreadlab._typing import FloatArray, IntArray

__all__ = [
    "IC_AIC",
    "IC_BIC",
    "IC_NONE",
    "IC_TSTAT",
    "STATUS_COLLINEAR",
    "STATUS_OK",
    "STATUS_PERFECT_FIT",
    "STATUS_ZERO_VARIANCE",
    "adf_test",
    "adf_test_gram",
    "adf_test_gram_py",
    "adf_test_py",
    "eg_all_pairs",
    "eg_all_pairs_py",
    "eg_pair",
    "eg_pair_py",
    "eg_pairs",
    "eg_pairs_py",
    "lagged_diff_std",
    "lagged_diff_std_py",
    "mean_crossings",
    "mean_crossings_py",
    "pair_indices",
    "pair_indices_py",
]

IC_AIC = 0
IC_BIC = 1
IC_TSTAT = 2
IC_NONE = 3

STATUS_OK = 0
STATUS_COLLINEAR = 1
STATUS_PERFECT_FIT = 2
STATUS_ZERO_VARIANCE = 3

_LOG_2PI = math.log(2.0 * math.pi)
_T_STOP = 1.6448536269514722
_RANK_TOL = 1e-10
_PERFECT_RESID = 1e-8


# ---------------------------------------------------------------- QR solver


@njit(cache=True, nogil=True)
def _householder(C: FloatArray, k: int) -> tuple[FloatArray, int]:
    """Triangularise the first ``k`` rows of ``C`` (columns stored as rows) in place.

    Row ``k`` (the response) becomes ``Qᵀy``. Return the diagonal of ``R`` and
    the index of the first (numerically) dependent column, or -1.
    """
    m = C.shape[1]
    rdiag = np.zeros(k)
    bad = -1
    for j in range(k):
        norm0 = 0.0
        for i in range(m):
            norm0 += C[j, i] * C[j, i]
        norm = 0.0
        for i in range(j, m):
            norm += C[j, i] * C[j, i]
        norm = math.sqrt(norm)
        if norm <= _RANK_TOL * math.sqrt(norm0) or norm == 0.0:
            if bad < 0:
                bad = j
            rdiag[j] = 0.0
            continue
        alpha = -norm if C[j, j] >= 0.0 else norm
        C[j, j] -= alpha
        vnorm2 = 0.0
        for i in range(j, m):
            vnorm2 += C[j, i] * C[j, i]
        for c in range(j + 1, k + 1):
            s = 0.0
            for i in range(j, m):
                s += C[j, i] * C[c, i]
            f = 2.0 * s / vnorm2
            for i in range(j, m):
                C[c, i] -= f * C[j, i]
        rdiag[j] = alpha
    return rdiag, bad


@njit(cache=True, nogil=True)
def _prefix_scores(C: FloatArray, k: int, rdiag: FloatArray) -> tuple[FloatArray, FloatArray]:
    """SSR of every leading block of columns and the t statistic of its last column."""
    m = C.shape[1]
    ssr = np.zeros(k + 1)
    tail = 0.0
    for i in range(m - 1, k - 1, -1):
        tail += C[k, i] * C[k, i]
    ssr[k] = tail
    for p in range(k - 1, -1, -1):
        ssr[p] = ssr[p + 1] + C[k, p] * C[k, p]
    tlast = np.zeros(k + 1)
    for p in range(1, k + 1):
        sig2 = ssr[p] / (m - p)
        sgn = 1.0 if rdiag[p - 1] >= 0.0 else -1.0
        tlast[p] = C[k, p - 1] * sgn / math.sqrt(sig2) if sig2 > 0.0 else 0.0
    return ssr, tlast


@njit(cache=True, nogil=True)
def _adf_design(x: FloatArray, lag: int, ntrend: int, final: bool) -> FloatArray:
    """Design of the ADF regression with ``lag`` lags; columns as rows, response last.

    ``final=False``: [trend terms, x_{t-1}, Δx_{t-1..lag}] (statsmodels' prefix order);
    ``final=True``: [Δx_{t-1..lag}, trend terms, x_{t-1}] (level last).
    """
    n = x.shape[0]
    m = n - 1 - lag
    k = ntrend + 1 + lag
    C = np.empty((k + 1, m))
    t0 = lag + 1
    for r in range(m):
        t = t0 + r
        c = 0
        if final:
            for j in range(1, lag + 1):
                C[c, r] = x[t - j] - x[t - j - 1]
                c += 1
        tr = float(r + 1)
        for q in range(ntrend):
            C[c, r] = tr**q
            c += 1
        C[c, r] = x[t - 1]
        c += 1
        if not final:
            for j in range(1, lag + 1):
                C[c, r] = x[t - j] - x[t - j - 1]
                c += 1
        C[k, r] = x[t] - x[t - 1]
    return C


@njit(cache=True, nogil=True)
def _select(
    ssr: FloatArray, tlast: FloatArray, m: int, first: int, maxlag: int, ic: int
) -> tuple[int, float]:
    """Pick the lag from prefix scores; prefix ``first + lag`` holds ``lag`` lags."""
    if ic == IC_TSTAT:
        best = maxlag
        icbest = 0.0
        for lag in range(maxlag, -1, -1):
            icbest = abs(tlast[first + lag])
            best = lag
            if icbest >= _T_STOP:
                break
        return best, icbest
    best = 0
    icbest = np.inf
    for lag in range(maxlag + 1):
        p = first + lag
        llf = -0.5 * m * (_LOG_2PI + math.log(ssr[p] / m) + 1.0)
        pen = 2.0 * p if ic == IC_AIC else math.log(m) * p
        val = -2.0 * llf + pen
        if val < icbest:
            icbest = val
            best = lag
    return best, icbest


@njit(cache=True, nogil=True)
def adf_test(x: FloatArray, maxlag: int, ntrend: int, ic: int) -> tuple[float, int, int, float, int]:
    """ADF statistic with lag selection by Householder QR.

    Return ``(statistic, used_lag, nobs, icbest, status)``; ``icbest`` is NaN
    when ``ic == IC_NONE`` (``maxlag`` lags are used).
    """
    icbest = np.nan
    used = maxlag
    if ic != IC_NONE:
        C = _adf_design(x, maxlag, ntrend, False)
        k = C.shape[0] - 1
        rdiag, bad = _householder(C, k)
        if bad >= 0:
            return np.nan, maxlag, C.shape[1], np.nan, STATUS_COLLINEAR
        ssr, tlast = _prefix_scores(C, k, rdiag)
        if ssr[k] <= 0.0:
            return np.nan, maxlag, C.shape[1], np.nan, STATUS_ZERO_VARIANCE
        used, icbest = _select(ssr, tlast, C.shape[1], ntrend + 1, maxlag, ic)
    C = _adf_design(x, used, ntrend, True)
    k = C.shape[0] - 1
    m = C.shape[1]
    rdiag, bad = _householder(C, k)
    if bad >= 0:
        return np.nan, used, m, icbest, STATUS_COLLINEAR
    ssr, tlast = _prefix_scores(C, k, rdiag)
    if ssr[k] <= 0.0:
        return np.nan, used, m, icbest, STATUS_ZERO_VARIANCE
    return tlast[k], used, m, icbest, STATUS_OK


# ---------------------------------------------------------------- Gram solver (no deterministic terms)


@njit(cache=True, nogil=True)
def _gram_parts(e: FloatArray, d: FloatArray, p: int) -> tuple[FloatArray, FloatArray, float]:
    """Cross products of the ADF('n') regression with ``p`` lags over ``t = p+1 .. n-1``.

    ``S[i, j] = Σ d[t-i] d[t-j]``, ``V[j] = Σ e[t-1] d[t-j]`` (``i, j = 0..p``), ``W = Σ e[t-1]²``.
    """
    n = e.shape[0]
    T0 = p + 1
    T1 = n - 1
    S = np.empty((p + 1, p + 1))
    S0 = np.zeros(p + 1)
    V = np.zeros(p + 1)
    W = 0.0
    # the first row of S and V accumulate side by side: independent sums, no add-latency chain
    for t in range(T0, T1 + 1):
        dt = d[t]
        el = e[t - 1]
        for j in range(p + 1):
            dj = d[t - j]
            S0[j] += dt * dj
            V[j] += el * dj
        W += el * el
    for j in range(p + 1):
        S[0, j] = S0[j]
    for i in range(1, p + 1):
        for j in range(i, p + 1):
            S[i, j] = S[i - 1, j - 1] + d[T0 - i] * d[T0 - j] - d[T1 - i + 1] * d[T1 - j + 1]
    for i in range(p + 1):
        for j in range(i):
            S[i, j] = S[j, i]
    return S, V, W


@njit(cache=True, nogil=True)
def _extend_parts(
    e: FloatArray, d: FloatArray, S: FloatArray, V: FloatArray, W: float, u: int, p: int
) -> tuple[FloatArray, FloatArray, float]:
    """Cross products for ``u <= p`` lags over ``t = u+1 .. n-1`` from those over ``t = p+1 .. n-1``."""
    S2 = S[: u + 1, : u + 1].copy()
    V2 = V[: u + 1].copy()
    for t in range(u + 1, p + 1):
        el = e[t - 1]
        for i in range(u + 1):
            di = d[t - i]
            V2[i] += el * di
            for j in range(u + 1):
                S2[i, j] += di * d[t - j]
        W += el * el
    return S2, V2, W


@njit(cache=True, nogil=True)
def _assemble(S: FloatArray, V: FloatArray, W: float, level_first: bool) -> FloatArray:
    """Augmented Gram matrix, order [x_{t-1}, Δx_{t-1..p}, Δx_t] or [Δx_{t-1..p}, x_{t-1}, Δx_t]."""
    p = S.shape[0] - 1
    K = p + 2
    G = np.empty((K, K))
    lev = 0 if level_first else p
    lagpos = np.empty(p + 1, dtype=np.int64)  # lag j -> position; lag 0 is the response
    lagpos[0] = K - 1
    for j in range(1, p + 1):
        lagpos[j] = j if level_first else j - 1
    for a in range(p + 1):
        for b in range(p + 1):
            G[lagpos[a], lagpos[b]] = S[a, b]
        G[lev, lagpos[a]] = V[a]
        G[lagpos[a], lev] = V[a]
    G[lev, lev] = W
    return G


@njit(cache=True, nogil=True)
def _cholesky_prefix(G: FloatArray) -> tuple[FloatArray, FloatArray, int]:
    """Cholesky of the augmented Gram matrix: prefix SSRs, last row of the factor, first dependent column."""
    K = G.shape[0]
    k = K - 1
    L = np.zeros((K, K))
    for j in range(K):
        s = G[j, j]
        for q in range(j):
            s -= L[j, q] * L[j, q]
        if j < k and (s <= _RANK_TOL * _RANK_TOL * G[j, j] or s <= 0.0):
            return np.zeros(K), np.zeros(K), j
        if j == k:
            s = max(s, 0.0)
        L[j, j] = math.sqrt(s)
        for i in range(j + 1, K):
            v = G[i, j]
            for q in range(j):
                v -= L[i, q] * L[j, q]
            L[i, j] = v / L[j, j] if L[j, j] > 0.0 else 0.0
    ssr = np.zeros(K)
    ssr[k] = L[k, k] * L[k, k]
    for p in range(k - 1, -1, -1):
        ssr[p] = ssr[p + 1] + L[k, p] * L[k, p]
    return ssr, L[k, :].copy(), -1


@njit(cache=True, nogil=True)
def adf_test_gram(e: FloatArray, maxlag: int, ic: int) -> tuple[float, int, int, float, int]:
    """ADF statistic without deterministic terms by ``O(n p)`` Gram updates.

    Same contract as :func:`adf_test` with ``ntrend = 0``.
    """
    n = e.shape[0]
    d = np.zeros(n)
    for s in range(1, n):
        d[s] = e[s] - e[s - 1]
    icbest = np.nan
    used = maxlag
    S, V, W = _gram_parts(e, d, maxlag)
    if ic != IC_NONE:
        G = _assemble(S, V, W, True)
        m = n - 1 - maxlag
        ssr, row, bad = _cholesky_prefix(G)
        if bad >= 0:
            return np.nan, maxlag, m, np.nan, STATUS_COLLINEAR
        k = G.shape[0] - 1
        if ssr[k] <= 0.0:
            return np.nan, maxlag, m, np.nan, STATUS_ZERO_VARIANCE
        tlast = np.zeros(k + 1)
        for p in range(1, k + 1):
            tlast[p] = row[p - 1] / math.sqrt(ssr[p] / (m - p))
        used, icbest = _select(ssr, tlast, m, 1, maxlag, ic)
    S, V, W = _extend_parts(e, d, S, V, W, used, maxlag)
    G = _assemble(S, V, W, False)
    m = n - 1 - used
    k = G.shape[0] - 1
    ssr, row, bad = _cholesky_prefix(G)
    if bad >= 0:
        return np.nan, used, m, icbest, STATUS_COLLINEAR
    if ssr[k] <= 0.0:
        return np.nan, used, m, icbest, STATUS_ZERO_VARIANCE
    return row[k - 1] / math.sqrt(ssr[k] / (m - k)), used, m, icbest, STATUS_OK


# ---------------------------------------------------------------- Engle–Granger


@njit(cache=True, nogil=True)
def _first_stage(y: FloatArray, X: FloatArray, ntrend: int) -> tuple[FloatArray, FloatArray, int]:
    """OLS of ``y`` on the columns of ``X`` (rows of the 2-D array) plus trend terms appended.

    Return ``(coefficients, residuals, status)``; coefficients are ordered
    [x columns..., const, trend, trend²].
    """
    nx = X.shape[0]
    n = y.shape[0]
    k = nx + ntrend
    C = np.empty((k + 1, n))
    for c in range(nx):
        for i in range(n):
            C[c, i] = X[c, i]
    for q in range(ntrend):
        for i in range(n):
            C[nx + q, i] = float(i + 1) ** q
    for i in range(n):
        C[k, i] = y[i]
    rdiag, bad = _householder(C, k)
    beta = np.zeros(k)
    resid = np.empty(n)
    if bad >= 0:
        return beta, resid, STATUS_COLLINEAR
    for j in range(k - 1, -1, -1):
        s = C[k, j]
        for q in range(j + 1, k):
            s -= C[q, j] * beta[q]
        beta[j] = s / rdiag[j]
    ssr = 0.0
    for i in range(n):
        f = 0.0
        for c in range(nx):
            f += X[c, i] * beta[c]
        for q in range(ntrend):
            f += beta[nx + q] * float(i + 1) ** q
        resid[i] = y[i] - f
        ssr += resid[i] * resid[i]
    yy = 0.0
    for i in range(n):
        yy += y[i] * y[i]
    if ssr <= _PERFECT_RESID * _PERFECT_RESID * yy:
        return beta, resid, STATUS_PERFECT_FIT
    return beta, resid, STATUS_OK


@njit(cache=True, nogil=True)
def eg_pair(
    y: FloatArray, X: FloatArray, ntrend: int, maxlag: int, ic: int, gram: bool
) -> tuple[float, int, int, float, int, FloatArray, FloatArray]:
    """Engle–Granger: regress ``y`` on ``X`` (k x n, one regressor per row) and trend, ADF the residuals.

    Return ``(statistic, used_lag, adf_nobs, icbest, status, coefficients, residuals)``.
    """
    beta, resid, status = _first_stage(y, X, ntrend)
    if status != STATUS_OK:
        return np.nan, maxlag, 0, np.nan, status, beta, resid
    if gram:
        stat, used, m, icbest, st = adf_test_gram(resid, maxlag, ic)
    else:
        stat, used, m, icbest, st = adf_test(resid, maxlag, 0, ic)
    return stat, used, m, icbest, st, beta, resid


@njit(cache=True, nogil=True)
def eg_pairs(
    P: FloatArray, left: IntArray, right: IntArray, ntrend: int, maxlag: int, ic: int, both: bool
) -> tuple[FloatArray, IntArray, FloatArray, FloatArray, IntArray]:
    """Engle–Granger for the pairs ``(left[q], right[q])`` of columns of ``P`` (n x N).

    Row 0 of each output regresses column ``left[q]`` on ``right[q]``; row 1
    (when ``both``) the reverse. Return ``(statistic, used_lag, hedge_ratio,
    intercept, status)``, each of shape (2, len(left)); row 1 holds NaN/-1
    when not ``both``; the intercept is 0 when ``ntrend == 0``.
    """
    n, N = P.shape
    npairs = left.shape[0]
    stat = np.full((2, npairs), np.nan)
    lag = np.full((2, npairs), -1, dtype=np.int64)
    hedge = np.full((2, npairs), np.nan)
    icpt = np.full((2, npairs), np.nan)
    status = np.full((2, npairs), -1, dtype=np.int64)
    cols = np.empty((N, n))
    for c in range(N):
        for i in range(n):
            cols[c, i] = P[i, c]
    X = np.empty((1, n))
    for q in range(npairs):
        for direction in range(2 if both else 1):
            a, b = (left[q], right[q]) if direction == 0 else (right[q], left[q])
            X[0, :] = cols[b]
            s, u, _m, _ic, st, beta, _r = eg_pair(cols[a], X, ntrend, maxlag, ic, True)
            stat[direction, q] = s
            lag[direction, q] = u
            hedge[direction, q] = beta[0]
            icpt[direction, q] = beta[1] if ntrend > 0 else 0.0
            status[direction, q] = st
    return stat, lag, hedge, icpt, status


@njit(cache=True, nogil=True)
def pair_indices(N: int) -> tuple[IntArray, IntArray]:
    """Column indices ``(i, j)``, ``i < j``, of every pair of ``N`` columns in row-major order."""
    npairs = N * (N - 1) // 2
    left = np.empty(npairs, dtype=np.int64)
    right = np.empty(npairs, dtype=np.int64)
    q = 0
    for i in range(N):
        for j in range(i + 1, N):
            left[q] = i
            right[q] = j
            q += 1
    return left, right


@njit(cache=True, nogil=True)
def eg_all_pairs(
    P: FloatArray, ntrend: int, maxlag: int, ic: int, both: bool
) -> tuple[FloatArray, IntArray, FloatArray, FloatArray, IntArray]:
    """Engle–Granger over every pair ``i < j`` of the columns of ``P`` (see :func:`eg_pairs`)."""
    left, right = pair_indices(P.shape[1])
    return eg_pairs(P, left, right, ntrend, maxlag, ic, both)


# ---------------------------------------------------------------- Hurst and crossings


@njit(cache=True, nogil=True)
def lagged_diff_std(x: FloatArray, lags: IntArray) -> FloatArray:
    """Standard deviation (ddof 0) of ``x[t+τ] - x[t]`` for each lag ``τ``."""
    n = x.shape[0]
    out = np.empty(lags.shape[0])
    for q in range(lags.shape[0]):
        tau = lags[q]
        m = n - tau
        mu = 0.0
        for t in range(m):
            mu += x[t + tau] - x[t]
        mu /= m
        s = 0.0
        for t in range(m):
            dv = x[t + tau] - x[t] - mu
            s += dv * dv
        out[q] = math.sqrt(s / m)
    return out


@njit(cache=True, nogil=True)
def mean_crossings(x: FloatArray) -> int:
    """Number of times ``x`` crosses its sample mean (points equal to the mean carry the previous side)."""
    n = x.shape[0]
    mu = 0.0
    for i in range(n):
        mu += x[i]
    mu /= n
    side = 0
    count = 0
    for i in range(n):
        v = x[i] - mu
        s = 1 if v > 0.0 else (-1 if v < 0.0 else 0)
        if s == 0:
            continue
        if side not in (0, s):
            count += 1
        side = s
    return count


# ---------------------------------------------------------------- plain-Python twins


def _lstsq_scores(X: FloatArray, y: FloatArray) -> tuple[float, float, float]:
    """SSR, t statistic of the last column and first coefficient by numpy lstsq (twin helper)."""
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    ssr = float(resid @ resid)
    m, k = X.shape
    cov = np.linalg.inv(X.T @ X) * ssr / (m - k)
    return ssr, float(beta[-1] / math.sqrt(cov[-1, -1])), float(beta[0])


def _adf_matrix_py(x: FloatArray, lag: int, ntrend: int, nrows: int) -> tuple[FloatArray, FloatArray]:
    dx = np.diff(x)
    m = nrows
    t = np.arange(len(x) - m, len(x))
    cols = [np.arange(1, m + 1, dtype=float) ** q for q in range(ntrend)]
    cols.append(x[t - 1])
    cols.extend(dx[t - 1 - j] for j in range(1, lag + 1))
    return np.column_stack(cols), dx[t - 1]


def adf_test_py(x: FloatArray, maxlag: int, ntrend: int, ic: int) -> tuple[float, int, int, float, int]:
    """Plain-Python twin of :func:`adf_test` (numpy lstsq per candidate lag)."""
    n = len(x)
    icbest = float("nan")
    used = maxlag
    if ic != IC_NONE:
        m = n - 1 - maxlag
        scores = {}
        for lag in range(maxlag + 1):
            X, y = _adf_matrix_py(x, lag, ntrend, m)
            ssr, tl, _ = _lstsq_scores(X, y)
            k = X.shape[1]
            llf = -0.5 * m * (_LOG_2PI + math.log(ssr / m) + 1.0)
            aic = -2 * llf + 2 * k
            bic = -2 * llf + math.log(m) * k
            scores[lag] = (aic, bic, tl)
        if ic == IC_TSTAT:
            for lag in range(maxlag, -1, -1):
                used, icbest = lag, abs(scores[lag][2])
                if icbest >= _T_STOP:
                    break
        else:
            col = 0 if ic == IC_AIC else 1
            icbest, used = min((v[col], lag) for lag, v in scores.items())
    m = n - 1 - used
    X, y = _adf_matrix_py(x, used, ntrend, m)
    order = [c for c in range(X.shape[1]) if c != ntrend] + [ntrend]
    _, tl, _ = _lstsq_scores(X[:, order], y)
    return tl, used, m, icbest, STATUS_OK


def adf_test_gram_py(e: FloatArray, maxlag: int, ic: int) -> tuple[float, int, int, float, int]:
    """Plain-Python twin of :func:`adf_test_gram`."""
    return adf_test_py(e, maxlag, 0, ic)


def eg_pair_py(
    y: FloatArray, X: FloatArray, ntrend: int, maxlag: int, ic: int, gram: bool
) -> tuple[float, int, int, float, int, FloatArray, FloatArray]:
    """Plain-Python twin of :func:`eg_pair`."""
    n = len(y)
    D = np.column_stack([*X, *[np.arange(1, n + 1, dtype=float) ** q for q in range(ntrend)]])
    beta, *_ = np.linalg.lstsq(D, y, rcond=None)
    resid = y - D @ beta
    s, u, m, icb, st = adf_test_py(resid, maxlag, 0, ic)
    return s, u, m, icb, st, beta, resid


def eg_pairs_py(
    P: FloatArray, left: IntArray, right: IntArray, ntrend: int, maxlag: int, ic: int, both: bool
) -> tuple[FloatArray, IntArray, FloatArray, FloatArray, IntArray]:
    """Plain-Python twin of :func:`eg_pairs`."""
    npairs = len(left)
    stat = np.full((2, npairs), np.nan)
    lag = np.full((2, npairs), -1, dtype=np.int64)
    hedge = np.full((2, npairs), np.nan)
    icpt = np.full((2, npairs), np.nan)
    status = np.full((2, npairs), -1, dtype=np.int64)
    for q, (i, j) in enumerate(zip(left, right, strict=True)):
        for direction in range(2 if both else 1):
            a, b = (i, j) if direction == 0 else (j, i)
            s, u, _m, _ic, st, beta, _r = eg_pair_py(P[:, a], P[:, b][None, :], ntrend, maxlag, ic, True)
            stat[direction, q], lag[direction, q], status[direction, q] = s, u, st
            hedge[direction, q] = beta[0]
            icpt[direction, q] = beta[1] if ntrend > 0 else 0.0
    return stat, lag, hedge, icpt, status


def pair_indices_py(N: int) -> tuple[IntArray, IntArray]:
    """Plain-Python twin of :func:`pair_indices`."""
    i, j = np.triu_indices(N, k=1)
    return i.astype(np.int64), j.astype(np.int64)


def eg_all_pairs_py(
    P: FloatArray, ntrend: int, maxlag: int, ic: int, both: bool
) -> tuple[FloatArray, IntArray, FloatArray, FloatArray, IntArray]:
    """Plain-Python twin of :func:`eg_all_pairs`."""
    left, right = pair_indices_py(P.shape[1])
    return eg_pairs_py(P, left, right, ntrend, maxlag, ic, both)


def lagged_diff_std_py(x: FloatArray, lags: IntArray) -> FloatArray:
    """Plain-Python twin of :func:`lagged_diff_std`."""
    return np.array([float(np.std(x[int(t) :] - x[: -int(t)])) for t in lags])


def mean_crossings_py(x: FloatArray) -> int:
    """Plain-Python twin of :func:`mean_crossings`."""
    signs = np.sign(np.asarray(x) - np.mean(x))
    signs = signs[signs != 0]
    return int(np.count_nonzero(signs[1:] != signs[:-1]))
