"""CPCV: no training label reaches a test group or its embargo; C(N-1, k-1) complete paths."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from spreadlab import CombinatorialPurgedKFold
from spreadlab.errors import InsufficientDataError, ValidationError


@st.composite
def windows(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(40, 200))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    start = np.sort(rng.choice(np.arange(3 * n), size=n, replace=False)).astype(np.int64)
    return start, start + rng.integers(0, 15, size=n)


@settings(max_examples=120, deadline=None)
@given(
    w=windows(),
    nk=st.sampled_from([(2, 1), (4, 2), (5, 2), (6, 2), (6, 3), (7, 3)]),
    embargo=st.sampled_from([0.0, 0.02, 0.05]),
)
def test_no_train_sample_within_the_purge_or_embargo_of_a_test_sample(w, nk, embargo) -> None:
    start, end = w
    n_groups, k = nk
    cv = CombinatorialPurgedKFold(n_groups=n_groups, n_test_groups=k, embargo=embargo, min_train=1)
    try:
        res = cv.split(start, end)
    except InsufficientDataError:  # a split with nothing left to train on: a clear error, not a case here
        assume(False)
        return
    emb = math.ceil(embargo * int(end.max() - start.min() + 1))
    assert len(res.splits) == math.comb(n_groups, k)
    groups = np.array_split(np.arange(start.size), n_groups)
    for sp in res.splits:
        assert np.array_equal(sp.test, np.concatenate([groups[g] for g in sp.test_groups]))
        assert np.intersect1d(sp.train, sp.test).size == 0
        tr_s, tr_e = start[sp.train], end[sp.train]
        for g in sp.test_groups:
            t0, t1 = start[groups[g]].min(), end[groups[g]].max()
            # brute force: no training window overlaps any test label window of the group ...
            for i in groups[g]:
                assert not np.any((tr_s <= end[i]) & (tr_e >= start[i]))
            # ... nor starts in the embargo after it
            assert not np.any((tr_s > t1) & (tr_s <= t1 + emb))
            assert not np.any((tr_s <= t1) & (tr_e >= t0))
        assert sp.purged + sp.embargoed + sp.train.size + sp.test.size == start.size


@settings(max_examples=60, deadline=None)
@given(w=windows(), nk=st.sampled_from([(3, 1), (4, 2), (6, 2), (6, 3), (8, 2), (7, 4)]))
def test_paths_number_c_n_minus_1_k_minus_1_and_each_covers_every_sample_once(w, nk) -> None:
    start, end = w
    n_groups, k = nk
    cv = CombinatorialPurgedKFold(n_groups=n_groups, n_test_groups=k, embargo=0.0, min_train=1)
    try:
        res = cv.split(start, end)
    except InsufficientDataError:
        assume(False)
        return
    phi = math.comb(n_groups - 1, k - 1)
    assert res.n_paths == cv.n_paths == phi == k * math.comb(n_groups, k) // n_groups
    # every (path, group) slot is filled by a split that tests that group, each split used k times
    assert res.path_map.shape == (phi, n_groups)
    for p in range(phi):
        for g in range(n_groups):
            assert g in res.splits[res.path_map[p, g]].test_groups
    counts = np.bincount(res.path_map.ravel(), minlength=len(res.splits))
    assert np.all(counts == k)
    # each group's occurrences go to distinct paths
    for g in range(n_groups):
        assert len(set(res.path_map[:, g].tolist())) == phi
    # stitching: value = 1000 * split + sample index, so every path is complete and traceable
    vals = [1000.0 * s + sp.test for s, sp in enumerate(res.splits)]
    paths = res.stitch(vals)
    assert paths.shape == (phi, start.size) and not np.isnan(paths).any()
    assert np.array_equal(paths % 1000, np.broadcast_to(np.arange(start.size), paths.shape))
    for p in range(phi):
        src = (paths[p] // 1000).astype(int)
        assert np.array_equal(src, res.path_map[p, res.group])


def test_hand_worked_six_groups_two_tested() -> None:
    # 30 one-bar-label samples (end = start + 1), groups of 5; split (1, 3) tests 5..9 and 15..19.
    start = np.arange(30)
    res = CombinatorialPurgedKFold(n_groups=6, n_test_groups=2, embargo=0.1, min_train=1).split(
        start, start + 1
    )
    sp = next(s for s in res.splits if s.test_groups == (1, 3))
    # purge: 4 and 14 end at the groups' first bars (5, 15); 10 and 20 start at their last label
    # ends (10, 20): 4 purged. Embargo ceil(0.1 * 31) = 4 bars after 10 and 20: 11..14 and 21..24,
    # of which 14 is already purged: 7 embargoed.
    assert sp.train.tolist() == [0, 1, 2, 3, 25, 26, 27, 28, 29]
    assert sp.purged == 4 and sp.embargoed == 7
    # López de Prado (2018), fig. 12.1: N = 6, k = 2 gives 15 splits and 5 paths
    assert len(res.splits) == 15 and res.n_paths == 5


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(ValidationError, match=r"n_test_groups=6 must be an int in \[1, n_groups=6\)"):
        CombinatorialPurgedKFold(n_groups=6, n_test_groups=6)
    with pytest.raises(ValidationError, match="embargo=0.5"):
        CombinatorialPurgedKFold(embargo=0.5)
    with pytest.raises(InsufficientDataError, match="needs at least 12"):
        CombinatorialPurgedKFold(n_groups=6).split(np.arange(8), np.arange(8))
    with pytest.raises(InsufficientDataError, match="min_train=50"):
        CombinatorialPurgedKFold(n_groups=4, n_test_groups=3, min_train=50).split(
            np.arange(40), np.arange(40)
        )
    res = CombinatorialPurgedKFold(n_groups=4, n_test_groups=2, min_train=1).split(
        np.arange(40), np.arange(40)
    )
    with pytest.raises(ValidationError, match="expected 6"):
        res.stitch([np.zeros(20)])
