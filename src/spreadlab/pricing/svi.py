"""Per-expiry raw-SVI fits with a no-butterfly-arbitrage constraint.

Raw SVI (Gatheral 2004) models the total implied variance of one expiry at
log-moneyness ``k = ln(K / F)``::

    w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2)),   sigma_BS(k) = sqrt(w(k) / T)

A fit minimises the (optionally weighted) squared implied-vol errors in two
stages:

1. unconstrained in the slice's interior: box-projected Levenberg-Marquardt
   with the analytic Jacobian (numba, :func:`spreadlab.kernels.svi.svi_fit_lm`;
   scipy's trust-region ``least_squares`` if it does not converge), box bounds
   ``b >= 0``, ``|rho| < 1``, ``sigma > 0``, from up to three starts (``rho`` = -0.3, 0.5, -0.8), keeping
   the best and stopping early once one fits to 0.25 vol points RMS;
2. if that slice has butterfly arbitrage, i.e. Gatheral's density
   ``g(k) < 0`` somewhere on the check grid (see :mod:`spreadlab.kernels.svi`),
   or breaks ``w >= 0`` or the wing bound ``b (1 + |rho|) <= 2`` (which keeps
   ``g`` positive far in the wings), the fit is redone with SLSQP under those
   constraints (``g`` on the fixed grid and on ``m +/- 6 sigma``, which follows
   narrow short-dated smiles), started from stage 1 and, if that fails, from
   a nearly flat arbitrage-free smile.

The check grid spans the data's log-moneyness widened by ``grid_margin`` on
each side; SLSQP enforces ``g >= 1e-3`` on ``grid_points`` of it and the
result is checked (``min_g``, ``butterfly_free``) on 4001 points. A fit
whose final slice still violates the constraints (beyond a ``1e-10``
tolerance) is returned with ``converged=False``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import optimize

from spreadlab._typing import FloatArray
from spreadlab.core.validate import require_finite, require_in_range, require_positive
from spreadlab.errors import InsufficientDataError, ValidationError
from spreadlab.kernels import svi as _k

__all__ = ["SVI", "SVIFit", "SVIParams"]

_G_TOL = -1e-10
_G_MARGIN = 1e-3  # the SLSQP stage asks g >= this on its grid so g >= 0 between grid points
_CHECK_POINTS = 4001
_LOCAL = np.linspace(-6.0, 6.0, 61)
_MAX_WING = 2.0


@dataclass(frozen=True, slots=True, kw_only=True)
class SVIParams:
    """Raw SVI parameters of one expiry (total variance in log-moneyness)."""

    a: float
    b: float
    rho: float
    m: float
    sigma: float

    def __post_init__(self) -> None:
        require_finite("a", self.a)
        require_finite("m", self.m)
        require_in_range("b", self.b, 0.0, math.inf)
        require_in_range("rho", self.rho, -1.0, 1.0, inclusive=False)
        require_positive("sigma", self.sigma)
        floor = self.a + self.b * self.sigma * math.sqrt(1.0 - self.rho * self.rho)
        if floor < -1e-12:
            raise ValidationError(
                f"a + b sigma sqrt(1 - rho^2) = {floor!r} must be >= 0 (the minimum total variance)"
            )

    def total_variance(self, k: npt.ArrayLike) -> FloatArray:
        """Return ``w(k)`` at log-moneyness ``k``."""
        kk = np.ascontiguousarray(np.atleast_1d(np.asarray(k, dtype=np.float64)))
        return _k.svi_total_variance(kk, self.a, self.b, self.rho, self.m, self.sigma)

    def implied_vol(self, k: npt.ArrayLike, expiry_years: float) -> FloatArray:
        """Return the Black implied vol ``sqrt(w(k) / T)``."""
        t = require_positive("expiry_years", expiry_years)
        return np.sqrt(np.maximum(self.total_variance(k), 0.0) / t)

    def g(self, k: npt.ArrayLike) -> FloatArray:
        """Return Gatheral's butterfly density ``g(k)`` (>= 0 everywhere iff no butterfly arbitrage)."""
        kk = np.ascontiguousarray(np.atleast_1d(np.asarray(k, dtype=np.float64)))
        return _k.svi_g(kk, self.a, self.b, self.rho, self.m, self.sigma)

    def as_tuple(self) -> tuple[float, float, float, float, float]:
        """Return ``(a, b, rho, m, sigma)``."""
        return (self.a, self.b, self.rho, self.m, self.sigma)


