"""Basis and carry: annualised basis of futures, perpetual premium, funding-implied fair basis.

With spot (index) ``S``, a future at ``F`` expiring in ``T`` years::

    simple basis      (F / S - 1) / T
    continuous basis  ln(F / S) / T

A perpetual's premium to its index is ``P / S - 1``. A perpetual whose
funding rate per interval is ``f`` (paid by longs when positive) every
``h`` hours carries ``f * 8760 / h`` per year (markets run 24/7: 8760 hours
a year, never 252 days), so a future expiring in ``T`` years is fairly
worth ``S * exp(f * 8760 / h * T)`` against the perpetual: the
funding-implied fair basis.

Between two expiries ``T1 < T2`` the calendar spread is ``F2 - F1`` and the
forward-forward (continuous) rate is ``ln(F2 / F1) / (T2 - T1)``.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import numpy.typing as npt
import polars as pl

from spreadlab._typing import FloatArray
from spreadlab.core.validate import require_positive
from spreadlab.errors import ValidationError
from spreadlab.pricing._inputs import broadcast_fields

__all__ = [
    "HOURS_PER_YEAR",
    "Compounding",
    "annualised_basis",
    "basis_term_structure",
    "funding_fair_future",
    "funding_implied_basis",
    "perp_premium",
]

HOURS_PER_YEAR = 24.0 * 365.0


class Compounding(StrEnum):
    """How a basis or rate is annualised."""

    SIMPLE = "simple"
    CONTINUOUS = "continuous"


def annualised_basis(
    future_price: npt.ArrayLike,
    spot: npt.ArrayLike,
    expiry_years: npt.ArrayLike,
    *,
    compounding: Compounding = Compounding.CONTINUOUS,
) -> FloatArray:
    """Return the annualised basis of each future against spot.

    Examples
    --------
    >>> round(float(annualised_basis(102.0, 100.0, 0.5, compounding=Compounding.SIMPLE)), 12)
    0.04
    """
    shape, a = broadcast_fields(
        {
            "future_price": (future_price, "positive"),
            "spot": (spot, "positive"),
            "expiry_years": (expiry_years, "positive"),
        }
    )
    ratio = a["future_price"] / a["spot"]
    comp = Compounding(compounding)
    out = (
        np.log(ratio) / a["expiry_years"]
        if comp is Compounding.CONTINUOUS
        else (ratio - 1.0) / a["expiry_years"]
    )
    return out.reshape(shape)


def perp_premium(perp_price: npt.ArrayLike, index_price: npt.ArrayLike) -> FloatArray:
    """Return the perpetual's premium to its index, ``P / S - 1``.

    Examples
    --------
    >>> round(float(perp_premium(100.5, 100.0)), 12)
    0.005
    """
    shape, a = broadcast_fields(
        {"perp_price": (perp_price, "positive"), "index_price": (index_price, "positive")}
    )
    return (a["perp_price"] / a["index_price"] - 1.0).reshape(shape)


def funding_implied_basis(funding_rate: npt.ArrayLike, *, interval_hours: float) -> FloatArray:
    """Annualise a per-interval funding rate: ``f * 8760 / interval_hours``.

    Examples
    --------
    >>> round(float(funding_implied_basis(0.0001, interval_hours=8.0)), 12)
    0.1095
    """
    h = require_positive("interval_hours", interval_hours)
    shape, a = broadcast_fields({"funding_rate": (funding_rate, "finite")})
    return (a["funding_rate"] * HOURS_PER_YEAR / h).reshape(shape)


def funding_fair_future(
    spot: npt.ArrayLike, funding_rate: npt.ArrayLike, expiry_years: npt.ArrayLike, *, interval_hours: float
) -> FloatArray:
    """Return the future price implied by carrying the perpetual's funding to expiry.

    Examples
    --------
    >>> round(float(funding_fair_future(100.0, 0.0001, 1.0, interval_hours=8.0)), 6)
    111.572007
    """
    annual = funding_implied_basis(funding_rate, interval_hours=interval_hours)
    shape, a = broadcast_fields(
        {"spot": (spot, "positive"), "expiry_years": (expiry_years, "positive")}, extra_shapes=[annual.shape]
    )
    ann = np.broadcast_to(annual, shape).ravel()
    return (a["spot"] * np.exp(ann * a["expiry_years"])).reshape(shape)


def basis_term_structure(futures: pl.DataFrame, *, spot: float) -> pl.DataFrame:
    """Annualised basis per expiry and calendar spreads between consecutive expiries.

    Parameters
    ----------
    futures
        One row per future with columns ``instrument`` (str), ``expiry_years``
        (> 0) and ``price`` (> 0).
    spot
        The spot index price.

    Returns
    -------
    polars.DataFrame
        Sorted by expiry: ``instrument, expiry_years, price, basis_simple,
        basis_continuous, calendar_spread, forward_rate`` (the last two to the
        next expiry, null on the last).
    """
    s = require_positive("spot", spot)
    missing = {"instrument", "expiry_years", "price"} - set(futures.columns)
    if missing:
        raise ValidationError(f"futures frame is missing columns {sorted(missing)}")
    df = futures.select(
        "instrument", pl.col("expiry_years").cast(pl.Float64), pl.col("price").cast(pl.Float64)
    )
    bad = df.filter(~(pl.col("expiry_years") > 0) | ~(pl.col("price") > 0) | pl.col("price").is_null())
    if bad.height:
        raise ValidationError(
            f"futures rows need expiry_years > 0 and price > 0; bad: {bad.row(0, named=True)}"
        )
    df = df.sort("expiry_years")
    t = df["expiry_years"].to_numpy()
    p = df["price"].to_numpy()
    spread = np.full(len(t), np.nan)
    fwd = np.full(len(t), np.nan)
    if len(t) > 1:
        spread[:-1] = np.diff(p)
        fwd[:-1] = np.diff(np.log(p)) / np.diff(t)
    return df.with_columns(
        pl.Series("basis_simple", (p / s - 1.0) / t),
        pl.Series("basis_continuous", np.log(p / s) / t),
        pl.Series("calendar_spread", spread).fill_nan(None),
        pl.Series("forward_rate", fwd).fill_nan(None),
    )
