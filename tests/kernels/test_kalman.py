"""Kalman hedge kernels against their matrix-algebra twins and pykalman."""

from __future__ import annotations

import numpy as np
import pytest

from spreadlab.kernels import kalman as k


def _data(seed: int, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = 50 + rng.normal(size=n).cumsum()
    beta = 1.2 + 0.01 * rng.normal(size=n).cumsum()
    y = 3 + beta * x + rng.normal(size=n)
    return y, x


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_filter_and_loglik_match_twin(seed: int) -> None:
    y, x = _data(seed)
    rng = np.random.default_rng(100 + seed)
    r, qa, qb = rng.uniform(0.1, 2), rng.uniform(1e-5, 1e-2), rng.uniform(1e-7, 1e-3)
    args = (r, qa, qb, 0.5, 1.0, 100.0, -3.0, 4.0, int(rng.integers(0, 3)))
    got = k.kalman_hedge_filter(y, x, *args)
    ref = k.kalman_hedge_filter_py(y, x, *args)
    for g, e in zip(got[:5], ref[:5]):
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-12)
    assert got[5] == pytest.approx(ref[5], rel=1e-12)
    assert k.kalman_hedge_loglik(y, x, *args) == pytest.approx(ref[5], rel=1e-12)
    assert k.kalman_hedge_loglik_py(y, x, *args) == pytest.approx(ref[5], rel=1e-12)


@pytest.mark.parametrize("seed", [4, 5])
def test_profile_matches_twin_and_full_likelihood_at_r_hat(seed: int) -> None:
    y, x = _data(seed)
    ra, rb = 1e-3, 1e-5
    p0 = (0.0, 0.0, 1e4, 0.0, 10.0)
    r_hat, ll = k.kalman_hedge_profile(y, x, ra, rb, *p0, 2)
    r_py, ll_py = k.kalman_hedge_profile_py(y, x, ra, rb, *p0, 2)
    assert (r_hat, ll) == pytest.approx((r_py, ll_py), rel=1e-10)
    # the concentrated likelihood equals the full one at r = r_hat with every variance scaled by r_hat
    full = k.kalman_hedge_loglik(
        y, x, r_hat, ra * r_hat, rb * r_hat, 0.0, 0.0, 1e4 * r_hat, 0.0, 10.0 * r_hat, 2
    )
    assert ll == pytest.approx(full, rel=1e-10)
    # and r_hat maximises it along r
    for f in (0.9, 1.1):
        s = r_hat * f
        assert k.kalman_hedge_loglik(y, x, s, ra * s, rb * s, 0.0, 0.0, 1e4 * s, 0.0, 10.0 * s, 2) < ll


def test_loglik_and_paths_match_pykalman() -> None:
    pykalman = pytest.importorskip("pykalman", reason="pykalman (dev requirement) is not installed")
    y, x = _data(7, n=400)
    r, qa, qb = 0.8, 1e-3, 1e-5
    p0 = np.array([[10.0, 0.5], [0.5, 2.0]])
    kf = pykalman.KalmanFilter(
        transition_matrices=np.eye(2),
        observation_matrices=np.stack([np.ones_like(x), x], axis=1)[:, None, :],
        transition_covariance=np.diag([qa, qb]),
        observation_covariance=np.array([[r]]),
        initial_state_mean=np.array([1.0, 1.0]),
        initial_state_covariance=p0,
    )
    ref_ll = kf.loglikelihood(y[:, None])
    got = k.kalman_hedge_filter(y, x, r, qa, qb, 1.0, 1.0, 10.0, 0.5, 2.0, 0)
    assert got[5] == pytest.approx(ref_ll, rel=1e-12)
    means, covs = kf.filter(y[:, None])
    np.testing.assert_allclose(got[0], means[:, 0], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(got[1], means[:, 1], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[2], covs[:, 1, 1], rtol=1e-8, atol=1e-14)