@dataclass(frozen=True, slots=True, kw_only=True)
class SVIFit:
    """The result of fitting raw SVI to one expiry.

    ``rmse_vol_points`` and ``max_error_vol_points`` are the (weighted) RMSE
    and largest absolute error of the fitted implied vols in vol points
    (1 vol point = 0.01). ``min_g`` is the minimum of Gatheral's ``g`` on the
    check grid ``[grid_k_min, grid_k_max]``; ``butterfly_free`` is ``min_g >= 0``
    (to 1e-10). ``constrained`` says whether the SLSQP stage was needed.
    ``k_min`` / ``k_max`` bound the log-moneyness of the fitted quotes.
    """

    params: SVIParams
    expiry_years: float
    n_points: int
    rmse_vol_points: float
    max_error_vol_points: float
    converged: bool
    butterfly_free: bool
    min_g: float
    constrained: bool
    grid_k_min: float
    grid_k_max: float
    k_min: float
    k_max: float
    message: str

    def implied_vol(self, k: npt.ArrayLike) -> FloatArray:
        """Return the fitted implied vol at log-moneyness ``k``."""
        return self.params.implied_vol(k, self.expiry_years)

    def total_variance(self, k: npt.ArrayLike) -> FloatArray:
        """Return the fitted total variance at log-moneyness ``k``."""
        return self.params.total_variance(k)


def _model_vol(p: FloatArray, k: FloatArray, t: float) -> FloatArray:
    w = _k.svi_total_variance(k, p[0], p[1], p[2], p[3], p[4])
    return np.sqrt(np.maximum(w, 1e-16) / t)


@dataclass(frozen=True, slots=True, kw_only=True)
class SVI:
    """Specification of a raw-SVI slice fit; :meth:`fit` returns an :class:`SVIFit`.

    Parameters
    ----------
    min_points
        Fewest quotes a slice needs (at least 5: SVI has five parameters).
    grid_points
        Points of the butterfly-arbitrage check grid.
    grid_margin
        How far (in log-moneyness) the check grid extends beyond the data on each side.

    Examples
    --------
    >>> import numpy as np
    >>> k = np.linspace(-0.4, 0.4, 21)
    >>> true = SVIParams(a=0.02, b=0.1, rho=-0.4, m=0.05, sigma=0.2)
    >>> fit = SVI().fit(k, true.implied_vol(k, 0.5), expiry_years=0.5)
    >>> fit.converged, fit.butterfly_free, fit.rmse_vol_points < 1e-6
    (True, True, True)
    """

    min_points: int = 5
    grid_points: int = 201
    grid_margin: float = 1.0

    def __post_init__(self) -> None:
        if isinstance(self.min_points, bool) or not isinstance(self.min_points, int) or self.min_points < 5:
            raise ValidationError(f"min_points={self.min_points!r} must be an int >= 5")
        if (
            isinstance(self.grid_points, bool)
            or not isinstance(self.grid_points, int)
            or self.grid_points < 11
        ):
            raise ValidationError(f"grid_points={self.grid_points!r} must be an int >= 11")
        require_in_range("grid_margin", self.grid_margin, 0.0, 10.0)

    def fit(
        self,
        log_moneyness: npt.ArrayLike,
        implied_vol: npt.ArrayLike,
        *,
        expiry_years: float,
        weights: npt.ArrayLike | None = None,
    ) -> SVIFit:
        """Fit raw SVI to one expiry's implied vols.

        Parameters
        ----------
        log_moneyness
            ``ln(K / F)`` of each quote (finite).
        implied_vol
            Implied vol of each quote (finite, > 0), decimal.
        expiry_years
            Time to expiry (> 0).
        weights
            Optional non-negative weight of each quote (e.g. vega or 1 / spread).
        """
        t = require_positive("expiry_years", expiry_years)
        k = np.ascontiguousarray(np.asarray(log_moneyness, dtype=np.float64).ravel())
        v = np.ascontiguousarray(np.asarray(implied_vol, dtype=np.float64).ravel())
        if k.shape != v.shape:
            raise ValidationError(f"log_moneyness has {k.size} values but implied_vol has {v.size}")
        for name, arr in (("log_moneyness", k), ("implied_vol", v)):
            bad = ~np.isfinite(arr)
            if bad.any():
                i = int(np.argmax(bad))
                raise ValidationError(f"{name}[{i}]={arr[i]!r} must be finite")
        if (v <= 0).any():
            i = int(np.argmax(v <= 0))
            raise ValidationError(f"implied_vol[{i}]={v[i]!r} must be > 0")
        if weights is None:
            wts = np.ones_like(k)
        else:
            wts = np.asarray(weights, dtype=np.float64).ravel()
            if wts.shape != k.shape or not np.isfinite(wts).all() or (wts < 0).any() or wts.sum() <= 0:
                raise ValidationError("weights must be finite, >= 0, not all 0, one per quote")
        if np.unique(k).size < self.min_points:
            raise InsufficientDataError(
                f"an SVI slice needs >= {self.min_points} distinct strikes, got {np.unique(k).size}"
            )
        sw = np.sqrt(wts / wts.mean())
        grid = np.linspace(k.min() - self.grid_margin, k.max() + self.grid_margin, self.grid_points)
        return _fit(k, v, sw, t, grid)


