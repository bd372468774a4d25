"""Probability of Backtest Overfitting by combinatorially symmetric cross-validation (CSCV).

Bailey, Borwein, López de Prado & Zhu (2017), "The Probability of Backtest
Overfitting", *Journal of Computational Finance* 20(4), section 2. Given a
``T x N`` matrix of per-period returns of ``N`` strategy configurations:

1. cut the rows into ``S`` (even) contiguous blocks of equal size;
2. for each of the ``C(S, S/2)`` ways to pick half of the blocks as the
   in-sample set ``J`` (the rest, ``J'``, is out of sample): compute every
   configuration's Sharpe ratio on ``J`` and on ``J'``;
3. let ``n*`` be the configuration with the best in-sample Sharpe, ``w`` its
   relative rank out of sample, ``w = rank(n*) / (N + 1)`` with ranks
   ``1..N`` in ascending order, and ``lambda = ln(w / (1 - w))`` its logit;
4. ``PBO = P(lambda <= 0)``: the share of splits in which the in-sample
   winner ends in the bottom half out of sample.

Without skill the winner's out-of-sample rank is uniform and PBO is 0.5; a
configuration with a real edge wins both halves and drives PBO to 0.

The result also carries the pairs (in-sample Sharpe of ``n*``, its
out-of-sample Sharpe) behind the paper's performance-degradation regression
and the probability of an out-of-sample loss, ``P(SR_oos(n*) < 0)``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from spreadlab._typing import FloatArray
from spreadlab.errors import InsufficientDataError, ValidationError

__all__ = ["PBOResult", "pbo"]

_MAX_COMBINATIONS = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class PBOResult:
    """The CSCV distribution of a set of strategy configurations.

    ``logits`` has one ``lambda`` per split; ``is_sharpe`` and ``oos_sharpe``
    are the in-sample and out-of-sample per-period Sharpe ratios of each
    split's in-sample winner, ``best`` its column index.
    """

    pbo: float
    logits: FloatArray
    is_sharpe: FloatArray
    oos_sharpe: FloatArray
    best: np.ndarray
    n_splits: int
    n_strategies: int

    @property
    def n_combinations(self) -> int:
        """Number of in-sample/out-of-sample splits evaluated, ``C(S, S/2)``."""
        return int(self.logits.size)

    @property
    def prob_oos_loss(self) -> float:
        """Share of splits whose in-sample winner has a negative out-of-sample Sharpe."""
        return float(np.mean(self.oos_sharpe < 0.0))

    @property
    def degradation_slope(self) -> float:
        """Slope of the least-squares line of out-of-sample on in-sample Sharpe (< 0: overfit)."""
        x = self.is_sharpe - self.is_sharpe.mean()
        denom = float(np.dot(x, x))
        return float(np.dot(x, self.oos_sharpe - self.oos_sharpe.mean()) / denom) if denom > 0 else 0.0

    def to_dict(self) -> dict[str, float | int]:
        """Summary numbers (JSON-ready)."""
        return {
            "pbo": self.pbo,
            "n_splits": self.n_splits,
            "n_strategies": self.n_strategies,
            "n_combinations": self.n_combinations,
            "prob_oos_loss": self.prob_oos_loss,
            "degradation_slope": self.degradation_slope,
            "median_logit": float(np.median(self.logits)),
        }


def _block_sharpe(s1: FloatArray, s2: FloatArray, cnt: FloatArray) -> FloatArray:
    """Sharpe (ddof=1) per row from summed moments of shape (C, N) and counts (C, 1)."""
    mean = s1 / cnt
    var = (s2 - cnt * mean * mean) / (cnt - 1.0)
    sd = np.sqrt(np.maximum(var, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(sd > 0, mean / sd, 0.0)
    return np.asarray(out, dtype=np.float64)


def pbo(returns: FloatArray, *, n_splits: int = 16) -> PBOResult:
    """Return the Probability of Backtest Overfitting of a set of configurations (CSCV).

    Parameters
    ----------
    returns
        ``(time x strategies)`` per-period returns, at least two columns, no NaN.
    n_splits
        Even number of blocks ``S`` (>= 2); ``C(S, S/2)`` splits are evaluated
        (12,870 for 16). Rows that do not fill the last block are dropped
        from the start so that the most recent data is kept.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> noise = rng.normal(size=(800, 50))
    >>> 0.35 < pbo(noise, n_splits=8).pbo < 0.65
    True
    """
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 2:
        raise ValidationError(f"returns must be a 2-D (time x strategies) array, got shape {r.shape}")
    if isinstance(n_splits, bool) or not isinstance(n_splits, int) or n_splits < 2 or n_splits % 2:
        raise ValidationError(f"n_splits={n_splits!r} must be an even int >= 2")
    t, n = r.shape
    if n < 2:
        raise ValidationError(f"returns has {n} strategy column(s); PBO compares at least 2")
    if t < 2 * n_splits:
        raise InsufficientDataError(
            f"returns has {t} row(s); n_splits={n_splits} needs at least {2 * n_splits} (2 per block)"
        )
    if not np.all(np.isfinite(r)):
        row, col = np.argwhere(~np.isfinite(r))[0]
        raise ValidationError(f"returns[{row}, {col}] is NaN or inf")
    if math.comb(n_splits, n_splits // 2) > _MAX_COMBINATIONS:
        raise ValidationError(f"n_splits={n_splits} gives more than {_MAX_COMBINATIONS:,} splits; use <= 22")
    size = t // n_splits
    blocks = r[t - size * n_splits :].reshape(n_splits, size, n)
    s1 = blocks.sum(axis=1)  # (S, N)
    s2 = (blocks * blocks).sum(axis=1)
    combos = np.array(list(itertools.combinations(range(n_splits), n_splits // 2)), dtype=np.int64)
    mask = np.zeros((combos.shape[0], n_splits))
    mask[np.arange(combos.shape[0])[:, None], combos] = 1.0
    half = np.full((combos.shape[0], 1), float(size * n_splits // 2))
    sr_is = _block_sharpe(mask @ s1, mask @ s2, half)
    sr_oos = _block_sharpe((1.0 - mask) @ s1, (1.0 - mask) @ s2, half)
    best = np.argmax(sr_is, axis=1)
    rows = np.arange(combos.shape[0])
    oos_best = sr_oos[rows, best]
    # rank 1..N ascending; ties share the average rank
    below = np.sum(sr_oos < oos_best[:, None], axis=1)
    equal = np.sum(sr_oos == oos_best[:, None], axis=1)
    rank = below + (equal + 1) / 2.0
    w = rank / (n + 1.0)
    logits = np.log(w / (1.0 - w))
    return PBOResult(
        pbo=float(np.mean(logits <= 0.0)),
        logits=logits,
        is_sharpe=sr_is[rows, best],
        oos_sharpe=oos_best,
        best=best,
        n_splits=n_splits,
        n_strategies=n,
    )
