"""CPCV of a parameter choice: paths assembled from the chosen candidates, edge passes, noise fails."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from tests.backtest.test_walkforward import SPACE, _market, _pair_data, _strategy

from spreadlab.backtest.cpcv import cpcv_search
from spreadlab.backtest.executors import LocalExecutor
from spreadlab.backtest.refit import BandStrategy
from spreadlab.backtest.search import FloatRange, GridSampler, search
from spreadlab.errors import ValidationError
from spreadlab.signals.cv import CombinatorialPurgedKFold


def test_cpcv_paths_are_the_train_winners_test_returns_and_the_edge_passes() -> None:
    strategy = _strategy(_market(noise=False))
    cv = CombinatorialPurgedKFold(n_groups=6, n_test_groups=2, embargo=0.01)
    res = cpcv_search(strategy, SPACE, cv=cv)
    n = len(strategy)
    assert res.paths is not None and res.paths.shape == (5, n)  # C(5, 1) paths over every bar
    assert np.all(np.isfinite(res.paths))
    assert len(res.windows) == 15  # C(6, 2) splits
    # rebuild every path independently: group g of path p comes from the p-th split (in order) testing g
    grid = search(
        strategy.fit(np.arange(n)).window(0, n),
        SPACE,
        sampler=GridSampler(),
        executor=LocalExecutor(workers=2),
    )
    groups = np.array_split(np.arange(n), 6)
    used = dict.fromkeys(range(6), 0)
    for s, combo in enumerate(itertools.combinations(range(6), 2)):
        j = grid.params.index(res.windows[s].params)
        for g in combo:
            p = used[g]
            used[g] += 1
            assert np.array_equal(res.paths[p, groups[g]], grid.returns[groups[g], j])
    assert res.verdict.passed, res.verdict.line
    assert np.all(res.path_sharpes() > 5.0)
    assert res.pbo is not None and res.pbo.pbo < 0.2


def test_cpcv_on_a_pure_noise_market_reports_no_edge() -> None:
    res = cpcv_search(_strategy(_market(noise=True)), SPACE)
    assert not res.verdict.passed and res.verdict.line.startswith("FAIL")
    assert np.median(res.path_sharpes()) < 0


def test_cpcv_needs_a_grid() -> None:
    with pytest.raises(ValidationError, match="needs a step"):
        cpcv_search(BandStrategy(data=_pair_data(beta=2.0)), {"entry_z": FloatRange(low=1.0, high=2.0)})