def _fit(k: FloatArray, v: FloatArray, sw: FloatArray, t: float, grid: FloatArray) -> SVIFit:
    w_mkt = v * v * t
    wmax = float(w_mkt.max())
    span = float(k.max() - k.min())
    lb = np.array([-wmax, 0.0, -0.999, k.min() - span - 0.5, 1e-4])

    def resid_p(p: FloatArray) -> FloatArray:
        return sw * (_model_vol(p, k, t) - v)

    ub = np.array([wmax, 4.0, 0.999, k.max() + span + 0.5, max(2.0, 2 * span)])

    def jac(p: FloatArray) -> FloatArray:
        _, b, rho, m, sig = p
        x = k - m
        r = np.sqrt(x * x + sig * sig)
        scale = sw / (2.0 * _model_vol(p, k, t) * t)
        out = np.empty((k.size, 5))
        out[:, 0] = scale
        out[:, 1] = scale * (rho * x + r)
        out[:, 2] = scale * b * x
        out[:, 3] = scale * b * (-rho - x / r)
        out[:, 4] = scale * b * sig / r
        return out

    i_min = int(np.argmin(w_mkt))
    best: FloatArray | None = None
    best_cost = math.inf
    starts = []
    for rho0 in (-0.3, 0.5, -0.8):
        sig0 = 0.25 * max(span, 0.05)
        b0 = min(0.5, max(1e-3, 2.0 * float(np.std(w_mkt)) / max(span, 1e-3)))
        a0 = float(w_mkt[i_min]) - b0 * sig0 * math.sqrt(1 - rho0 * rho0)
        starts.append(np.clip([a0, b0, rho0, float(k[i_min]), sig0], lb + 1e-9, ub - 1e-9))
    for x0 in starts:
        x_fit, cost, iters = _k.svi_fit_lm(k, v, sw, t, np.asarray(x0, dtype=np.float64), lb, ub, 500)
        if iters < 0 or not np.isfinite(cost):
            # the numba Levenberg-Marquardt ran out of iterations: fall back to scipy's trust region
            try:
                res = optimize.least_squares(
                    resid_p, x0, jac=jac, bounds=(lb, ub), method="trf", x_scale="jac", max_nfev=400
                )
            except (ValueError, np.linalg.LinAlgError):
                continue
            x_fit, cost = res.x, float(res.cost)
        if cost < best_cost:
            best_cost = float(cost)
            best = x_fit
        # a start that already fits to a quarter of a vol point RMS is kept; other starts guard local minima
        if best is not None and math.sqrt(2.0 * best_cost / k.size) < 0.0025 and _feasible(best, grid):
            break
    if best is None:
        best = starts[0]
    p = np.asarray(best, dtype=np.float64)
    constrained = False
    message = "least squares"
    if not _feasible(p, np.linspace(grid[0], grid[-1], _CHECK_POINTS)):
        constrained = True
        p, message = _constrained(p, k, v, sw, t, grid, lb, ub)
    dense = np.linspace(grid[0], grid[-1], _CHECK_POINTS)
    min_g = float(_k.svi_g(dense, *p).min())
    feasible = _feasible(p, dense)
    err = _model_vol(p, k, t) - v
    w_norm = sw * sw
    rmse = float(np.sqrt(np.sum(w_norm * err * err) / np.sum(w_norm))) * 100.0
    params = _as_params(p)
    return SVIFit(
        params=params,
        expiry_years=t,
        n_points=int(k.size),
        rmse_vol_points=rmse,
        max_error_vol_points=float(np.abs(err).max()) * 100.0,
        converged=bool(feasible and np.isfinite(rmse)),
        butterfly_free=bool(min_g >= _G_TOL),
        min_g=min_g,
        constrained=constrained,
        grid_k_min=float(grid[0]),
        grid_k_max=float(grid[-1]),
        k_min=float(k.min()),
        k_max=float(k.max()),
        message=message if feasible else f"{message}: constraints still violated (min g {min_g:.3g})",
    )


