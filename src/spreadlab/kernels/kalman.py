"""Two-state Kalman filter for a random-walk intercept and hedge ratio.

State ``s_t = (alpha_t, beta_t)``, observation ``y_t = alpha_t + beta_t x_t + e_t``::

    s_t = s_{t-1} + w_t,   w_t ~ N(0, diag(q_alpha, q_beta))
    y_t = H_t s_t + e_t,   H_t = [1, x_t],   e_t ~ N(0, r)

``(a0, P0)`` is the prior of ``s_0`` (the state at the FIRST observation: no
transition is applied before it, as in pykalman). For each ``t``::

    predict (t >= 1):  a = a,  P = P + Q
    innovation:        v = y_t - H_t a,   F = H_t P H_t' + r
    update:            K = P H_t' / F,  a = a + K v,  P = P - K F K'

Log-likelihood by the prediction-error decomposition,
``l = -1/2 sum_{t >= skip} (log 2 pi + log F_t + v_t^2 / F_t)``; ``skip``
drops the first points whose ``F_t`` is dominated by a diffuse prior.

The 2x2 covariance is carried as three scalars (``P11, P12, P22``), so the
loop has no allocation; ``1 / F_t`` is computed once per step and
``sum log F_t`` is accumulated as a running product renormalised into the sum
whenever it leaves ``(1e-150, 1e150)`` (one ``log`` per many steps; the
product never under- or overflows for ``F_t`` within ``(1e-158, 1e158)``).
The plain-Python twins use generic numpy matrix algebra, an independent
formulation.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from spreadlab._typing import FloatArray

__all__ = [
    "kalman_hedge_filter",
    "kalman_hedge_filter_py",
    "kalman_hedge_loglik",
    "kalman_hedge_loglik_py",
    "kalman_hedge_profile",
    "kalman_hedge_profile_py",
]

_LOG_2PI = math.log(2.0 * math.pi)


@njit(cache=True, nogil=True)
def kalman_hedge_loglik(
    y: FloatArray,
    x: FloatArray,
    r: float,
    q_alpha: float,
    q_beta: float,
    a0: float,
    b0: float,
    p11: float,
    p12: float,
    p22: float,
    skip: int,
) -> float:
    """Return the prediction-error-decomposition log-likelihood (no arrays allocated)."""
    a = a0
    b = b0
    ll = 0.0
    prod = 1.0
    for t in range(y.shape[0]):
        if t > 0:
            p11 += q_alpha
            p22 += q_beta
        xt = x[t]
        ph1 = p11 + p12 * xt
        ph2 = p12 + p22 * xt
        f = ph1 + ph2 * xt + r
        v = y[t] - a - b * xt
        inv = 1.0 / f
        k1 = ph1 * inv
        k2 = ph2 * inv
        a += k1 * v
        b += k2 * v
        p11 -= k1 * ph1
        p12 -= k1 * ph2
        p22 -= k2 * ph2
        if t >= skip:
            # log F_t accumulated as a product, renormalised before it can overflow: one log per ~100 steps
            prod *= f
            if not 1e-150 < prod < 1e150:
                ll -= 0.5 * math.log(prod)
                prod = 1.0
            ll -= 0.5 * (_LOG_2PI + v * v * inv)
    return ll - 0.5 * math.log(prod)


@njit(cache=True, nogil=True)
def kalman_hedge_profile(
    y: FloatArray,
    x: FloatArray,
    rho_alpha: float,
    rho_beta: float,
    a0: float,
    b0: float,
    p11: float,
    p12: float,
    p22: float,
    skip: int,
) -> tuple[float, float]:
    """Return ``(r_hat, loglik)`` with ``r`` concentrated out.

    All variances are proportional to ``r``: ``Q = r diag(rho_alpha, rho_beta)``
    and ``P0 = r [[p11, p12], [p12, p22]]``. Filtering with ``r = 1`` gives
    ``F_t = r F*_t``, so ``r_hat = mean(v_t^2 / F*_t)`` and
    ``l = -m/2 (log 2 pi + log r_hat + 1) - 1/2 sum log F*_t`` over ``t >= skip``.
    """
    a = a0
    b = b0
    slog = 0.0
    prod = 1.0
    sq = 0.0
    m = 0
    for t in range(y.shape[0]):
        if t > 0:
            p11 += rho_alpha
            p22 += rho_beta
        xt = x[t]
        ph1 = p11 + p12 * xt
        ph2 = p12 + p22 * xt
        f = ph1 + ph2 * xt + 1.0
        v = y[t] - a - b * xt
        inv = 1.0 / f
        k1 = ph1 * inv
        k2 = ph2 * inv
        a += k1 * v
        b += k2 * v
        p11 -= k1 * ph1
        p12 -= k1 * ph2
        p22 -= k2 * ph2
        if t >= skip:
            prod *= f
            if not 1e-150 < prod < 1e150:
                slog += math.log(prod)
                prod = 1.0
            sq += v * v * inv
            m += 1
    slog += math.log(prod)
    r_hat = sq / m
    return r_hat, -0.5 * (m * (_LOG_2PI + math.log(r_hat) + 1.0) + slog)


def kalman_hedge_profile_py(
    y: FloatArray,
    x: FloatArray,
    rho_alpha: float,
    rho_beta: float,
    a0: float,
    b0: float,
    p11: float,
    p12: float,
    p22: float,
    skip: int,
) -> tuple[float, float]:
    """Plain-Python twin of :func:`kalman_hedge_profile` (matrix filter at r = 1, then concentrate)."""
    _, _, _, v, f, _ = kalman_hedge_filter_py(y, x, 1.0, rho_alpha, rho_beta, a0, b0, p11, p12, p22, skip)
    v, f = v[skip:], f[skip:]
    r_hat = float(np.mean(v * v / f))
    ll = -0.5 * (len(v) * (math.log(2 * math.pi * r_hat) + 1.0) + float(np.sum(np.log(f))))
    return r_hat, ll


@njit(cache=True, nogil=True)
def kalman_hedge_filter(
    y: FloatArray,
    x: FloatArray,
    r: float,
    q_alpha: float,
    q_beta: float,
    a0: float,
    b0: float,
    p11: float,
    p12: float,
    p22: float,
    skip: int,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, float]:
    """Run the filter; return (alpha, beta, beta_var, innovation, innovation_var, loglik).

    ``alpha[t], beta[t]`` are filtered (use data up to and including ``t``);
    ``innovation[t] = y_t - (alpha_{t|t-1} + beta_{t|t-1} x_t)`` with variance
    ``innovation_var[t]``; ``beta_var[t]`` is the filtered variance of beta.
    """
    n = y.shape[0]
    alpha = np.empty(n)
    beta = np.empty(n)
    bvar = np.empty(n)
    innov = np.empty(n)
    fvar = np.empty(n)
    a = a0
    b = b0
    ll = 0.0
    prod = 1.0
    for t in range(n):
        if t > 0:
            p11 += q_alpha
            p22 += q_beta
        xt = x[t]
        ph1 = p11 + p12 * xt
        ph2 = p12 + p22 * xt
        f = ph1 + ph2 * xt + r
        v = y[t] - a - b * xt
        inv = 1.0 / f
        k1 = ph1 * inv
        k2 = ph2 * inv
        a += k1 * v
        b += k2 * v
        p11 -= k1 * ph1
        p12 -= k1 * ph2
        p22 -= k2 * ph2
        alpha[t] = a
        beta[t] = b
        bvar[t] = p22
        innov[t] = v
        fvar[t] = f
        if t >= skip:
            prod *= f
            if not 1e-150 < prod < 1e150:
                ll -= 0.5 * math.log(prod)
                prod = 1.0
            ll -= 0.5 * (_LOG_2PI + v * v * inv)
    return alpha, beta, bvar, innov, fvar, ll - 0.5 * math.log(prod)


def kalman_hedge_filter_py(
    y: FloatArray,
    x: FloatArray,
    r: float,
    q_alpha: float,
    q_beta: float,
    a0: float,
    b0: float,
    p11: float,
    p12: float,
    p22: float,
    skip: int,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, float]:
    """Plain-Python twin of :func:`kalman_hedge_filter` using generic matrix algebra."""
    n = len(y)
    s = np.array([a0, b0], dtype=float)
    p = np.array([[p11, p12], [p12, p22]], dtype=float)
    q = np.diag([q_alpha, q_beta])
    out = np.empty((5, n))
    ll = 0.0
    for t in range(n):
        if t > 0:
            p = p + q
        h = np.array([1.0, float(x[t])])
        f = float(h @ p @ h) + r
        v = float(y[t]) - float(h @ s)
        k = p @ h / f
        s = s + k * v
        p = p - np.outer(k, k) * f
        p = 0.5 * (p + p.T)
        out[:, t] = (s[0], s[1], p[1, 1], v, f)
        if t >= skip:
            ll += -0.5 * (math.log(2 * math.pi * f) + v * v / f)
    return out[0], out[1], out[2], out[3], out[4], ll


def kalman_hedge_loglik_py(
    y: FloatArray,
    x: FloatArray,
    r: float,
    q_alpha: float,
    q_beta: float,
    a0: float,
    b0: float,
    p11: float,
    p12: float,
    p22: float,
    skip: int,
) -> float:
    """Plain-Python twin of :func:`kalman_hedge_loglik`."""
    return kalman_hedge_filter_py(y, x, r, q_alpha, q_beta, a0, b0, p11, p12, p22, skip)[5]
