"""Engle–Granger two-step cointegration test.

Step 1 (cointegrating regression, OLS)::

    y_t = β' x_t + deterministic terms (constant, trend) + u_t

Step 2: the ADF statistic of the residuals ``û_t`` *without* deterministic
terms (they are already in step 1), lags chosen as in :func:`adf`.
H0: no cointegration (``û`` has a unit root). The statistic does not follow
the ADF distribution: p-values are MacKinnon's (1994, 2010) response
surfaces for ``N = 1 + dim(x)`` variables and critical values MacKinnon
(2010) with ``nobs - 1`` (as statsmodels' ``coint`` and Stata's
``egranger``). ``regression="n"`` has no tabulated critical values.

Where statsmodels declares the pair "(almost) perfectly collinear"
(``R² >= 1 - 100 sqrt(eps)``) and returns ``-inf``, this function still
computes the statistic from accurate QR residuals (typical for perp vs spot
log prices); it refuses only a fit whose residuals are rounding noise.

The test is not symmetric: regressing ``y`` on ``x`` and ``x`` on ``y`` give
different statistics; :func:`spreadlab.signals.pairs.select_pairs` can run
both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl
from scipy.special import ndtr

from spreadlab._typing import FloatArray
from spreadlab.errors import ValidationError
from spreadlab.kernels.stats import STATUS_OK, STATUS_PERFECT_FIT, eg_all_pairs, eg_pair, pair_indices

from ._common import (
    Autolag,
    Regression,
    as_matrix,
    as_series,
    autolag_code,
    frozen,
    ntrend_of,
    readonly_mapping,
    resolve_maxlag,
)
from .adf import kernel_failure

__all__ = [
    "EngleGrangerResult",
    "eg_critical_values",
    "eg_pvalue",
    "eg_pvalues",
    "engle_granger",
    "engle_granger_pairs",
]

_MAX_VARS = 6  # MacKinnon's tables cover up to six variables


def eg_pvalue(statistic: float, *, regression: Regression, nvars: int) -> float:
    """Return MacKinnon's approximate p-value of an Engle–Granger statistic with ``nvars`` variables."""
    from statsmodels.tsa.adfvalues import mackinnonp  # deferred: heavy import

    return float(mackinnonp(statistic, regression=regression, N=nvars))


def eg_pvalues(statistics: FloatArray, *, regression: Regression, nvars: int) -> FloatArray:
    """Vectorised :func:`eg_pvalue`: MacKinnon's (1994) surface ``Φ(Σ_k c_k τ^k)``.

    The coefficients (small-p below ``τ*``, large-p above, 0 below ``τ_min``
    and 1 above ``τ_max``) are statsmodels' ``adfvalues`` tables; if that
    private layout ever changes, fall back to one ``mackinnonp`` call each.
    """
    from statsmodels.tsa import adfvalues  # deferred: heavy import

    stats = np.asarray(statistics, dtype=np.float64)
    try:
        tmax = adfvalues._tau_maxs[regression][nvars - 1]
        tmin = adfvalues._tau_mins[regression][nvars - 1]
        tstar = adfvalues._tau_stars[regression][nvars - 1]
        small = np.asarray(adfvalues._tau_smallps[regression][nvars - 1], dtype=np.float64)
        large = np.asarray(adfvalues._tau_largeps[regression][nvars - 1], dtype=np.float64)
    except (AttributeError, KeyError, IndexError):  # pragma: no cover - statsmodels layout changed
        return np.array([eg_pvalue(float(s), regression=regression, nvars=nvars) for s in stats])
    poly_small = np.polynomial.polynomial.polyval(stats, small)
    poly_large = np.polynomial.polynomial.polyval(stats, large)
    p = ndtr(np.where(stats <= tstar, poly_small, poly_large))
    p = np.where(stats > tmax, 1.0, np.where(stats < tmin, 0.0, p))
    out: FloatArray = np.asarray(p, dtype=np.float64)
    return out


def eg_critical_values(*, regression: Regression, nvars: int, nobs: int) -> Mapping[str, float]:
    """Return MacKinnon (2010) 1%/5%/10% critical values (``nobs`` = series length)."""
    if regression == "n":
        return readonly_mapping({})
    from statsmodels.tsa.adfvalues import mackinnoncrit  # deferred: heavy import

    crit = mackinnoncrit(N=nvars, regression=regression, nobs=nobs - 1)
    return readonly_mapping({"1%": crit[0], "5%": crit[1], "10%": crit[2]})


