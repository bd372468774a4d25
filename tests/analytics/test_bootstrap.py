"""Stationary bootstrap intervals against the asymptotic truth for iid and autocorrelated returns."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spreadlab import bootstrap_ci
from spreadlab.errors import InsufficientDataError, ValidationError


def test_iid_sharpe_interval_has_the_width_of_lo_2002() -> None:
    # Lo (2002): for iid normal returns the SR estimate has std sqrt((1 + SR^2 / 2) / n).
    n, sr = 3000, 0.05
    r = np.random.default_rng(1).normal(sr * 0.01, 0.01, size=n)
    ci = bootstrap_ci(r, rng=np.random.default_rng(2), reps=1000, block_size=1.0)
    width = ci.sharpe.high - ci.sharpe.low
    assert width == pytest.approx(2 * 1.96 * math.sqrt((1 + sr**2 / 2) / n), rel=0.12)
    assert ci.sharpe.low < ci.sharpe.estimate < ci.sharpe.high
    assert ci.max_drawdown.low <= ci.max_drawdown.estimate <= ci.max_drawdown.high


def test_blocks_capture_autocorrelation_that_single_bars_miss() -> None:
    # AR(1) with phi = 0.6: the sum of n returns has std sigma_e sqrt(n) / (1 - phi) (long-run
    # variance); resampling single bars would give the much narrower sigma_x sqrt(n).
    rng = np.random.default_rng(4)
    n, phi = 4000, 0.6
    e = rng.normal(0.0, 0.001, size=n)
    x = np.empty(n)
    x[0] = e[0] / math.sqrt(1 - phi**2)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    long_run = 0.001 * math.sqrt(n) / (1 - phi)
    ci = bootstrap_ci(x, rng=np.random.default_rng(5), reps=1000)
    width = ci.total_return.high - ci.total_return.low
    assert width == pytest.approx(2 * 1.96 * long_run, rel=0.25)
    assert ci.block_size > 2.0
    iid = bootstrap_ci(x, rng=np.random.default_rng(5), reps=1000, block_size=1.0)
    assert iid.total_return.high - iid.total_return.low < 0.7 * width


def test_same_seed_same_interval_and_annualising_scales_sharpe() -> None:
    r = np.random.default_rng(9).normal(0.0005, 0.01, size=800)
    a = bootstrap_ci(r, rng=np.random.default_rng(3), reps=200)
    b = bootstrap_ci(r, rng=np.random.default_rng(3), reps=200)
    assert a == b
    ann = bootstrap_ci(r, rng=np.random.default_rng(3), reps=200, periods_per_year=8766.0)
    assert ann.sharpe.high == pytest.approx(a.sharpe.high * math.sqrt(8766.0))
    assert ann.to_dict()["reps"] == 200
    basic = bootstrap_ci(r, rng=np.random.default_rng(3), reps=200, method="basic")
    assert basic.sharpe.low + a.sharpe.high == pytest.approx(2 * a.sharpe.estimate)


def test_bad_input_is_a_clear_error() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(InsufficientDataError):
        bootstrap_ci(np.zeros(5), rng=rng)
    with pytest.raises(ValidationError, match="reps=10"):
        bootstrap_ci(np.ones(50), rng=rng, reps=10)
    with pytest.raises(ValidationError, match="confidence=1.5"):
        bootstrap_ci(np.ones(50), rng=rng, confidence=1.5)
    with pytest.raises(ValidationError, match="method="):
        bootstrap_ci(np.ones(50), rng=rng, method="bca")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="index 3"):
        bootstrap_ci(np.array([0.0, 1, 2, np.nan] + [0.0] * 20), rng=rng)
