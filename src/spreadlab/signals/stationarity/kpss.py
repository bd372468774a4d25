"""KPSS stationarity test (Kwiatkowski, Phillips, Schmidt and Shin 1992).

H0: ``x`` is level (``"c"``) or trend (``"ct"``) stationary. With ``e_t`` the
residuals of ``x`` on a constant (and a linear trend ``1..n``) and
``S_t = Σ_{s<=t} e_s``::

    η = Σ S_t² / n²,          statistic = η / σ̂²,
    σ̂² = (1/n) [Σ e_t² + 2 Σ_{j=1..L} (1 - j/(L+1)) Σ_t e_t e_{t-j}]   (Newey–West, Bartlett)

``L`` is chosen by Hobijn, Franses and Ooms (1998) (``nlags="auto"``, as
statsmodels): with ``c = floor(n^{2/9})`` autocovariances,
``ŝ = Σ j γ̂_j / Σ γ̂_j`` over ``j = 0..c`` (γ̂_j scaled by 2 for j>0),
``L = floor(1.1447 (ŝ²)^{1/3} n^{1/3})``; or ``"legacy"``:
``ceil(12 (n/100)^{1/4})``; or an integer.

The p-value interpolates linearly in Table 1 of KPSS (1992) between the
10%, 5%, 2.5% and 1% critical values, so it is bounded to [0.01, 0.10];
``pvalue_bound`` says when the true p-value lies beyond that range.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from spreadlab._typing import FloatArray
from spreadlab.errors import InsufficientDataError, ValidationError

from ._common import as_series, readonly_mapping

__all__ = ["KpssResult", "kpss"]

# KPSS (1992), Table 1: upper-tail critical values at 10%, 5%, 2.5%, 1%.
_CRIT = {"c": (0.347, 0.463, 0.574, 0.739), "ct": (0.119, 0.146, 0.176, 0.216)}
_LEVELS = (0.10, 0.05, 0.025, 0.01)


@dataclass(frozen=True, slots=True, kw_only=True)
class KpssResult:
    """Outcome of :func:`kpss`.

    Attributes
    ----------
    statistic
        The KPSS statistic.
    pvalue
        Interpolated p-value, in [0.01, 0.10].
    pvalue_bound
        ``"exact"`` inside the table, ``"at_most"`` when the true p-value is
        below 0.01, ``"at_least"`` when it is above 0.10.
    nlags
        Newey–West bandwidth used.
    nobs
        Observations.
    critical_values
        ``{"10%", "5%", "2.5%", "1%"}`` -> KPSS (1992) Table 1.
    regression
        ``"c"`` (level) or ``"ct"`` (trend) stationarity.
    """

    statistic: float
    pvalue: float
    pvalue_bound: Literal["exact", "at_most", "at_least"]
    nlags: int
    nobs: int
    critical_values: Mapping[str, float]
    regression: Literal["c", "ct"]

    def is_stationary(self, *, level: float = 0.05) -> bool:
        """Return True when stationarity is not rejected at ``level``."""
        return self.pvalue >= level

    def summary(self) -> str:
        """Return a short human-readable report."""
        bound = {"exact": "", "at_most": " (true p-value smaller)", "at_least": " (true p-value larger)"}
        crit = ", ".join(f"{k}: {v:.3f}" for k, v in self.critical_values.items())
        kind = "level" if self.regression == "c" else "trend"
        return (
            f"KPSS ({kind} stationarity)\n"
            f"  statistic {self.statistic:.4f}   p-value {self.pvalue:.4g}{bound[self.pvalue_bound]}\n"
            f"  lags {self.nlags}, nobs {self.nobs}\n"
            f"  critical values {crit}"
        )


def _autocov_sum(e: FloatArray, lag: int) -> float:
    n = e.shape[0]
    return float(np.dot(e[lag:], e[: n - lag]))


def _auto_lags(e: FloatArray) -> int:
    n = e.shape[0]
    covlags = int(n ** (2.0 / 9.0))
    s0 = float(np.sum(e**2)) / n
    s1 = 0.0
    for i in range(1, covlags + 1):
        prod = _autocov_sum(e, i) / (n / 2.0)
        s0 += prod
        s1 += i * prod
    s_hat = s1 / s0
    return int(1.1447 * (s_hat * s_hat) ** (1.0 / 3.0) * n ** (1.0 / 3.0))


def kpss(
    x: Any,
    *,
    regression: Literal["c", "ct"] = "c",
    nlags: Literal["auto", "legacy"] | int = "auto",
) -> KpssResult:
    """Run the KPSS test of level or trend stationarity on ``x``.

    Parameters
    ----------
    x
        The series (1-D, finite, not constant).
    regression
        ``"c"`` level stationarity, ``"ct"`` trend stationarity.
    nlags
        ``"auto"`` (Hobijn et al. 1998), ``"legacy"`` (Schwert) or a
        non-negative integer below the number of observations.

    Returns
    -------
    KpssResult

    Examples
    --------
    >>> import numpy as np
    >>> from spreadlab.signals.stationarity import kpss
    >>> rng = np.random.default_rng(1)
    >>> kpss(rng.normal(size=1000)).pvalue_bound
    'at_least'
    >>> kpss(np.cumsum(rng.normal(size=1000))).pvalue
    0.01
    """
    if regression not in _CRIT:
        raise ValidationError(f"regression={regression!r} must be 'c' or 'ct'")
    arr = as_series("x", x, what="kpss")
    n = arr.shape[0]
    if regression == "ct":
        t = np.arange(1, n + 1, dtype=np.float64)
        design = np.column_stack([np.ones(n), t])
        beta, *_ = np.linalg.lstsq(design, arr, rcond=None)
        e = arr - design @ beta
    else:
        e = arr - arr.mean()
    if isinstance(nlags, str):
        if nlags == "auto":
            lags = min(_auto_lags(e), n - 1)
        elif nlags == "legacy":
            lags = min(math.ceil(12.0 * (n / 100.0) ** 0.25), n - 1)
        else:
            raise ValidationError(f"nlags={nlags!r} must be 'auto', 'legacy' or an integer")
    else:
        if isinstance(nlags, bool) or not isinstance(nlags, int | np.integer) or nlags < 0:
            raise ValidationError(f"nlags={nlags!r} must be a non-negative integer, 'auto' or 'legacy'")
        if nlags >= n:
            raise InsufficientDataError(f"x has {n} observations; nlags={nlags} needs at least {nlags + 1}")
        lags = int(nlags)
    eta = float(np.sum(np.cumsum(e) ** 2)) / n**2
    s_hat = float(np.sum(e**2))
    for i in range(1, lags + 1):
        s_hat += 2.0 * _autocov_sum(e, i) * (1.0 - i / (lags + 1.0))
    s_hat /= n
    if s_hat <= 0.0:
        raise ValidationError("kpss: the long-run variance estimate is not positive; the test is undefined")
    stat = eta / s_hat
    crit = _CRIT[regression]
    pvalue = float(np.interp(stat, crit, _LEVELS))
    bound: Literal["exact", "at_most", "at_least"] = "exact"
    if stat >= crit[-1]:
        bound = "at_most"
    elif stat <= crit[0]:
        bound = "at_least"
    return KpssResult(
        statistic=stat,
        pvalue=pvalue,
        pvalue_bound=bound,
        nlags=lags,
        nobs=n,
        critical_values=readonly_mapping(dict(zip(("10%", "5%", "2.5%", "1%"), crit, strict=True))),
        regression=regression,
    )
