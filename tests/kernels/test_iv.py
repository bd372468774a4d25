"""IV kernel: round trip on a wide grid, Python twin, QuantLib's solver, bound handling."""

from __future__ import annotations

import math

import numpy as np
import QuantLib as ql
from hypothesis import given, settings
from hypothesis import strategies as st

from spreadlab.kernels import black76 as b76
from spreadlab.kernels import iv


def _random(n: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    f = rng.uniform(1.0, 1e5, n)
    k = f * np.exp(rng.normal(0, 0.35, n))
    t = rng.uniform(1 / 365, 3, n)
    s = rng.uniform(0.03, 2.5, n)
    c = rng.random(n) < 0.5
    d = np.exp(-rng.uniform(0, 0.08, n) * t)
    return f, k, t, s, c, d


def test_round_trip_recovers_vol_where_time_value_is_resolvable() -> None:
    f, k, t, s, c, d = _random(200_000, 1)
    p = b76.black76_price(f, k, t, s, c, d)
    vol, status = iv.implied_vol(p, f, k, t, c, d, False)
    assert set(np.unique(status)) <= {iv.IV_OK, iv.IV_NO_TIME_VALUE}
    # time value relative to the price level decides what the price can say about the vol
    intrinsic = np.where(c, np.maximum(f - k, 0), np.maximum(k - f, 0)) * d
    tv_rel = (p - intrinsic) / np.maximum(f, k)
    good = (status == iv.IV_OK) & (tv_rel > 1e-8)
    assert good.mean() > 0.9
    np.testing.assert_allclose(vol[good], s[good], rtol=1e-9)
    very = (status == iv.IV_OK) & (tv_rel > 1e-4)
    np.testing.assert_allclose(vol[very], s[very], rtol=1e-12)
    # every solved vol reprices to the input price
    ok = status == iv.IV_OK
    re = b76.black76_price(f[ok], k[ok], t[ok], vol[ok], c[ok], d[ok])
    np.testing.assert_allclose(re, p[ok], rtol=1e-12, atol=1e-12 * f[ok].max())


def test_coin_prices_solve_to_the_same_vol() -> None:
    f, k, t, s, c, d = _random(5_000, 2)
    p = b76.black76_price(f, k, t, s, c, d)
    v_lin, _ = iv.implied_vol(p, f, k, t, c, d, False)
    v_coin, _ = iv.implied_vol(p / f, f, k, t, c, d, True)
    intrinsic = np.where(c, np.maximum(f - k, 0), np.maximum(k - f, 0)) * d
    resolvable = (p - intrinsic) / np.maximum(f, k) > 1e-6  # p / f * f is exact only to rounding
    np.testing.assert_allclose(v_coin[resolvable], v_lin[resolvable], rtol=1e-10)


def test_matches_python_twin_bisection() -> None:
    f, k, t, s, c, d = _random(400, 3)
    p = b76.black76_price(f, k, t, s, c, d)
    p[::50] = -1.0  # below intrinsic
    p[1::50] = f[1::50] * 2  # above max
    v1, s1 = iv.implied_vol(p, f, k, t, c, d, False)
    v2, s2 = iv.implied_vol_py(p, f, k, t, c, d, False)
    np.testing.assert_array_equal(s1, s2)
    ok = s1 == iv.IV_OK
    np.testing.assert_allclose(v1[ok], v2[ok], rtol=1e-8)


def test_agrees_with_quantlib_implied_stddev() -> None:
    f, k, t, s, c, d = _random(300, 4)
    s = np.clip(s, 0.1, 1.5)
    p = b76.black76_price(f, k, t, s, c, d)
    vol, status = iv.implied_vol(p, f, k, t, c, d, False)
    for i in range(len(p)):
        payoff_type = ql.Option.Call if c[i] else ql.Option.Put
        intrinsic = max(f[i] - k[i], 0) if c[i] else max(k[i] - f[i], 0)
        if p[i] / d[i] - intrinsic < 1e-6 * f[i]:
            continue  # QuantLib's solver needs a resolvable time value
        std = ql.blackFormulaImpliedStdDev(payoff_type, k[i], f[i], p[i], d[i], 0.0, 0.5, 1e-14, 400)
        assert status[i] == iv.IV_OK
        assert vol[i] == __import__("pytest").approx(std / math.sqrt(t[i]), rel=1e-9)


def test_status_codes_for_prices_outside_no_arbitrage_bounds() -> None:
    one = np.ones(7)
    f = one * 100.0
    k = np.array([90.0, 90.0, 90.0, 110.0, 100.0, 100.0, -1.0])
    c = np.array([True, True, True, False, True, True, True])
    d = one * 0.99
    p = np.array([9.0, 0.99 * 10.0, 99.5, 12.0, np.nan, 5.0, 1.0])
    vol, status = iv.implied_vol(p, f, k, one, c, d, False)
    assert list(status) == [
        iv.IV_BELOW_INTRINSIC,  # 9 < 0.99 * 10
        iv.IV_NO_TIME_VALUE,  # exactly discounted intrinsic
        iv.IV_ABOVE_MAX,  # call above discounted forward 99
        iv.IV_OK,  # put with time value
        iv.IV_INVALID,  # NaN price
        iv.IV_OK,
        iv.IV_INVALID,  # negative strike
    ]
    assert np.isnan(vol[[0, 1, 2, 4, 6]]).all()
    assert np.isfinite(vol[[3, 5]]).all()


@settings(max_examples=300, deadline=None)
@given(
    x=st.floats(min_value=-3.0, max_value=0.0),
    s=st.floats(min_value=0.005, max_value=6.0),
)
def test_normalised_solver_inverts_b_on_full_domain(x: float, s: float) -> None:
    ex, emx = math.exp(0.5 * x), math.exp(-0.5 * x)
    beta = iv._b(x, s, ex, emx)
    if not (1e-250 < beta < ex * (1 - 1e-12)):
        return
    got, it = iv.normalised_vol(beta, x, 60)
    assert it > 0
    back = iv._b(x, got, ex, emx)
    # the price is matched to rounding; the vol to the conditioning of the price
    assert abs(back - beta) <= 1e-12 * beta + 1e-15


def test_parallel_kernel_is_identical_to_serial() -> None:
    f, k, t, s, c, d = _random(30_000, 9)
    p = b76.black76_price(f, k, t, s, c, d)
    p[::97] = np.nan
    v1, s1 = iv.implied_vol(p, f, k, t, c, d, False)
    v2, s2 = iv.implied_vol_parallel(p, f, k, t, c, d, False)
    np.testing.assert_array_equal(s1, s2)
    np.testing.assert_array_equal(v1, v2)
