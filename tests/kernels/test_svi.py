"""SVI kernels against their twins, closed forms and Gatheral's published examples."""

from __future__ import annotations

import numpy as np
import pytest

from spreadlab.kernels import svi


def test_kernels_match_twins_on_random_inputs() -> None:
    rng = np.random.default_rng(5)
    k = rng.uniform(-2, 2, 300)
    for _ in range(20):
        a, b, rho, m, s = (
            rng.uniform(-0.05, 0.1),
            rng.uniform(0, 1),
            rng.uniform(-0.99, 0.99),
            rng.normal(0, 0.2),
            rng.uniform(0.01, 1),
        )
        np.testing.assert_allclose(
            svi.svi_total_variance(k, a, b, rho, m, s),
            svi.svi_total_variance_py(k, a, b, rho, m, s),
            rtol=1e-14,
        )
        np.testing.assert_allclose(
            svi.svi_g(k, a, b, rho, m, s), svi.svi_g_py(k, a, b, rho, m, s), rtol=1e-10, atol=1e-14
        )


def test_total_variance_closed_form_points() -> None:
    # at k = m: w = a + b sigma; far wings slope b (1 +/- rho)
    w = svi.svi_total_variance(np.array([0.1, 100.1, 200.1, -99.9, -199.9]), 0.02, 0.4, -0.3, 0.1, 0.2)
    assert w[0] == pytest.approx(0.02 + 0.4 * 0.2, rel=1e-15)
    assert (w[2] - w[1]) / 100 == pytest.approx(0.4 * (1 - 0.3), rel=1e-5)
    assert (w[4] - w[3]) / -100 == pytest.approx(-0.4 * (1 + 0.3), rel=1e-5)


def test_g_matches_finite_difference_density_and_flags_gatheral_jacquier_counterexample() -> None:
    # Gatheral & Jacquier (2014), example 3.1: a=-0.0410, b=0.1331, rho=0.3060, m=0.3586, sigma=0.4153
    # (a slice fitted to SPX that HAS butterfly arbitrage: g < 0 somewhere near k ~ 1)
    k = np.linspace(-1.5, 1.5, 3001)
    params = (-0.0410, 0.1331, 0.3060, 0.3586, 0.4153)
    g = svi.svi_g(k, *params)
    assert g.min() < 0
    # g against a finite-difference evaluation of the same formula from w alone
    w = svi.svi_total_variance(k, *params)
    h = k[1] - k[0]
    w1 = np.gradient(w, h)
    w2 = np.gradient(w1, h)
    g_fd = (1 - k * w1 / (2 * w)) ** 2 - w1**2 / 4 * (1 / w + 0.25) + w2 / 2
    np.testing.assert_allclose(g[5:-5], g_fd[5:-5], atol=1e-4)
    # a symmetric, moderate slice is arbitrage-free
    assert svi.svi_g(k, 0.04, 0.1, 0.0, 0.0, 0.3).min() > 0


def test_lm_fit_matches_twin_and_scipy_least_squares() -> None:
    from scipy.optimize import least_squares

    rng = np.random.default_rng(12)
    for _ in range(8):
        t = rng.uniform(0.02, 1.0)
        a, b, rho, m, s = (
            rng.uniform(0.001, 0.03),
            rng.uniform(0.02, 0.3),
            rng.uniform(-0.7, 0.3),
            rng.normal(0, 0.05),
            rng.uniform(0.05, 0.3),
        )
        k = np.sort(rng.uniform(-0.5, 0.5, 30))
        vol = np.sqrt(svi.svi_total_variance(k, a, b, rho, m, s) / t) * (1 + rng.normal(0, 0.003, k.size))
        sw = np.ones_like(k)
        lb = np.array([-0.5, 0.0, -0.999, -2.0, 1e-4])
        ub = np.array([0.5, 4.0, 0.999, 2.0, 2.0])
        p0 = np.array([0.01, 0.1, 0.0, 0.0, 0.1])
        p1, c1, it1 = svi.svi_fit_lm(k, vol, sw, t, p0, lb, ub, 2000)
        p2, c2, it2 = svi.svi_fit_lm_py(k, vol, sw, t, p0, lb, ub, 2000)
        assert it1 == it2
        assert c1 == pytest.approx(c2, rel=1e-9)
        np.testing.assert_allclose(p1, p2, rtol=1e-7, atol=1e-10)

        def resid(p: np.ndarray, k: np.ndarray = k, vol: np.ndarray = vol, t: float = t) -> np.ndarray:
            return np.sqrt(np.maximum(svi.svi_total_variance(k, *p), 1e-16) / t) - vol

        ref = least_squares(resid, p0, bounds=(lb, ub), method="trf", x_scale="jac", max_nfev=2000)
        # the same (or a better) optimum as scipy's trust-region reflective solver
        assert c1 <= ref.cost * (1 + 1e-6) + 1e-14
