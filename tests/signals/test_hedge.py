"""Hedge ratios against statsmodels OLS, an SVD total-least-squares fit, brute force and errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from tests.conftest import need_shared

from spreadlab.errors import ConvergenceError, ValidationError
from spreadlab.signals.hedge import min_half_life_hedge, ols_hedge, rolling_ols_hedge, tls_hedge


def _pair(seed: int, n: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = 100 + rng.normal(size=n).cumsum()
    s = np.zeros(n)
    for i in range(1, n):
        s[i] = 0.95 * s[i - 1] + rng.normal()
    return 5.0 + 1.7 * x + s, x


@pytest.fixture(scope="module")
def btc_eth() -> tuple[np.ndarray, np.ndarray]:
    path = need_shared("binance_spot_perp_daily/perp_BTCUSDT_1d_2021-01_2023-06.csv.gz")
    btc = pd.read_csv(path, usecols=["open_time", "close"])
    eth = pd.read_csv(path.parent / "perp_ETHUSDT_1d_2021-01_2023-06.csv.gz", usecols=["open_time", "close"])
    m = btc.merge(eth, on="open_time", suffixes=("_btc", "_eth"))
    return np.log(m["close_eth"].to_numpy()), np.log(m["close_btc"].to_numpy())


def test_ols_matches_statsmodels_on_real_prices(btc_eth: tuple[np.ndarray, np.ndarray]) -> None:
    y, x = btc_eth
    res = ols_hedge(y, x)
    ref = sm.OLS(y, sm.add_constant(x)).fit()
    assert res.alpha == pytest.approx(ref.params[0], rel=1e-10)
    assert res.beta == pytest.approx(ref.params[1], rel=1e-10)
    assert res.beta_se == pytest.approx(ref.bse[1], rel=1e-10)
    np.testing.assert_allclose(res.spread, ref.resid, rtol=1e-8, atol=1e-12)
    no_c = ols_hedge(y, x, intercept=False)
    ref0 = sm.OLS(y, x).fit()
    assert no_c.beta == pytest.approx(ref0.params[0], rel=1e-10)
    assert no_c.beta_se == pytest.approx(ref0.bse[0], rel=1e-10)


def test_tls_matches_svd_and_is_symmetric(btc_eth: tuple[np.ndarray, np.ndarray]) -> None:
    y, x = btc_eth
    res = tls_hedge(y, x)
    # smallest right singular vector of the centred data is the line's normal (n_x, n_y): beta = -n_x / n_y
    z = np.column_stack([x - x.mean(), y - y.mean()])
    _, _, vt = np.linalg.svd(z, full_matrices=False)
    nx, ny = vt[-1]
    assert res.beta == pytest.approx(-nx / ny, rel=1e-9)
    # orthogonal regression is symmetric: regressing x on y gives 1 / beta
    assert tls_hedge(x, y).beta == pytest.approx(1.0 / res.beta, rel=1e-9)
    # and lies between the two OLS slopes
    lo, hi = sorted([ols_hedge(y, x).beta, 1.0 / ols_hedge(x, y).beta])
    assert lo <= res.beta <= hi


def test_rolling_matches_per_window_statsmodels() -> None:
    y, x = _pair(1, 500)
    res = rolling_ols_hedge(y, x, window=60, min_periods=30)
    assert np.isnan(res.beta[:29]).all() and np.isfinite(res.beta[29:]).all()
    for i in (29, 59, 60, 250, 499):
        lo = max(0, i - 59)
        ref = sm.OLS(y[lo : i + 1], sm.add_constant(x[lo : i + 1])).fit()
        assert res.beta[i] == pytest.approx(ref.params[1], rel=1e-9)
        assert res.alpha[i] == pytest.approx(ref.params[0], rel=1e-8)
        assert res.residual[i] == pytest.approx(y[i] - ref.params[0] - ref.params[1] * x[i], abs=1e-8)


def test_rolling_tradable_spread_uses_the_ratio_fitted_up_to_the_previous_bar() -> None:
    y, x = _pair(1, 500)
    res = rolling_ols_hedge(y, x, window=60, min_periods=30)
    assert np.isnan(res.spread[:30]).all() and np.isfinite(res.spread[30:]).all()
    for i in (30, 60, 61, 250, 499):
        lo = max(0, i - 60)
        ref = sm.OLS(y[lo:i], sm.add_constant(x[lo:i])).fit()  # window ending at i - 1
        assert res.spread[i] == pytest.approx(y[i] - ref.params[0] - ref.params[1] * x[i], abs=1e-8)


def test_rolling_spread_moves_one_for_one_with_its_own_bar() -> None:
    # a shock to y at bar t shifts the tradable spread at t by exactly the shock: bar t is not
    # in the ratio it is hedged with (the in-sample residual absorbs part of the shock)
    y, x = _pair(7, 300)
    base = rolling_ols_hedge(y, x, window=40)
    for t in (40, 120, 299):
        y2 = y.copy()
        y2[t] += 5.0
        hit = rolling_ols_hedge(y2, x, window=40)
        assert hit.spread[t] - base.spread[t] == pytest.approx(5.0, abs=1e-9)
        np.testing.assert_array_equal(hit.spread[:t], base.spread[:t])
        assert abs(hit.residual[t] - base.residual[t] - 5.0) > 0.01


def test_min_half_life_beats_every_other_beta() -> None:
    y, x = _pair(2)
    res = min_half_life_hedge(y, x, dt=1 / 365.25)
    assert res.ou is not None

    def b_of(beta: float) -> float:
        s = y - beta * x
        s0, s1 = s[:-1] - s[:-1].mean(), s[1:] - s[1:].mean()
        return float(s0 @ s1 / (s0 @ s0))

    grid = np.linspace(res.beta - 0.2, res.beta + 0.2, 2001)
    vals = np.array([b_of(b) for b in grid])
    assert b_of(res.beta) <= vals.min() + 1e-12
    assert res.beta == pytest.approx(grid[int(np.argmin(vals))], abs=2 * (grid[1] - grid[0]))
    # the implied OU half-life in steps matches -ln 2 / ln b of the spread
    assert res.ou.half_life_steps == pytest.approx(-np.log(2) / np.log(b_of(res.beta)), rel=1e-9)
    assert res.beta == pytest.approx(1.7, abs=0.05)


def test_bad_input() -> None:
    with pytest.raises(ValidationError, match="y has 4, x has 3"):
        ols_hedge(np.arange(4.0), np.arange(3.0))
    with pytest.raises(ValidationError, match="x is constant"):
        tls_hedge(np.arange(5.0), np.ones(5))
    with pytest.raises(ValidationError, match="y has 1 non-finite"):
        ols_hedge(np.array([1.0, np.nan, 3.0]), np.arange(3.0))
    with pytest.raises(ValidationError, match="window ending at index 9"):
        x = np.r_[np.arange(5.0), np.full(10, 5.0)]
        rolling_ols_hedge(np.arange(15.0), x, window=5)
    with pytest.raises(ValidationError, match="window=2 must be an int >= 3"):
        rolling_ols_hedge(np.arange(15.0), np.arange(15.0) ** 2, window=2)
    rng = np.random.default_rng(0)
    sign = (-1.0) ** np.arange(500)
    # both legs flip sign every step: every combination alternates (b < 0), so no OU half-life exists
    with pytest.raises(ConvergenceError, match="no hedge ratio gives a mean-reverting spread"):
        min_half_life_hedge(
            sign + 0.1 * rng.normal(size=500), 0.5 * sign + 0.1 * rng.normal(size=500), dt=0.01
        )
