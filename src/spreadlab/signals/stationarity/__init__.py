"""Stationarity and cointegration tests and mean-reversion diagnostics.

Each function validates its input, runs a kernel from
:mod:`spreadlab.kernels.stats` where the work is heavy, and returns an
immutable result with named fields and ``summary()``. ADF, KPSS,
Engle–Granger and Johansen reproduce statsmodels' ``adfuller``, ``kpss``,
``coint`` and ``coint_johansen`` (tests compare them to 1e-6 on real data).
"""

from __future__ import annotations

from .adf import AdfResult, adf
from .coint import (
    EngleGrangerResult,
    eg_critical_values,
    eg_pvalue,
    eg_pvalues,
    engle_granger,
    engle_granger_pairs,
)
from .johansen import JohansenResult, johansen
from .kpss import KpssResult, kpss
from .meanrev import (
    HalfLifeResult,
    HurstResult,
    VarianceRatioResult,
    half_life,
    hurst,
    mean_crossings,
    variance_ratio,
)

__all__ = [
    "AdfResult",
    "EngleGrangerResult",
    "HalfLifeResult",
    "HurstResult",
    "JohansenResult",
    "KpssResult",
    "VarianceRatioResult",
    "adf",
    "eg_critical_values",
    "eg_pvalue",
    "eg_pvalues",
    "engle_granger",
    "engle_granger_pairs",
    "half_life",
    "hurst",
    "johansen",
    "kpss",
    "mean_crossings",
    "variance_ratio",
]
