"""The backtest kernel against its plain-Python twin on random inputs, every contract kind."""

from __future__ import annotations

import numpy as np
import pytest

from spreadlab.kernels.backtest import run_legs, run_legs_py
from spreadlab.kernels.contracts import COIN_OPTION, INVERSE, LINEAR, LINEAR_OPTION


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_run_legs_matches_twin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, legs = 300, 4
    mid = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.002, (n, legs)), axis=0))
    mid[:, 2] *= 0.0005  # a coin option premium around 0.05
    half = rng.uniform(0.0001, 0.0005, (n, legs)) * mid
    bid, ask = mid - half, mid + half
    target = np.round(rng.normal(0, 1, n)) * (rng.uniform(size=n) < 0.1)
    target = np.cumsum(target) % 3 - 1.0
    ratio = np.array([1.0, -0.7, 2.0, -1.5])
    mult = np.array([1.0, 10.0, 1.0, 0.01])
    kind = np.array([LINEAR, INVERSE, COIN_OPTION, LINEAR_OPTION], dtype=np.int64)
    fee = np.array([0.0004, 0.0005, 0.0003, 0.0005])
    cap = np.array([np.inf, np.inf, 0.125, 0.125])
    rate = np.where(rng.uniform(size=(n, legs)) < 0.02, rng.normal(0, 1e-4, (n, legs)), 0.0)
    rate[:, 2:] = 0.0
    fprice = 0.5 * (bid + ask) * rng.uniform(0.999, 1.001, (n, legs))
    und = 60_000.0 * np.exp(np.cumsum(rng.normal(0, 0.002, (n, legs)), axis=0))
    fx = np.column_stack([np.ones(n), 0.5 * (bid[:, 1] + ask[:, 1]), und[:, 2], np.ones(n)])
    args = (target, bid, ask, 0.5 * (bid + ask), ratio, mult, kind, fee, cap, rate, fprice, und, fx)
    got = run_legs(*args)
    want = run_legs_py(*args)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
    assert np.count_nonzero(got[4]) > 0 and np.count_nonzero(got[3]) > 0  # funding and fees exercised
