"""Peer: the usual notebook OU workflow with statsmodels/scipy (no spreadlab).

Usage: python ou_scipy.py DATA.npz
* OU fit A: statsmodels AutoReg(1) with constant, mapped to (mu, theta, sigma).
* OU fit B: scipy L-BFGS-B on the exact OU negative log-likelihood (3 parameters).
* Bertram bands: scipy fsolve on eq. 13 with erfi.
* Leung-Li levels: F/G by numerical quadrature, forward-difference derivatives, brentq.
Prints one JSON line with best-of-3 seconds and the estimates.
"""

from __future__ import annotations

import json
import math
import sys
import time
from importlib.metadata import version

import numpy as np
from scipy import integrate, optimize, special
from statsmodels.tsa.ar_model import AutoReg


def best(fn, repeat=3):
    t = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        t = min(t, time.perf_counter() - t0)
    return t, out


def ou_autoreg(x, dt):
    r = AutoReg(x, lags=1, trend="c").fit()
    a, b = r.params
    theta = -math.log(b) / dt
    return {"mu": a / (1 - b), "theta": theta, "sigma": math.sqrt(2 * theta * r.sigma2 / (1 - b * b))}


def ou_mle(x, dt):
    """Exact-likelihood MLE over (mu, log theta, log sigma), started from the lag-1 autocorrelation guess."""
    x0, x1 = x[:-1], x[1:]
    rho = float(np.corrcoef(x0, x1)[0, 1])
    theta0 = -math.log(rho) / dt
    sigma0 = float(np.std(x)) * math.sqrt(2 * theta0)

    def nll(p):
        mu, theta, sigma = p[0], math.exp(p[1]), math.exp(p[2])
        b = math.exp(-theta * dt)
        v = sigma * sigma * (1 - b * b) / (2 * theta)
        e = x1 - mu - (x0 - mu) * b
        return 0.5 * (len(e) * math.log(2 * math.pi * v) + float(e @ e) / v) / len(e)

    res = optimize.minimize(nll, [float(x.mean()), math.log(theta0), math.log(sigma0)], method="L-BFGS-B")
    return {"mu": res.x[0], "theta": math.exp(res.x[1]), "sigma": math.exp(res.x[2])}


def bertram(alpha, eta, c):
    def eq13(a):
        a = float(np.asarray(a).reshape(-1)[0])
        return math.exp(alpha * a * a / eta**2) * (2 * a + c) - eta * math.sqrt(
            math.pi / alpha
        ) * special.erfi(a * math.sqrt(alpha) / eta)

    a = optimize.fsolve(eq13, -c - 0.01)[0]
    return a


def leung_li(theta, mu, sigma, r, c):
    k = math.sqrt(2 * mu) / sigma

    def F(x):
        return integrate.quad(
            lambda u: u ** (r / mu - 1) * math.exp(k * (x - theta) * u - u * u / 2), 0, np.inf
        )[0]

    def G(x):
        return integrate.quad(
            lambda u: u ** (r / mu - 1) * math.exp(k * (theta - x) * u - u * u / 2), 0, np.inf
        )[0]

    h = 1e-4
    sd = sigma / math.sqrt(2 * mu)
    b = optimize.brentq(lambda p: F(p) - (p - c) * (F(p + h) - F(p)) / h, theta - 6 * sd, theta + 6 * sd)

    def V(x):
        return (b - c) * F(x) / F(b) if x < b else x - c

    d = optimize.brentq(
        lambda p: G(p) * ((V(p + h) - V(p)) / h - 1) - (G(p + h) - G(p)) / h * (V(p) - p - c),
        theta - 6 * sd,
        b - 1e-6,
    )
    return b, d


def main() -> None:
    import warnings

    warnings.filterwarnings("ignore")
    data = np.load(sys.argv[1])
    x, dt = data["x"], float(data["dt"])
    t_ar, fit_ar = best(lambda: ou_autoreg(x, dt))
    t_mle, fit_mle = best(lambda: ou_mle(x, dt))
    t_b, a = best(lambda: bertram(180.967, 0.1538, 0.001))
    t_ll, (b, d) = best(lambda: leung_li(0.71758, 6.306, math.sqrt(0.00698), 0.05, 0.02), repeat=1)
    print(
        json.dumps(
            {
                "ou_autoreg_s": t_ar,
                "ou_mle_s": t_mle,
                "bertram_s": t_b,
                "leung_li_s": t_ll,
                "fit_autoreg": fit_ar,
                "fit_mle": fit_mle,
                "bertram_entry": a,
                "leung_li_exit": b,
                "leung_li_entry": d,
                "statsmodels": version("statsmodels"),
                "scipy": version("scipy"),
            }
        )
    )


if __name__ == "__main__":
    main()
