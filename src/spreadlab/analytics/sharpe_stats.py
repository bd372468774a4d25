"""How much a Sharpe ratio can be trusted: PSR, DSR and the minimum backtest length.

All Sharpe ratios here are **per observation period** (not annualised):
``SR = mean(r) / std(r)`` of the per-bar returns. ``kurtosis`` is the plain
fourth standardised moment (3 for a normal), not the excess kurtosis.

Probabilistic Sharpe ratio (Bailey & López de Prado, 2012, "The Sharpe Ratio
Efficient Frontier", *Journal of Risk* 15(2), eq. 10): the probability that
the true Sharpe ratio exceeds a benchmark ``SR*`` given an estimate ``SR^``
from ``T`` returns with skewness ``g3`` and kurtosis ``g4``::

    PSR(SR*) = Phi( (SR^ - SR*) sqrt(T - 1) / sqrt(1 - g3 SR^ + (g4 - 1) / 4 SR^2) )

Deflated Sharpe ratio (Bailey & López de Prado, 2014, "The Deflated Sharpe
Ratio: Correcting for Selection Bias, Backtest Overfitting and
Non-Normality", *Journal of Portfolio Management* 40(5), eq. 2): the PSR
against the Sharpe ratio the best of ``N`` independent trials reaches by luck
alone. With ``V`` the variance of the trials' Sharpe ratios and ``gamma``
the Euler-Mascheroni constant, the expected maximum (their eq. 1, from the
false strategy theorem) is::

    SR0 = sqrt(V) ( (1 - gamma) Phi^-1(1 - 1/N) + gamma Phi^-1(1 - 1/(N e)) )
    DSR = PSR(SR0)

Minimum backtest length (Bailey, Borwein, López de Prado & Zhu, 2014,
"Pseudo-Mathematics and Financial Charlatanism", *Notices of the AMS* 61(5),
eq. 6): the years of data after which ``N`` independent trials of
strategies with no skill are not expected to show an annualised in-sample
Sharpe ratio of ``E[max]``::

    MinBTL = ( ((1 - gamma) Phi^-1(1 - 1/N) + gamma Phi^-1(1 - 1/(N e))) / E[max] )^2
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from spreadlab._typing import FloatArray
from spreadlab.core.validate import require_finite, require_non_negative, require_positive
from spreadlab.errors import InsufficientDataError, ValidationError

__all__ = [
    "EULER_GAMMA",
    "deflated_sharpe",
    "expected_max_sharpe",
    "min_backtest_length",
    "probabilistic_sharpe",
    "sharpe_moments",
]

EULER_GAMMA = 0.5772156649015329


def _require_count(name: str, value: int, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValidationError(f"{name}={value!r} must be an int >= {low}")
    return int(value)


def probabilistic_sharpe(
    sharpe: float,
    *,
    n_obs: int,
    skew: float = 0.0,
    kurtosis: float = 3.0,
    benchmark: float = 0.0,
) -> float:
    """Return the probability that the true Sharpe ratio exceeds ``benchmark``.

    Parameters
    ----------
    sharpe
        Observed Sharpe ratio per observation period (not annualised).
    n_obs
        Number of returns behind it (>= 2).
    skew
        Skewness of the returns.
    kurtosis
        Kurtosis of the returns, non-excess (3 for a normal), > 0.
    benchmark
        Sharpe ratio per period to beat.

    Returns
    -------
    float
        ``PSR(benchmark)`` in ``[0, 1]`` (Bailey & López de Prado, 2012).

    Examples
    --------
    >>> round(probabilistic_sharpe(0.1, n_obs=250), 4)
    0.9423
    """
    sr = require_finite("sharpe", sharpe)
    n = _require_count("n_obs", n_obs, 2)
    g3 = require_finite("skew", skew)
    g4 = require_positive("kurtosis", kurtosis)
    bench = require_finite("benchmark", benchmark)
    var = 1.0 - g3 * sr + (g4 - 1.0) / 4.0 * sr * sr
    if var <= 0.0:
        raise ValidationError(
            f"1 - skew*sharpe + (kurtosis-1)/4*sharpe^2 = {var:.4g} must be > 0 "
            f"(sharpe={sr}, skew={g3}, kurtosis={g4}); is sharpe per period and kurtosis non-excess?"
        )
    return float(stats.norm.cdf((sr - bench) * math.sqrt(n - 1) / math.sqrt(var)))


def expected_max_sharpe(n_trials: int, *, sharpe_variance: float) -> float:
    """Return the Sharpe ratio the best of ``n_trials`` skill-less trials reaches on average.

    ``sqrt(V) ((1 - gamma) Phi^-1(1 - 1/N) + gamma Phi^-1(1 - 1/(N e)))`` (Bailey &
    López de Prado, 2014, eq. 1); 0 for a single trial.

    Examples
    --------
    >>> round(expected_max_sharpe(100, sharpe_variance=0.5 / 250), 4)
    0.1132
    """
    n = _require_count("n_trials", n_trials, 1)
    v = require_non_negative("sharpe_variance", sharpe_variance)
    if n == 1:
        return 0.0
    z = (1.0 - EULER_GAMMA) * stats.norm.ppf(1.0 - 1.0 / n) + EULER_GAMMA * stats.norm.ppf(
        1.0 - 1.0 / (n * math.e)
    )
    return float(math.sqrt(v) * z)


def deflated_sharpe(
    sharpe: float,
    *,
    n_obs: int,
    n_trials: int,
    sharpe_variance: float,
    skew: float = 0.0,
    kurtosis: float = 3.0,
) -> float:
    """Return the probability that the best of ``n_trials`` has a true Sharpe ratio above zero.

    The PSR of ``sharpe`` against :func:`expected_max_sharpe`, the maximum
    that ``n_trials`` skill-less trials reach by luck (Bailey & López de Prado, 2014).

    Parameters
    ----------
    sharpe
        Sharpe ratio per period of the selected (best) trial.
    n_obs
        Number of returns behind it (>= 2).
    n_trials
        Number of independent trials tried, including those of earlier runs (>= 1).
    sharpe_variance
        Variance of the per-period Sharpe ratios across the trials (>= 0).
    skew, kurtosis
        Skewness and non-excess kurtosis of the selected trial's returns.

    Examples
    --------
    The worked example of the paper: 100 trials, annualised Sharpe 2.5 and
    variance 0.5 across trials, five years of daily returns, skew -3, kurtosis 10:

    >>> round(deflated_sharpe(2.5 / 250**0.5, n_obs=1250, n_trials=100,
    ...                       sharpe_variance=0.5 / 250, skew=-3.0, kurtosis=10.0), 3)
    0.9
    """
    sr0 = expected_max_sharpe(n_trials, sharpe_variance=sharpe_variance)
    return probabilistic_sharpe(sharpe, n_obs=n_obs, skew=skew, kurtosis=kurtosis, benchmark=sr0)


def min_backtest_length(n_trials: int, *, target_sharpe: float) -> float:
    """Return the years of data below which ``n_trials`` trials overfit to ``target_sharpe``.

    Parameters
    ----------
    n_trials
        Number of independent strategy configurations tried (>= 2).
    target_sharpe
        Annualised in-sample Sharpe ratio of the best trial (> 0).

    Returns
    -------
    float
        Years (Bailey, Borwein, López de Prado & Zhu, 2014, eq. 6): with less
        data than this, ``n_trials`` skill-less configurations are expected to
        show a best annualised Sharpe of ``target_sharpe`` in sample.

    Examples
    --------
    Five years of data allow about 45 configurations at a target Sharpe of 1:

    >>> round(min_backtest_length(45, target_sharpe=1.0), 2)
    5.0
    """
    n = _require_count("n_trials", n_trials, 2)
    target = require_positive("target_sharpe", target_sharpe)
    return float((expected_max_sharpe(n, sharpe_variance=1.0) / target) ** 2)


def sharpe_moments(returns: FloatArray) -> tuple[float, float, float, int]:
    """Return ``(sharpe, skew, kurtosis, n_obs)`` of per-period returns, as PSR and DSR take them.

    Sharpe is ``mean / std(ddof=1)`` per period; kurtosis is non-excess.

    Examples
    --------
    >>> sr, g3, g4, n = sharpe_moments(np.array([0.01, -0.02, 0.03, 0.0, 0.01]))
    >>> round(sr, 4), n
    (0.3303, 5)
    """
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 1:
        raise ValidationError(f"returns must be 1-D, got shape {r.shape}")
    if r.size < 3:
        raise InsufficientDataError(f"returns has {r.size} value(s); at least 3 are needed")
    if not np.all(np.isfinite(r)):
        raise ValidationError(f"returns contains NaN or inf at index {int(np.argmin(np.isfinite(r)))}")
    sd = float(np.std(r, ddof=1))
    if sd == 0.0:
        raise ValidationError("returns are constant; the Sharpe ratio is undefined")
    g3 = float(stats.skew(r, bias=True))
    g4 = float(stats.kurtosis(r, fisher=False, bias=True))
    return float(np.mean(r)) / sd, g3, g4, int(r.size)
