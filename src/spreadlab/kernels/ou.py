"""Exact Ornstein–Uhlenbeck transition likelihood and its profile in the speed.

For ``dX = theta (mu - X) dt + sigma dW`` observed at steps ``dt_i`` (years),
the exact transition is Gaussian::

    X_{i+1} | X_i ~ N(mu + (X_i - mu) b_i,  s2 (1 - b_i^2)),   b_i = exp(-theta dt_i),
    s2 = sigma^2 / (2 theta)   (the stationary variance)

Log-likelihood (conditional on the first observation)::

    l = -1/2 sum [ log(2 pi s2 (1 - b_i^2)) + e_i^2 / (s2 (1 - b_i^2)) ],
    e_i = X_{i+1} - mu - (X_i - mu) b_i

Given ``theta`` the MLE of ``mu`` is the weighted least-squares solution with
weights ``w_i = 1 / (1 - b_i^2)`` of ``X_{i+1} - b_i X_i = mu (1 - b_i)`` and
``s2 = mean(w_i e_i^2)``; :func:`ou_profile` returns that concentrated
likelihood, so irregular sampling needs only a 1-D search in ``theta``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from spreadlab._typing import FloatArray

__all__ = ["ar1_moments", "ar1_moments_py", "ou_loglik", "ou_loglik_py", "ou_profile", "ou_profile_py"]

_LOG_2PI = math.log(2.0 * math.pi)


@njit(cache=True, nogil=True)
def ar1_moments(x: FloatArray) -> FloatArray:
    """Return ``[mean(x0), mean(x1), Sxx, Sxy, Syy]`` of the lag pairs ``x0 = x[:-1]``, ``x1 = x[1:]``.

    Centred sums of squares and products (``Sxx = sum (x0 - mean x0)^2``, ...)
    by one shifted pass (shift ``x[0]``) followed by the exact mean correction.
    """
    m = x.shape[0] - 1
    k = x[0]
    s0 = 0.0
    s1 = 0.0
    s00 = 0.0
    s01 = 0.0
    s11 = 0.0
    for i in range(m):
        u = x[i] - k
        v = x[i + 1] - k
        s0 += u
        s1 += v
        s00 += u * u
        s01 += u * v
        s11 += v * v
    out = np.empty(5)
    out[0] = s0 / m + k
    out[1] = s1 / m + k
    out[2] = s00 - s0 * s0 / m
    out[3] = s01 - s0 * s1 / m
    out[4] = s11 - s1 * s1 / m
    return out


def ar1_moments_py(x: FloatArray) -> FloatArray:
    """Plain-Python twin of :func:`ar1_moments` (two-pass)."""
    x0 = [float(v) for v in x[:-1]]
    x1 = [float(v) for v in x[1:]]
    m0 = sum(x0) / len(x0)
    m1 = sum(x1) / len(x1)
    return np.array(
        [
            m0,
            m1,
            sum((a - m0) ** 2 for a in x0),
            sum((a - m0) * (b - m1) for a, b in zip(x0, x1)),
            sum((b - m1) ** 2 for b in x1),
        ]
    )


@njit(cache=True, nogil=True)
def ou_loglik(x: FloatArray, dt: FloatArray, mu: float, theta: float, sigma: float) -> float:
    """Exact OU log-likelihood of ``x`` (length n) with steps ``dt`` (length n - 1)."""
    s2 = sigma * sigma / (2.0 * theta)
    ll = 0.0
    for i in range(dt.shape[0]):
        b = math.exp(-theta * dt[i])
        v = s2 * (1.0 - b * b)
        e = x[i + 1] - mu - (x[i] - mu) * b
        ll -= 0.5 * (_LOG_2PI + math.log(v) + e * e / v)
    return ll


def ou_loglik_py(x: FloatArray, dt: FloatArray, mu: float, theta: float, sigma: float) -> float:
    """Plain-Python twin of :func:`ou_loglik`."""
    s2 = sigma**2 / (2.0 * theta)
    total = 0.0
    for i in range(len(dt)):
        b = math.exp(-theta * float(dt[i]))
        v = s2 * (1.0 - b * b)
        e = float(x[i + 1]) - mu - (float(x[i]) - mu) * b
        total += -0.5 * (math.log(2 * math.pi * v) + e * e / v)
    return total


@njit(cache=True, nogil=True)
def ou_profile(x: FloatArray, dt: FloatArray, theta: float) -> tuple[float, float, float]:
    """Return ``(mu, s2, loglik)`` maximising the likelihood for a fixed ``theta``."""
    m = dt.shape[0]
    num = 0.0
    den = 0.0
    for i in range(m):
        b = math.exp(-theta * dt[i])
        w = 1.0 / (1.0 - b * b)
        k = 1.0 - b
        num += w * k * (x[i + 1] - b * x[i])
        den += w * k * k
    mu = num / den
    ss = 0.0
    logdet = 0.0
    for i in range(m):
        b = math.exp(-theta * dt[i])
        q = 1.0 - b * b
        e = x[i + 1] - mu - (x[i] - mu) * b
        ss += e * e / q
        logdet += math.log(q)
    s2 = ss / m
    ll = -0.5 * (m * (_LOG_2PI + math.log(s2) + 1.0) + logdet)
    return mu, s2, ll


def ou_profile_py(x: FloatArray, dt: FloatArray, theta: float) -> tuple[float, float, float]:
    """Plain-Python twin of :func:`ou_profile`."""
    bs = [math.exp(-theta * float(d)) for d in dt]
    num = sum((1 - b) * (float(x[i + 1]) - b * float(x[i])) / (1 - b * b) for i, b in enumerate(bs))
    den = sum((1 - b) ** 2 / (1 - b * b) for b in bs)
    mu = num / den
    q = [1 - b * b for b in bs]
    s2 = sum((float(x[i + 1]) - mu - (float(x[i]) - mu) * b) ** 2 / q[i] for i, b in enumerate(bs)) / len(bs)
    ll = -0.5 * (len(bs) * (math.log(2 * math.pi * s2) + 1.0) + sum(math.log(v) for v in q))
    return mu, s2, ll
