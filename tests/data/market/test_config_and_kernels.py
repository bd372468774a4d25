"""Config validation, and the market kernels against their plain-Python twins."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spreadlab.data.market import (
    BookConfig,
    FuturesConfig,
    IndexConfig,
    MarketConfig,
    OptionsConfig,
    PerpConfig,
    SecondVenueConfig,
    UniverseConfig,
)
from spreadlab.errors import ValidationError
from spreadlab.kernels.market import heston_jump_path, heston_jump_path_py, ou_path, ou_path_py


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: IndexConfig(vol=-0.2), "IndexConfig.vol"),
        (lambda: IndexConfig(vol=float("nan")), "IndexConfig.vol"),
        (lambda: IndexConfig(correlation=1.5), "IndexConfig.correlation"),
        (lambda: IndexConfig(vol_of_vol=-1.0), "IndexConfig.vol_of_vol"),
        (lambda: PerpConfig(premium_half_life_minutes=0.0), "PerpConfig.premium_half_life_minutes"),
        (lambda: PerpConfig(premium_half_life_minutes=-3.0), "PerpConfig.premium_half_life_minutes"),
        (lambda: PerpConfig(premium_sd_bp=float("nan")), "PerpConfig.premium_sd_bp"),
        (lambda: PerpConfig(burst_size_bp=(30.0, 8.0)), "PerpConfig.burst_size_bp"),
        (lambda: PerpConfig(burst_minutes=(0.0, 8.0)), "PerpConfig.burst_minutes"),
        (lambda: PerpConfig(funding_interval_hours=0.0), "PerpConfig.funding_interval_hours"),
        (lambda: SecondVenueConfig(lag_steps=-1), "SecondVenueConfig.lag_steps"),
        (lambda: SecondVenueConfig(noise_half_life_minutes=0.0), "SecondVenueConfig.noise_half_life_minutes"),
        (lambda: FuturesConfig(carry_annual=()), "FuturesConfig.carry_annual"),
        (lambda: FuturesConfig(carry_annual=(0.1, float("inf"))), "FuturesConfig.carry_annual[1]"),
        (lambda: FuturesConfig(expiries=("2024-04-01",)), "FuturesConfig.expiries"),
        (lambda: OptionsConfig(svi_rho=1.0), "OptionsConfig.svi_rho"),
        (lambda: OptionsConfig(strikes_per_expiry=2), "OptionsConfig.strikes_per_expiry"),
        (lambda: UniverseConfig(cointegrated_pairs=(("ETH", "FOO"),)), "UniverseConfig.cointegrated_pairs"),
        (lambda: UniverseConfig(start_prices=(1.0,)), "UniverseConfig.start_prices"),
        (lambda: UniverseConfig(vol=-1.0), "UniverseConfig.vol"),
        (lambda: BookConfig(levels=0), "BookConfig.levels"),
        (lambda: BookConfig(level_spacing_bp=500.0), "BookConfig"),
        (lambda: MarketConfig(days=float("nan")), "MarketConfig.days"),
        (lambda: MarketConfig(step_seconds=-60.0), "MarketConfig.step_seconds"),
        (lambda: MarketConfig(step_seconds=0.0005), "MarketConfig.step_seconds"),
        (lambda: MarketConfig(spot_price=0.0), "MarketConfig.spot_price"),
        (lambda: MarketConfig(start="yesterday"), "MarketConfig.start"),
        (lambda: MarketConfig(seed=-1), "MarketConfig.seed"),
        (lambda: MarketConfig(options=OptionsConfig(snapshot_minutes=1.5)), "OptionsConfig.snapshot_minutes"),
        (lambda: MarketConfig(options=OptionsConfig(svi_b=10.0, svi_rho=-0.9)), "OptionsConfig.svi_b"),
        (
            lambda: MarketConfig(
                universe=UniverseConfig(coins=("BTC", "ETH"), start_prices=(1.0, 2.0), cointegrated_pairs=())
            ),
            "universe.coins",
        ),
    ],
)
def test_bad_config_raises_validation_error_naming_the_field(make, field: str) -> None:
    with pytest.raises(ValidationError, match=field.replace("[", r"\[").replace("]", r"\]")):
        make()


def test_config_derived_grid() -> None:
    cfg = MarketConfig(start="2024-03-01T00:00:00Z", days=2.0, step_seconds=30.0)
    assert cfg.n_steps == 2 * 2880 + 1
    assert cfg.end_ns - cfg.start_ns == 2 * 86_400 * 10**9
    assert cfg.step_ns == 30 * 10**9


def test_kernels_match_python_twins_on_random_inputs() -> None:
    rng = np.random.default_rng(11)
    for _ in range(5):
        n = int(rng.integers(2, 400))
        z = rng.standard_normal(n)
        phi, scale, x0 = float(rng.uniform(-0.99, 0.999)), float(rng.uniform(0, 3)), float(rng.normal())
        np.testing.assert_allclose(ou_path(z, x0, phi, scale), ou_path_py(z, x0, phi, scale), rtol=1e-13)
        zs, zv = rng.standard_normal(n), rng.standard_normal(n)
        jumps = rng.normal(0, 0.01, n) * (rng.uniform(size=n) < 0.05)
        args = (
            float(rng.uniform(0.01, 1.0)),  # v0
            float(rng.uniform(0, 60)),  # kappa
            float(rng.uniform(0.01, 1.0)),  # theta
            float(rng.uniform(0, 3)),  # xi (large: exercises the truncation at 0)
            float(rng.uniform(-1, 1)),  # rho
            float(rng.normal(0, 0.1)),  # mu
            1.0 / 525_960,
        )
        x1, v1 = heston_jump_path(zs, zv, jumps, *args)
        x2, v2 = heston_jump_path_py(zs, zv, jumps, *args)
        np.testing.assert_allclose(x1, x2, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(v1, v2, rtol=1e-12, atol=1e-15)
        assert (v1 >= 0).all()


def test_ou_kernel_has_the_configured_half_life_and_sd() -> None:
    # exact AR(1): phi = 2^(-dt/hl); a long path recovers phi and the stationary sd
    rng = np.random.default_rng(5)
    hl, sd = 30.0, 3.0
    phi = math.exp(-math.log(2) / hl)
    x = ou_path(rng.standard_normal(400_000), 0.0, phi, sd * math.sqrt(1 - phi * phi))
    est = np.corrcoef(x[1:], x[:-1])[0, 1]
    assert est == pytest.approx(phi, abs=0.002)
    assert x.std() == pytest.approx(sd, rel=0.03)


def test_heston_without_vol_of_vol_or_jumps_is_gbm_with_the_configured_vol() -> None:
    rng = np.random.default_rng(9)
    n, dt, theta = 200_000, 1.0 / 525_960, 0.36
    x, v = heston_jump_path(
        rng.standard_normal(n), rng.standard_normal(n), np.zeros(n), theta, 5.0, theta, 0.0, -0.5, 0.0, dt
    )
    assert np.all(v == theta)
    r = np.diff(x)
    assert r.mean() == pytest.approx(-0.5 * theta * dt, abs=4 * math.sqrt(theta * dt / n))
    # realised annual vol within 3 standard errors (rel. SE of a variance ~ sqrt(2/n))
    assert math.sqrt(r.var() / dt) == pytest.approx(0.6, rel=3 * math.sqrt(0.5 / n))
