"""Input validation and small shared pieces of the stationarity tests.

Every public test turns its input into a 1-D (or 2-D) contiguous float64
array here and refuses, with a message naming the argument and what was
needed, series that are too short, contain NaN/inf, or are constant.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal, TypeAlias

import numpy as np

from spreadlab._typing import FloatArray
from spreadlab.errors import InsufficientDataError, ValidationError
from spreadlab.kernels.stats import IC_AIC, IC_BIC, IC_NONE, IC_TSTAT

__all__ = [
    "Autolag",
    "Regression",
    "as_matrix",
    "as_series",
    "autolag_code",
    "default_maxlag",
    "frozen",
    "ntrend_of",
    "readonly_mapping",
    "resolve_maxlag",
]

Regression: TypeAlias = Literal["n", "c", "ct", "ctt"]
"""Deterministic terms: none, constant, constant + linear trend, + quadratic trend."""

Autolag: TypeAlias = Literal["aic", "bic", "t-stat"] | None
"""Lag selection: information criterion, general-to-specific t test, or None (use maxlag)."""

_NTREND = {"n": 0, "c": 1, "ct": 2, "ctt": 3}
_IC = {"aic": IC_AIC, "bic": IC_BIC, "t-stat": IC_TSTAT, None: IC_NONE}
MIN_OBS = 10


def ntrend_of(regression: str) -> int:
    """Return the number of deterministic columns of ``regression``, or raise."""
    if regression not in _NTREND:
        raise ValidationError(f"regression={regression!r} must be one of 'n', 'c', 'ct', 'ctt'")
    return _NTREND[regression]


def autolag_code(autolag: str | None) -> int:
    """Return the kernel code of ``autolag``, or raise."""
    if autolag not in _IC:
        raise ValidationError(f"autolag={autolag!r} must be one of 'aic', 'bic', 't-stat' or None")
    return _IC[autolag]


def _to_array(name: str, x: Any) -> FloatArray:
    if hasattr(x, "to_numpy"):
        x = x.to_numpy()
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name} must be numeric: {exc}") from exc
    return arr


def _check_finite(name: str, arr: FloatArray) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = np.argwhere(bad)[0]
        where = int(idx[0]) if arr.ndim == 1 else tuple(int(i) for i in idx)
        raise ValidationError(
            f"{name} contains {int(bad.sum())} NaN/inf value(s), the first at index {where}; "
            "drop or fill them before testing"
        )


def as_series(name: str, x: Any, *, min_obs: int = MIN_OBS, what: str = "this test") -> FloatArray:
    """Return ``x`` as a contiguous 1-D float64 array after validation.

    Raise :class:`InsufficientDataError` when it has fewer than ``min_obs``
    points and :class:`ValidationError` when it is not 1-D, holds NaN/inf or
    is constant.
    """
    arr = _to_array(name, x)
    if arr.ndim != 1:
        raise ValidationError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.shape[0] < min_obs:
        raise InsufficientDataError(
            f"{name} has {arr.shape[0]} observations; {what} needs at least {min_obs}"
        )
    _check_finite(name, arr)
    if arr.max() == arr.min():
        raise ValidationError(f"{name} is constant (every value is {arr[0]!r}); the test is undefined")
    return np.ascontiguousarray(arr)


def as_matrix(name: str, x: Any, *, min_obs: int = MIN_OBS, what: str = "this test") -> FloatArray:
    """Return ``x`` as a contiguous 2-D float64 array (observations x series) after validation."""
    arr = _to_array(name, x)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValidationError(f"{name} must be one- or two-dimensional, got shape {arr.shape}")
    if arr.shape[0] < min_obs:
        raise InsufficientDataError(
            f"{name} has {arr.shape[0]} observations; {what} needs at least {min_obs}"
        )
    _check_finite(name, arr)
    const = np.flatnonzero(arr.max(axis=0) == arr.min(axis=0))
    if const.size:
        raise ValidationError(f"{name} column {int(const[0])} is constant; the test is undefined")
    return np.ascontiguousarray(arr)


def default_maxlag(nobs: int, ntrend: int) -> int:
    """Schwert's rule ``ceil(12 (nobs/100)^{1/4})`` as statsmodels, capped for small samples.

    The cap ``(nobs-1)//2 - ntrend - 1`` keeps at least one residual degree of
    freedom in every candidate regression (statsmodels caps at
    ``nobs//2 - ntrend - 1``; the two differ only for even ``nobs`` below ~24).
    """
    rule = math.ceil(12.0 * (nobs / 100.0) ** 0.25)
    return min(rule, (nobs - 1) // 2 - ntrend - 1)


def resolve_maxlag(name: str, maxlag: int | None, nobs: int, ntrend: int, regression: str) -> int:
    """Return the maximum lag to search, or raise :class:`InsufficientDataError`."""
    if maxlag is None:
        lag = default_maxlag(nobs, ntrend)
        if lag < 0:
            need = 2 * (ntrend + 1) + 1
            raise InsufficientDataError(
                f"{name} has {nobs} observations; regression={regression!r} needs at least {need}"
            )
        return lag
    if isinstance(maxlag, bool) or not isinstance(maxlag, int | np.integer) or maxlag < 0:
        raise ValidationError(f"maxlag={maxlag!r} must be a non-negative integer or None")
    need = 2 * (int(maxlag) + ntrend + 1) + 1
    if nobs < need:
        raise InsufficientDataError(
            f"{name} has {nobs} observations; maxlag={maxlag} with regression={regression!r} "
            f"needs at least {need}"
        )
    return int(maxlag)


def frozen(arr: FloatArray) -> FloatArray:
    """Return a read-only copy of ``arr``."""
    out = np.array(arr, dtype=np.float64, copy=True)
    out.flags.writeable = False
    return out


def readonly_mapping(values: Mapping[str, float]) -> Mapping[str, float]:
    """Return an immutable view of ``{label: float}``."""
    return MappingProxyType({k: float(v) for k, v in values.items()})
