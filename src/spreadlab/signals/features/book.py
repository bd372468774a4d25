"""Order-book features from the top levels recorded by :meth:`spreadlab.data.orderbook.OrderBook.replay`.

With best-first bid levels ``(b_i, B_i)`` and ask levels ``(a_i, A_i)`` and
the mid ``m = (b_1 + a_1) / 2`` (the definitions of
:mod:`spreadlab.data.orderbook`):

- imbalance over the best ``k`` levels: ``(sum B_{1..k} - sum A_{1..k}) / (sum B + sum A)``;
- depth within ``d`` basis points: bid size with ``b_i >= m (1 - d/10^4)``
  and ask size with ``a_i <= m (1 + d/10^4)``, and their imbalance
  ``(bid - ask) / (bid + ask)``;
- microprice deviation in basis points: ``(mp / m - 1) 10^4`` with the
  microprice ``mp = (b_1 A_1 + a_1 B_1) / (A_1 + B_1)``;
- relative spread in basis points: ``(a_1 / b_1 - 1) 10^4``.

Missing levels (NaN in :class:`~spreadlab.data.orderbook.TopLevels`) count
as zero size. Depth counts only the recorded ``top_n`` levels: record enough
levels to span the widest ``d``. Rows where the book was invalid or a side
empty give null.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from spreadlab._typing import FloatArray, IntArray
from spreadlab.core.validate import require_positive
from spreadlab.data.orderbook import TopLevels
from spreadlab.errors import ValidationError

__all__ = ["book_features"]


def _ratio(num: FloatArray, den: FloatArray, ok: np.ndarray) -> FloatArray:
    out = np.full(num.shape, np.nan)
    good = ok & (den > 0)
    out[good] = num[good] / den[good]
    return out


def book_features(
    ts: IntArray,
    top: TopLevels,
    *,
    levels: Sequence[int] = (1, 5, 10),
    depth_bp: Sequence[float] = (5.0, 25.0),
    prefix: str = "book",
) -> pl.DataFrame:
    """Compute imbalance, depth, microprice and spread features after every book event.

    Parameters
    ----------
    ts
        One time per row of ``top`` (e.g. ``replay.frame["ts"]``); sorted
        but not necessarily strictly increasing (several messages may share
        a time).
    top
        The best levels after each event (``OrderBook.replay(..., top_n=N)``).
    levels
        Depths ``k`` (in levels) of the imbalance features, each ``<= N``.
    depth_bp
        Bands ``d`` (basis points of the mid) of the depth features.
    prefix
        Column-name prefix.

    Returns
    -------
    polars.DataFrame
        ``ts``, ``<prefix>_imb_<k>``, ``<prefix>_depth_bid_<d>bp``,
        ``<prefix>_depth_ask_<d>bp``, ``<prefix>_depth_imb_<d>bp``,
        ``<prefix>_micro_dev_bp``, ``<prefix>_spread_bp``.

    Examples
    --------
    >>> top = TopLevels(bid_prices=np.array([[99.0, 98.0]]), bid_sizes=np.array([[3.0, 1.0]]),
    ...                 ask_prices=np.array([[101.0, 102.0]]), ask_sizes=np.array([[1.0, 1.0]]))
    >>> f = book_features(np.array([0]), top, levels=(1, 2), depth_bp=(150.0,))
    >>> f["book_imb_1"][0], round(f["book_imb_2"][0], 6), round(f["book_micro_dev_bp"][0], 9)
    (0.5, 0.333333, 50.0)
    """
    t = np.asarray(ts).astype(np.int64)
    if t.ndim != 1:
        raise ValidationError(f"ts must be 1-D, got shape {t.shape}")
    if t.size > 1 and np.any(np.diff(t) < 0):
        i = int(np.argmax(np.diff(t) < 0)) + 1
        raise ValidationError(f"ts must be sorted; row {i} ({t[i]}) is before row {i - 1}")
    bp = np.asarray(top.bid_prices, dtype=np.float64)
    bs = np.asarray(top.bid_sizes, dtype=np.float64)
    ap = np.asarray(top.ask_prices, dtype=np.float64)
    as_ = np.asarray(top.ask_sizes, dtype=np.float64)
    for name, arr in (("bid_sizes", bs), ("ask_prices", ap), ("ask_sizes", as_)):
        if arr.shape != bp.shape:
            raise ValidationError(
                f"top.{name} has shape {arr.shape}; expected {bp.shape} like top.bid_prices"
            )
    if bp.ndim != 2 or bp.shape[0] != t.size:
        raise ValidationError(f"top has shape {bp.shape}; expected ({t.size}, top_n) with one row per ts")
    n_levels = bp.shape[1]
    for k in levels:
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= n_levels:
            raise ValidationError(
                f"levels entry {k!r} must be an int in [1, {n_levels}] (the recorded top_n)"
            )
    for d in depth_bp:
        require_positive("depth_bp entry", d)
    ok = np.isfinite(bp[:, 0]) & np.isfinite(ap[:, 0]) & (bs[:, 0] > 0) & (as_[:, 0] > 0)
    bsz = np.where(np.isfinite(bs), bs, 0.0)
    asz = np.where(np.isfinite(as_), as_, 0.0)
    cb = np.cumsum(bsz, axis=1)
    ca = np.cumsum(asz, axis=1)
    cols: list[pl.Series] = [pl.Series("ts", t)]
    for k in levels:
        b, a = cb[:, k - 1], ca[:, k - 1]
        cols.append(pl.Series(f"{prefix}_imb_{k}", _ratio(b - a, b + a, ok)))
    with np.errstate(invalid="ignore"):
        mid = 0.5 * (bp[:, 0] + ap[:, 0])
        for d in depth_bp:
            lo = (mid * (1.0 - d / 1e4))[:, None]
            hi = (mid * (1.0 + d / 1e4))[:, None]
            db = np.where(np.isfinite(bp) & (bp >= lo), bsz, 0.0).sum(axis=1)
            da = np.where(np.isfinite(ap) & (ap <= hi), asz, 0.0).sum(axis=1)
            tag = f"{d:g}bp"
            cols.append(pl.Series(f"{prefix}_depth_bid_{tag}", np.where(ok, db, np.nan)))
            cols.append(pl.Series(f"{prefix}_depth_ask_{tag}", np.where(ok, da, np.nan)))
            cols.append(pl.Series(f"{prefix}_depth_imb_{tag}", _ratio(db - da, db + da, ok)))
        micro = (bp[:, 0] * asz[:, 0] + ap[:, 0] * bsz[:, 0]) / (asz[:, 0] + bsz[:, 0])
        cols.append(pl.Series(f"{prefix}_micro_dev_bp", np.where(ok, (micro / mid - 1.0) * 1e4, np.nan)))
        cols.append(pl.Series(f"{prefix}_spread_bp", np.where(ok, (ap[:, 0] / bp[:, 0] - 1.0) * 1e4, np.nan)))
    return pl.DataFrame(cols).with_columns(pl.exclude("ts").fill_nan(None))
