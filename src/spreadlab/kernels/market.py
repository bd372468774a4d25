"""Path recursions of the built-in simulated market.

Random numbers are drawn by the caller (an injected ``np.random.Generator``)
and passed in, so every kernel is a pure function of its arrays.

Stochastic volatility with jumps (Heston variance, full-truncation Euler)::

    v+      = max(v_i, 0)
    x_{i+1} = x_i + (mu - v+/2) dt + sqrt(v+ dt) (rho z_v,i + sqrt(1 - rho^2) z_s,i) + J_i
    v_{i+1} = v_i + kappa (theta - v+) dt + xi sqrt(v+ dt) z_v,i

``x`` is the log price relative to the start, ``J_i`` the sum of the jumps in
step ``i`` (already drawn), ``mu`` a per-year drift (the jump compensator).
The returned variance is the truncated ``v+`` so it is never negative.

Ornstein-Uhlenbeck, exact discretisation with ``phi = exp(-dt ln2 / half_life)``::

    x_0 = x0,    x_i = phi x_{i-1} + scale z_i,    scale = sd sqrt(1 - phi^2)

so the stationary standard deviation is ``sd`` and the AR(1) half-life is the
configured one.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from spreadlab._typing import FloatArray

__all__ = ["heston_jump_path", "heston_jump_path_py", "ou_path", "ou_path_py"]


@njit(cache=True, nogil=True)
def heston_jump_path(
    z_s: FloatArray,
    z_v: FloatArray,
    jumps: FloatArray,
    v0: float,
    kappa: float,
    theta: float,
    xi: float,
    rho: float,
    mu: float,
    dt: float,
) -> tuple[FloatArray, FloatArray]:
    """Return the log-price path (from 0) and the truncated variance path, each ``len(z_s) + 1`` long."""
    n = z_s.shape[0]
    x = np.empty(n + 1, dtype=np.float64)
    v = np.empty(n + 1, dtype=np.float64)
    x[0] = 0.0
    v_raw = v0
    v[0] = max(v0, 0.0)
    rc = math.sqrt(1.0 - rho * rho)
    for i in range(n):
        vp = max(v_raw, 0.0)
        sq = math.sqrt(vp * dt)
        x[i + 1] = x[i] + (mu - 0.5 * vp) * dt + sq * (rho * z_v[i] + rc * z_s[i]) + jumps[i]
        v_raw = v_raw + kappa * (theta - vp) * dt + xi * sq * z_v[i]
        v[i + 1] = max(v_raw, 0.0)
    return x, v


def heston_jump_path_py(
    z_s: FloatArray,
    z_v: FloatArray,
    jumps: FloatArray,
    v0: float,
    kappa: float,
    theta: float,
    xi: float,
    rho: float,
    mu: float,
    dt: float,
) -> tuple[FloatArray, FloatArray]:
    """Plain-Python twin of :func:`heston_jump_path`."""
    xs = [0.0]
    vs = [max(v0, 0.0)]
    v_raw = v0
    rc = math.sqrt(1.0 - rho * rho)
    for zs, zv, j in zip(z_s, z_v, jumps):
        vp = max(v_raw, 0.0)
        sq = math.sqrt(vp * dt)
        xs.append(xs[-1] + (mu - 0.5 * vp) * dt + sq * (rho * zv + rc * zs) + j)
        v_raw = v_raw + kappa * (theta - vp) * dt + xi * sq * zv
        vs.append(max(v_raw, 0.0))
    return np.array(xs, dtype=np.float64), np.array(vs, dtype=np.float64)


@njit(cache=True, nogil=True)
def ou_path(z: FloatArray, x0: float, phi: float, scale: float) -> FloatArray:
    """Return the AR(1) path ``x_0 = x0, x_i = phi x_{i-1} + scale z_i`` (``z_0`` is unused)."""
    n = z.shape[0]
    out = np.empty(n, dtype=np.float64)
    if n == 0:
        return out
    out[0] = x0
    for i in range(1, n):
        out[i] = phi * out[i - 1] + scale * z[i]
    return out


def ou_path_py(z: FloatArray, x0: float, phi: float, scale: float) -> FloatArray:
    """Plain-Python twin of :func:`ou_path`."""
    out: list[float] = []
    for i, zi in enumerate(z):
        out.append(x0 if i == 0 else phi * out[-1] + scale * zi)
    return np.array(out, dtype=np.float64)
