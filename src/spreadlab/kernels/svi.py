"""Raw SVI total implied variance and Gatheral's butterfly-arbitrage density.

Raw SVI (Gatheral 2004) gives the total implied variance ``w = sigma_BS^2 T``
at log-moneyness ``k = ln(K / F)``::

    w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2))

with ``b >= 0``, ``|rho| < 1``, ``sigma > 0`` and ``a + b sigma sqrt(1 - rho^2) >= 0``
(so that ``w >= 0``). With ``w'`` and ``w''`` the derivatives in ``k``, the
slice is free of butterfly arbitrage iff (Gatheral & Jacquier 2014)::

    g(k) = (1 - k w' / (2 w))^2 - (w'^2 / 4) (1 / w + 1 / 4) + w'' / 2  >= 0

for all ``k`` (``g`` is the risk-neutral density up to a positive factor).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from spreadlab._typing import FloatArray

__all__ = [
    "svi_g",
    "svi_g_py",
    "svi_total_variance",
    "svi_total_variance_py",
]


@njit(cache=True, nogil=True)
def svi_total_variance(k: FloatArray, a: float, b: float, rho: float, m: float, sigma: float) -> FloatArray:
    """Raw SVI total implied variance ``w(k)`` at each log-moneyness ``k = ln(K / F)``."""
    n = k.shape[0]
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        x = k[i] - m
        out[i] = a + b * (rho * x + math.sqrt(x * x + sigma * sigma))
    return out


def svi_total_variance_py(
    k: FloatArray, a: float, b: float, rho: float, m: float, sigma: float
) -> FloatArray:
    """Plain-Python twin of :func:`svi_total_variance`."""
    return np.array(
        [a + b * (rho * (x - m) + math.sqrt((x - m) ** 2 + sigma**2)) for x in k], dtype=np.float64
    )


@njit(cache=True, nogil=True)
def svi_g(k: FloatArray, a: float, b: float, rho: float, m: float, sigma: float) -> FloatArray:
    """Gatheral's butterfly density ``g(k)``; a slice is arbitrage-free where ``g >= 0`` everywhere.

    Where ``w(k) <= 0`` the result is ``-inf`` (a non-positive variance is itself an arbitrage).
    """
    n = k.shape[0]
    out = np.empty(n, dtype=np.float64)
    s2 = sigma * sigma
    for i in range(n):
        x = k[i] - m
        r = math.sqrt(x * x + s2)
        w = a + b * (rho * x + r)
        if w <= 0.0:
            out[i] = -np.inf
            continue
        w1 = b * (rho + x / r)
        w2 = b * s2 / (r * r * r)
        t = 1.0 - k[i] * w1 / (2.0 * w)
        out[i] = t * t - 0.25 * w1 * w1 * (1.0 / w + 0.25) + 0.5 * w2
    return out


def svi_g_py(k: FloatArray, a: float, b: float, rho: float, m: float, sigma: float) -> FloatArray:
    """Plain-Python twin of :func:`svi_g`."""
    res = []
    for kk in k:
        x = kk - m
        r = math.hypot(x, sigma)
        w = a + b * (rho * x + r)
        if w <= 0.0:
            res.append(-math.inf)
            continue
        w1 = b * (rho + x / r)
        w2 = b * sigma**2 / r**3
        res.append((1.0 - kk * w1 / (2.0 * w)) ** 2 - w1**2 / 4.0 * (1.0 / w + 0.25) + w2 / 2.0)
    return np.array(res, dtype=np.float64)
