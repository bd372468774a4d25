"""OU maximum likelihood: recovery of known parameters, SE coverage, statsmodels AR(1) agreement, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.tsa.ar_model import AutoReg

from spreadlab.core.time import NS_PER_HOUR, NS_PER_YEAR
from spreadlab.errors import ConvergenceError, InsufficientDataError, ValidationError
from spreadlab.signals.ou import fit_ou

HOUR = NS_PER_HOUR / NS_PER_YEAR


def simulate(n: int, *, mu: float, theta: float, sigma: float, dts: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.empty(n)
    x[0] = mu + rng.normal() * sigma / math.sqrt(2 * theta)
    b = np.exp(-theta * dts)
    sd = sigma * np.sqrt((1 - b * b) / (2 * theta))
    z = rng.standard_normal(n - 1)
    for i in range(1, n):
        x[i] = mu + (x[i - 1] - mu) * b[i - 1] + sd[i - 1] * z[i - 1]
    return x


@pytest.mark.parametrize("seed", [11, 12, 13, 14, 15])
def test_recovers_known_parameters_within_two_se_hourly(seed: int) -> None:
    mu, theta, sigma = 0.002, 250.0, 0.04  # half-life ~ 24 hours, hourly bars
    n = 50_000
    ts = np.arange(n, dtype=np.int64) * NS_PER_HOUR + 1_700_000_000 * 10**9
    x = simulate(n, mu=mu, theta=theta, sigma=sigma, dts=np.full(n - 1, HOUR), seed=seed)
    fit = fit_ou(x, ts=ts)
    assert fit.regular
    assert fit.dt == pytest.approx(HOUR)
    assert abs(fit.mean - mu) < 2 * fit.se_mean
    assert abs(fit.speed - theta) < 2 * fit.se_speed
    assert abs(fit.vol - sigma) < 2 * fit.se_vol
    assert fit.half_life == pytest.approx(math.log(2) / fit.speed)
    assert fit.half_life_steps == pytest.approx(fit.half_life / HOUR)


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_recovers_known_parameters_irregular_timestamps(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 20_000
    gaps = rng.integers(60, 4 * 3600, size=n - 1).astype(np.int64) * 10**9
    ts = np.concatenate([[0], np.cumsum(gaps)]).astype(np.int64)
    mu, theta, sigma = -1.0, 300.0, 0.5
    x = simulate(n, mu=mu, theta=theta, sigma=sigma, dts=np.diff(ts) / NS_PER_YEAR, seed=seed)
    fit = fit_ou(x, ts=ts)
    assert not fit.regular
    assert abs(fit.mean - mu) < 2 * fit.se_mean
    assert abs(fit.speed - theta) < 2 * fit.se_speed
    assert abs(fit.vol - sigma) < 2 * fit.se_vol


def test_standard_errors_have_nominal_coverage() -> None:
    # 300 replications: the +-2 SE interval should cover the truth ~95% of the time for each parameter
    mu, theta, sigma, dt = 0.5, 50.0, 1.0, 1 / 365.25
    hits = np.zeros(3)
    reps = 300
    for seed in range(reps):
        x = simulate(3000, mu=mu, theta=theta, sigma=sigma, dts=np.full(2999, dt), seed=1000 + seed)
        f = fit_ou(x, dt=dt)
        hits += [
            abs(f.mean - mu) < 2 * f.se_mean,
            abs(f.speed - theta) < 2 * f.se_speed,
            abs(f.vol - sigma) < 2 * f.se_vol,
        ]
    cover = hits / reps
    assert (cover > 0.90).all() and (cover < 0.99).all(), cover


def test_matches_statsmodels_autoreg_mapping_and_information() -> None:
    dt = 1 / 365.25
    x = simulate(5000, mu=2.0, theta=30.0, sigma=0.7, dts=np.full(4999, dt), seed=5)
    fit = fit_ou(x, dt=dt)
    ar = AutoReg(x, lags=1, trend="c").fit()
    a, b = ar.params
    assert fit.speed == pytest.approx(-math.log(b) / dt, rel=1e-10)
    assert fit.mean == pytest.approx(a / (1 - b), rel=1e-10)
    v = ar.sigma2
    assert fit.vol == pytest.approx(math.sqrt(2 * fit.speed * v / (1 - b * b)), rel=1e-10)
    # delta-method SE of theta from statsmodels' SE of b: se_theta = se_b / (b dt)
    assert fit.se_speed == pytest.approx(ar.bse[1] / (b * dt), rel=1e-8)
    assert fit.loglik == pytest.approx(ar.llf, rel=1e-10)


def test_irregular_path_agrees_with_closed_form_when_steps_are_equal() -> None:
    dt = 1 / 365.25
    x = simulate(3000, mu=0.0, theta=40.0, sigma=0.3, dts=np.full(2999, dt), seed=8)
    closed = fit_ou(x, dt=dt)
    ts = (np.arange(3000) * (NS_PER_YEAR / 365.25)).astype(np.int64)
    ts[1::2] += 1_000_000  # a millisecond of jitter forces the numerical path
    num = fit_ou(x, ts=ts)
    assert not num.regular
    assert num.speed == pytest.approx(closed.speed, rel=1e-5)
    assert num.mean == pytest.approx(closed.mean, rel=1e-5)
    assert num.vol == pytest.approx(closed.vol, rel=1e-5)
    assert num.se_speed == pytest.approx(closed.se_speed, rel=1e-3)
    assert num.se_mean == pytest.approx(closed.se_mean, rel=1e-3)
    assert num.se_vol == pytest.approx(closed.se_vol, rel=1e-3)


def test_bad_input() -> None:
    with pytest.raises(InsufficientDataError, match=r"3 observation\(s\); 4 are needed"):
        fit_ou(np.array([1.0, 2.0, 1.5]), dt=0.01)
    with pytest.raises(ValidationError, match="constant"):
        fit_ou(np.full(50, 3.0), dt=0.01)
    with pytest.raises(ValidationError, match="non-finite.*index 3"):
        fit_ou(np.array([1.0, 2.0, 1.5, np.nan, 1.0]), dt=0.01)
    with pytest.raises(ValidationError, match="exactly one of ts"):
        fit_ou(np.arange(10.0))
    with pytest.raises(ValidationError, match="ts has 9, values has 10"):
        fit_ou(np.arange(10.0), ts=np.arange(9, dtype=np.int64))
    with pytest.raises(ValidationError, match="strictly increasing"):
        fit_ou(np.random.default_rng(0).normal(size=5), ts=np.array([1, 2, 2, 3, 4], dtype=np.int64))
    explosive = 1.001 ** np.arange(3000) + np.random.default_rng(1).normal(size=3000) * 1e-3
    with pytest.raises(ConvergenceError, match="does not mean-revert"):
        fit_ou(explosive, dt=0.01)
    alternating = (-1.0) ** np.arange(100) + np.random.default_rng(2).normal(size=100) * 0.01
    with pytest.raises(ConvergenceError, match="alternates"):
        fit_ou(alternating, dt=0.01)
