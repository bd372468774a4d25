"""The backtest kernel against its plain-Python twin on random inputs."""

from __future__ import annotations

import numpy as np
import pytest

from spreadlab.kernels.backtest import run_legs, run_legs_py


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_run_legs_matches_twin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, legs = 300, 3
    mid = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.002, (n, legs)), axis=0))
    half = rng.uniform(0.001, 0.05, (n, legs))
    bid, ask = mid - half, mid + half
    target = np.round(rng.normal(0, 1, n)) * (rng.uniform(size=n) < 0.1)
    target = np.cumsum(target) % 3 - 1.0
    ratio = np.array([1.0, -0.7, 2.0])
    mult = np.array([1.0, 10.0, 0.01])
    inverse = np.array([False, True, False])
    fee = np.array([0.0004, 0.0005, 0.0002])
    rate = np.where(rng.uniform(size=(n, legs)) < 0.02, rng.normal(0, 1e-4, (n, legs)), 0.0)
    fx = np.where(inverse[None, :], 0.5 * (bid + ask), 1.0)
    got = run_legs(target, bid, ask, 0.5 * (bid + ask), ratio, mult, inverse, fee, rate, fx)
    want = run_legs_py(target, bid, ask, 0.5 * (bid + ask), ratio, mult, inverse, fee, rate, fx)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
