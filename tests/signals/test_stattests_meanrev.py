"""Hurst exponent, half-life, variance ratio and mean crossings against outside truth."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from tests.conftest import need_shared

from spreadlab.errors import InsufficientDataError, ValidationError
from spreadlab.signals.stationarity import half_life, hurst, mean_crossings, variance_ratio


def _fgn(n: int, h: float, rng: np.random.Generator) -> np.ndarray:
    """Exact fractional Gaussian noise by circulant embedding (Davies and Harte 1987)."""
    k = np.arange(n + 1, dtype=float)
    g = 0.5 * ((k + 1) ** (2 * h) - 2 * k ** (2 * h) + np.abs(k - 1) ** (2 * h))
    c = np.concatenate([g, g[-2:0:-1]])
    lam = np.fft.fft(c).real
    assert lam.min() > -1e-9
    m = c.shape[0]
    w = rng.normal(size=m) + 1j * rng.normal(size=m)
    return np.fft.fft(np.sqrt(np.clip(lam, 0, None) / m) * w)[:n].real


@pytest.mark.parametrize("h", [0.2, 0.35, 0.5, 0.65, 0.8])
def test_hurst_recovers_the_index_of_fractional_brownian_motion(h: float) -> None:
    rng = np.random.default_rng(int(h * 100))
    noise = _fgn(2**15, h, rng)
    assert noise.var() == pytest.approx(1.0, rel=0.1)
    res = hurst(np.cumsum(noise))
    assert res.exponent == pytest.approx(h, abs=0.03)
    assert res.r_squared > 0.99 and res.max_lag == 100 and res.min_lag == 2


def test_hurst_is_below_half_for_a_mean_reverting_spread_and_caps_lags() -> None:
    rng = np.random.default_rng(0)
    x = np.zeros(3000)
    for t in range(1, 3000):
        x[t] = 0.9 * x[t - 1] + rng.normal()
    res = hurst(x)
    assert res.exponent < 0.3
    short = hurst(x[:200])
    assert short.max_lag == 50 and short.nobs == 200
    assert "Hurst" in res.summary()


def test_half_life_matches_statsmodels_ols_on_real_basis() -> None:
    spot = pl.read_csv(need_shared("binance_spot_perp_daily/spot_BTCUSDT_1d_2021-01_2023-06.csv.gz"))
    perp = pl.read_csv(need_shared("binance_spot_perp_daily/perp_BTCUSDT_1d_2021-01_2023-06.csv.gz"))
    basis = np.log(perp["close"].to_numpy()) - np.log(spot["close"].to_numpy())
    ols = sm.OLS(np.diff(basis), sm.add_constant(basis[:-1])).fit()
    res = half_life(basis)
    assert res.slope == pytest.approx(ols.params[1], rel=1e-10)
    assert res.intercept == pytest.approx(ols.params[0], rel=1e-8, abs=1e-14)
    assert res.slope_stderr == pytest.approx(ols.bse[1], rel=1e-10)
    phi = 1 + ols.params[1]
    assert res.half_life == pytest.approx(math.log(0.5) / math.log(phi), rel=1e-10)
    assert res.mean_reverting and res.nobs == len(basis) - 1


def test_half_life_recovers_a_known_ar1_within_three_standard_errors() -> None:
    rng = np.random.default_rng(42)
    phi = 0.95
    x = np.zeros(50_000)
    for t in range(1, x.size):
        x[t] = phi * x[t - 1] + rng.normal()
    res = half_life(x)
    true = math.log(2) / -math.log(phi)
    assert abs(res.half_life - true) < 3 * res.stderr
    # exact AR(1) without noise: phi = 0.8 -> half-life ln 2 / -ln 0.8
    exact = half_life(0.8 ** np.arange(40.0))
    assert exact.half_life == pytest.approx(math.log(2) / -math.log(0.8), rel=1e-9)


def test_half_life_is_infinite_for_an_explosive_series() -> None:
    res = half_life(1.01 ** np.arange(100.0))
    assert res.half_life == math.inf and not res.mean_reverting
    assert "infinite" in res.summary()


@lru_cache(maxsize=1)
def _hl_log_closes() -> dict[str, np.ndarray]:
    df = pl.read_csv(
        need_shared("hyperliquid_perps/perp_ohlcv_1h.csv.gz"), columns=["date", "symbol", "close"]
    )
    return {
        sym: np.log(df.filter(pl.col("symbol") == sym).sort("date")["close"].to_numpy()[-3000:])
        for sym in ("BTC", "DOGE")
    }


@pytest.mark.parametrize("lag", [2, 4, 8, 16])
@pytest.mark.parametrize("robust", [True, False])
def test_variance_ratio_matches_arch_on_real_log_prices(lag: int, robust: bool) -> None:
    arch_unitroot = pytest.importorskip("arch.unitroot")
    for y in _hl_log_closes().values():
        ref = arch_unitroot.VarianceRatio(y, lags=lag, robust=robust)
        got = variance_ratio(y, lag=lag, robust=robust)
        assert got.ratio == pytest.approx(ref.vr, rel=1e-12)
        assert got.statistic == pytest.approx(ref.stat, rel=1e-10)
        assert got.pvalue == pytest.approx(ref.pvalue, rel=1e-8, abs=1e-14)


def test_variance_ratio_hand_worked_and_mean_reversion_direction() -> None:
    # p = 0 1 0 1 0 1: T = 5, mu = 0.2; deviations 0.8 -1.2 0.8 -1.2 0.8 -> sigma_a^2 = 4.8 / 4 = 1.2;
    # every 2-period change is 0, minus 2 mu -> 4 x 0.16 = 0.64 over m = 2 (5 - 2 + 1)(1 - 2/5) = 4.8
    # -> sigma_c^2 = 2/15, VR = (2/15) / 1.2 = 1/9; z = sqrt(5) (1/9 - 1) / sqrt(2 x 3 x 1 / 6)
    res = variance_ratio(np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0]), lag=2, robust=False)
    assert res.ratio == pytest.approx(1 / 9, rel=1e-14)
    assert res.statistic == pytest.approx(math.sqrt(5) * (1 / 9 - 1), rel=1e-14)
    rng = np.random.default_rng(9)
    walk = variance_ratio(np.cumsum(rng.normal(size=20_000)), lag=10)
    assert abs(walk.ratio - 1.0) < 0.1 and walk.pvalue > 0.01
    assert variance_ratio(rng.normal(size=5000), lag=10).ratio < 0.2


def test_mean_crossings_counts_sign_changes() -> None:
    assert mean_crossings([1.0, 3.0, 1.0, 3.0]) == 3
    assert mean_crossings(np.sin(np.linspace(0, 20 * np.pi, 10_001))) == 19


def test_mean_reversion_diagnostics_refuse_bad_input() -> None:
    with pytest.raises(
        InsufficientDataError, match="has 5 observations; hurst with min_lag=2 needs at least 12"
    ):
        hurst(np.arange(5.0))
    with pytest.raises(ValidationError, match="constant 2-step differences"):
        hurst(np.arange(100.0))
    with pytest.raises(ValidationError, match="lag=1 must be an integer >= 2"):
        variance_ratio(np.arange(100.0), lag=1)
    with pytest.raises(ValidationError, match="NaN/inf"):
        half_life(np.array([1.0, np.nan, 2.0, 3.0, 1.0]))
    with pytest.raises(ValidationError, match="constant"):
        mean_crossings(np.ones(10))
