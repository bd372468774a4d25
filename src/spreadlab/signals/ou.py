"""Exact maximum-likelihood fit of an Ornstein–Uhlenbeck process.

Model: ``dX = theta (mu - X) dt + sigma dW`` with ``t`` in years (365.25-day
years from the data's own timestamps; never a 252-day convention).

Regular sampling (all steps ``dt`` equal) — closed form via the AR(1) map
(exact discretisation, conditional on the first point)::

    X_{i+1} = a + b X_i + e_i,   e_i ~ N(0, v)
    b = exp(-theta dt),  a = mu (1 - b),  v = sigma^2 (1 - b^2) / (2 theta)

The conditional MLE of ``(a, b)`` is OLS of ``X_{i+1}`` on ``[1, X_i]`` and
``v = RSS / m`` (``m`` transitions); the map is one-to-one for ``0 < b < 1``,
so ``theta = -ln b / dt``, ``mu = a / (1 - b)``,
``sigma = sqrt(2 theta v / (1 - b^2))`` is the exact MLE. Standard errors: the
information matrix of ``(a, b, v)`` (``v (X'X)^-1`` and ``2 v^2 / m``) pushed
through the delta method (Jacobian written out in :func:`_delta_cov`).

Irregular sampling — the likelihood of :mod:`spreadlab.kernels.ou` with
``b_i = exp(-theta dt_i)`` is concentrated in ``theta`` (``mu`` and
``sigma`` have closed forms given ``theta``) and maximised by bounded Brent
search on ``log theta``; standard errors from the inverse of a central
finite-difference Hessian of the exact log-likelihood.

Half-life ``ln 2 / theta`` (years); its standard error by the delta method.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from spreadlab._typing import FloatArray, IntArray
from spreadlab.core.time import NS_PER_YEAR
from spreadlab.errors import ConvergenceError, ValidationError
from spreadlab.kernels import ou as _k
from spreadlab.signals.base import as_float_series, require_min_length

__all__ = ["OUFit", "fit_ou"]

_MIN_OBS = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class OUFit:
    """Result of :func:`fit_ou`; times in years.

    Attributes
    ----------
    mean, speed, vol
        ``mu``, ``theta`` (per year) and ``sigma`` (per sqrt(year)).
    half_life
        ``ln 2 / theta`` in years.
    stationary_std
        ``sigma / sqrt(2 theta)``: the spread's long-run standard deviation.
    se_mean, se_speed, se_vol, se_half_life
        Asymptotic standard errors.
    loglik
        Exact log-likelihood at the estimate (conditional on the first point).
    n_obs
        Number of observations (transitions + 1).
    dt
        Step in years (the median step when sampling is irregular).
    regular
        Whether every step was equal (closed-form path).
    """

    mean: float
    speed: float
    vol: float
    half_life: float
    stationary_std: float
    se_mean: float
    se_speed: float
    se_vol: float
    se_half_life: float
    loglik: float
    n_obs: int
    dt: float
    regular: bool

    @property
    def half_life_steps(self) -> float:
        """Return the half-life in sampling steps (``half_life / dt``)."""
        return self.half_life / self.dt

    def summary(self) -> str:
        """Return a plain-text table of the estimates and standard errors."""
        rows = [
            ("mean (mu)", self.mean, self.se_mean),
            ("speed (theta, 1/yr)", self.speed, self.se_speed),
            ("vol (sigma, 1/sqrt yr)", self.vol, self.se_vol),
            ("half-life (yr)", self.half_life, self.se_half_life),
        ]
        lines = [f"Ornstein-Uhlenbeck MLE  n={self.n_obs}  dt={self.dt:.6g} yr  loglik={self.loglik:.6g}"]
        lines += [f"  {name:<24}{est:>14.6g}  (se {se:.3g})" for name, est, se in rows]
        lines.append(f"  half-life in steps      {self.half_life_steps:>14.6g}")
        return "\n".join(lines)


def _steps_in_years(n: int, ts: IntArray | None, dt: float | None) -> FloatArray | None:
    """Return the steps in years from ``ts``, or None for a constant ``dt`` (validated)."""
    if (ts is None) == (dt is None):
        raise ValidationError("pass exactly one of ts (int64 ns timestamps) or dt (step in years)")
    if dt is not None:
        if isinstance(dt, bool) or not isinstance(dt, int | float) or not math.isfinite(dt) or dt <= 0:
            raise ValidationError(f"dt={dt!r} must be a positive number of years")
        return None
    t = np.asarray(ts)
    if t.ndim != 1 or t.size != n:
        raise ValidationError(f"ts must be 1-D with one timestamp per value: ts has {t.size}, values has {n}")
    if not np.issubdtype(t.dtype, np.integer):
        raise ValidationError(f"ts must be int64 nanoseconds UTC, got dtype {t.dtype}")
    d = np.diff(t.astype(np.int64))
    if (d <= 0).any():
        i = int(np.flatnonzero(d <= 0)[0]) + 1
        raise ValidationError(f"ts must be strictly increasing; row {i} ({t[i]}) <= row {i - 1} ({t[i - 1]})")
    return d.astype(np.float64) / NS_PER_YEAR


def _delta_cov(a: float, b: float, v: float, xtx_inv: FloatArray, m: int, dt: float) -> FloatArray:
    """Covariance of (mu, theta, sigma) from that of (a, b, v) by the delta method."""
    cov_abv = np.zeros((3, 3))
    cov_abv[:2, :2] = v * xtx_inv
    cov_abv[2, 2] = 2.0 * v * v / m
    lb = math.log(b)
    sigma = math.sqrt(-2.0 * lb * v / (dt * (1.0 - b * b)))
    jac = np.array(
        [
            [1.0 / (1.0 - b), a / (1.0 - b) ** 2, 0.0],
            [0.0, -1.0 / (b * dt), 0.0],
            # sigma = sqrt(g(b) v), g = -2 ln b / (dt (1 - b^2)); d ln g / db = 1/(b ln b) + 2b/(1-b^2)
            [0.0, 0.5 * sigma * (1.0 / (b * lb) + 2.0 * b / (1.0 - b * b)), 0.5 * sigma / v],
        ]
    )
    out: FloatArray = jac @ cov_abv @ jac.T
    return out


def _numeric_cov(x: FloatArray, dts: FloatArray, p: FloatArray) -> FloatArray:
    """Inverse of the negative central-difference Hessian of the exact log-likelihood at ``p``."""
    h = np.maximum(np.abs(p), 1e-8) * 1e-4
    h[0] = max(1e-3 * p[2] / math.sqrt(2.0 * p[1]), 1e-300)  # mean step: 1e-3 stationary std

    def f(q: FloatArray) -> float:
        return float(_k.ou_loglik(x, dts, float(q[0]), float(q[1]), float(q[2])))

    hess = np.zeros((3, 3))
    for i in range(3):
        for j in range(i, 3):
            ei = np.zeros(3)
            ej = np.zeros(3)
            ei[i] = h[i]
            ej[j] = h[j]
            val = (f(p + ei + ej) - f(p + ei - ej) - f(p - ei + ej) + f(p - ei - ej)) / (4 * h[i] * h[j])
            hess[i, j] = hess[j, i] = val
    try:
        cov: FloatArray = np.asarray(np.linalg.inv(-hess), dtype=np.float64)
    except np.linalg.LinAlgError as exc:
        raise ConvergenceError("OU information matrix is singular; standard errors undefined") from exc
    return cov


def fit_ou(values: FloatArray, *, ts: IntArray | None = None, dt: float | None = None) -> OUFit:
    """Fit ``dX = theta (mu - X) dt + sigma dW`` by exact maximum likelihood.

    Parameters
    ----------
    values
        The spread, finite floats, at least 4 points.
    ts
        Int64 nanosecond timestamps (strictly increasing), one per value; the
        steps in years are taken from them. Equal steps use the closed form,
        unequal steps the concentrated-likelihood search.
    dt
        Alternatively a constant step in years (e.g. ``1 / (365.25 * 24)`` for
        hourly bars). Pass exactly one of ``ts`` and ``dt``.

    Returns
    -------
    OUFit
        Estimates, standard errors, half-life and log-likelihood.

    Raises
    ------
    ValidationError
        NaN/inf values, mismatched ``ts``, or both/neither of ``ts``/``dt``.
    InsufficientDataError
        Fewer than 4 values.
    ConvergenceError
        The series does not mean-revert at this sampling (AR(1) coefficient
        ``b >= 1``) or alternates (``b <= 0``), so no OU speed exists.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> dt, theta, mu, sigma = 1 / 365.25, 20.0, 1.0, 0.5
    >>> b = np.exp(-theta * dt); sd = sigma * np.sqrt((1 - b * b) / (2 * theta))
    >>> x = np.empty(20_000); x[0] = mu
    >>> for i in range(1, x.size):
    ...     x[i] = mu + (x[i - 1] - mu) * b + sd * rng.standard_normal()
    >>> fit = fit_ou(x, dt=dt)
    >>> bool(abs(fit.speed - theta) < 2 * fit.se_speed), round(fit.half_life * 365.25, 1)
    (True, 13.5)
    """
    x = as_float_series("values", values)
    require_min_length("values", x.size, _MIN_OBS, why="to fit an OU process (3 transitions, 3 parameters)")
    dts = _steps_in_years(x.size, ts, dt)
    if float(np.ptp(x)) == 0.0:
        raise ValidationError(f"values is constant ({x[0]!r} throughout): an OU process cannot be fitted")
    m = x.size - 1
    m0, m1, sxx, sxy, syy = (float(v_) for v_ in _k.ar1_moments(x))
    if sxx <= 0.0:
        raise ValidationError("values[:-1] is constant: the AR(1) regression is singular")
    b = sxy / sxx
    a = m1 - b * m0
    if not 0.0 < b < 1.0:
        what = "does not mean-revert (random walk or explosive)" if b >= 1.0 else "alternates sign each step"
        raise ConvergenceError(
            f"AR(1) coefficient b={b:.6g} is outside (0, 1): the series {what} at this sampling, "
            "so no OU speed exists"
        )
    if dts is None or float(np.ptp(dts)) <= 1e-9 * float(dts[0]):
        regular = True
        step = float(dts[0]) if dts is not None else float(dt or 0.0)
        v = max(syy - b * sxy, 0.0) / m
        if v <= 0.0:
            raise ValidationError("values follow an exact AR(1) recursion (zero residual variance)")
        theta = -math.log(b) / step
        mu = a / (1.0 - b)
        sigma = math.sqrt(2.0 * theta * v / (1.0 - b * b))
        xtx_inv = np.array([[(sxx + m * m0 * m0) / (m * sxx), -m0 / sxx], [-m0 / sxx, 1.0 / sxx]])
        cov = _delta_cov(a, b, v, xtx_inv, m, step)
        # the exact OU likelihood at the MLE equals the Gaussian AR(1) likelihood with variance v
        loglik = -0.5 * m * (math.log(2.0 * math.pi * v) + 1.0)
    else:
        regular = False
        step = float(np.median(dts))
        t0 = -math.log(b) / step
        steps = dts

        def neg(log_theta: float) -> float:
            return -float(_k.ou_profile(x, steps, math.exp(log_theta))[2])

        res = optimize.minimize_scalar(
            neg, bounds=(math.log(t0) - 6.0, math.log(t0) + 6.0), method="bounded", options={"xatol": 1e-10}
        )
        if not res.success:
            raise ConvergenceError(f"OU speed search did not converge: {res.message}")
        theta = math.exp(float(res.x))
        mu, s2, loglik = (float(v_) for v_ in _k.ou_profile(x, steps, theta))
        sigma = math.sqrt(2.0 * theta * s2)
        cov = _numeric_cov(x, steps, np.array([mu, theta, sigma]))
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    half_life = math.log(2.0) / theta
    return OUFit(
        mean=mu,
        speed=theta,
        vol=sigma,
        half_life=half_life,
        stationary_std=sigma / math.sqrt(2.0 * theta),
        se_mean=float(se[0]),
        se_speed=float(se[1]),
        se_vol=float(se[2]),
        se_half_life=half_life / theta * float(se[1]),
        loglik=loglik,
        n_obs=int(x.size),
        dt=step,
        regular=regular,
    )
