"""Purged, embargoed CV: no training label window ever overlaps a test window; walk-forward has no look-ahead."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spreadlab.errors import InsufficientDataError, ValidationError
from spreadlab.signals.base import SignalFrame
from spreadlab.signals.cv import PurgedKFold, PurgedWalkForward, walk_forward
from spreadlab.signals.rules import ThresholdRule, ZScoreBands


@st.composite
def windows(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(30, 200))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    start = np.sort(rng.choice(np.arange(3 * n), size=n, replace=False))
    end = start + rng.integers(0, 25, size=n)
    return start.astype(np.int64), end.astype(np.int64)


@settings(max_examples=150, deadline=None)
@given(w=windows(), k=st.integers(2, 5), embargo=st.sampled_from([0.0, 0.01, 0.05]))
def test_kfold_train_labels_never_overlap_the_test_window(w, k, embargo) -> None:
    start, end = w
    folds = PurgedKFold(n_splits=k, embargo=embargo, min_train=1).split(start, end)
    span = int(end.max() - start.min() + 1)
    emb = math.ceil(embargo * span)
    seen = np.concatenate([f.test for f in folds])
    # every sample is tested exactly once, folds are contiguous blocks in time
    assert np.array_equal(np.sort(seen), np.arange(start.size))
    for f in folds:
        t0, t1 = start[f.test].min(), end[f.test].max()
        assert (f.test_start, f.test_end) == (t0, t1)
        assert np.intersect1d(f.train, f.test).size == 0
        tr_s, tr_e = start[f.train], end[f.train]
        # brute force against every test label window, not just the hull
        for i in f.test:
            assert not np.any((tr_s <= end[i]) & (tr_e >= start[i]))
        assert not np.any((tr_s <= t1) & (tr_e >= t0))
        # embargo: nothing starts within emb bars after the test window
        assert not np.any((tr_s > t1) & (tr_s <= t1 + emb))
        # and nothing else was dropped: the kept set is exactly the reference rule
        others = np.setdiff1d(np.arange(start.size), f.test)
        ref = others[(end[others] < t0) | (start[others] > t1 + emb)]
        assert np.array_equal(f.train, ref)
        assert f.purged + f.embargoed + f.train.size + f.test.size == start.size


@settings(max_examples=100, deadline=None)
@given(w=windows(), k=st.integers(2, 4))
def test_walk_forward_trains_only_on_labels_that_end_before_the_test(w, k) -> None:
    start, end = w
    folds = PurgedWalkForward(n_splits=k, initial=0.3, min_train=1).split(start, end)
    for f in folds:
        assert f.train.size == 0 or f.train.max() < f.test.min()
        assert np.all(end[f.train] < start[f.test].min())
    assert np.array_equal(
        np.concatenate([f.test for f in folds]), np.arange(math.ceil(0.3 * start.size), start.size)
    )


def test_hand_worked_purge_and_embargo() -> None:
    start = np.arange(20)
    end = start + 3  # 3-bar labels
    folds = PurgedKFold(n_splits=4, embargo=0.1, min_train=1).split(start, end)
    f = folds[1]  # tests samples 5..9, spanning bars 5..12
    assert f.test.tolist() == [5, 6, 7, 8, 9] and (f.test_start, f.test_end) == (5, 12)
    # before: samples 0, 1 end at 3, 4 < 5; 2..4 overlap -> purged; after: 10..12 start <= 12 -> purged;
    # embargo ceil(0.1 * 23) = 3 bars: 13, 14, 15 embargoed; 16.. kept
    assert f.train.tolist() == [0, 1, 16, 17, 18, 19]
    assert f.purged == 6 and f.embargoed == 3


def test_errors_name_what_and_how_many() -> None:
    with pytest.raises(InsufficientDataError, match=r"have 7 labelled sample\(s\).*needs at least 10"):
        PurgedKFold(n_splits=5).split(np.arange(7), np.arange(7))
    with pytest.raises(InsufficientDataError, match="fold 0 keeps 0 training sample"):
        PurgedKFold(n_splits=2, min_train=1).split(np.arange(10), np.full(10, 50))
    with pytest.raises(ValidationError, match="end has 3"):
        PurgedKFold().split(np.arange(4), np.arange(3))
    with pytest.raises(ValidationError, match="sample 2 ends"):
        PurgedKFold().split(np.arange(4), np.array([0, 1, 1, 3]))
    with pytest.raises(ValidationError, match="start must be sorted"):
        PurgedKFold().split(np.array([0, 2, 1]), np.array([0, 2, 1]))
    with pytest.raises(ValidationError, match="n_splits"):
        PurgedKFold(n_splits=1)
    with pytest.raises(ValidationError, match="embargo"):
        PurgedKFold(embargo=0.7)


def test_walk_forward_targets_never_depend_on_later_data() -> None:
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.normal(size=400)) * 0.1 + np.sin(np.arange(400) / 7)
    model = ZScoreBands(window=20, rule=ThresholdRule(entry_z=1.0))
    base = walk_forward(model, SignalFrame(ts=np.arange(400), columns={"spread": x}), n_splits=4, initial=0.3)
    cut = 300
    y = x.copy()
    y[cut:] = rng.normal(size=400 - cut) * 100  # rewrite the future
    other = walk_forward(
        model, SignalFrame(ts=np.arange(400), columns={"spread": y}), n_splits=4, initial=0.3
    )
    np.testing.assert_array_equal(base.target[:cut], other.target[:cut])
    assert not np.array_equal(base.target[cut:], other.target[cut:])
    assert base.first_test == 120 and np.all(base.target[:120] == 0)
