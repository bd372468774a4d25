"""Hedge ratios and the spreads they imply: OLS, total least squares, rolling OLS, minimum half-life.

Every method regresses ``y`` (the leg held long one unit) on ``x`` and returns
the spread ``s = y - alpha - beta x`` (``alpha = 0`` without intercept):

* **OLS** — ``beta = cov(x, y) / var(x)``; standard error
  ``sqrt(s2 / sum (x - xbar)^2)`` with ``s2 = RSS / (n - 2)``.
* **Total least squares** (orthogonal regression; Golub & Van Loan 1980) —
  minimises perpendicular distances, symmetric in ``x`` and ``y``:
  ``(v_x, v_y)`` the leading eigenvector of the 2x2 sample covariance,
  ``beta = v_y / v_x``.
* **Rolling OLS** — OLS on a trailing window that includes the current
  point (:func:`spreadlab.kernels.rolling.rolling_ols`, O(n)): ``beta_t`` and
  ``alpha_t`` are known at the close of bar ``t``. The TRADABLE spread at
  ``t`` uses the ratio fitted up to ``t - 1``,
  ``s_t = y_t - alpha_{t-1} - beta_{t-1} x_t``, so the bar's own prices
  never enter the ratio they are hedged with (no look-ahead); the in-sample
  ``residual`` ``y_t - alpha_t - beta_t x_t`` is kept for diagnostics only.
* **Minimum half-life** — the ``beta`` whose spread ``y - beta x`` has the
  fastest mean reversion, i.e. the smallest AR(1) coefficient
  ``b(beta) = cov(s_t, s_{t-1}) / var(s_{t-1})``. With lagged moments
  ``b(beta) = (A - 2 B beta + C beta^2) / (D - 2 E beta + F beta^2)`` (``A =
  cov(y_t, y_{t-1})``, ``B = (cov(y_t, x_{t-1}) + cov(x_t, y_{t-1})) / 2``,
  ``C = cov(x_t, x_{t-1})``, ``D = var(y_{t-1})``, ``E = cov(y_{t-1},
  x_{t-1})``, ``F = var(x_{t-1})``), so ``b'(beta) = 0`` is the quadratic
  ``(C E - B F) beta^2 + (A F - C D) beta + (B D - A E) = 0``, solved exactly;
  the half-life ``-ln 2 / ln b`` steps then comes from :func:`fit_ou`.

The Kalman filter hedge with a random-walk ratio is :class:`spreadlab.signals.kalman.KalmanHedge`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from spreadlab._typing import FloatArray, IntArray
from spreadlab.errors import ConvergenceError, ValidationError
from spreadlab.kernels import rolling as _k
from spreadlab.signals.base import as_float_series, require_min_length, require_same_length
from spreadlab.signals.ou import OUFit, fit_ou

__all__ = [
    "HedgeMethod",
    "RollingHedgeResult",
    "StaticHedgeResult",
    "min_half_life_hedge",
    "ols_hedge",
    "rolling_ols_hedge",
    "tls_hedge",
]

HedgeMethod = Literal["ols", "tls", "min_half_life"]


@dataclass(frozen=True, slots=True, kw_only=True)
class StaticHedgeResult:
    """A constant hedge ratio and the spread it implies.

    Attributes
    ----------
    method
        ``"ols"``, ``"tls"`` or ``"min_half_life"``.
    beta, alpha
        Hedge ratio and intercept (``alpha`` is 0 when fitted without one).
    spread
        ``y - alpha - beta x``.
    beta_se
        OLS standard error of ``beta`` (None for other methods).
    ou
        The OU fit of the spread (minimum half-life method only).
    """

    method: HedgeMethod
    beta: float
    alpha: float
    spread: FloatArray
    beta_se: float | None = None
    ou: OUFit | None = None

    def summary(self) -> str:
        """Return a one-line summary."""
        se = "" if self.beta_se is None else f" (se {self.beta_se:.3g})"
        hl = "" if self.ou is None else f", spread half-life {self.ou.half_life_steps:.4g} steps"
        return f"{self.method} hedge: beta {self.beta:.6g}{se}, alpha {self.alpha:.6g}{hl}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RollingHedgeResult:
    """Rolling-OLS hedge ratios and the tradable spread they imply.

    Attributes
    ----------
    beta, alpha
        Ratio and intercept fitted on the window ending at (and including)
        ``t``; NaN for the first ``min_periods - 1`` points (warm-up).
    spread
        Tradable spread ``y_t - alpha_{t-1} - beta_{t-1} x_t``: the ratio
        fitted on data up to ``t - 1`` only; NaN for the first
        ``min_periods`` points.
    residual
        In-sample residual ``y_t - alpha_t - beta_t x_t`` (uses bar ``t`` in
        its own ratio: a diagnostic, not a tradable series).
    window, min_periods
        The window options.
    """

    beta: FloatArray
    alpha: FloatArray
    spread: FloatArray
    residual: FloatArray
    window: int
    min_periods: int

    def summary(self) -> str:
        """Return a one-line summary."""
        b = self.beta[self.min_periods - 1 :]
        return (
            f"rolling OLS hedge (window {self.window}): beta last {b[-1]:.6g}, "
            f"range [{b.min():.6g}, {b.max():.6g}]"
        )


def _pair(y: FloatArray, x: FloatArray, needed: int, why: str) -> tuple[FloatArray, FloatArray]:
    ya = as_float_series("y", y)
    xa = as_float_series("x", x)
    n = require_same_length(y=ya, x=xa)
    require_min_length("y and x", n, needed, why=why)
    if float(np.ptp(xa)) == 0.0:
        raise ValidationError(f"x is constant ({xa[0]!r} throughout): the hedge ratio is not identified")
    if float(np.ptp(ya)) == 0.0:
        raise ValidationError(f"y is constant ({ya[0]!r} throughout): there is nothing to hedge")
    return ya, xa


def _frozen(a: FloatArray) -> FloatArray:
    a.setflags(write=False)
    return a


def ols_hedge(y: FloatArray, x: FloatArray, *, intercept: bool = True) -> StaticHedgeResult:
    """Return the OLS hedge ratio of ``y`` on ``x`` and its spread.

    Examples
    --------
    >>> r = ols_hedge(np.array([2.0, 4.1, 5.9, 8.0]), np.array([1.0, 2.0, 3.0, 4.0]))
    >>> round(r.beta, 4), round(r.alpha, 4)
    (1.98, 0.05)
    """
    ya, xa = _pair(y, x, 3, "for an OLS hedge ratio with its standard error")
    n = ya.size
    if intercept:
        mx, my = float(xa.mean()), float(ya.mean())
        dx = xa - mx
        sxx = float(dx @ dx)
        beta = float(dx @ (ya - my)) / sxx
        alpha = my - beta * mx
        dof = n - 2
    else:
        sxx = float(xa @ xa)
        beta = float(xa @ ya) / sxx
        alpha = 0.0
        dof = n - 1
    spread = ya - alpha - beta * xa
    s2 = float(spread @ spread) / dof
    return StaticHedgeResult(
        method="ols", beta=beta, alpha=alpha, spread=_frozen(spread), beta_se=math.sqrt(s2 / sxx)
    )


def tls_hedge(y: FloatArray, x: FloatArray) -> StaticHedgeResult:
    """Return the total-least-squares (orthogonal regression) hedge ratio and its spread.

    Examples
    --------
    >>> r = tls_hedge(np.array([2.0, 4.1, 5.9, 8.0]), np.array([1.0, 2.0, 3.0, 4.0]))
    >>> round(r.beta, 4)
    1.9814
    """
    ya, xa = _pair(y, x, 3, "for a total-least-squares hedge ratio")
    cov = np.cov(np.vstack([xa, ya]))
    vals, vecs = np.linalg.eigh(cov)
    vx, vy = vecs[:, int(np.argmax(vals))]
    if vx == 0.0:
        raise ValidationError("total least squares gives a vertical line (x has no variance relative to y)")
    beta = float(vy / vx)
    alpha = float(ya.mean() - beta * xa.mean())
    return StaticHedgeResult(method="tls", beta=beta, alpha=alpha, spread=_frozen(ya - alpha - beta * xa))


def rolling_ols_hedge(
    y: FloatArray, x: FloatArray, *, window: int, min_periods: int | None = None
) -> RollingHedgeResult:
    """Return trailing rolling-OLS hedge ratios and the tradable (one-bar-lagged ratio) spread.

    ``beta[t]`` is fitted on the window ending at ``t``; ``spread[t]`` uses
    ``beta[t - 1]`` and ``alpha[t - 1]``, so it depends on data up to ``t - 1``
    only through the ratio (see :class:`RollingHedgeResult`).

    Raises
    ------
    ValidationError
        Different lengths, NaN, or a window in which ``x`` is constant (the
        ratio is undefined there; the index is named).

    Examples
    --------
    >>> x = np.arange(10.0); y = 3 * x + 1 + np.tile([0.1, -0.1], 5)
    >>> r = rolling_ols_hedge(y, x, window=4)
    >>> r.beta[3:5].round(3)
    array([2.96, 3.04])
    >>> float(r.spread[4].round(3)) == float((y[4] - r.alpha[3] - r.beta[3] * x[4]).round(3))
    True
    """
    if isinstance(window, bool) or not isinstance(window, int) or window < 3:
        raise ValidationError(f"window={window!r} must be an int >= 3")
    mp = window if min_periods is None else min_periods
    if isinstance(mp, bool) or not isinstance(mp, int) or not 3 <= mp <= window:
        raise ValidationError(f"min_periods={mp!r} must be an int in [3, window={window}]")
    ya, xa = _pair(y, x, mp, f"for one rolling hedge ratio (min_periods={mp})")
    beta, alpha = _k.rolling_ols(ya, xa, window, mp)
    bad = np.isnan(beta[mp - 1 :])
    if bad.any():
        i = int(np.flatnonzero(bad)[0]) + mp - 1
        raise ValidationError(
            f"x is constant over the window ending at index {i} ({xa[i]!r}): "
            "the rolling hedge ratio is undefined; use a longer window or clean stale prices"
        )
    residual = ya - alpha - beta * xa
    spread = np.full(ya.size, np.nan)
    spread[1:] = ya[1:] - alpha[:-1] - beta[:-1] * xa[1:]
    return RollingHedgeResult(
        beta=_frozen(beta),
        alpha=_frozen(alpha),
        spread=_frozen(spread),
        residual=_frozen(residual),
        window=window,
        min_periods=mp,
    )


def _ar1_coefficient(y: FloatArray, x: FloatArray, beta: float) -> float:
    s = y - beta * x
    s0 = s[:-1] - s[:-1].mean()
    s1 = s[1:] - s[1:].mean()
    return float(s0 @ s1) / float(s0 @ s0)


def min_half_life_hedge(
    y: FloatArray, x: FloatArray, *, ts: IntArray | None = None, dt: float | None = None
) -> StaticHedgeResult:
    """Return the hedge ratio whose spread ``y - beta x`` mean-reverts fastest.

    Parameters
    ----------
    y, x
        The two legs (prices or log prices), equal length, at least 10 points.
    ts, dt
        Timestamps (int64 ns) or a constant step in years for the OU fit of the
        resulting spread (pass exactly one, as for :func:`fit_ou`).

    Raises
    ------
    ConvergenceError
        No ``beta`` gives a mean-reverting spread (``0 < b < 1``).

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> x = 50 + rng.normal(size=4000).cumsum()
    >>> s = np.zeros(4000)
    >>> for i in range(1, 4000):
    ...     s[i] = 0.9 * s[i - 1] + rng.normal()
    >>> r = min_half_life_hedge(2.0 * x + s, x, dt=1 / 365.25)
    >>> round(r.beta, 1), round(r.ou.half_life_steps, 1)
    (2.0, 6.8)
    """
    ya, xa = _pair(y, x, 10, "for a minimum half-life hedge ratio")
    y0, y1, x0, x1 = ya[:-1], ya[1:], xa[:-1], xa[1:]

    def c(u: FloatArray, v: FloatArray) -> float:
        return float((u - u.mean()) @ (v - v.mean()))

    A, C = c(y1, y0), c(x1, x0)
    B = 0.5 * (c(y1, x0) + c(x1, y0))
    D, E, F = c(y0, y0), c(y0, x0), c(x0, x0)
    qa, qb, qc = C * E - B * F, A * F - C * D, B * D - A * E
    candidates: list[float] = []
    if qa != 0.0:
        disc = qb * qb - 4.0 * qa * qc
        if disc >= 0.0:
            root = math.sqrt(disc)
            candidates += [(-qb + root) / (2.0 * qa), (-qb - root) / (2.0 * qa)]
    elif qb != 0.0:
        candidates.append(-qc / qb)
    scored = [(b, _ar1_coefficient(ya, xa, b)) for b in candidates if math.isfinite(b)]
    scored = [(b, v) for b, v in scored if 0.0 < v < 1.0]
    if not scored:
        raise ConvergenceError("no hedge ratio gives a mean-reverting spread (AR(1) coefficient in (0, 1))")
    beta = min(scored, key=lambda t: t[1])[0]
    spread = ya - beta * xa
    ou = fit_ou(spread, ts=ts, dt=dt)
    alpha = ou.mean
    return StaticHedgeResult(
        method="min_half_life", beta=beta, alpha=alpha, spread=_frozen(spread - alpha), ou=ou
    )