def _floor(p: FloatArray) -> float:
    return float(p[0] + p[1] * p[4] * math.sqrt(max(1.0 - p[2] * p[2], 0.0)))


def _feasible(p: FloatArray, grid: FloatArray) -> bool:
    if _floor(p) < -1e-12 or p[1] * (1 + abs(p[2])) > _MAX_WING + 1e-12:
        return False
    return bool(_k.svi_g(grid, *p).min() >= _G_TOL)


def _constrained(
    p0: FloatArray,
    k: FloatArray,
    v: FloatArray,
    sw: FloatArray,
    t: float,
    grid: FloatArray,
    lb: FloatArray,
    ub: FloatArray,
) -> tuple[FloatArray, str]:
    def obj(p: FloatArray) -> float:
        r = sw * (_model_vol(p, k, t) - v)
        return float(r @ r)

    def cons(p: FloatArray) -> FloatArray:
        # the fixed grid plus points that follow the smile's own scale (m +/- 6 sigma): narrow
        # short-dated slices can dip below zero between fixed grid points
        local = np.clip(p[3] + p[4] * _LOCAL, grid[0], grid[-1])
        g = _k.svi_g(np.concatenate([grid, local]), *p) - _G_MARGIN
        g = np.where(np.isfinite(g), g, -1.0)
        return np.concatenate([g, [_floor(p), _MAX_WING - p[1] * (1 + p[2]), _MAX_WING - p[1] * (1 - p[2])]])

    x0 = p0.copy()
    # pull the start into the wing bound; the optimiser handles the rest
    wing = x0[1] * (1 + abs(x0[2]))
    if wing > _MAX_WING:
        x0[1] *= _MAX_WING / wing * 0.99
    x0[0] = max(x0[0], -x0[1] * x0[4] * math.sqrt(1 - x0[2] ** 2) + 1e-8)
    dense = np.linspace(grid[0], grid[-1], _CHECK_POINTS)

    def run(start: FloatArray) -> tuple[FloatArray, str]:
        res = optimize.minimize(
            obj,
            start,
            method="SLSQP",
            bounds=list(zip(lb, ub, strict=True)),
            constraints=[{"type": "ineq", "fun": cons}],
            options={"maxiter": 300, "ftol": 1e-12},
        )
        return np.asarray(res.x, dtype=np.float64), str(res.message)

    p, msg = run(x0)
    # accept the constrained optimum near the unconstrained one; otherwise also try a nearly flat,
    # arbitrage-free start at the mean total variance and keep the better feasible fit
    loose = obj(p0) + 0.0001 * k.size  # 1 vol point RMS above the unconstrained fit
    ok = _feasible(p, dense)
    if ok and obj(p) <= loose:
        return p, "SLSQP with g(k) >= 0"
    w_mean = float(np.mean(v * v * t))
    span = float(k.max() - k.min())
    sig0 = min(max(0.5 * span, 0.01), float(ub[4]))
    b0 = min(0.1 * w_mean / sig0, 0.5)
    flat = np.clip(np.array([w_mean - b0 * sig0, b0, 0.0, float(np.median(k)), sig0]), lb, ub)
    p2, _ = run(flat)
    ok2 = _feasible(p2, dense)
    if ok2 and (not ok or obj(p2) < obj(p)):
        return p2, "SLSQP with g(k) >= 0 (flat start)"
    if ok:
        return p, "SLSQP with g(k) >= 0"
    return p, f"SLSQP: {msg}"


def _as_params(p: FloatArray) -> SVIParams:
    a, b, rho, m, sigma = (float(x) for x in p)
    b = max(b, 0.0)
    rho = min(max(rho, -0.999999), 0.999999)
    floor = a + b * sigma * math.sqrt(1 - rho * rho)
    if floor < 0:
        a -= floor
    return SVIParams(a=a, b=b, rho=rho, m=m, sigma=max(sigma, 1e-8))
