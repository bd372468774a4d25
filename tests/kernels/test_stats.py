"""Unit-root / cointegration kernels against their plain-Python (numpy lstsq) twins and statsmodels."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.tsa.stattools import adfuller, coint

from spreadlab.kernels import stats as k

IC_NAMES = {k.IC_AIC: "aic", k.IC_BIC: "bic", k.IC_TSTAT: "t-stat"}


def _ar_path(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    e = rng.normal(size=n)
    x = np.empty(n)
    x[0] = e[0]
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t] + 0.3 * e[t - 1]
    return x


@pytest.mark.parametrize("ntrend", [0, 1, 2, 3])
@pytest.mark.parametrize("ic", [k.IC_AIC, k.IC_BIC, k.IC_TSTAT, k.IC_NONE])
def test_adf_kernel_matches_twin_on_random_series(ntrend: int, ic: int) -> None:
    rng = np.random.default_rng(100 + 10 * ntrend + ic)
    for _ in range(3):
        n = int(rng.integers(60, 400))
        x = _ar_path(rng, n, float(rng.uniform(0.8, 1.0))) + 10.0
        maxlag = int(rng.integers(0, 8))
        got = k.adf_test(x, maxlag, ntrend, ic)
        want = k.adf_test_py(x, maxlag, ntrend, ic)
        assert got[4] == k.STATUS_OK
        assert got[1] == want[1] and got[2] == want[2]
        assert got[0] == pytest.approx(want[0], rel=1e-9, abs=1e-9)
        if ic != k.IC_NONE:
            assert got[3] == pytest.approx(want[3], rel=1e-9)


@pytest.mark.parametrize("ic", [k.IC_AIC, k.IC_BIC, k.IC_TSTAT, k.IC_NONE])
def test_gram_kernel_matches_qr_kernel_and_twin(ic: int) -> None:
    rng = np.random.default_rng(7 + ic)
    for _ in range(5):
        n = int(rng.integers(50, 2000))
        e = _ar_path(rng, n, float(rng.uniform(0.5, 1.0)))
        maxlag = int(rng.integers(0, 12))
        g = k.adf_test_gram(e, maxlag, ic)
        q = k.adf_test(e, maxlag, 0, ic)
        p = k.adf_test_gram_py(e, maxlag, ic)
        assert g[1] == q[1] == p[1]
        assert g[0] == pytest.approx(q[0], rel=1e-9)
        assert g[0] == pytest.approx(p[0], rel=1e-9)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(40, 300),
    maxlag=st.integers(0, 6),
    ic=st.sampled_from([k.IC_AIC, k.IC_BIC, k.IC_TSTAT]),
)
def test_adf_kernel_equals_statsmodels_property(seed: int, n: int, maxlag: int, ic: int) -> None:
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.standard_t(5, size=n)) * float(rng.uniform(0.01, 100))
    for ntrend, reg in [(0, "n"), (1, "c"), (2, "ct")]:
        got = k.adf_test(x, maxlag, ntrend, ic)
        ref = adfuller(x, maxlag=maxlag, regression=reg, autolag=IC_NAMES[ic], result_object=True)
        assert got[1] == ref.lags
        assert got[0] == pytest.approx(ref.statistic, rel=1e-8, abs=1e-8)


def test_eg_pair_and_all_pairs_match_statsmodels_coint() -> None:
    rng = np.random.default_rng(11)
    n = 600
    common = np.cumsum(rng.normal(size=n))
    P = np.column_stack(
        [
            common + rng.normal(size=n),
            0.5 * common + np.cumsum(rng.normal(scale=0.3, size=n)),
            np.cumsum(rng.normal(size=n)),
            2.0 * common + _ar_path(rng, n, 0.7),
        ]
    )
    maxlag = 8
    stat, lag, hedge, icpt, status = k.eg_all_pairs(P, 1, maxlag, k.IC_AIC, True)
    twin = k.eg_all_pairs_py(P, 1, maxlag, k.IC_AIC, True)
    np.testing.assert_allclose(stat, twin[0], rtol=1e-9)
    np.testing.assert_array_equal(lag, twin[1])
    np.testing.assert_allclose(hedge, twin[2], rtol=1e-9)
    np.testing.assert_allclose(icpt, twin[3], rtol=1e-9, atol=1e-12)
    assert (status == 0).all()
    q = 0
    for i in range(4):
        for j in range(i + 1, 4):
            for d, (a, b) in enumerate([(i, j), (j, i)]):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    ref = coint(P[:, a], P[:, b], maxlag=maxlag, return_results=True)
                assert stat[d, q] == pytest.approx(ref.coint_t, abs=1e-9)
                slope = np.polyfit(P[:, b], P[:, a], 1)
                assert hedge[d, q] == pytest.approx(slope[0], rel=1e-9)
                assert icpt[d, q] == pytest.approx(slope[1], rel=1e-9, abs=1e-9)
            q += 1


def test_eg_pair_flags_perfect_fit_and_collinear_design() -> None:
    x = np.cumsum(np.random.default_rng(1).normal(size=200))
    res = k.eg_pair(3.0 * x + 1.0, x[None, :].copy(), 1, 4, k.IC_AIC, True)
    assert res[4] == k.STATUS_PERFECT_FIT
    # a constant regressor duplicates the intercept column
    res = k.eg_pair(x, np.ones((1, 200)), 1, 4, k.IC_AIC, False)
    assert res[4] == k.STATUS_COLLINEAR


def test_lagged_diff_std_and_mean_crossings_twins() -> None:
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.normal(size=1000))
    lags = np.arange(1, 60, dtype=np.int64)
    np.testing.assert_allclose(k.lagged_diff_std(x, lags), k.lagged_diff_std_py(x, lags), rtol=1e-12)
    for _ in range(20):
        y = rng.normal(size=int(rng.integers(2, 300)))
        y[rng.integers(0, len(y))] = y.mean()
        assert k.mean_crossings(y) == k.mean_crossings_py(y)
    # hand-worked: mean 0, sides + - + - (0 carries -) - + -> four crossings
    assert k.mean_crossings(np.array([1.0, -1.0, 1.0, -1.0, 0.0, -1.0, 1.0])) == 4
    assert k.mean_crossings(np.array([0.0, 1.0, 2.0, 3.0])) == 1


def test_eg_pairs_on_a_subset_matches_twin() -> None:
    rng = np.random.default_rng(21)
    n, N = 400, 6
    P = np.cumsum(rng.normal(size=(n, N)), axis=0) + rng.normal(size=(n, N))
    left = np.array([0, 2, 5, 1], dtype=np.int64)
    right = np.array([3, 4, 1, 2], dtype=np.int64)
    got = k.eg_pairs(P, left, right, 1, 7, k.IC_BIC, True)
    want = k.eg_pairs_py(P, left, right, 1, 7, k.IC_BIC, True)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-9)
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_allclose(got[2], want[2], rtol=1e-9)
    one = k.eg_pairs(P, left, right, 0, 7, k.IC_AIC, False)
    assert np.isnan(one[0][1]).all() and (one[4][1] == -1).all() and (one[3][0] == 0.0).all()
    np.testing.assert_array_equal(k.pair_indices(7)[0], k.pair_indices_py(7)[0])
    np.testing.assert_array_equal(k.pair_indices(7)[1], k.pair_indices_py(7)[1])
