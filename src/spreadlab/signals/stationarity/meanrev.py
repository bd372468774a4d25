"""Mean-reversion diagnostics: Hurst exponent, half-life, variance ratio, mean crossings.

Hurst exponent (estimator: *variance of lagged differences*). For a process
with stationary increments and self-similarity index ``H``,
``E[(x_{t+τ} - x_t)²] ∝ τ^{2H}``; so ``H`` is the OLS slope of
``log std(x_{t+τ} - x_t)`` on ``log τ`` over ``τ = min_lag..max_lag``.
``H = 0.5`` for a random walk, ``H < 0.5`` for a mean-reverting series
(anti-persistent increments), ``H > 0.5`` for a trending one. Pass the
*level* of the spread (or log price), not its changes.

Half-life (AR(1)/discretised Ornstein–Uhlenbeck): OLS of
``Δs_t = a + b s_{t-1} + ε_t``; ``φ = 1 + b`` and the half-life of a shock is
``ln 2 / -ln φ`` bars for ``0 < φ < 1`` (``ln 2 / -ln |φ|`` for ``-1 < φ <= 0``);
``φ >= 1`` or ``φ <= -1`` do not revert (infinite half-life). The standard
error is the delta method: ``se(h) = se(b) ln 2 / (φ ln² φ)``.

Variance ratio (Lo and MacKinlay 1988), overlapping ``q``-period changes of
the level ``p_0..p_T``, ``μ = (p_T - p_0)/T``::

    σ²_a = Σ (Δp_t - μ)² / (T - 1)
    σ²_c = Σ_{t>=q} (p_t - p_{t-q} - qμ)² / m,   m = q (T - q + 1)(1 - q/T)
    VR(q) = σ²_c / σ²_a
    z  = √T (VR - 1) / √(2(2q - 1)(q - 1) / (3q))                      (homoskedastic)
    z* = √T (VR - 1) / √θ,  θ = Σ_{j=1..q-1} [2(q - j)/q]² δ_j,
         δ_j = T Σ_t (Δp_t - μ)²(Δp_{t-j} - μ)² / [Σ_t (Δp_t - μ)²]²   (heteroskedasticity-robust)

with a two-sided normal p-value. ``VR < 1`` indicates mean reversion.

Mean crossings: how many times the series changes side of its sample mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.special import ndtr

from spreadlab.errors import InsufficientDataError, ValidationError
from spreadlab.kernels.stats import lagged_diff_std
from spreadlab.kernels.stats import mean_crossings as _mean_crossings_kernel

from ._common import as_series

__all__ = [
    "HalfLifeResult",
    "HurstResult",
    "VarianceRatioResult",
    "half_life",
    "hurst",
    "mean_crossings",
    "variance_ratio",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class HurstResult:
    """Outcome of :func:`hurst`.

    Attributes
    ----------
    exponent
        Estimated ``H``.
    stderr
        OLS standard error of the slope (ignores the overlap of the lags: a rough guide).
    r_squared
        Fit of the log-log regression.
    min_lag, max_lag
        Lags used.
    nobs
        Length of the series.
    estimator
        ``"lagged_difference_variance"``.
    """

    exponent: float
    stderr: float
    r_squared: float
    min_lag: int
    max_lag: int
    nobs: int
    estimator: Literal["lagged_difference_variance"] = "lagged_difference_variance"

    def summary(self) -> str:
        """Return a one-line report."""
        kind = "mean-reverting" if self.exponent < 0.5 else "persistent/random walk"
        return (
            f"Hurst exponent {self.exponent:.4f} (se {self.stderr:.4f}, R² {self.r_squared:.4f}; "
            f"lags {self.min_lag}..{self.max_lag}, nobs {self.nobs}): {kind}"
        )


def hurst(x: Any, *, min_lag: int = 2, max_lag: int = 100) -> HurstResult:
    """Estimate the Hurst exponent of the level series ``x`` from the variance of lagged differences.

    ``max_lag`` is capped at ``len(x) // 4`` so every lag has enough pairs.

    Parameters
    ----------
    x
        The level of the series (spread or log price).
    min_lag, max_lag
        Range of lags ``τ`` (at least two distinct lags after the cap).

    Returns
    -------
    HurstResult

    Examples
    --------
    >>> import numpy as np
    >>> from spreadlab.signals.stationarity import hurst
    >>> rng = np.random.default_rng(2)
    >>> abs(hurst(np.cumsum(rng.normal(size=20_000))).exponent - 0.5) < 0.05
    True
    """
    if isinstance(min_lag, bool) or not isinstance(min_lag, int) or min_lag < 1:
        raise ValidationError(f"min_lag={min_lag!r} must be an integer >= 1")
    if isinstance(max_lag, bool) or not isinstance(max_lag, int) or max_lag <= min_lag:
        raise ValidationError(f"max_lag={max_lag!r} must be an integer > min_lag={min_lag}")
    arr = as_series("x", x, min_obs=4 * (min_lag + 1), what=f"hurst with min_lag={min_lag}")
    top = min(max_lag, arr.shape[0] // 4)
    lags = np.arange(min_lag, top + 1, dtype=np.int64)
    sd = lagged_diff_std(arr, lags)
    if np.any(sd <= 0.0):
        tau = int(lags[np.argmax(sd <= 0.0)])
        raise ValidationError(f"x has constant {tau}-step differences; the Hurst exponent is undefined")
    lx = np.log(lags.astype(np.float64))
    ly = np.log(sd)
    lxm = lx - lx.mean()
    slope = float(lxm @ (ly - ly.mean()) / (lxm @ lxm))
    resid = ly - ly.mean() - slope * lxm
    ss_res = float(resid @ resid)
    ss_tot = float((ly - ly.mean()) @ (ly - ly.mean()))
    dof = lags.shape[0] - 2
    stderr = math.sqrt(ss_res / dof / float(lxm @ lxm)) if dof > 0 else 0.0
    return HurstResult(
        exponent=slope,
        stderr=stderr,
        r_squared=1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0,
        min_lag=min_lag,
        max_lag=top,
        nobs=arr.shape[0],
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class HalfLifeResult:
    """Outcome of :func:`half_life`.

    Attributes
    ----------
    half_life
        Bars for a shock to halve (``math.inf`` when the series does not revert).
    stderr
        Delta-method standard error of the half-life (``math.inf`` when it is infinite).
    phi
        AR(1) coefficient ``1 + b``.
    slope, slope_stderr
        ``b`` and its OLS standard error.
    intercept
        ``a``.
    mean_reverting
        True when ``|φ| < 1``.
    nobs
        Observations in the regression (``len(x) - 1``).
    """

    half_life: float
    stderr: float
    phi: float
    slope: float
    slope_stderr: float
    intercept: float
    mean_reverting: bool
    nobs: int

    def summary(self) -> str:
        """Return a one-line report."""
        if not self.mean_reverting:
            return f"half-life: infinite (phi {self.phi:.6f}: no mean reversion), nobs {self.nobs}"
        return (
            f"half-life {self.half_life:.4g} bars (se {self.stderr:.3g}), "
            f"phi {self.phi:.6f}, nobs {self.nobs}"
        )


def half_life(x: Any) -> HalfLifeResult:
    """Estimate the mean-reversion half-life of ``x`` (in bars) from an AR(1) regression.

    Examples
    --------
    >>> import numpy as np
    >>> from spreadlab.signals.stationarity import half_life
    >>> x = 0.5 ** np.arange(30.0)          # exact AR(1) with phi = 0.5
    >>> round(half_life(x).half_life, 10)
    1.0
    """
    arr = as_series("x", x, min_obs=4, what="half_life")
    lev = arr[:-1]
    dy = np.diff(arr)
    m = dy.shape[0]
    X = np.column_stack([np.ones(m), lev])
    beta, *_ = np.linalg.lstsq(X, dy, rcond=None)
    resid = dy - X @ beta
    s2 = float(resid @ resid) / (m - 2)
    lm = lev - lev.mean()
    sxx = float(lm @ lm)
    if sxx <= 0.0:
        raise ValidationError("x[:-1] is constant; the half-life is undefined")
    a, b = float(beta[0]), float(beta[1])
    se_b = math.sqrt(s2 / sxx)
    phi = 1.0 + b
    reverting = abs(phi) < 1.0
    if not reverting:
        hl, se = math.inf, math.inf
    elif phi == 0.0:
        hl, se = 0.0, 0.0
    else:
        lp = math.log(abs(phi))
        hl = -math.log(2.0) / lp
        se = se_b * math.log(2.0) / (abs(phi) * lp * lp)
    return HalfLifeResult(
        half_life=hl,
        stderr=se,
        phi=phi,
        slope=b,
        slope_stderr=se_b,
        intercept=a,
        mean_reverting=reverting,
        nobs=m,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class VarianceRatioResult:
    """Outcome of :func:`variance_ratio`.

    Attributes
    ----------
    ratio
        ``VR(q)``.
    statistic
        z statistic (robust ``z*`` when ``robust``).
    pvalue
        Two-sided normal p-value (H0: random walk, ``VR = 1``).
    lag
        ``q``.
    robust
        Whether the heteroskedasticity-robust variance was used.
    nobs
        Number of one-period changes ``T``.
    """

    ratio: float
    statistic: float
    pvalue: float
    lag: int
    robust: bool
    nobs: int

    def summary(self) -> str:
        """Return a one-line report."""
        kind = "robust z*" if self.robust else "z"
        return (
            f"Variance ratio VR({self.lag}) = {self.ratio:.4f}, {kind} {self.statistic:.4f}, "
            f"p-value {self.pvalue:.4g}, nobs {self.nobs}"
        )


def variance_ratio(
    x: Any, *, lag: int = 2, robust: bool = True, trend: Literal["c", "n"] = "c"
) -> VarianceRatioResult:
    """Run the Lo–MacKinlay variance-ratio test on the level series ``x`` (e.g. log prices).

    Parameters
    ----------
    x
        Levels ``p_0..p_T``.
    lag
        ``q >= 2``.
    robust
        Heteroskedasticity-robust ``z*`` (default) or homoskedastic ``z``.
    trend
        ``"c"`` estimates the drift ``μ``; ``"n"`` sets it to 0.

    Examples
    --------
    >>> import numpy as np
    >>> from spreadlab.signals.stationarity import variance_ratio
    >>> rng = np.random.default_rng(4)
    >>> variance_ratio(rng.normal(size=5000), lag=4).ratio < 0.5   # white noise levels revert fast
    True
    """
    if isinstance(lag, bool) or not isinstance(lag, int) or lag < 2:
        raise ValidationError(f"lag={lag!r} must be an integer >= 2")
    if trend not in ("c", "n"):
        raise ValidationError(f"trend={trend!r} must be 'c' or 'n'")
    arr = as_series("x", x, min_obs=2 * lag + 2, what=f"variance_ratio with lag={lag}")
    q = lag
    dp = np.diff(arr)
    T = dp.shape[0]
    if q >= T:
        raise InsufficientDataError(f"x has {arr.shape[0]} points; lag={q} needs at least {q + 2}")
    mu = (arr[-1] - arr[0]) / T if trend == "c" else 0.0
    dev = dp - mu
    sig_a = float(dev @ dev) / (T - 1)
    dq = arr[q:] - arr[:-q] - q * mu
    m = q * (T - q + 1) * (1.0 - q / T)
    sig_c = float(dq @ dq) / m
    if sig_a <= 0.0:
        raise ValidationError("x has constant changes; the variance ratio is undefined")
    vr = sig_c / sig_a
    if robust:
        z2 = dev**2
        scale = float(z2.sum()) ** 2
        theta = 0.0
        for j in range(1, q):
            delta = T * float(z2[j:] @ z2[:-j]) / scale
            theta += (2.0 * (q - j) / q) ** 2 * delta
    else:
        theta = 2.0 * (2 * q - 1) * (q - 1) / (3.0 * q)
    stat = math.sqrt(T) * (vr - 1.0) / math.sqrt(theta)
    return VarianceRatioResult(
        ratio=vr,
        statistic=stat,
        pvalue=float(2.0 * ndtr(-abs(stat))),
        lag=q,
        robust=robust,
        nobs=T,
    )


def mean_crossings(x: Any) -> int:
    """Return how many times ``x`` crosses its sample mean.

    Points exactly at the mean keep the previous side.

    Examples
    --------
    >>> from spreadlab.signals.stationarity import mean_crossings
    >>> mean_crossings([1.0, -1.0, 1.0, -1.0, 0.0, -1.0, 1.0])
    4
    """
    arr = as_series("x", x, min_obs=2, what="mean_crossings")
    return int(_mean_crossings_kernel(arr))
