"""KalmanHedge: variance recovery by ML, a maximum in fact, filtering without look-ahead, real data, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.conftest import need_shared

from spreadlab.errors import InsufficientDataError, ValidationError
from spreadlab.kernels import kalman as k
from spreadlab.signals.kalman import KalmanHedge


def simulate(
    seed: int, n: int, *, r: float, qa: float, qb: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n).cumsum() * 0.5 + 20 * np.sin(np.arange(n) / 300)  # x swings so alpha/beta separate
    alpha = 1.0 + np.sqrt(qa) * rng.normal(size=n).cumsum()
    beta = 0.8 + np.sqrt(qb) * rng.normal(size=n).cumsum()
    y = alpha + beta * x + np.sqrt(r) * rng.normal(size=n)
    return y, x, beta


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ml_recovers_simulated_variances(seed: int) -> None:
    r, qa, qb = 0.25, 1e-3, 1e-5
    y, x, beta = simulate(seed, 8000, r=r, qa=qa, qb=qb)
    res = KalmanHedge().fit(y, x, train=len(y))
    assert res.estimated
    assert res.obs_var == pytest.approx(r, rel=0.1)
    assert res.q_beta == pytest.approx(qb, rel=0.5)
    assert res.q_alpha == pytest.approx(qa, rel=0.8)
    # filtered beta tracks the true path: normalised errors look standard normal
    err = (res.beta[100:] - beta[100:]) / res.beta_std[100:]
    assert abs(err.mean()) < 0.5
    assert 0.6 < err.std() < 1.5
    # innovations standardised by their model variance are ~ N(0, 1)
    z = (res.innovation / res.innovation_std)[res.skip :]
    assert abs(z.mean()) < 0.1 and abs(z.std() - 1) < 0.05


def test_estimate_is_a_local_maximum_of_the_exact_likelihood() -> None:
    y, x, _ = simulate(9, 3000, r=0.5, qa=1e-4, qb=1e-6)
    res = KalmanHedge().fit(y, x, train=len(y))
    base = KalmanHedge(obs_var=res.obs_var, state_var=(res.q_alpha, res.q_beta)).fit(y, x)
    # same variances, diffuse priors differing only in scale: the same likelihood to a small tolerance
    assert base.loglik == pytest.approx(res.loglik, abs=0.05)
    for dr, da, db in [(1.05, 1, 1), (0.95, 1, 1), (1, 1.5, 1), (1, 0.6, 1), (1, 1, 1.5), (1, 1, 0.6)]:
        other = KalmanHedge(obs_var=res.obs_var * dr, state_var=(res.q_alpha * da, res.q_beta * db)).fit(y, x)
        assert other.loglik < base.loglik


def test_no_look_ahead() -> None:
    y, x, _ = simulate(4, 1000, r=0.3, qa=1e-4, qb=1e-6)
    spec = KalmanHedge(obs_var=0.3, state_var=(1e-4, 1e-6))
    full = spec.fit(y, x)
    part = spec.fit(y[:600], x[:600])
    np.testing.assert_allclose(full.beta[:600], part.beta, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(full.spread[:600], part.spread, rtol=1e-12, atol=1e-12)


def test_variances_come_from_the_training_window_only() -> None:
    y, x, _ = simulate(11, 2000, r=0.3, qa=1e-4, qb=1e-6)
    base = KalmanHedge().fit(y, x, train=1000)
    # the same variances as an in-sample fit of the first 1000 points
    head = KalmanHedge().fit(y[:1000], x[:1000], train=1000)
    assert (base.obs_var, base.q_alpha, base.q_beta) == (head.obs_var, head.q_alpha, head.q_beta)
    assert base.train_loglik == pytest.approx(head.train_loglik, rel=1e-12)
    # rewriting everything after bar t >= train changes no variance and no output at or before t
    rng = np.random.default_rng(0)
    for t in (999, 1400, 1998):
        y2, x2 = y.copy(), x.copy()
        y2[t + 1 :] += rng.normal(scale=5.0, size=y.size - t - 1)
        x2[t + 1 :] *= 1.1
        other = KalmanHedge().fit(y2, x2, train=1000)
        assert other.obs_var == base.obs_var and other.q_beta == base.q_beta
        for name in ("spread", "beta", "beta_prior", "alpha", "innovation", "innovation_std", "zscore"):
            np.testing.assert_array_equal(getattr(other, name)[: t + 1], getattr(base, name)[: t + 1], name)


def test_tradable_spread_is_the_prior_residual() -> None:
    y, x, _ = simulate(12, 1500, r=0.3, qa=1e-4, qb=1e-6)
    res = KalmanHedge().fit(y, x, train=500)
    assert np.isnan(res.spread[:500]).all() and np.isfinite(res.spread[500:]).all()
    t = np.arange(500, 1500)
    # formed from the state filtered up to t - 1, before y_t is seen
    np.testing.assert_allclose(
        res.spread[t], y[t] - res.alpha[t - 1] - res.beta[t - 1] * x[t], rtol=1e-9, atol=1e-9
    )
    np.testing.assert_array_equal(res.beta_prior[1:], res.beta[:-1])
    # a shock to y_t moves the tradable spread at t one for one; the posterior residual absorbs part of it
    y2 = y.copy()
    y2[800] += 3.0
    hit = KalmanHedge().fit(y2, x, train=500)
    assert hit.spread[800] - res.spread[800] == pytest.approx(3.0, abs=1e-9)
    assert hit.residual[800] - res.residual[800] < 3.0 - 1e-3
    np.testing.assert_array_equal(hit.spread[:800], res.spread[:800])


def test_train_is_required_when_a_variance_is_estimated() -> None:
    y, x, _ = simulate(13, 200, r=0.3, qa=1e-4, qb=1e-6)
    with pytest.raises(ValidationError, match="train is required"):
        KalmanHedge().fit(y, x)
    with pytest.raises(ValidationError, match=r"train=5 must lie in \[10, 200\]"):
        KalmanHedge(obs_var=0.3).fit(y, x, train=5)
    with pytest.raises(ValidationError, match=r"train=201 must lie"):
        KalmanHedge().fit(y, x, train=201)
    fixed = KalmanHedge(obs_var=0.3, state_var=(1e-4, 1e-6)).fit(y, x)
    assert fixed.train == 0 and not fixed.estimated and fixed.train_loglik is None


def test_docstring_names_the_optimiser_actually_used(monkeypatch: pytest.MonkeyPatch) -> None:
    from scipy import optimize

    from spreadlab.signals import kalman as mod

    used: list[str] = []
    real = optimize.minimize

    def spy(*args: object, **kwargs: object) -> object:
        used.append(str(kwargs.get("method")))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(mod.optimize, "minimize", spy)
    y, x, _ = simulate(14, 500, r=0.3, qa=1e-4, qb=1e-6)
    KalmanHedge().fit(y, x, train=500)
    KalmanHedge(obs_var=0.3).fit(y, x, train=500)
    assert used and set(used) == {"Nelder-Mead"}
    doc = mod.__doc__ or ""
    assert "Nelder" in doc and "L-BFGS" not in doc


def test_delta_parametrisation_has_equal_state_variances_and_fixed_delta_round_trips() -> None:
    y, x, _ = simulate(5, 3000, r=0.3, qa=1e-5, qb=1e-5)
    est = KalmanHedge(noise="delta").fit(y, x, train=len(y))
    assert est.q_alpha == est.q_beta
    assert est.delta == pytest.approx(est.q_beta / (1 + est.q_beta))
    fixed = KalmanHedge(noise="delta", delta=est.delta, obs_var=est.obs_var).fit(y, x)
    assert not fixed.estimated
    # the diffuse priors differ by a scale factor; its effect is gone after a few points
    np.testing.assert_allclose(fixed.beta[20:], est.beta[20:], rtol=1e-6)
    # the diagonal model nests the delta model, so its maximised likelihood is at least as high
    assert KalmanHedge().fit(y, x, train=len(y)).loglik >= est.loglik - 1e-3


def test_partly_fixed_variances_maximise_the_free_one() -> None:
    y, x, _ = simulate(6, 3000, r=0.4, qa=1e-4, qb=1e-6)
    res = KalmanHedge(state_var=(1e-4, 1e-6)).fit(y, x, train=len(y))
    assert res.obs_var == pytest.approx(0.4, rel=0.1)
    prior = (
        0.0,
        0.0,
        1e6 * float(np.mean(y[:50] ** 2)),
        0.0,
        1e6 * float(np.mean(y[:50] ** 2) / np.mean(x[:50] ** 2)),
    )
    ll = k.kalman_hedge_loglik(y, x, res.obs_var, 1e-4, 1e-6, *prior, 2)
    assert ll == pytest.approx(res.loglik, rel=1e-12)
    for f in (0.97, 1.03):
        assert k.kalman_hedge_loglik(y, x, res.obs_var * f, 1e-4, 1e-6, *prior, 2) < ll


def test_real_btc_eth_hourly_closes() -> None:
    path = need_shared("hyperliquid_perps/perp_ohlcv_1h.csv.gz")
    df = pd.read_csv(path, usecols=["date", "symbol", "close"])
    wide = df[df.symbol.isin(["BTC", "ETH"])].pivot(index="date", columns="symbol", values="close").dropna()
    y, x = np.log(wide["ETH"].to_numpy()), np.log(wide["BTC"].to_numpy())
    half = len(y) // 2
    res = KalmanHedge().fit(y, x, train=half)
    assert res.n_obs == len(wide) > 4000
    assert np.isfinite(res.beta).all() and np.isfinite(res.loglik)
    assert 0 < res.obs_var < np.var(y[:half])
    # out of sample (variances from the first half only) the prior z-score is still about N(0, 1)
    assert np.isnan(res.zscore[:half]).all()
    z = res.zscore[half:]
    assert abs(np.median(z)) < 0.2 and 0.5 < np.std(z) < 2.0


def test_bad_input() -> None:
    with pytest.raises(ValidationError, match="y has 5, x has 4"):
        KalmanHedge().fit(np.arange(5.0), np.arange(4.0))
    with pytest.raises(InsufficientDataError, match=r"5 observation\(s\); 10 are needed"):
        KalmanHedge().fit(np.arange(5.0), np.arange(5.0) + 1)
    with pytest.raises(ValidationError, match="x has 1 non-finite"):
        KalmanHedge().fit(np.arange(20.0), np.r_[np.arange(19.0), np.nan])
    with pytest.raises(ValidationError, match="x is constant"):
        KalmanHedge().fit(np.arange(20.0), np.ones(20), train=20)
    with pytest.raises(ValidationError, match="delta=1.5 must lie in"):
        KalmanHedge(noise="delta", delta=1.5)
    with pytest.raises(ValidationError, match="noise='bad'"):
        KalmanHedge(noise="bad")  # type: ignore[arg-type]
