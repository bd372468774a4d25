"""PBO by CSCV: noise is overfit half the time, a real edge is not; the split logic by hand."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from spreadlab import pbo
from spreadlab.errors import InsufficientDataError, ValidationError


def test_pure_noise_gives_pbo_near_one_half_and_a_real_edge_brings_it_down() -> None:
    rng = np.random.default_rng(20260101)
    noise = rng.normal(0.0, 0.01, size=(2000, 100))
    res = pbo(noise, n_splits=16)
    assert res.n_combinations == math.comb(16, 8) == 12870
    assert 0.4 <= res.pbo <= 0.6
    edge = rng.normal(0.0015, 0.01, size=(2000, 1))  # per-period Sharpe 0.15
    with_edge = pbo(np.hstack([noise, edge]), n_splits=16)
    assert with_edge.pbo < 0.2
    assert np.mean(with_edge.best == 100) > 0.8
    assert with_edge.prob_oos_loss < res.prob_oos_loss


def test_noise_pbo_is_one_half_across_seeds() -> None:
    vals = [pbo(np.random.default_rng(s).normal(size=(600, 100)), n_splits=10).pbo for s in range(10)]
    assert abs(np.mean(vals) - 0.5) < 0.1


def _sharpe(x: np.ndarray) -> np.ndarray:
    return x.mean(axis=0) / x.std(axis=0, ddof=1)


def test_every_split_matches_a_direct_computation() -> None:
    rng = np.random.default_rng(5)
    r = rng.normal(size=(61, 7))  # 61 rows, 6 blocks of 10: the oldest row is dropped
    res = pbo(r, n_splits=6)
    blocks = np.split(r[1:], 6)
    for c, combo in enumerate(itertools.combinations(range(6), 3)):
        is_ = np.vstack([blocks[b] for b in combo])
        oos = np.vstack([blocks[b] for b in range(6) if b not in combo])
        n_star = int(np.argmax(_sharpe(is_)))
        oos_sr = _sharpe(oos)
        rank = 1 + int(np.sum(oos_sr < oos_sr[n_star]))
        w = rank / 8
        assert res.best[c] == n_star
        assert res.is_sharpe[c] == pytest.approx(_sharpe(is_)[n_star])
        assert res.oos_sharpe[c] == pytest.approx(oos_sr[n_star])
        assert res.logits[c] == pytest.approx(math.log(w / (1 - w)))
    assert res.pbo == pytest.approx(np.mean(res.logits <= 0))
    d = res.to_dict()
    assert d["n_combinations"] == 20 and d["n_strategies"] == 7


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(ValidationError, match="n_splits=5 must be an even int"):
        pbo(np.zeros((100, 3)), n_splits=5)
    with pytest.raises(ValidationError, match="2-D"):
        pbo(np.zeros(100))
    with pytest.raises(ValidationError, match="at least 2"):
        pbo(np.zeros((100, 1)))
    with pytest.raises(InsufficientDataError, match="needs at least 32"):
        pbo(np.zeros((20, 3)), n_splits=16)
    bad = np.zeros((100, 3))
    bad[4, 2] = np.nan
    with pytest.raises(ValidationError, match=r"returns\[4, 2\]"):
        pbo(bad, n_splits=4)
