"""Volatility-surface features on a time grid, from the pricing module's per-expiry features.

For every snapshot (a time and the SVI fits of its expiries),
:func:`spreadlab.pricing.surface.surface_features` gives per expiry the ATM
vol, 25-delta risk reversal and butterfly. They are read at a constant tenor
``T*`` by interpolating between the two expiries that bracket it,
``T1 <= T* <= T2`` with ``u = (T* - T1) / (T2 - T1)``:

- ATM vol linear in total variance: ``sigma* = sqrt(((1-u) s1^2 T1 + u s2^2 T2) / T*)``;
- ``rr25``, ``bf25`` linear in expiry;
- ``term_slope = (s2 - s1) / (T2 - T1)`` (vol per year between the brackets).

No extrapolation: a tenor outside the listed expiries gives null.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import polars as pl

from spreadlab.core.validate import require_positive
from spreadlab.errors import ValidationError
from spreadlab.pricing.surface import surface_features
from spreadlab.pricing.svi import SVIFit
from spreadlab.signals.features.asof import check_ts

__all__ = ["interpolate_tenor", "surface_feature_series"]


def interpolate_tenor(table: pl.DataFrame, tenor_years: float) -> dict[str, float]:
    """Read ``atm_vol``, ``rr25``, ``bf25`` and ``term_slope`` at ``tenor_years`` from a surface table.

    ``table`` is the output of :func:`spreadlab.pricing.surface.surface_features`.

    Examples
    --------
    >>> t = pl.DataFrame({"expiry_years": [0.1, 0.3], "atm_vol": [0.5, 0.6], "rr25": [0.0, 0.02],
    ...                   "bf25": [0.01, 0.01]})
    >>> out = interpolate_tenor(t, 0.2)
    >>> round(out["atm_vol"], 6), round(out["rr25"], 6), round(out["term_slope"], 6)
    (0.576628, 0.01, 0.5)
    """
    require_positive("tenor_years", tenor_years)
    nan = {"atm_vol": math.nan, "rr25": math.nan, "bf25": math.nan, "term_slope": math.nan}
    t = table["expiry_years"].to_numpy()
    if t.size == 0 or tenor_years < t[0] or tenor_years > t[-1]:
        return nan
    j = int(np.searchsorted(t, tenor_years, side="left"))
    if t[j] == tenor_years:
        lo, hi = (j, j + 1) if j + 1 < t.size else (j - 1, j)
    else:
        lo, hi = j - 1, j
    if lo < 0:
        out = {c: float(table[c][j]) for c in ("atm_vol", "rr25", "bf25")}
        out["term_slope"] = math.nan
        return out
    t1, t2 = float(t[lo]), float(t[hi])
    u = (tenor_years - t1) / (t2 - t1)
    s1, s2 = float(table["atm_vol"][lo]), float(table["atm_vol"][hi])
    w = (1 - u) * s1 * s1 * t1 + u * s2 * s2 * t2
    return {
        "atm_vol": math.sqrt(w / tenor_years) if w >= 0 else math.nan,
        "rr25": (1 - u) * float(table["rr25"][lo]) + u * float(table["rr25"][hi]),
        "bf25": (1 - u) * float(table["bf25"][lo]) + u * float(table["bf25"][hi]),
        "term_slope": (s2 - s1) / (t2 - t1),
    }


def surface_feature_series(
    ts: Sequence[int], fits: Sequence[Sequence[SVIFit]], *, tenor_years: float, prefix: str = "iv"
) -> pl.DataFrame:
    """Build constant-tenor ATM vol, 25-delta RR/BF and term slope, one row per snapshot.

    Parameters
    ----------
    ts
        Snapshot times, strictly increasing int64 ns (join them to a bar grid
        with :func:`~spreadlab.signals.features.asof.asof_join`).
    fits
        The SVI fits of each snapshot's expiries.
    tenor_years
        The constant tenor read from each surface.
    prefix
        Column-name prefix.

    Returns
    -------
    polars.DataFrame
        ``ts``, ``<prefix>_atm``, ``<prefix>_rr25``, ``<prefix>_bf25``, ``<prefix>_term_slope``.
    """
    grid = check_ts("ts", np.asarray(ts, dtype=np.int64))
    if len(fits) != grid.size:
        raise ValidationError(f"series must have the same length: ts has {grid.size}, fits has {len(fits)}")
    rows = []
    for i, snapshot in enumerate(fits):
        if len(snapshot) == 0:
            raise ValidationError(f"fits[{i}] is empty: snapshot {grid[i]} has no fitted expiry")
        rows.append(interpolate_tenor(surface_features(snapshot), tenor_years))
    return pl.DataFrame(
        {
            "ts": grid,
            f"{prefix}_atm": [r["atm_vol"] for r in rows],
            f"{prefix}_rr25": [r["rr25"] for r in rows],
            f"{prefix}_bf25": [r["bf25"] for r in rows],
            f"{prefix}_term_slope": [r["term_slope"] for r in rows],
        },
        schema={
            "ts": pl.Int64,
            **{f"{prefix}_{c}": pl.Float64 for c in ("atm", "rr25", "bf25", "term_slope")},
        },
    ).with_columns(pl.exclude("ts").fill_nan(None))
