"""Black-76 kernels against QuantLib's BlackCalculator, their Python twins and hand-worked values."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import QuantLib as ql

from spreadlab.kernels import black76 as k


def _grid() -> tuple[np.ndarray, ...]:
    strikes = [50.0, 70.0, 90.0, 100.0, 110.0, 130.0, 160.0, 200.0]
    vols = [0.05, 0.2, 0.5, 0.9, 1.5]
    expiries = [1 / 365, 7 / 365, 0.25, 1.0, 2.5]
    rates = [0.0, 0.05]
    rows = list(itertools.product(strikes, vols, expiries, rates, [True, False]))
    f = np.full(len(rows), 100.0)
    kk = np.array([r[0] for r in rows])
    s = np.array([r[1] for r in rows])
    t = np.array([r[2] for r in rows])
    r = np.array([r[3] for r in rows])
    c = np.array([r[4] for r in rows])
    return f, kk, t, s, c, r


def _quantlib(f, kk, t, s, c, r) -> np.ndarray:  # type: ignore[no-untyped-def]
    out = []
    for fi, ki, ti, si, ci, ri in zip(f, kk, t, s, c, r):
        disc = math.exp(-ri * ti)
        payoff = ql.PlainVanillaPayoff(ql.Option.Call if ci else ql.Option.Put, float(ki))
        calc = ql.BlackCalculator(payoff, float(fi), si * math.sqrt(ti), disc)
        out.append(
            [
                calc.value(),
                calc.deltaForward(),
                calc.gammaForward(),
                calc.vega(float(ti)),
                calc.theta(float(fi), float(ti)),
            ]
        )
    return np.array(out)


def test_price_and_greeks_match_quantlib_to_1e10() -> None:
    f, kk, t, s, c, r = _grid()
    d = np.exp(-r * t)
    ref = _quantlib(f, kk, t, s, c, r)
    price = k.black76_price(f, kk, t, s, c, d)
    greeks = k.black76_greeks(f, kk, t, s, c, d, r, False)
    # compare where the reference is not vanishingly small (QuantLib's own floor is ~1e-16 absolute)
    for j, got in enumerate([price, *greeks.T]):
        want = ref[:, j]
        big = np.abs(want) > 1e-6 * 100.0
        np.testing.assert_allclose(got[big], want[big], rtol=1e-10, atol=0)
        np.testing.assert_allclose(got[~big], want[~big], rtol=0, atol=1e-12)


def test_coin_price_is_usd_price_over_forward_and_coin_greeks_are_its_derivatives() -> None:
    rng = np.random.default_rng(3)
    n = 200
    f = rng.uniform(20_000, 90_000, n)
    kk = f * np.exp(rng.normal(0, 0.3, n))
    t = rng.uniform(0.01, 1.5, n)
    s = rng.uniform(0.3, 1.2, n)
    c = rng.random(n) < 0.5
    r = rng.uniform(0, 0.05, n)
    d = np.exp(-r * t)
    g = k.black76_greeks(f, kk, t, s, c, d, r, True)
    # finite differences of the coin price V(F)/F
    h = f * 1e-4
    up = k.black76_price(f + h, kk, t, s, c, d) / (f + h)
    mid = k.black76_price(f, kk, t, s, c, d) / f
    dn = k.black76_price(f - h, kk, t, s, c, d) / (f - h)
    np.testing.assert_allclose(g[:, k.GREEK_DELTA], (up - dn) / (2 * h), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(g[:, k.GREEK_GAMMA], (up - 2 * mid + dn) / h**2, rtol=1e-3, atol=1e-14)
    hv = 1e-5
    vu = k.black76_price(f, kk, t, s + hv, c, d) / f
    vd = k.black76_price(f, kk, t, s - hv, c, d) / f
    np.testing.assert_allclose(g[:, k.GREEK_VEGA], (vu - vd) / (2 * hv), rtol=1e-6)


def test_kernels_match_python_twins_on_random_inputs() -> None:
    rng = np.random.default_rng(11)
    n = 400
    f = rng.uniform(1, 1e5, n)
    kk = f * np.exp(rng.normal(0, 0.5, n))
    t = rng.uniform(1e-3, 3, n)
    s = rng.uniform(0.01, 3, n)
    c = rng.random(n) < 0.5
    r = rng.normal(0.02, 0.03, n)
    d = np.exp(-r * t)
    np.testing.assert_allclose(
        k.black76_price(f, kk, t, s, c, d), k.black76_price_py(f, kk, t, s, c, d), rtol=1e-13, atol=1e-9
    )
    for coin in (False, True):
        np.testing.assert_allclose(
            k.black76_greeks(f, kk, t, s, c, d, r, coin),
            k.black76_greeks_py(f, kk, t, s, c, d, r, coin),
            rtol=1e-11,
            atol=1e-12,
        )


def test_hand_worked_atm_and_parity() -> None:
    # ATM forward: call = put = F (2 N(s sqrt(T)/2) - 1); with F=100, s=0.2, T=1: 7.965567455405804
    one = np.ones(1)
    got = k.black76_price(one * 100, one * 100, one, one * 0.2, np.array([True]), one)[0]
    assert got == pytest.approx(7.965567455405804, rel=1e-14)
    # put-call parity C - P = D (F - K)
    f, kk, t, s, _, r = _grid()
    d = np.exp(-r * t)
    call = k.black76_price(f, kk, t, s, np.ones(f.size, bool), d)
    put = k.black76_price(f, kk, t, s, np.zeros(f.size, bool), d)
    np.testing.assert_allclose(call - put, d * (f - kk), rtol=1e-12, atol=1e-11)


def test_zero_vol_gives_discounted_intrinsic() -> None:
    one = np.ones(2)
    got = k.black76_price(
        one * 100, np.array([90.0, 110.0]), one, one * 0.0, np.array([True, False]), one * 0.9
    )
    np.testing.assert_allclose(got, [9.0, 9.0])
