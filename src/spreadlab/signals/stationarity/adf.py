"""Augmented Dickey–Fuller unit-root test.

The regression (Said and Dickey 1984; layout and lag search as statsmodels'
``adfuller``) is::

    Δx_t = γ x_{t-1} + Σ_{j=1..p} φ_j Δx_{t-j} + deterministic terms + ε_t

and the statistic is the OLS t ratio of ``γ``; H0: ``γ = 0`` (unit root).
``p`` is chosen among ``0..maxlag`` (default ``ceil(12 (n/100)^{1/4})``,
Schwert 1989) by AIC, BIC (all candidates fitted on the common sample
``t = maxlag+1..n-1``) or the general-to-specific t test on the last lag,
then the chosen lag is refitted on its longest sample. P-values are
MacKinnon's (1994) response-surface approximation with his 2010
coefficients; critical values use MacKinnon (2010) finite-sample
surfaces. Both come from statsmodels' ``mackinnonp``/``mackinnoncrit``.
All candidate regressions come from one Householder QR factorisation
(:mod:`spreadlab.kernels.stats`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from spreadlab.errors import ValidationError
from spreadlab.kernels.stats import STATUS_COLLINEAR, STATUS_OK, adf_test

from ._common import (
    Autolag,
    Regression,
    as_series,
    autolag_code,
    ntrend_of,
    readonly_mapping,
    resolve_maxlag,
)

__all__ = ["AdfResult", "adf", "kernel_failure"]


def kernel_failure(status: int, name: str) -> ValidationError:
    """Translate a kernel status code into the error to raise."""
    if status == STATUS_COLLINEAR:
        return ValidationError(f"{name}: the regressors are collinear (the series is degenerate)")
    return ValidationError(f"{name}: the regression fits exactly (zero residual variance)")


@dataclass(frozen=True, slots=True, kw_only=True)
class AdfResult:
    """Outcome of :func:`adf`.

    Attributes
    ----------
    statistic
        t ratio of the lagged level.
    pvalue
        MacKinnon's approximate p-value (H0: unit root).
    lags
        Lagged differences used.
    maxlag
        Largest lag considered.
    nobs
        Observations in the final regression.
    critical_values
        ``{"1%", "5%", "10%"}`` -> MacKinnon (2010) finite-sample critical values.
    regression
        Deterministic terms.
    autolag
        Lag-selection rule (None: ``maxlag`` lags were used).
    icbest
        The selected information criterion (|t| of the last lag for
        ``"t-stat"``), None without autolag.
    """

    statistic: float
    pvalue: float
    lags: int
    maxlag: int
    nobs: int
    critical_values: Mapping[str, float]
    regression: Regression
    autolag: Autolag
    icbest: float | None

    def is_stationary(self, *, level: float = 0.05) -> bool:
        """Return True when the unit root is rejected at ``level``."""
        return self.pvalue < level

    def summary(self) -> str:
        """Return a short human-readable report."""
        crit = ", ".join(f"{k}: {v:.4f}" for k, v in self.critical_values.items())
        return (
            f"Augmented Dickey-Fuller (regression={self.regression!r}, autolag={self.autolag!r})\n"
            f"  statistic {self.statistic:.4f}   p-value {self.pvalue:.4g}\n"
            f"  lags {self.lags} of max {self.maxlag}, nobs {self.nobs}\n"
            f"  critical values {crit}\n"
            f"  H0: unit root -> {'rejected' if self.is_stationary() else 'not rejected'} at 5%"
        )


def adf(
    x: Any,
    *,
    regression: Regression = "c",
    maxlag: int | None = None,
    autolag: Autolag = "aic",
) -> AdfResult:
    """Run the augmented Dickey–Fuller test on ``x``.

    Parameters
    ----------
    x
        The series (1-D array-like, finite, not constant).
    regression
        ``"c"`` constant, ``"ct"`` constant and trend, ``"ctt"`` plus
        quadratic trend, ``"n"`` none.
    maxlag
        Largest lag to consider; None uses ``ceil(12 (n/100)^{1/4})``.
    autolag
        ``"aic"``, ``"bic"``, ``"t-stat"`` or None (use ``maxlag`` lags).

    Returns
    -------
    AdfResult

    Raises
    ------
    InsufficientDataError
        Too few observations for ``maxlag`` and ``regression``.
    ValidationError
        NaN/inf, constant or degenerate input, unknown options.

    Examples
    --------
    >>> import numpy as np
    >>> from spreadlab.signals.stationarity import adf
    >>> rng = np.random.default_rng(0)
    >>> res = adf(rng.normal(size=500))
    >>> res.pvalue < 0.01
    True
    >>> adf(np.cumsum(rng.normal(size=500))).pvalue > 0.05
    True
    """
    nt = ntrend_of(regression)
    ic = autolag_code(autolag)
    arr = as_series("x", x, what="adf")
    lag = resolve_maxlag("x", maxlag, arr.shape[0], nt, regression)
    stat, used, nobs, icbest, status = adf_test(arr, lag, nt, ic)
    if status != STATUS_OK:
        raise kernel_failure(status, "adf")
    from statsmodels.tsa.adfvalues import mackinnoncrit, mackinnonp  # deferred: heavy import

    crit = mackinnoncrit(N=1, regression=regression, nobs=nobs)
    return AdfResult(
        statistic=float(stat),
        pvalue=float(mackinnonp(stat, regression=regression, N=1)),
        lags=int(used),
        maxlag=lag,
        nobs=int(nobs),
        critical_values=readonly_mapping({"1%": crit[0], "5%": crit[1], "10%": crit[2]}),
        regression=regression,
        autolag=autolag,
        icbest=None if math.isnan(icbest) else float(icbest),
    )
