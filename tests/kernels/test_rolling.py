"""Rolling kernels against their plain-Python twins and pandas on random inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from spreadlab.kernels import rolling as k


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("window,min_periods", [(2, 2), (5, 3), (17, 17), (50, 10)])
def test_rolling_mean_std_matches_twin_and_pandas(seed: int, window: int, min_periods: int) -> None:
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(size=300)) + 1000.0
    m, s = k.rolling_mean_std(x, window, min_periods, 1)
    mp, sp = k.rolling_mean_std_py(x, window, min_periods, 1)
    np.testing.assert_allclose(m, mp, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(s, sp, rtol=1e-8, equal_nan=True)
    r = pd.Series(x).rolling(window, min_periods=min_periods)
    np.testing.assert_allclose(m, r.mean().to_numpy(), rtol=1e-12, equal_nan=True)
    # pandas' add/remove sums lose ~1e-8 relative on tiny windows at a level of 1000; we are closer to exact
    np.testing.assert_allclose(s, r.std().to_numpy(), rtol=1e-6, equal_nan=True)
    if window == 2:
        np.testing.assert_allclose(s[1:], np.abs(np.diff(x)) / np.sqrt(2.0), rtol=0, atol=1e-11)


def test_rolling_std_is_stable_on_large_offset_long_series() -> None:
    # naive sum/sum-of-squares loses every digit here: values ~1e9 with unit noise
    rng = np.random.default_rng(0)
    x = 1e9 + rng.normal(size=200_000)
    _, s = k.rolling_mean_std(x, 100, 100, 1)
    ref = pd.Series(x - 1e9).rolling(100).std().to_numpy()
    np.testing.assert_allclose(s[99:], ref[99:], rtol=1e-6)


def test_constant_window_has_exactly_zero_std_after_variation() -> None:
    x = np.concatenate([np.array([0.3, 7.1, -2.2, 0.1]), np.full(10, 0.1)])
    m, s = k.rolling_mean_std(x, 4, 4, 1)
    assert (s[7:] == 0.0).all()
    assert (m[7:] == 0.1).all()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), min_size=3, max_size=60),
    st.integers(2, 12),
)
def test_rolling_mean_std_property(values: list[float], window: int) -> None:
    x = np.array(values)
    m, s = k.rolling_mean_std(x, window, 2, 1)
    mp, sp = k.rolling_mean_std_py(x, window, 2, 1)
    scale = np.abs(x).max() + 1.0
    np.testing.assert_allclose(m, mp, atol=1e-9 * scale, equal_nan=True)
    np.testing.assert_allclose(s, sp, atol=1e-6 * scale, equal_nan=True)


@pytest.mark.parametrize("halflife", [1.0, 5.0, 40.0])
def test_ewm_matches_twin_and_pandas(halflife: float) -> None:
    rng = np.random.default_rng(11)
    x = rng.standard_t(4, size=400).cumsum()
    alpha = 1.0 - 2.0 ** (-1.0 / halflife)
    m, s = k.ewm_mean_std(x, alpha, 2)
    mp, sp = k.ewm_mean_std_py(x, alpha, 2)
    np.testing.assert_allclose(m, mp, rtol=1e-10, equal_nan=True)
    np.testing.assert_allclose(s, sp, rtol=1e-8, equal_nan=True)
    e = pd.Series(x).ewm(halflife=halflife, adjust=True, min_periods=2)
    np.testing.assert_allclose(m, e.mean().to_numpy(), rtol=1e-10, equal_nan=True)
    np.testing.assert_allclose(s, e.std().to_numpy(), rtol=1e-8, equal_nan=True)


@pytest.mark.parametrize("window", [3, 4, 21, 60])
def test_rolling_median_scale_matches_twin_and_scipy(window: int) -> None:
    rng = np.random.default_rng(window)
    # rounding to 2 decimals creates ties, exercising the MAD = 0 fallback path sometimes
    x = np.round(rng.standard_t(3, size=300), 1)
    med, sc = k.rolling_median_scale(x, window, 3)
    medp, scp = k.rolling_median_scale_py(x, window, 3)
    np.testing.assert_allclose(med, medp, rtol=1e-14, equal_nan=True)
    np.testing.assert_allclose(sc, scp, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(med, pd.Series(x).rolling(window, min_periods=3).median(), equal_nan=True)
    for i in range(window, 300, 37):
        w = x[i - window + 1 : i + 1]
        mad = stats.median_abs_deviation(w, scale="normal")
        if mad > 0:
            assert sc[i] == pytest.approx(mad, rel=1e-12)


@pytest.mark.parametrize("window,min_periods", [(5, 3), (30, 30), (64, 10)])
def test_rolling_ols_matches_twin_and_numpy(window: int, min_periods: int) -> None:
    rng = np.random.default_rng(5)
    x = 100 + np.cumsum(rng.normal(size=500))
    y = 3.0 + 1.7 * x + rng.normal(size=500)
    b, a = k.rolling_ols(y, x, window, min_periods)
    bp, ap = k.rolling_ols_py(y, x, window, min_periods)
    np.testing.assert_allclose(b, bp, rtol=1e-9, equal_nan=True)
    np.testing.assert_allclose(a, ap, rtol=1e-8, atol=1e-8, equal_nan=True)
    i = 321
    lo = max(0, i - window + 1)
    slope, icpt = np.polyfit(x[lo : i + 1], y[lo : i + 1], 1)
    assert b[i] == pytest.approx(slope, rel=1e-9)
    assert a[i] == pytest.approx(icpt, rel=1e-8)
