"""Z-scores against pandas and hand-worked values; bad input gives clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.conftest import need_shared

from spreadlab.errors import InsufficientDataError, ValidationError
from spreadlab.signals.zscore import ewma_zscore, robust_zscore, rolling_zscore


def test_rolling_zscore_hand_worked() -> None:
    # window [2, 3, 5]: mean 10/3, sample std sqrt(((4/3)^2+(1/3)^2+(5/3)^2)/2) = sqrt(7/3)
    z = rolling_zscore(np.array([1.0, 2.0, 3.0, 5.0]), window=3)
    assert np.isnan(z[:2]).all()
    assert z[2] == pytest.approx(1.0)
    assert z[3] == pytest.approx((5 - 10 / 3) / np.sqrt(7 / 3), rel=1e-14)


def test_rolling_zscore_matches_pandas_on_real_prices() -> None:
    path = need_shared("binance_spot_perp_daily")
    files = sorted(path.glob("perp_*_1d_*.csv.gz"))
    if not files:
        pytest.skip("no csv files in binance_spot_perp_daily")
    df = pd.read_csv(files[0])
    col = "close"
    x = df[col].to_numpy(dtype=float)
    z = rolling_zscore(x, window=30, min_periods=10)
    s = pd.Series(x).rolling(30, min_periods=10)
    ref = ((pd.Series(x) - s.mean()) / s.std()).to_numpy()
    np.testing.assert_allclose(z, ref, rtol=1e-7, atol=1e-9, equal_nan=True)


def test_ewma_zscore_matches_pandas() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=1000).cumsum()
    s = pd.Series(x)
    e = s.ewm(halflife=12.5, adjust=True, min_periods=5)
    ref = ((s - e.mean()) / e.std()).to_numpy()
    np.testing.assert_allclose(ewma_zscore(x, halflife=12.5, min_periods=5), ref, rtol=1e-8, equal_nan=True)


def test_robust_zscore_resists_outlier_where_rolling_does_not() -> None:
    rng = np.random.default_rng(9)
    x = rng.normal(size=200)
    x[150] = 50.0
    zr = robust_zscore(x, window=41)
    zs = rolling_zscore(x, window=41)
    # after the outlier the robust scale barely moves, so ordinary points keep ordinary scores
    assert np.abs(zr[151:190]).max() < 4.0
    assert zr[150] > 25.0
    assert zs[150] < zr[150]


def test_constant_window_gives_zero_not_nan() -> None:
    x = np.array([1.0, 2.0, 3.0, 3.0, 3.0, 3.0])
    assert rolling_zscore(x, window=3)[-1] == 0.0
    assert robust_zscore(x, window=3)[-1] == 0.0


@pytest.mark.parametrize("fn", [rolling_zscore, robust_zscore])
def test_bad_input_names_the_problem(fn) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match=r"values has 1 non-finite value.*index 2"):
        fn(np.array([1.0, 2.0, np.nan, 4.0]), window=3)
    with pytest.raises(InsufficientDataError, match=r"values has 3 observation\(s\); 5 are needed"):
        fn(np.array([1.0, 2.0, 3.0]), window=5)
    with pytest.raises(ValidationError, match="window=1 must be >="):
        fn(np.arange(10.0), window=1)
    with pytest.raises(ValidationError, match="min_periods=9 must lie in"):
        fn(np.arange(10.0), window=5, min_periods=9)


def test_ewma_bad_halflife() -> None:
    with pytest.raises(ValidationError, match="halflife=-1.0 must be > 0"):
        ewma_zscore(np.arange(5.0), halflife=-1.0)
