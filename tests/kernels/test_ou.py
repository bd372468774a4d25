"""OU likelihood kernels against their plain-Python twins and scipy's normal density."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from spreadlab.kernels import ou as k


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_loglik_matches_twin_and_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=200).cumsum() * 0.1
    dt = rng.uniform(0.001, 0.02, size=199)
    mu, theta, sigma = 0.3, 12.0, 0.8
    got = k.ou_loglik(x, dt, mu, theta, sigma)
    assert got == pytest.approx(k.ou_loglik_py(x, dt, mu, theta, sigma), rel=1e-12)
    b = np.exp(-theta * dt)
    sd = np.sqrt(sigma**2 / (2 * theta) * (1 - b * b))
    ref = stats.norm.logpdf(x[1:], loc=mu + (x[:-1] - mu) * b, scale=sd).sum()
    assert got == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize("seed", [3, 4])
def test_profile_matches_twin_and_maximises_loglik(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=300).cumsum() * 0.05
    dt = rng.uniform(0.001, 0.01, size=299)
    theta = 7.0
    mu, s2, ll = k.ou_profile(x, dt, theta)
    mup, s2p, llp = k.ou_profile_py(x, dt, theta)
    assert (mu, s2, ll) == pytest.approx((mup, s2p, llp), rel=1e-10)
    sigma = np.sqrt(2 * theta * s2)
    assert ll == pytest.approx(k.ou_loglik(x, dt, mu, theta, sigma), rel=1e-12)
    # perturbing mu or sigma only lowers the likelihood: the profile is the conditional maximum
    for dmu, dsig in [(1e-3, 0), (-1e-3, 0), (0, 1e-3), (0, -1e-3)]:
        assert k.ou_loglik(x, dt, mu + dmu, theta, sigma * (1 + dsig)) < ll


@pytest.mark.parametrize("seed", [5, 6])
def test_ar1_moments_match_twin_at_large_offset(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = 1e6 + rng.normal(size=5000).cumsum() * 0.01
    np.testing.assert_allclose(k.ar1_moments(x), k.ar1_moments_py(x), rtol=1e-9)
