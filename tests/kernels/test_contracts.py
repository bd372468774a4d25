"""Contract math kernels against their plain-Python twins and hand-worked examples."""

from __future__ import annotations

import numpy as np
import pytest

from spreadlab.kernels import contracts as k

KINDS = [k.LINEAR, k.INVERSE, k.COIN_OPTION, k.LINEAR_OPTION]


@pytest.mark.parametrize("kind", KINDS)
def test_kernels_match_python_twins_on_random_inputs(kind: int) -> None:
    rng = np.random.default_rng(7 + kind)
    n = 500
    qty = rng.normal(0, 5, n)
    a = rng.uniform(100, 100_000, n) * (0.00001 if kind == k.COIN_OPTION else 1.0)
    b = a * np.exp(rng.normal(0, 0.05, n))
    u = rng.uniform(1_000, 100_000, n)
    rate = rng.normal(0, 1e-4, n)
    mult = float(rng.uniform(0.001, 100))
    pairs = [
        (k.notional(qty, a, mult, kind), k.notional_py(qty, a, mult, kind)),
        (k.pnl(qty, a, b, mult, kind), k.pnl_py(qty, a, b, mult, kind)),
        (k.funding_payment(qty, a, rate, mult, kind), k.funding_payment_py(qty, a, rate, mult, kind)),
        (k.settlement_fx(a, u, kind), k.settlement_fx_py(a, u, kind)),
    ]
    for r, cap in ((0.0005, 0.125), (-0.0001, 0.125), (0.0003, np.inf)):
        pairs.append((k.fee(qty, a, u, mult, kind, r, cap), k.fee_py(qty, a, u, mult, kind, r, cap)))
    for got, want in pairs:
        np.testing.assert_allclose(got, want, rtol=1e-15)


def test_inverse_pnl_hand_worked() -> None:
    # long 10,000 USD of an inverse perpetual from 50,000 to 55,000 earns 10,000 x (1/50,000 - 1/55,000) BTC
    got = k.pnl(np.array([10_000.0]), np.array([50_000.0]), np.array([55_000.0]), 1.0, k.INVERSE)[0]
    assert got == pytest.approx(10_000 * (1 / 50_000 - 1 / 55_000), rel=1e-15)
    assert got == pytest.approx(0.0181818181818, rel=1e-11)
    # the same move loses more for the short than the long gains when prices fall (convexity of 1/P)
    down = k.pnl(np.array([-10_000.0]), np.array([50_000.0]), np.array([45_000.0]), 1.0, k.INVERSE)[0]
    assert down == pytest.approx(-10_000 * (1 / 50_000 - 1 / 45_000))
    assert down > 0.0


def test_coin_option_pnl_is_linear_in_the_coin_premium() -> None:
    # 1 Deribit BTC call (1 BTC) bought at 0.05 BTC, sold at 0.06 BTC: +0.01 BTC (not 1/0.05 - 1/0.06)
    got = k.pnl(np.array([1.0]), np.array([0.05]), np.array([0.06]), 1.0, k.COIN_OPTION)[0]
    assert got == pytest.approx(0.01, rel=1e-12)
    # its BTC converts to USD at the underlying's price, not at the premium
    assert k.settlement_fx(np.array([0.06]), np.array([62_000.0]), k.COIN_OPTION)[0] == 62_000.0
    assert k.settlement_fx(np.array([50_000.0]), np.array([1.0]), k.INVERSE)[0] == 50_000.0


def test_linear_pnl_and_funding_hand_worked() -> None:
    # 2 BTC long of a USDT perp from 60,000 to 61,500 earns 3,000 USDT
    assert k.pnl(np.array([2.0]), np.array([60_000.0]), np.array([61_500.0]), 1.0, k.LINEAR)[0] == 3000.0
    # long 2 BTC at mark 60,000 pays 0.01% funding: 12 USDT
    assert k.funding_payment(np.array([2.0]), np.array([60_000.0]), np.array([1e-4]), 1.0, k.LINEAR)[
        0
    ] == pytest.approx(-12.0)
    # short 100 COIN-M contracts (100 USD each) at 50,000 receives 0.01% of 0.2 BTC
    got = k.funding_payment(np.array([-100.0]), np.array([50_000.0]), np.array([1e-4]), 100.0, k.INVERSE)[0]
    assert got == pytest.approx(0.2 * 1e-4)
