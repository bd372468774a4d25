"""A 300-set grid sweep of the vectorised basis backtest: Ray on 2 CPUs against one worker.

Work: the z-score band rule on the built-in market's perpetual-spot basis
(2 days of 1-minute bars, seed 11), 10 windows x 10 entry thresholds x 3
exit thresholds, each set one vectorised backtest with fees and funding
(:class:`~spreadlab.backtest.objective.BandObjective`). Timed: one worker in
this process (the baseline, a "peer" row here), two local processes, and a
local Ray instance with 2 CPUs, both with and without its start-up (``ray
init`` and shipping the objective); the steady-state figure is a second
sweep in the same Ray session. Every executor's metrics and returns are
checked identical to the one-worker run.
"""

from __future__ import annotations

import time
from importlib.metadata import version

import numpy as np

from benchmarks.harness import Context
from spreadlab.backtest.executors import LocalExecutor, RayExecutor
from spreadlab.backtest.objective import BandObjective, SpreadData
from spreadlab.backtest.search import FloatRange, GridSampler, IntRange
from spreadlab.data.market import MarketConfig, build_market
from spreadlab.instruments.fees import FeeModel

SPACE = {
    "window": IntRange(low=60, high=600, step=60),
    "entry_z": FloatRange(low=1.0, high=3.25, step=0.25),
    "exit_z": FloatRange(low=-0.5, high=0.5, step=0.5),
}


def run(ctx: Context) -> list[dict]:
    market = build_market(MarketConfig(days=2.0, seed=11))
    obj = BandObjective(data=SpreadData.basis(market), fees=FeeModel.default())
    params = GridSampler().points(SPACE)
    obj(params[0])  # warm up numba
    t = time.perf_counter()
    one = LocalExecutor(workers=1).map(obj, params)
    t_one = time.perf_counter() - t
    t = time.perf_counter()
    two = LocalExecutor(workers=2).map(obj, params)
    t_two = time.perf_counter() - t
    t = time.perf_counter()
    with RayExecutor(num_cpus=2).session(obj) as run_batch:
        first = run_batch(params)
        t_ray_total = time.perf_counter() - t
        t = time.perf_counter()
        second = run_batch(params)
        t_ray = time.perf_counter() - t
    for name, got in (("2 processes", two), ("ray first", first), ("ray second", second)):
        same = all(
            a.metrics == b.metrics and np.array_equal(a.returns, b.returns)
            for a, b in zip(one, got, strict=True)
        )
        if not same:
            raise AssertionError(f"{name}: results differ from one worker")
    ctx.log(
        f"{len(params)} sets: 1 worker {t_one:.2f}s, 2 processes {t_two:.2f}s, "
        f"ray 2 CPUs {t_ray:.2f}s steady ({t_ray_total:.2f}s with start-up)"
    )
    checked = f"metrics and returns of all {len(params)} sets identical to the 1-worker run"
    ver = f"spreadlab {version('spreadlab')}"
    return [
        ctx.record(
            name="ray_sweep_300",
            work=f"grid sweep of {len(params)} band-rule backtests (basis, 2 days of 1-min bars), "
            "Ray 2 CPUs steady state vs one worker",
            unit="seconds",
            spreadlab=t_ray,
            higher_is_better=False,
            peers={
                "1 worker in-process": {"value": t_one, "version": ver, "checked": checked},
                "2 local processes": {"value": t_two, "version": ver, "checked": checked},
                "Ray 2 CPUs incl. start-up": {
                    "value": t_ray_total,
                    "version": f"ray {version('ray')}",
                    "checked": checked,
                },
            },
            extra={"ray_version": version("ray"), "n_sets": len(params)},
        )
    ]
