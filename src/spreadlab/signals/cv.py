"""Purged, embargoed cross-validation for labels that span time (López de Prado, 2018, ch. 7).

A sample ``i`` is a bar whose label depends on the bars ``[start_i, end_i]``
(e.g. ``[t, t + h]`` for an ``h``-bar change, or up to the first touch of a
barrier). Ordinary k-fold leaks: a training label whose window overlaps the
test period has seen test prices. With the test fold a contiguous block of
samples spanning the bars ``[T0, T1]`` (``T0`` the first test start, ``T1``
the last test label end):

- **purge**: drop every training sample whose window overlaps ``[T0, T1]``,
  i.e. keep samples before the fold only if ``end_i < T0`` and samples after
  it only if ``start_i > T1``;
- **embargo**: also drop the training samples that start within
  ``e = ceil(embargo x span)`` bars after ``T1`` (``span`` = bars from the
  first start to the last end), because features computed on trailing
  windows right after the test period are correlated with it.

:class:`PurgedKFold` uses every block as a test fold once (training on both
sides); :class:`PurgedWalkForward` trains only on the past (expanding
window), so only the purge applies. :func:`walk_forward` runs any
:class:`~spreadlab.signals.base.SignalModel` out of sample the same way:
fit on the rows before each test block, emit targets on the block; a model
that builds labels from its history can then never use test-period prices.

:class:`CombinatorialPurgedKFold` (CPCV, López de Prado, 2018, ch. 12) cuts
the samples into ``N`` contiguous groups and tests every choice of ``k`` of
them: ``C(N, k)`` splits, each purged against (and embargoed after) every
test group. Each group is tested in ``C(N-1, k-1)`` splits, so the test
predictions assemble into ``phi = k/N C(N, k) = C(N-1, k-1)`` complete
out-of-sample paths: path ``p`` takes each group's ``p``-th test occurrence
(in split order). A strategy validated by CPCV yields a distribution of
``phi`` out-of-sample Sharpe ratios instead of one.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spreadlab._typing import FloatArray, IntArray
from spreadlab.core.validate import require_in_range
from spreadlab.errors import InsufficientDataError, ValidationError
from spreadlab.signals.base import FittedSignal, SignalFrame, SignalModel

__all__ = [
    "CPCVSplit",
    "CPCVSplits",
    "CVFold",
    "CombinatorialPurgedKFold",
    "PurgedKFold",
    "PurgedWalkForward",
    "WalkForwardResult",
    "slice_frame",
    "walk_forward",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class CVFold:
    """One split: positions of the training and test samples and what was removed.

    ``test_start``/``test_end`` are the bars ``[T0, T1]`` the test labels span;
    ``purged`` and ``embargoed`` count the training samples removed by each rule.
    """

    train: IntArray
    test: IntArray
    test_start: int
    test_end: int
    purged: int
    embargoed: int


def _check_windows(start: IntArray, end: IntArray) -> tuple[IntArray, IntArray]:
    s = np.asarray(start)
    e = np.asarray(end)
    for name, arr in (("start", s), ("end", e)):
        if arr.ndim != 1 or arr.dtype.kind not in "iu":
            raise ValidationError(
                f"{name} must be a 1-D integer array (bar index or ns), got {arr.dtype} {arr.shape}"
            )
    if s.size != e.size:
        raise ValidationError(f"series must have the same length: start has {s.size}, end has {e.size}")
    s = s.astype(np.int64)
    e = e.astype(np.int64)
    if s.size > 1 and np.any(np.diff(s) < 0):
        i = int(np.argmax(np.diff(s) < 0)) + 1
        raise ValidationError(
            f"start must be sorted; sample {i} ({s[i]}) starts before sample {i - 1} ({s[i - 1]})"
        )
    if np.any(e < s):
        i = int(np.argmax(e < s))
        raise ValidationError(f"sample {i} ends ({e[i]}) before it starts ({s[i]})")
    return s, e


def _check_splits(n_splits: int) -> None:
    if isinstance(n_splits, bool) or not isinstance(n_splits, int) or n_splits < 2:
        raise ValidationError(f"n_splits={n_splits!r} must be an int >= 2")


@dataclass(frozen=True, slots=True, kw_only=True)
class PurgedKFold:
    """K contiguous test folds; training on both sides, purged and embargoed.

    Parameters
    ----------
    n_splits
        Number of folds (>= 2).
    embargo
        Fraction of the sample span (in bars) embargoed after each test fold, in ``[0, 0.5)``.
    min_train
        Fewest training samples a fold may keep after purging.

    Examples
    --------
    >>> start = np.arange(10)
    >>> folds = PurgedKFold(n_splits=2, embargo=0.0, min_train=1).split(start, start + 2)
    >>> folds[0].test.tolist(), folds[0].train.tolist()
    ([0, 1, 2, 3, 4], [7, 8, 9])
    >>> folds[1].test.tolist(), folds[1].train.tolist()
    ([5, 6, 7, 8, 9], [0, 1, 2])
    """

    n_splits: int = 5
    embargo: float = 0.01
    min_train: int = 10

    def __post_init__(self) -> None:
        _check_splits(self.n_splits)
        require_in_range("embargo", self.embargo, 0.0, 0.5, inclusive=True)
        if self.embargo >= 0.5:
            raise ValidationError(f"embargo={self.embargo} must be < 0.5")
        if isinstance(self.min_train, bool) or not isinstance(self.min_train, int) or self.min_train < 1:
            raise ValidationError(f"min_train={self.min_train!r} must be an int >= 1")

    def split(self, start: IntArray, end: IntArray) -> tuple[CVFold, ...]:
        """Return the folds for samples with label windows ``[start_i, end_i]`` (sorted by start)."""
        s, e = _check_windows(start, end)
        n = s.size
        if n < 2 * self.n_splits:
            raise InsufficientDataError(
                f"have {n} labelled sample(s); PurgedKFold(n_splits={self.n_splits}) needs at least "
                f"{2 * self.n_splits} (2 per fold)"
            )
        span = int(e.max() - s.min() + 1)
        emb = math.ceil(self.embargo * span)
        idx = np.arange(n)
        folds = []
        for k, test in enumerate(np.array_split(idx, self.n_splits)):
            t0 = int(s[test[0]])
            t1 = int(e[test].max())
            other = np.ones(n, dtype=bool)
            other[test] = False
            before = other & (idx < test[0])
            after = other & (idx > test[-1])
            keep_before = before & (e < t0)
            keep_after = after & (s > t1 + emb)
            purged = int(np.count_nonzero(before & ~keep_before) + np.count_nonzero(after & (s <= t1)))
            embargoed = int(np.count_nonzero(after & (s > t1) & (s <= t1 + emb)))
            train = idx[keep_before | keep_after]
            if train.size < self.min_train:
                raise InsufficientDataError(
                    f"fold {k} keeps {train.size} training sample(s) after purging {purged} and embargoing "
                    f"{embargoed}; min_train={self.min_train} are needed "
                    "(more data, fewer folds or shorter labels)"
                )
            folds.append(
                CVFold(train=train, test=test, test_start=t0, test_end=t1, purged=purged, embargoed=embargoed)
            )
        return tuple(folds)


@dataclass(frozen=True, slots=True, kw_only=True)
class PurgedWalkForward:
    """Expanding-window walk-forward: train on the past only, purged of labels reaching the test fold.

    The first ``initial`` fraction of the samples is only ever trained on;
    the rest is cut into ``n_splits`` contiguous test folds.

    Examples
    --------
    >>> start = np.arange(12)
    >>> folds = PurgedWalkForward(n_splits=2, initial=0.5, min_train=1).split(start, start + 2)
    >>> [(f.train.tolist()[-1], f.test.tolist()) for f in folds]
    [(3, [6, 7, 8]), (6, [9, 10, 11])]
    """

    n_splits: int = 5
    initial: float = 0.3
    min_train: int = 10

    def __post_init__(self) -> None:
        _check_splits(self.n_splits)
        require_in_range("initial", self.initial, 0.0, 1.0, inclusive=False)
        if isinstance(self.min_train, bool) or not isinstance(self.min_train, int) or self.min_train < 1:
            raise ValidationError(f"min_train={self.min_train!r} must be an int >= 1")

    def split(self, start: IntArray, end: IntArray) -> tuple[CVFold, ...]:
        """Return the walk-forward folds for samples with label windows ``[start_i, end_i]``."""
        s, e = _check_windows(start, end)
        n = s.size
        first = math.ceil(self.initial * n)
        if n - first < self.n_splits or first < 1:
            raise InsufficientDataError(
                f"have {n} labelled sample(s); PurgedWalkForward(n_splits={self.n_splits}, "
                f"initial={self.initial}) needs at least {self.n_splits} after the first {first}"
            )
        idx = np.arange(n)
        folds = []
        for k, test in enumerate(np.array_split(idx[first:], self.n_splits)):
            t0 = int(s[test[0]])
            t1 = int(e[test].max())
            before = idx < test[0]
            keep = before & (e < t0)
            train = idx[keep]
            purged = int(np.count_nonzero(before & ~keep))
            if train.size < self.min_train:
                raise InsufficientDataError(
                    f"fold {k} keeps {train.size} training sample(s) after purging {purged}; "
                    f"min_train={self.min_train} are needed"
                )
            folds.append(
                CVFold(train=train, test=test, test_start=t0, test_end=t1, purged=purged, embargoed=0)
            )
        return tuple(folds)


@dataclass(frozen=True, slots=True, kw_only=True)
class CPCVSplit:
    """One CPCV split: the training samples kept and the samples of the ``k`` test groups."""

    train: IntArray
    test: IntArray
    test_groups: tuple[int, ...]
    purged: int
    embargoed: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CPCVSplits:
    """All ``C(N, k)`` splits of a CPCV and how their test parts form the paths.

    ``group[i]`` is the group of sample ``i``; ``path_map[p, g]`` the split
    whose test predictions of group ``g`` belong to path ``p``.
    """

    splits: tuple[CPCVSplit, ...]
    group: IntArray
    path_map: IntArray

    @property
    def n_paths(self) -> int:
        """Number of complete out-of-sample paths, ``C(N-1, k-1)``."""
        return int(self.path_map.shape[0])

    def stitch(self, test_values: Sequence[FloatArray]) -> FloatArray:
        """Assemble per-split test values into the ``(n_paths, n_samples)`` out-of-sample paths.

        ``test_values[s]`` holds one value per sample of ``splits[s].test`` (in that order),
        e.g. the out-of-sample returns of the parameters chosen on ``splits[s].train``.
        """
        if len(test_values) != len(self.splits):
            raise ValidationError(f"test_values has {len(test_values)} entries; expected {len(self.splits)}")
        n = self.group.size
        out = np.full((self.n_paths, n), np.nan)
        for s, (split, vals) in enumerate(zip(self.splits, test_values, strict=True)):
            v = np.asarray(vals, dtype=np.float64)
            if v.shape != split.test.shape:
                raise ValidationError(
                    f"test_values[{s}] has shape {v.shape}; split {s} tests {split.test.size} samples"
                )
            for g in split.test_groups:
                p = int(np.flatnonzero(self.path_map[:, g] == s)[0])
                sel = self.group[split.test] == g
                out[p, split.test[sel]] = v[sel]
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class CombinatorialPurgedKFold:
    """Combinatorial purged cross-validation: every ``n_test_groups`` of ``n_groups`` groups tested once.

    Parameters
    ----------
    n_groups
        Number ``N`` of contiguous groups (>= 2).
    n_test_groups
        Number ``k`` of groups tested in each split, ``1 <= k < N``.
    embargo
        Fraction of the sample span (bars) embargoed after each test group, in ``[0, 0.5)``.
    min_train
        Fewest training samples a split may keep.

    Examples
    --------
    >>> start = np.arange(60)
    >>> cv = CombinatorialPurgedKFold(n_groups=6, n_test_groups=2, embargo=0.0, min_train=1)
    >>> res = cv.split(start, start + 1)
    >>> len(res.splits), res.n_paths
    (15, 5)
    >>> res.splits[0].test_groups, int(res.splits[0].train.min())
    ((0, 1), 21)
    """

    n_groups: int = 6
    n_test_groups: int = 2
    embargo: float = 0.01
    min_train: int = 10

    def __post_init__(self) -> None:
        _check_splits(self.n_groups)
        k = self.n_test_groups
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k < self.n_groups:
            raise ValidationError(f"n_test_groups={k!r} must be an int in [1, n_groups={self.n_groups})")
        require_in_range("embargo", self.embargo, 0.0, 0.5, inclusive=True)
        if self.embargo >= 0.5:
            raise ValidationError(f"embargo={self.embargo} must be < 0.5")
        if isinstance(self.min_train, bool) or not isinstance(self.min_train, int) or self.min_train < 1:
            raise ValidationError(f"min_train={self.min_train!r} must be an int >= 1")

    @property
    def n_paths(self) -> int:
        """``C(N-1, k-1)`` out-of-sample paths."""
        return math.comb(self.n_groups - 1, self.n_test_groups - 1)

    def split(self, start: IntArray, end: IntArray) -> CPCVSplits:
        """Return the splits for samples with label windows ``[start_i, end_i]`` (sorted by start)."""
        s, e = _check_windows(start, end)
        n = s.size
        if n < 2 * self.n_groups:
            raise InsufficientDataError(
                f"have {n} labelled sample(s); CombinatorialPurgedKFold(n_groups={self.n_groups}) needs "
                f"at least {2 * self.n_groups} (2 per group)"
            )
        span = int(e.max() - s.min() + 1)
        emb = math.ceil(self.embargo * span)
        idx = np.arange(n)
        parts = np.array_split(idx, self.n_groups)
        group = np.empty(n, dtype=np.int64)
        for g, part in enumerate(parts):
            group[part] = g
        splits = []
        seen = np.zeros(self.n_groups, dtype=np.int64)
        path_map = np.full((self.n_paths, self.n_groups), -1, dtype=np.int64)
        for c, combo in enumerate(itertools.combinations(range(self.n_groups), self.n_test_groups)):
            test_mask = np.isin(group, combo)
            overlap = np.zeros(n, dtype=bool)
            embargoed = np.zeros(n, dtype=bool)
            for g in combo:
                t0 = int(s[parts[g][0]])
                t1 = int(e[parts[g]].max())
                overlap |= (s <= t1) & (e >= t0)
                embargoed |= (s > t1) & (s <= t1 + emb)
            candidates = ~test_mask
            purged_mask = candidates & overlap
            emb_mask = candidates & ~overlap & embargoed
            train = idx[candidates & ~overlap & ~embargoed]
            if train.size < self.min_train:
                raise InsufficientDataError(
                    f"split {c} (test groups {combo}) keeps {train.size} training sample(s); "
                    f"min_train={self.min_train} are needed (more data, fewer test groups or shorter labels)"
                )
            splits.append(
                CPCVSplit(
                    train=train,
                    test=idx[test_mask],
                    test_groups=tuple(int(g) for g in combo),
                    purged=int(purged_mask.sum()),
                    embargoed=int(emb_mask.sum()),
                )
            )
            for g in combo:
                path_map[seen[g], g] = c
                seen[g] += 1
        return CPCVSplits(splits=tuple(splits), group=group, path_map=path_map)


def slice_frame(frame: SignalFrame, lo: int, hi: int) -> SignalFrame:
    """Return rows ``[lo, hi)`` of ``frame``."""
    return SignalFrame(ts=frame.ts[lo:hi], columns={k: v[lo:hi] for k, v in frame.columns.items()})


@dataclass(frozen=True, slots=True, kw_only=True)
class WalkForwardResult:
    """Out-of-sample targets and scores of a walk-forward run.

    Rows before ``first_test`` were never tested: their ``target`` is 0 and
    ``score`` NaN. ``fold`` is the fold number of each row (-1 before the first).
    """

    ts: IntArray
    target: FloatArray
    score: FloatArray
    fold: IntArray
    first_test: int
    fits: tuple[FittedSignal, ...]


def walk_forward(
    model: SignalModel,
    frame: SignalFrame,
    *,
    n_splits: int,
    initial: float,
    train_window: int | None = None,
) -> WalkForwardResult:
    """Fit ``model`` on the past and trade each of ``n_splits`` later blocks out of sample.

    Parameters
    ----------
    model
        Any :class:`SignalModel` (z-score bands, OU bands, LightGBM, ...).
    frame
        The whole aligned history.
    n_splits
        Number of consecutive test blocks after the initial training span.
    initial
        Fraction of the rows used only for the first fit, in ``(0, 1)``.
    train_window
        Fit on at most this many rows before each block (rolling window);
        ``None`` fits on all earlier rows (expanding window).

    Returns
    -------
    WalkForwardResult
        The target position carries across blocks (each block starts from
        the previous block's last target).

    Examples
    --------
    >>> from spreadlab.signals.rules import ThresholdRule, ZScoreBands
    >>> rng = np.random.default_rng(0)
    >>> f = SignalFrame(ts=np.arange(300), columns={"spread": rng.normal(size=300)})
    >>> wf = walk_forward(ZScoreBands(window=20, rule=ThresholdRule(entry_z=1.5)), f, n_splits=3, initial=0.4)
    >>> wf.first_test, sorted(set(wf.fold.tolist()))
    (120, [-1, 0, 1, 2])
    """
    if isinstance(n_splits, bool) or not isinstance(n_splits, int) or n_splits < 1:
        raise ValidationError(f"n_splits={n_splits!r} must be an int >= 1")
    require_in_range("initial", initial, 0.0, 1.0, inclusive=False)
    n = len(frame)
    first = math.ceil(initial * n)
    if n - first < n_splits:
        raise InsufficientDataError(
            f"frame has {n} rows; {n_splits} test blocks after the first {first} need more"
        )
    if train_window is not None and (
        isinstance(train_window, bool) or not isinstance(train_window, int) or train_window < 2
    ):
        raise ValidationError(f"train_window={train_window!r} must be an int >= 2 or None")
    target = np.zeros(n)
    score = np.full(n, np.nan)
    fold = np.full(n, -1, dtype=np.int64)
    fits = []
    current = 0.0
    for k, block in enumerate(np.array_split(np.arange(first, n), n_splits)):
        lo, hi = int(block[0]), int(block[-1]) + 1
        t_lo = 0 if train_window is None else max(0, lo - train_window)
        fitted = model.fit(slice_frame(frame, t_lo, lo))
        test = slice_frame(frame, lo, hi)
        target[lo:hi] = fitted.target(test, current=current)
        score[lo:hi] = fitted.score(test)
        fold[lo:hi] = k
        current = float(target[hi - 1])
        fits.append(fitted)
    return WalkForwardResult(
        ts=np.asarray(frame.ts), target=target, score=score, fold=fold, first_test=first, fits=tuple(fits)
    )
