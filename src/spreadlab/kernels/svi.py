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
    "svi_fit_lm",
    "svi_fit_lm_py",
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


def _lm_eval_impl(
    k: FloatArray,
    vol: FloatArray,
    sw: FloatArray,
    t: float,
    q: FloatArray,
    out_r: FloatArray,
    out_j: FloatArray,
    with_jac: bool,
) -> float:
    """Weighted vol residuals of SVI parameters ``q`` (and their Jacobian); returns half the SSR."""
    a, b, rho, m, sig = q[0], q[1], q[2], q[3], q[4]
    c = 0.0
    for i in range(k.shape[0]):
        x = k[i] - m
        rr = math.sqrt(x * x + sig * sig)
        w = a + b * (rho * x + rr)
        v = math.sqrt(max(w, 1e-16) / t)
        out_r[i] = sw[i] * (v - vol[i])
        c += out_r[i] * out_r[i]
        if with_jac:
            s = sw[i] / (2.0 * v * t)
            out_j[i, 0] = s
            out_j[i, 1] = s * (rho * x + rr)
            out_j[i, 2] = s * b * x
            out_j[i, 3] = s * b * (-rho - x / rr)
            out_j[i, 4] = s * b * sig / rr
    return 0.5 * c


_lm_eval = njit(cache=True, nogil=True)(_lm_eval_impl)


@njit(cache=True, nogil=True)
def _normal_equations(jac: FloatArray, r: FloatArray, a_mat: FloatArray, grad: FloatArray) -> None:
    """``a_mat = J^T J`` and ``grad = J^T r`` without BLAS (5 columns)."""
    n = jac.shape[0]
    for i in range(5):
        g = 0.0
        for row in range(n):
            g += jac[row, i] * r[row]
        grad[i] = g
        for j in range(i, 5):
            acc = 0.0
            for row in range(n):
                acc += jac[row, i] * jac[row, j]
            a_mat[i, j] = acc
            a_mat[j, i] = acc


@njit(cache=True, nogil=True)
def _solve5(m: FloatArray, rhs: FloatArray) -> FloatArray:
    """Solve the 5x5 system ``m x = rhs`` by Gaussian elimination with partial pivoting (m is overwritten)."""
    b = rhs.copy()
    for c in range(5):
        piv = c
        for r in range(c + 1, 5):
            if abs(m[r, c]) > abs(m[piv, c]):
                piv = r
        if piv != c:
            for j in range(5):
                m[c, j], m[piv, j] = m[piv, j], m[c, j]
            b[c], b[piv] = b[piv], b[c]
        d = m[c, c]
        if d == 0.0:
            d = 1e-300
        for r in range(c + 1, 5):
            f = m[r, c] / d
            for j in range(c, 5):
                m[r, j] -= f * m[c, j]
            b[r] -= f * b[c]
    x = np.empty(5)
    for c in range(4, -1, -1):
        acc = b[c]
        for j in range(c + 1, 5):
            acc -= m[c, j] * x[j]
        d = m[c, c]
        x[c] = acc / (d if d != 0.0 else 1e-300)
    return x


@njit(cache=True, nogil=True)
def svi_fit_lm(
    k: FloatArray,
    vol: FloatArray,
    sw: FloatArray,
    t: float,
    p0: FloatArray,
    lb: FloatArray,
    ub: FloatArray,
    max_iter: int,
) -> tuple[FloatArray, float, int]:
    """Box-projected Levenberg-Marquardt on ``sw * (sqrt(w(k) / t) - vol)``; returns ``(p, cost, iters)``.

    ``cost`` is half the sum of squared weighted residuals; ``iters < 0`` means no convergence.
    Stops when an accepted step lowers the cost by less than ``1e-9`` relative or moves every
    parameter by less than ``1e-8`` relative, or when no damping gives descent.
    """
    n = k.shape[0]
    p = p0.copy()
    for j in range(5):
        p[j] = min(max(p[j], lb[j]), ub[j])
    r = np.empty(n)
    jac = np.empty((n, 5))
    r_try = np.empty(n)
    j_dummy = np.empty((1, 5))
    lam = 1e-3
    a_mat = np.empty((5, 5))
    grad = np.empty(5)
    cost = _lm_eval(k, vol, sw, t, p, r, jac, True)
    for it in range(max_iter):
        _normal_equations(jac, r, a_mat, grad)
        accepted = False
        for _ in range(30):
            m_mat = a_mat.copy()
            for j in range(5):
                m_mat[j, j] += lam * max(a_mat[j, j], 1e-12)
            step = _solve5(m_mat, -grad)
            p_new = p + step
            for j in range(5):
                p_new[j] = min(max(p_new[j], lb[j]), ub[j])
            c_new = _lm_eval(k, vol, sw, t, p_new, r_try, j_dummy, False)
            if c_new < cost:
                moved = 0.0
                for j in range(5):
                    moved = max(moved, abs(p_new[j] - p[j]) / (abs(p[j]) + 1e-8))
                rel = (cost - c_new) / max(cost, 1e-300)
                p = p_new
                cost = _lm_eval(k, vol, sw, t, p, r, jac, True)
                lam = max(lam / 3.0, 1e-12)
                accepted = True
                if rel < 1e-9 or moved < 1e-8:
                    return p, cost, it + 1
                break
            lam *= 4.0
        if not accepted:
            return p, cost, it + 1
    return p, cost, -1


def svi_fit_lm_py(
    k: FloatArray,
    vol: FloatArray,
    sw: FloatArray,
    t: float,
    p0: FloatArray,
    lb: FloatArray,
    ub: FloatArray,
    max_iter: int,
) -> tuple[FloatArray, float, int]:
    """Plain-Python twin of :func:`svi_fit_lm` (the same algorithm, interpreted)."""
    n = k.shape[0]
    p = np.clip(np.asarray(p0, dtype=np.float64), lb, ub)
    r, jac = np.empty(n), np.empty((n, 5))
    r_try, j_dummy = np.empty(n), np.empty((1, 5))
    lam = 1e-3
    cost = _lm_eval_impl(k, vol, sw, t, p, r, jac, True)
    for it in range(max_iter):
        a_mat, grad = jac.T @ jac, jac.T @ r
        accepted = False
        for _ in range(30):
            step = np.linalg.solve(a_mat + np.diag(lam * np.maximum(np.diag(a_mat), 1e-12)), -grad)
            p_new = np.clip(p + step, lb, ub)
            c_new = _lm_eval_impl(k, vol, sw, t, p_new, r_try, j_dummy, False)
            if c_new < cost:
                moved = float(np.max(np.abs(p_new - p) / (np.abs(p) + 1e-8)))
                rel = (cost - c_new) / max(cost, 1e-300)
                p = p_new
                cost = _lm_eval_impl(k, vol, sw, t, p, r, jac, True)
                lam = max(lam / 3.0, 1e-12)
                accepted = True
                if rel < 1e-9 or moved < 1e-8:
                    return p, cost, it + 1
                break
            lam *= 4.0
        if not accepted:
            return p, cost, it + 1
    return p, cost, -1
