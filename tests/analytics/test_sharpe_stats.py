"""PSR, DSR and MinBTL against the papers' worked examples and against simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from spreadlab import deflated_sharpe, min_backtest_length, probabilistic_sharpe
from spreadlab.analytics.sharpe_stats import expected_max_sharpe, sharpe_moments
from spreadlab.errors import InsufficientDataError, ValidationError

GAMMA = 0.5772156649015329  # Euler-Mascheroni


def _psr_by_hand(sr: float, n: int, g3: float, g4: float, bench: float) -> float:
    z = (sr - bench) * math.sqrt(n - 1) / math.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr**2)
    return 0.5 * math.erfc(-z / math.sqrt(2))  # Phi(z) without scipy


def test_deflated_sharpe_reproduces_the_worked_example_of_the_paper() -> None:
    # Bailey & López de Prado (2014), section "A numerical example": N = 100 trials,
    # annualised SR^ = 2.5, V[SR] = 0.5 (annualised), T = 1250 daily returns,
    # skew -3, kurtosis 10 -> SR0 = 0.1132 per day and DSR = 0.9004.
    sr = 2.5 / math.sqrt(250)
    v = 0.5 / 250
    assert expected_max_sharpe(100, sharpe_variance=v) == pytest.approx(0.1132, abs=5e-5)
    dsr = deflated_sharpe(sr, n_obs=1250, n_trials=100, sharpe_variance=v, skew=-3.0, kurtosis=10.0)
    assert dsr == pytest.approx(0.9004, abs=5e-4)
    # and independently: E[max] from the normal quantiles, then the PSR formula by hand
    zq = stats.norm.ppf
    sr0 = math.sqrt(v) * ((1 - GAMMA) * zq(1 - 1 / 100) + GAMMA * zq(1 - 1 / (100 * math.e)))
    assert dsr == pytest.approx(_psr_by_hand(sr, 1250, -3.0, 10.0, sr0), rel=1e-12)


def test_psr_matches_the_formula_by_hand_over_a_grid() -> None:
    for sr in (-0.05, 0.0, 0.03, 0.2):
        for n in (24, 250, 5000):
            for g3, g4 in ((0.0, 3.0), (-1.2, 7.5), (0.8, 4.0)):
                for bench in (0.0, 0.05):
                    got = probabilistic_sharpe(sr, n_obs=n, skew=g3, kurtosis=g4, benchmark=bench)
                    assert got == pytest.approx(_psr_by_hand(sr, n, g3, g4, bench), rel=1e-10, abs=1e-15)


def test_psr_is_calibrated_on_skewed_fat_tailed_returns() -> None:
    # Returns a (X - 1) + mu with X ~ Exp(1): skew 2, kurtosis 9, true SR = mu / a. If the true SR
    # equals the benchmark, PSR is (asymptotically) uniform: P(PSR > 0.95) ~ 0.05. Ignoring the higher
    # moments (the normal formula) would be miscalibrated.
    rng = np.random.default_rng(7)
    n, sims, true_sr = 400, 4000, 0.1
    x = rng.exponential(size=(sims, n))
    r = (x - 1.0) + true_sr
    sr_hat = r.mean(axis=1) / r.std(axis=1, ddof=1)
    psr = np.array(
        [probabilistic_sharpe(s, n_obs=n, skew=2.0, kurtosis=9.0, benchmark=true_sr) for s in sr_hat]
    )
    assert np.mean(psr > 0.95) == pytest.approx(0.05, abs=0.015)
    assert np.mean(psr > 0.5) == pytest.approx(0.5, abs=0.04)


def test_deflated_sharpe_is_the_psr_of_the_best_of_many_noise_trials() -> None:
    # 200 skill-less trials of 500 normal returns: the best SR is about E[max] and its DSR about 0.5,
    # while its naive PSR(0) looks highly significant.
    rng = np.random.default_rng(3)
    n, trials = 500, 200
    best_dsr, best_psr = [], []
    for _ in range(100):
        r = rng.normal(size=(n, trials))
        sr = r.mean(axis=0) / r.std(axis=0, ddof=1)
        best = float(sr.max())
        best_dsr.append(
            deflated_sharpe(best, n_obs=n, n_trials=trials, sharpe_variance=float(sr.var(ddof=1)))
        )
        best_psr.append(probabilistic_sharpe(best, n_obs=n))
    assert 0.3 < np.median(best_dsr) < 0.7
    assert np.median(best_psr) > 0.99


def test_one_trial_deflates_nothing() -> None:
    assert deflated_sharpe(0.05, n_obs=300, n_trials=1, sharpe_variance=0.01) == pytest.approx(
        probabilistic_sharpe(0.05, n_obs=300)
    )


def test_min_backtest_length_matches_the_paper() -> None:
    # Bailey, Borwein, López de Prado & Zhu (2014): with 5 years of daily data no more than 45
    # independent configurations should be tried for a target Sharpe of 1 (their Figure 2).
    assert min_backtest_length(45, target_sharpe=1.0) == pytest.approx(5.0, abs=0.01)
    # and their upper bound MinBTL < 2 ln(N) / E[max]^2 holds
    for n in (2, 10, 100, 1000):
        for target in (0.5, 1.0, 2.0):
            assert min_backtest_length(n, target_sharpe=target) < 2 * math.log(n) / target**2
    # scaling: doubling the target quarters the length
    assert min_backtest_length(100, target_sharpe=2.0) == pytest.approx(
        min_backtest_length(100, target_sharpe=1.0) / 4
    )


def test_min_backtest_length_is_where_noise_reaches_the_target_by_simulation() -> None:
    # After y years the annualised SR estimate of a skill-less strategy is ~ N(0, 1/y); at
    # y = MinBTL the mean of the maximum of N of them is the target.
    rng = np.random.default_rng(11)
    n, target = 45, 1.0
    y = min_backtest_length(n, target_sharpe=target)
    maxima = (rng.normal(size=(20000, n)) / math.sqrt(y)).max(axis=1)
    assert maxima.mean() == pytest.approx(target, rel=0.02)


def test_sharpe_moments_match_scipy() -> None:
    r = np.random.default_rng(0).standard_t(5, size=2000) * 0.01 + 0.001
    sr, g3, g4, n = sharpe_moments(r)
    assert sr == pytest.approx(r.mean() / r.std(ddof=1))
    assert g3 == pytest.approx(stats.skew(r))
    assert g4 == pytest.approx(stats.kurtosis(r) + 3.0)
    assert n == 2000


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(ValidationError, match="n_obs=1 must be an int >= 2"):
        probabilistic_sharpe(0.1, n_obs=1)
    with pytest.raises(ValidationError, match="kurtosis=-1"):
        probabilistic_sharpe(0.1, n_obs=10, kurtosis=-1.0)
    with pytest.raises(ValidationError, match="per period"):
        probabilistic_sharpe(3.0, n_obs=10, skew=2.0, kurtosis=1.0)
    with pytest.raises(ValidationError, match="sharpe_variance=-0.1"):
        deflated_sharpe(0.1, n_obs=10, n_trials=5, sharpe_variance=-0.1)
    with pytest.raises(ValidationError, match="n_trials=1 must be an int >= 2"):
        min_backtest_length(1, target_sharpe=1.0)
    with pytest.raises(ValidationError, match="target_sharpe=0"):
        min_backtest_length(10, target_sharpe=0)
    with pytest.raises(InsufficientDataError):
        sharpe_moments(np.array([0.1, 0.2]))
    with pytest.raises(ValidationError, match="constant"):
        sharpe_moments(np.zeros(10))