@dataclass(frozen=True, slots=True, kw_only=True)
class EngleGrangerResult:
    """Outcome of :func:`engle_granger`.

    Attributes
    ----------
    statistic
        ADF t ratio of the step-1 residuals.
    pvalue
        MacKinnon's approximate p-value (H0: no cointegration).
    critical_values
        ``{"1%", "5%", "10%"}`` -> MacKinnon (2010); empty for ``regression="n"``.
    coefficients
        Step-1 slopes on each column of ``x`` (the hedge ratios).
    deterministic
        Step-1 constant, then trend, then quadratic-trend coefficients.
    lags
        Lagged differences in the residual ADF regression.
    maxlag
        Largest lag considered.
    nobs
        Observations of the series.
    regression
        Deterministic terms of step 1.
    autolag
        Lag-selection rule.
    residuals
        The spread ``y - β'x - deterministic terms`` (read-only).
    """

    statistic: float
    pvalue: float
    critical_values: Mapping[str, float]
    coefficients: tuple[float, ...]
    deterministic: tuple[float, ...]
    lags: int
    maxlag: int
    nobs: int
    regression: Regression
    autolag: Autolag
    residuals: FloatArray

    @property
    def hedge_ratio(self) -> float:
        """The single hedge ratio ``β`` (only when ``x`` had one column)."""
        if len(self.coefficients) != 1:
            raise ValidationError(
                f"hedge_ratio needs one regressor, the test had {len(self.coefficients)}; use coefficients"
            )
        return self.coefficients[0]

    @property
    def intercept(self) -> float:
        """The step-1 constant (0.0 for ``regression="n"``)."""
        return self.deterministic[0] if self.deterministic else 0.0

    def is_cointegrated(self, *, level: float = 0.05) -> bool:
        """Return True when no-cointegration is rejected at ``level``."""
        return self.pvalue < level

    def summary(self) -> str:
        """Return a short human-readable report."""
        crit = ", ".join(f"{k}: {v:.4f}" for k, v in self.critical_values.items()) or "n/a"
        betas = ", ".join(f"{b:.6g}" for b in self.coefficients)
        return (
            f"Engle-Granger cointegration (regression={self.regression!r}, autolag={self.autolag!r})\n"
            f"  statistic {self.statistic:.4f}   p-value {self.pvalue:.4g}\n"
            f"  hedge ratio(s) {betas}, intercept {self.intercept:.6g}\n"
            f"  lags {self.lags} of max {self.maxlag}, nobs {self.nobs}\n"
            f"  critical values {crit}\n"
            f"  H0: no cointegration -> {'rejected' if self.is_cointegrated() else 'not rejected'} at 5%"
        )


def engle_granger(
    y: Any,
    x: Any,
    *,
    regression: Regression = "c",
    maxlag: int | None = None,
    autolag: Autolag = "aic",
) -> EngleGrangerResult:
    """Test ``y`` and ``x`` for cointegration with the Engle–Granger two-step method.

    Parameters
    ----------
    y
        Dependent series (1-D).
    x
        One series (1-D) or several (observations x k, ``k <= 5``).
    regression
        Deterministic terms of the cointegrating regression: ``"c"``,
        ``"ct"``, ``"ctt"`` or ``"n"``.
    maxlag
        Largest ADF lag; None uses ``ceil(12 (n/100)^{1/4})``.
    autolag
        ``"aic"``, ``"bic"``, ``"t-stat"`` or None.

    Returns
    -------
    EngleGrangerResult

    Raises
    ------
    ValidationError
        Different lengths, NaN/inf, constant series, perfectly collinear series.
    InsufficientDataError
        Too few observations for ``maxlag``.

    Examples
    --------
    >>> import numpy as np
    >>> from spreadlab.signals.stationarity import engle_granger
    >>> rng = np.random.default_rng(3)
    >>> x = np.cumsum(rng.normal(size=1000))
    >>> y = 2.0 * x + rng.normal(size=1000)
    >>> res = engle_granger(y, x)
    >>> round(res.hedge_ratio, 2), res.pvalue < 0.01
    (2.0, True)
    """
    nt = ntrend_of(regression)
    ic = autolag_code(autolag)
    yy = as_series("y", y, what="engle_granger")
    xx = as_matrix("x", x, what="engle_granger")
    if xx.shape[0] != yy.shape[0]:
        raise ValidationError(
            f"y has {yy.shape[0]} observations but x has {xx.shape[0]}; align the series first"
        )
    nvars = xx.shape[1] + 1
    if nvars > _MAX_VARS:
        raise ValidationError(f"x has {xx.shape[1]} columns; MacKinnon's p-values cover at most 5")
    n = yy.shape[0]
    lag = resolve_maxlag("residuals", maxlag, n, 0, "n")
    stat, used, _m, _icbest, status, beta, resid = eg_pair(yy, np.ascontiguousarray(xx.T), nt, lag, ic, False)
    if status == STATUS_PERFECT_FIT:
        raise ValidationError(
            "engle_granger: y and x are perfectly collinear (residual rms < 1e-8 of the rms of y); "
            "the test is not defined"
        )
    if status != STATUS_OK:
        raise kernel_failure(status, "engle_granger")
    k = xx.shape[1]
    return EngleGrangerResult(
        statistic=float(stat),
        pvalue=eg_pvalue(stat, regression=regression, nvars=nvars),
        critical_values=eg_critical_values(regression=regression, nvars=nvars, nobs=n),
        coefficients=tuple(float(b) for b in beta[:k]),
        deterministic=tuple(float(b) for b in beta[k:]),
        lags=int(used),
        maxlag=lag,
        nobs=n,
        regression=regression,
        autolag=autolag,
        residuals=frozen(resid),
    )


