"""Rolling correlation structure of a universe: leading eigenvalues and the spread's factor loadings.

At each bar the correlation matrix of the universe's one-bar returns over a
trailing window is decomposed (kernel
:func:`spreadlab.kernels.features.rolling_corr_spectrum`). The leading
eigenvalue divided by the number of assets is the share of variance the
market mode explains (it rises when everything moves together, when
relative-value spreads tend to break); the spread's loading on factor ``j``
is the correlation of the spread's changes with that factor's return,
``c . v_j / sqrt(lambda_j)``, with eigenvector signs fixed so ``sum(v_j) >= 0``.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from spreadlab._typing import FloatArray, IntArray
from spreadlab.errors import ValidationError
from spreadlab.kernels.features import rolling_corr_spectrum
from spreadlab.signals.base import as_float_series, require_min_length
from spreadlab.signals.features.asof import check_ts

__all__ = ["correlation_features", "log_returns"]


def log_returns(prices: pl.DataFrame, *, ts: str = "ts") -> pl.DataFrame:
    """Return one-bar log returns of every price column of a wide frame (first row null).

    Examples
    --------
    >>> log_returns(pl.DataFrame({"ts": [0, 1], "a": [1.0, 2.0]}))["a"].round(4).to_list()
    [None, 0.6931]
    """
    cols = [c for c in prices.columns if c != ts]
    for c in cols:
        s = prices[c]
        if s.null_count() or not s.dtype.is_numeric():
            raise ValidationError(f"price column {c!r} must be numeric without nulls")
        bad = ~np.isfinite(s.to_numpy()) | (s.to_numpy() <= 0)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValidationError(f"price column {c!r} row {i} is {s[i]}; prices must be finite and > 0")
    return prices.select(pl.col(ts), *[pl.col(c).log().diff().alias(c) for c in cols])


def correlation_features(
    ts: IntArray,
    returns: pl.DataFrame | FloatArray,
    target: FloatArray,
    *,
    window: int,
    k: int = 3,
    prefix: str = "corr",
) -> pl.DataFrame:
    """Build the rolling eigenvalue shares of the universe and the target's loadings on them.

    Parameters
    ----------
    ts
        Bar times, strictly increasing int64 ns.
    returns
        One-bar returns of the ``N`` universe members, ``(n, N)`` array or a
        frame whose columns are the members (no NaN/null: drop the first
        return row first).
    target
        One-bar changes of the spread on the same bars.
    window
        Trailing window (rows) of each correlation matrix, ``>= 3``.
    k
        Number of leading factors reported, in ``[1, N]``.
    prefix
        Column-name prefix.

    Returns
    -------
    polars.DataFrame
        ``ts``, ``<prefix>_eig_<j>`` (``lambda_j / N``) and ``<prefix>_load_<j>``
        for ``j = 1..k``; null during the warm-up and where a column is constant
        over the window.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> common = rng.normal(size=(200, 1))
    >>> r = common + 0.1 * rng.normal(size=(200, 4))
    >>> f = correlation_features(np.arange(200), r, r[:, 0] - r[:, 1], window=100, k=1)
    >>> round(f["corr_eig_1"][-1], 2) > 0.9
    True
    """
    grid = check_ts("ts", ts)
    if isinstance(returns, pl.DataFrame):
        names = returns.columns
        for c in names:
            if returns[c].null_count():
                i = int(returns[c].is_null().arg_max() or 0)
                raise ValidationError(
                    f"returns column {c!r} has {returns[c].null_count()} null(s), first at row {i}"
                )
        r = returns.to_numpy().astype(np.float64)
    else:
        r = np.asarray(returns, dtype=np.float64)
        names = [f"col{j}" for j in range(r.shape[1])] if r.ndim == 2 else []
    if r.ndim != 2:
        raise ValidationError(f"returns must be 2-D (bars x members), got shape {r.shape}")
    bad = ~np.isfinite(r)
    if bad.any():
        i, j = (int(v[0]) for v in np.nonzero(bad))
        raise ValidationError(
            f"returns has {int(bad.sum())} non-finite value(s), first at row {i} column {names[j]!r}"
        )
    y = as_float_series("target", target)
    if r.shape[0] != grid.size or y.size != grid.size:
        raise ValidationError(
            f"series must have the same length: ts has {grid.size}, returns has {r.shape[0]}, "
            f"target has {y.size}"
        )
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < 3:
        raise ValidationError(f"window={window!r} must be an int >= 3")
    n_assets = r.shape[1]
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= n_assets:
        raise ValidationError(f"k={k!r} must be an int in [1, {n_assets}] (the number of members)")
    require_min_length("returns", grid.size, int(window), why=f"for one window of {window}")
    share, load = rolling_corr_spectrum(np.ascontiguousarray(r), y, int(window), int(k))
    cols = [pl.Series("ts", grid)]
    cols += [pl.Series(f"{prefix}_eig_{j + 1}", share[:, j]) for j in range(k)]
    cols += [pl.Series(f"{prefix}_load_{j + 1}", load[:, j]) for j in range(k)]
    return pl.DataFrame(cols).with_columns(pl.exclude("ts").fill_nan(None))
