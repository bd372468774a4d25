"""Z-scores of a spread: rolling, exponentially weighted and robust (median/MAD).

Rolling (trailing window of ``window`` points INCLUDING the current one)::

    z_t = (x_t - mean(x[t-w+1..t])) / std(x[t-w+1..t])

with the **sample** standard deviation (``ddof=1``, as pandas
``rolling().std()``). Exponentially weighted (pandas ``ewm(alpha=a,
adjust=True)`` mean and bias-corrected std, ``a = 1 - 2^(-1/halflife)``)::

    z_t = (x_t - ewm_mean_t) / ewm_std_t

Robust (rolling median and the normal-consistent MAD, Iglewicz & Hoaglin's
modified z-score; where more than half the window is tied so the MAD is 0 the
scale falls back to ``1.2533 x`` the mean absolute deviation from the median)::

    z_t = (x_t - median_t) / (1.4826 MAD_t)

Outputs are NaN before ``min_periods`` points are available (documented
warm-up, never elsewhere). Where the window's scale is exactly 0 (all values
identical) the point equals the centre and z is 0. The O(n) kernels are in
:mod:`spreadlab.kernels.rolling`.
"""

from __future__ import annotations

import math

import numpy as np

from spreadlab._typing import FloatArray
from spreadlab.errors import ValidationError
from spreadlab.kernels import rolling as _k
from spreadlab.signals.base import as_float_series, require_min_length

__all__ = ["ewma_zscore", "robust_zscore", "rolling_zscore"]


def _check_window(window: int, min_periods: int | None, *, lowest: int) -> int:
    if isinstance(window, bool) or not isinstance(window, int | np.integer):
        raise ValidationError(f"window={window!r} must be an int")
    if window < lowest:
        raise ValidationError(f"window={window} must be >= {lowest}")
    mp = window if min_periods is None else min_periods
    if isinstance(mp, bool) or not isinstance(mp, int | np.integer):
        raise ValidationError(f"min_periods={mp!r} must be an int")
    if not lowest <= mp <= window:
        raise ValidationError(f"min_periods={mp} must lie in [{lowest}, window={window}]")
    return int(mp)


def _standardise(x: FloatArray, centre: FloatArray, scale: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (x - centre) / scale
    z[scale == 0.0] = 0.0
    return z


def rolling_zscore(values: FloatArray, *, window: int, min_periods: int | None = None) -> FloatArray:
    """Return the trailing rolling z-score (window includes the current point, sample std).

    Parameters
    ----------
    values
        The series (e.g. a spread), finite floats.
    window
        Number of points in the trailing window, >= 2.
    min_periods
        Points needed before a value is produced (default ``window``), in
        ``[2, window]``; earlier outputs are NaN.

    Returns
    -------
    FloatArray
        ``(x_t - mean_t) / std_t``; 0 where the window is constant.

    Raises
    ------
    ValidationError
        NaN/inf in ``values`` or a bad ``window``/``min_periods``.
    InsufficientDataError
        Fewer than ``min_periods`` values.

    Examples
    --------
    >>> rolling_zscore(np.array([1.0, 2.0, 3.0, 5.0]), window=3).round(4)
    array([   nan,    nan, 1.    , 1.0911])
    """
    mp = _check_window(window, min_periods, lowest=2)
    x = as_float_series("values", values)
    require_min_length("values", x.size, mp, why=f"for one z-score (min_periods={mp})")
    mean, std = _k.rolling_mean_std(x, int(window), mp, 1)
    return _standardise(x, mean, std)


def ewma_zscore(values: FloatArray, *, halflife: float, min_periods: int = 2) -> FloatArray:
    """Return the exponentially weighted z-score (pandas ``ewm(halflife=h, adjust=True)``).

    Parameters
    ----------
    values
        The series, finite floats.
    halflife
        Half-life of the weights in observations, > 0
        (``alpha = 1 - 2 ** (-1 / halflife)``).
    min_periods
        Points needed before a value is produced, >= 2; earlier outputs are NaN.

    Examples
    --------
    >>> ewma_zscore(np.array([1.0, 2.0, 3.0, 5.0]), halflife=2.0).round(4)
    array([   nan, 0.5858, 0.7811, 0.96  ])
    """
    if isinstance(halflife, bool) or not isinstance(halflife, int | float) or not math.isfinite(halflife):
        raise ValidationError(f"halflife={halflife!r} must be a finite number of observations")
    if halflife <= 0:
        raise ValidationError(f"halflife={halflife!r} must be > 0")
    if isinstance(min_periods, bool) or not isinstance(min_periods, int) or min_periods < 2:
        raise ValidationError(f"min_periods={min_periods!r} must be an int >= 2")
    x = as_float_series("values", values)
    require_min_length("values", x.size, min_periods, why=f"for one z-score (min_periods={min_periods})")
    alpha = 1.0 - 2.0 ** (-1.0 / float(halflife))
    mean, std = _k.ewm_mean_std(x, alpha, min_periods)
    return _standardise(x, mean, std)


def robust_zscore(values: FloatArray, *, window: int, min_periods: int | None = None) -> FloatArray:
    """Return the rolling robust z-score ``(x - median) / (1.4826 MAD)`` over a trailing window.

    Parameters
    ----------
    values
        The series, finite floats.
    window
        Number of points in the trailing window (including the current), >= 3.
    min_periods
        Points needed before a value is produced (default ``window``), in ``[3, window]``.

    Notes
    -----
    Iglewicz & Hoaglin (1993) modified z-score with the consistency constant
    for normal data; where the MAD is 0 (over half the window tied) the scale
    is ``1.2533 x mean|x - median|`` instead, and 0 only for a constant window
    (then z = 0).

    Examples
    --------
    >>> robust_zscore(np.array([1.0, 2.0, 3.0, 100.0]), window=3).round(4)
    array([    nan,     nan,  0.6745, 65.4255])
    """
    mp = _check_window(window, min_periods, lowest=3)
    x = as_float_series("values", values)
    require_min_length("values", x.size, mp, why=f"for one z-score (min_periods={mp})")
    med, scale = _k.rolling_median_scale(x, int(window), mp)
    return _standardise(x, med, scale)