def engle_granger_pairs(
    prices: Any,
    *,
    names: Any = None,
    regression: Literal["n", "c", "ct"] = "c",
    maxlag: int | None = None,
    autolag: Autolag = "aic",
    both: bool = False,
) -> pl.DataFrame:
    """Run :func:`engle_granger` on every pair of columns of ``prices`` in one compiled loop.

    Pair ``(i, j)`` with ``i < j`` regresses column ``i`` on column ``j``
    (and, with ``both``, also ``j`` on ``i``). Each test equals statsmodels'
    ``coint(prices[:, i], prices[:, j], trend=regression, autolag=autolag)``
    to 1e-9 (the residual ADF uses ``O(n p)`` Gram updates).

    Parameters
    ----------
    prices
        Observations x series: a 2-D array with ``names``, or a polars
        DataFrame of numeric columns.
    names
        Series names for an array (default ``s0, s1, ...``).
    regression, maxlag, autolag
        As :func:`engle_granger` (``"ctt"`` is not offered here).
    both
        Test both directions.

    Returns
    -------
    polars.DataFrame
        One row per test: y, x, statistic, pvalue, hedge_ratio, intercept, lags.

    Examples
    --------
    >>> import numpy as np
    >>> from spreadlab.signals.stationarity import engle_granger_pairs
    >>> rng = np.random.default_rng(0)
    >>> w = np.cumsum(rng.normal(size=(500, 3)), axis=0)
    >>> engle_granger_pairs(w, names=["a", "b", "c"]).select("y", "x").rows()
    [('a', 'b'), ('a', 'c'), ('b', 'c')]
    """
    if regression not in ("n", "c", "ct"):
        raise ValidationError(f"regression={regression!r} must be 'n', 'c' or 'ct'")
    nt = ntrend_of(regression)
    ic = autolag_code(autolag)
    if isinstance(prices, pl.DataFrame):
        if names is not None:
            raise ValidationError("names must be None when prices is a DataFrame (its columns are the names)")
        names = prices.columns
        prices = prices.to_numpy()
    P = as_matrix("prices", prices, what="engle_granger_pairs")
    n, N = P.shape
    if N < 2:
        raise ValidationError(f"prices has {N} series; engle_granger_pairs needs at least 2")
    labels = [str(c) for c in names] if names is not None else [f"s{i}" for i in range(N)]
    if len(labels) != N:
        raise ValidationError(f"names has {len(labels)} entries but prices has {N} columns")
    lag = resolve_maxlag("prices", maxlag, n, 0, "n")
    stat, used, hedge, icpt, status = eg_all_pairs(P, nt, lag, ic, both)
    left, right = pair_indices(N)
    rows = 2 if both else 1
    bad = np.argwhere(status[:rows] != STATUS_OK)
    if bad.size:
        d, q = (int(v) for v in bad[0])
        a, b = (left[q], right[q]) if d == 0 else (right[q], left[q])
        raise ValidationError(
            f"engle_granger_pairs: {labels[a]!r} on {labels[b]!r} is degenerate (perfectly collinear series)"
        )
    ys = np.concatenate([left, right][:rows])
    xs = np.concatenate([right, left][:rows])
    st = stat[:rows].ravel()
    return pl.DataFrame(
        {
            "y": [labels[i] for i in ys],
            "x": [labels[j] for j in xs],
            "statistic": st,
            "pvalue": eg_pvalues(st, regression=regression, nvars=2),
            "hedge_ratio": hedge[:rows].ravel(),
            "intercept": icpt[:rows].ravel(),
            "lags": used[:rows].ravel(),
        }
    )
