"""Surface-level checks and features over per-expiry SVI fits.

Calendar arbitrage: at fixed log-moneyness ``k`` the total implied variance
must not decrease with expiry, ``w(k, T1) <= w(k, T2)`` for ``T1 < T2``
(Gatheral & Jacquier 2014). :func:`calendar_arbitrage` evaluates every pair
of consecutive fitted slices on a grid of ``k`` and reports the largest
decrease.

Features of one slice with ``sigma(k) = sqrt(w(k) / T)``:

- ``atm_vol = sigma(0)`` (at the forward);
- the 25-delta strikes solve ``N(d1(k)) = 0.25`` (call) and ``0.75`` (put's
  delta -0.25) with the forward (undiscounted, not premium-adjusted) delta
  ``d1 = -k / sqrt(w(k)) + sqrt(w(k)) / 2``;
- ``rr25 = sigma(k_25c) - sigma(k_25p)`` (risk reversal) and
  ``bf25 = (sigma(k_25c) + sigma(k_25p)) / 2 - atm_vol`` (butterfly);
- ``term_slope`` of an expiry is ``(atm_vol(next) - atm_vol) / (T_next - T)``,
  in vol per year, null on the last expiry.

The residual of an option is its market implied vol minus the fitted vol at
its log-moneyness: a volatility relative-value spread (positive = rich).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy import optimize, special

from spreadlab._typing import FloatArray
from spreadlab.errors import ValidationError
from spreadlab.pricing.svi import SVIFit

__all__ = [
    "CalendarCheck",
    "SliceFeatures",
    "calendar_arbitrage",
    "slice_features",
    "surface_features",
    "vol_residuals",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarCheck:
    """Result of the calendar-arbitrage check across expiries.

    ``violations`` has one row per consecutive pair of expiries whose total
    variance decreases somewhere on the grid: ``expiry_years_near``,
    ``expiry_years_far``, ``k`` (where the decrease is largest) and
    ``max_decrease`` (in total variance).
    """

    arbitrage_free: bool
    max_decrease: float
    pairs_checked: int
    violations: pl.DataFrame


def calendar_arbitrage(
    fits: Sequence[SVIFit], *, k_grid: npt.ArrayLike | None = None, tolerance: float = 1e-9
) -> CalendarCheck:
    """Check that total variance is non-decreasing in expiry at every log-moneyness.

    Parameters
    ----------
    fits
        SVI fits of one underlying (any order; sorted by expiry here).
    k_grid
        Log-moneyness points to check for every pair; default 101 points on the
        overlap of the two slices' quoted ranges ``[k_min, k_max]`` (SVI wings
        extrapolated beyond the quotes are not evidence of arbitrage).
    tolerance
        Decreases smaller than this (total variance) are ignored.

    Examples
    --------
    >>> import numpy as np
    >>> from spreadlab.pricing.svi import SVI, SVIParams
    >>> k = np.linspace(-0.3, 0.3, 11)
    >>> p = SVIParams(a=0.01, b=0.1, rho=-0.3, m=0.0, sigma=0.2)
    >>> near = SVI().fit(k, p.implied_vol(k, 0.1), expiry_years=0.1)
    >>> far = SVI().fit(k, p.implied_vol(k, 0.1), expiry_years=0.2)  # same w: fine
    >>> calendar_arbitrage([far, near]).arbitrage_free
    True
    """
    fixed = None if k_grid is None else np.asarray(k_grid, dtype=np.float64).ravel()
    if fixed is not None and (fixed.size == 0 or not np.isfinite(fixed).all()):
        raise ValidationError("k_grid must be a non-empty array of finite log-moneyness values")
    ordered = sorted(fits, key=lambda f: f.expiry_years)
    rows: list[tuple[float, float, float, float]] = []
    worst = 0.0
    for near, far in itertools.pairwise(ordered):
        if fixed is None:
            lo, hi = max(near.k_min, far.k_min), min(near.k_max, far.k_max)
            if hi <= lo:
                continue
            grid = np.linspace(lo, hi, 101)
        else:
            grid = fixed
        diff = near.total_variance(grid) - far.total_variance(grid)
        i = int(np.argmax(diff))
        worst = max(worst, float(diff[i]))
        if diff[i] > tolerance:
            rows.append((near.expiry_years, far.expiry_years, float(grid[i]), float(diff[i])))
    violations = pl.DataFrame(
        rows,
        schema={
            "expiry_years_near": pl.Float64,
            "expiry_years_far": pl.Float64,
            "k": pl.Float64,
            "max_decrease": pl.Float64,
        },
        orient="row",
    )
    return CalendarCheck(
        arbitrage_free=not rows,
        max_decrease=worst,
        pairs_checked=max(len(ordered) - 1, 0),
        violations=violations,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SliceFeatures:
    """ATM vol, 25-delta risk reversal and butterfly of one fitted expiry (decimals)."""

    expiry_years: float
    atm_vol: float
    rr25: float
    bf25: float
    k_25c: float
    k_25p: float


def _delta_strike(fit: SVIFit, n_d1_target: float) -> float:
    target = float(special.ndtri(n_d1_target))

    def f(k: float) -> float:
        w = float(fit.total_variance(k)[0])
        sw = math.sqrt(max(w, 1e-300))
        return -k / sw + 0.5 * sw - target

    w0 = max(float(fit.total_variance(0.0)[0]), 1e-12)
    step = 0.5 * math.sqrt(w0) + 0.01
    lo, hi = -step, step
    for _ in range(60):
        if f(lo) > 0.0 > f(hi):
            return float(optimize.brentq(f, lo, hi, xtol=1e-12))
        lo, hi = lo * 2.0, hi * 2.0
    return math.nan


def slice_features(fit: SVIFit) -> SliceFeatures:
    """Compute ATM vol and 25-delta RR / BF of one fitted slice.

    Examples
    --------
    >>> import numpy as np
    >>> from spreadlab.pricing.svi import SVI, SVIParams
    >>> k = np.linspace(-0.3, 0.3, 11)
    >>> flat = SVI().fit(k, np.full(11, 0.5), expiry_years=0.25)
    >>> f = slice_features(flat)
    >>> round(f.atm_vol, 6), abs(f.rr25) < 1e-6, abs(f.bf25) < 1e-6
    (0.5, True, True)
    """
    k_c = _delta_strike(fit, 0.25)
    k_p = _delta_strike(fit, 0.75)
    atm = float(fit.implied_vol(0.0)[0])
    vc = float(fit.implied_vol(k_c)[0]) if math.isfinite(k_c) else math.nan
    vp = float(fit.implied_vol(k_p)[0]) if math.isfinite(k_p) else math.nan
    return SliceFeatures(
        expiry_years=fit.expiry_years,
        atm_vol=atm,
        rr25=vc - vp,
        bf25=0.5 * (vc + vp) - atm,
        k_25c=k_c,
        k_25p=k_p,
    )


def surface_features(fits: Sequence[SVIFit]) -> pl.DataFrame:
    """Tabulate :func:`slice_features` per expiry, sorted by expiry, with the ATM term slope.

    Columns: ``expiry_years, atm_vol, rr25, bf25, k_25c, k_25p, term_slope``.
    """
    feats = [slice_features(f) for f in sorted(fits, key=lambda f: f.expiry_years)]
    t = np.array([f.expiry_years for f in feats])
    atm = np.array([f.atm_vol for f in feats])
    slope = np.full(len(feats), np.nan)
    if len(feats) > 1:
        slope[:-1] = np.diff(atm) / np.diff(t)
    return pl.DataFrame(
        {
            "expiry_years": t,
            "atm_vol": atm,
            "rr25": [f.rr25 for f in feats],
            "bf25": [f.bf25 for f in feats],
            "k_25c": [f.k_25c for f in feats],
            "k_25p": [f.k_25p for f in feats],
            "term_slope": slope,
        },
        schema={
            c: pl.Float64 for c in ("expiry_years", "atm_vol", "rr25", "bf25", "k_25c", "k_25p", "term_slope")
        },
    ).with_columns(pl.col("term_slope").fill_nan(None))


def vol_residuals(fit: SVIFit, log_moneyness: npt.ArrayLike, implied_vol: npt.ArrayLike) -> FloatArray:
    """Return market implied vol minus the fitted vol at each log-moneyness (NaN where the vol is NaN)."""
    k = np.asarray(log_moneyness, dtype=np.float64)
    v = np.asarray(implied_vol, dtype=np.float64)
    out: FloatArray = v - fit.implied_vol(np.where(np.isfinite(k), k, 0.0)).reshape(k.shape)
    return out
