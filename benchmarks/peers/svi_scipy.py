"""Peer: raw-SVI slice fits with scipy alone, on the same objective and constraints as spreadlab's SVI.

Usage: python svi_scipy.py SLICES.npz OUT.npz

Per slice (log-moneyness ``k``, implied vols ``v``, weights 1, expiry ``t``):

- objective: the squared implied-vol errors ``sum (sigma_SVI(k) - v)^2``, with
  ``sigma_SVI = sqrt(max(w, 1e-16) / t)`` and raw SVI ``w = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2))``;
- box bounds: ``|a| <= max(v^2 t)``, ``0 <= b <= 4``, ``|rho| <= 0.999``, ``m`` within the data's span
  widened by one span + 0.5, ``1e-4 <= sigma <= max(2, 2 span)``;
- stage 1: ``scipy.optimize.least_squares`` (trust-region reflective, analytic Jacobian) from the same
  three starts (rho = -0.3, 0.5, -0.8), keeping the best, stopping once a feasible start fits to 0.25
  vol points RMS;
- stage 2, only where stage 1 leaves butterfly arbitrage (Gatheral's ``g(k) < 0`` on the grid of the
  data's span widened by 1 on each side, 4001 points), ``w < 0`` or the wing bound
  ``b (1 + |rho|) > 2``: ``scipy.optimize.minimize(method="SLSQP")`` under ``g >= 1e-3`` on 201 grid
  points and on ``m +/- 6 sigma``, ``w >= 0`` and the wing bound, from the stage-1 optimum.

Writes per slice the parameters, RMSE (vol points), feasibility and fit time; prints one JSON line.
"""

from __future__ import annotations

import json
import math
import sys
import time
from importlib.metadata import version

import numpy as np
from scipy import optimize

LOCAL = np.linspace(-6.0, 6.0, 61)


def total_variance(p: np.ndarray, k: np.ndarray) -> np.ndarray:
    a, b, rho, m, sig = p
    x = k - m
    return a + b * (rho * x + np.sqrt(x * x + sig * sig))


def density_g(p: np.ndarray, k: np.ndarray) -> np.ndarray:
    a, b, rho, m, sig = p
    x = k - m
    r = np.sqrt(x * x + sig * sig)
    w = a + b * (rho * x + r)
    w1 = b * (rho + x / r)
    w2 = b * sig * sig / r**3
    with np.errstate(divide="ignore", invalid="ignore"):
        g = (1.0 - k * w1 / (2.0 * w)) ** 2 - 0.25 * w1 * w1 * (1.0 / w + 0.25) + 0.5 * w2
    return np.where(w > 0.0, g, -np.inf)


def feasible(p: np.ndarray, dense: np.ndarray) -> bool:
    floor = p[0] + p[1] * p[4] * math.sqrt(max(1.0 - p[2] ** 2, 0.0))
    if floor < -1e-12 or p[1] * (1 + abs(p[2])) > 2.0 + 1e-12:
        return False
    return bool(density_g(p, dense).min() >= -1e-10)


def fit(k: np.ndarray, v: np.ndarray, t: float) -> tuple[np.ndarray, bool]:
    w_mkt = v * v * t
    wmax, span = float(w_mkt.max()), float(k.max() - k.min())
    lb = np.array([-wmax, 0.0, -0.999, k.min() - span - 0.5, 1e-4])
    ub = np.array([wmax, 4.0, 0.999, k.max() + span + 0.5, max(2.0, 2 * span)])
    grid = np.linspace(k.min() - 1.0, k.max() + 1.0, 201)
    dense = np.linspace(grid[0], grid[-1], 4001)

    def vol(p: np.ndarray) -> np.ndarray:
        return np.sqrt(np.maximum(total_variance(p, k), 1e-16) / t)

    def resid(p: np.ndarray) -> np.ndarray:
        return vol(p) - v

    def jac(p: np.ndarray) -> np.ndarray:
        _, b, rho, m, sig = p
        x = k - m
        r = np.sqrt(x * x + sig * sig)
        s = 1.0 / (2.0 * vol(p) * t)
        return np.column_stack([s, s * (rho * x + r), s * b * x, s * b * (-rho - x / r), s * b * sig / r])

    i_min = int(np.argmin(w_mkt))
    best, best_cost = None, math.inf
    for rho0 in (-0.3, 0.5, -0.8):
        sig0 = 0.25 * max(span, 0.05)
        b0 = min(0.5, max(1e-3, 2.0 * float(np.std(w_mkt)) / max(span, 1e-3)))
        a0 = float(w_mkt[i_min]) - b0 * sig0 * math.sqrt(1 - rho0 * rho0)
        x0 = np.clip([a0, b0, rho0, float(k[i_min]), sig0], lb + 1e-9, ub - 1e-9)
        res = optimize.least_squares(resid, x0, jac=jac, bounds=(lb, ub), method="trf", x_scale="jac")
        if res.cost < best_cost:
            best, best_cost = res.x, float(res.cost)
        if math.sqrt(2.0 * best_cost / k.size) < 0.0025 and feasible(best, grid):
            break
    p = np.asarray(best)
    if feasible(p, dense):
        return p, False

    def obj(q: np.ndarray) -> float:
        r = resid(q)
        return float(r @ r)

    def cons(q: np.ndarray) -> np.ndarray:
        local = np.clip(q[3] + q[4] * LOCAL, grid[0], grid[-1])
        g = density_g(q, np.concatenate([grid, local])) - 1e-3
        g = np.where(np.isfinite(g), g, -1.0)
        floor = q[0] + q[1] * q[4] * math.sqrt(max(1 - q[2] ** 2, 0.0))
        return np.concatenate([g, [floor, 2.0 - q[1] * (1 + q[2]), 2.0 - q[1] * (1 - q[2])]])

    x0 = p.copy()
    wing = x0[1] * (1 + abs(x0[2]))
    if wing > 2.0:
        x0[1] *= 2.0 / wing * 0.99
    x0[0] = max(x0[0], -x0[1] * x0[4] * math.sqrt(1 - x0[2] ** 2) + 1e-8)
    res = optimize.minimize(
        obj, x0, method="SLSQP", bounds=list(zip(lb, ub)), constraints=[{"type": "ineq", "fun": cons}],
        options={"maxiter": 300, "ftol": 1e-12},
    )  # fmt: skip
    return np.asarray(res.x), True


def main() -> None:
    data = np.load(sys.argv[1])
    k_all, v_all, offsets, ts = data["k"], data["v"], data["offsets"], data["t"]
    n = ts.size
    params = np.empty((n, 5))
    rmse = np.empty(n)
    ok = np.empty(n, dtype=bool)
    constrained = np.empty(n, dtype=bool)
    seconds = np.empty(n)
    for i in range(n):
        k, v, t = k_all[offsets[i] : offsets[i + 1]], v_all[offsets[i] : offsets[i + 1]], float(ts[i])
        t0 = time.perf_counter()
        p, c = fit(k, v, t)
        seconds[i] = time.perf_counter() - t0
        params[i], constrained[i] = p, c
        err = np.sqrt(np.maximum(total_variance(p, k), 1e-16) / t) - v
        rmse[i] = float(np.sqrt(np.mean(err * err))) * 100.0
        ok[i] = feasible(p, np.linspace(k.min() - 1.0, k.max() + 1.0, 4001))
    np.savez(sys.argv[2], params=params, rmse=rmse, feasible=ok, constrained=constrained, seconds=seconds)
    print(json.dumps({"slices": n, "mean_ms": float(seconds.mean() * 1e3), "scipy": version("scipy")}))


if __name__ == "__main__":
    main()
