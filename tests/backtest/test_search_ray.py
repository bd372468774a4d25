"""A sweep of 200+ parameter sets on a local Ray instance gives exactly the local executor's results."""

from __future__ import annotations

import numpy as np
import pytest

from spreadlab.backtest.executors import LocalExecutor, RayExecutor
from spreadlab.backtest.objective import BandObjective, SpreadData
from spreadlab.backtest.search import FloatRange, GridSampler, IntRange, TPESampler, search
from spreadlab.data.market import MarketConfig, build_market
from spreadlab.instruments.fees import FeeModel, FeeRate
from spreadlab.testing.objectives import QuadraticObjective

pytest.importorskip("ray", reason="the Ray executor needs the 'opt' extra")


@pytest.mark.slow  # about 25 s: a local Ray instance starts and imports spreadlab in its workers
def test_ray_sweep_of_the_vectorised_backtest_matches_the_local_executor() -> None:
    market = build_market(MarketConfig(days=2.0, seed=11))
    obj = BandObjective(
        data=SpreadData.basis(market),
        fees=FeeModel(
            overrides={
                str(market.perp.id): FeeRate(maker=0.0002, taker=0.0002),
                str(market.spot.id): FeeRate(maker=0.0004, taker=0.0004),
            }
        ),
    )
    space = {
        "window": IntRange(low=60, high=600, step=60),  # 10
        "entry_z": FloatRange(low=1.0, high=3.25, step=0.25),  # 10
        "exit_z": FloatRange(low=-0.5, high=0.5, step=0.5),  # 3
    }
    local = search(obj, space, sampler=GridSampler(), executor=LocalExecutor(workers=1))
    assert len(local.params) == 300
    assert len({m["sharpe"] for m in local.metrics}) > 10  # the sweep is not degenerate
    ray = search(obj, space, sampler=GridSampler(), executor=RayExecutor(num_cpus=2))
    assert ray.params == local.params
    assert ray.metrics == local.metrics
    assert np.array_equal(ray.returns, local.returns)


def test_seeded_tpe_on_ray_matches_the_local_executor() -> None:
    obj = QuadraticObjective()
    space = {"x": FloatRange(low=-1.0, high=1.0), "y": IntRange(low=0, high=10)}
    sampler = TPESampler(n_trials=12, seed=3, batch_size=6)
    a = search(obj, space, sampler=sampler, executor=LocalExecutor(workers=1), score="score")
    b = search(obj, space, sampler=sampler, executor=RayExecutor(num_cpus=2), score="score")
    assert a.params == b.params and a.metrics == b.metrics
