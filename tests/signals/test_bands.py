"""Optimal bands: Bertram (2010) and Leung & Li (2015) published values, independent numerical checks, errors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import integrate

from spreadlab.errors import ValidationError
from spreadlab.signals.bands import (
    BertramSignal,
    _OUFunctions,
    bertram_bands,
    bertram_metrics,
    leung_li_bands,
)


def sig3(x: float) -> float:
    return float(f"{x:.3g}")


def test_bertram_published_example_return_max() -> None:
    # Bertram (2010), section 5: alpha = 180.967, eta = 0.1538, c = 0.001
    b = bertram_bands(180.967, 0.1538, 0.001)
    # published -0.00471 / +0.00471; the exact root of eq. 13 is -0.0047152 (agreement to 1 unit in the 3rd digit)
    assert b.entry == pytest.approx(-0.00471, abs=1e-5)
    assert b.exit == pytest.approx(0.00471, abs=1e-5)
    assert sig3(b.expected_return) == 0.492
    assert b.expected_return == pytest.approx(0.4924, abs=5e-5)
    assert sig3(b.expected_trade_length) == 0.0171
    assert sig3(b.trade_length_std**2) == 0.000154
    assert sig3(b.return_std**2) == 0.00219
    assert b.objective == "return" and b.objective_value == b.expected_return


def test_bertram_published_example_sharpe_max() -> None:
    b = bertram_bands(180.967, 0.1538, 0.001, objective="sharpe", risk_free=0.01)
    assert sig3(b.sharpe) == 3.86
    assert b.objective_value == b.sharpe
    # the Sharpe-optimal bands are wider than the return-optimal ones
    assert b.entry < bertram_bands(180.967, 0.1538, 0.001).entry


def _first_passage_moments(alpha: float, eta: float, a: float, m: float) -> tuple[float, float]:
    """E[T], V[T] of the cycle a -> m -> a by quadrature of the first-passage ODEs (independent of the series)."""

    def one_way(start: float, level: float) -> tuple[float, float]:
        # hitting time of `level` from `start` < level; reflect for the other leg
        sd = eta / math.sqrt(2 * alpha)
        z = np.linspace(-14 * sd, level, 400_001)
        p = np.exp(-alpha * z**2 / eta**2)
        g1 = integrate.cumulative_trapezoid(2 / eta**2 * p, z, initial=0) / p
        c1 = integrate.cumulative_trapezoid(g1, z, initial=0)
        u1 = c1[-1] - c1
        g2 = integrate.cumulative_trapezoid(4 / eta**2 * u1 * p, z, initial=0) / p
        c2 = integrate.cumulative_trapezoid(g2, z, initial=0)
        u2 = c2[-1] - c2
        e1 = float(np.interp(start, z, u1))
        e2 = float(np.interp(start, z, u2))
        return e1, e2 - e1 * e1

    e_up, v_up = one_way(a, m)
    e_dn, v_dn = one_way(-m, -a)  # m -> a is a -> m of -X, which is again OU with mean 0
    return e_up + e_dn, v_up + v_dn


@pytest.mark.parametrize(
    ("alpha", "eta", "a", "m"),
    [(180.967, 0.1538, -0.0047, 0.0047), (20.0, 0.5, -0.1, 0.05), (5.0, 1.0, -0.4, 0.3)],
)
def test_bertram_moments_match_quadrature(alpha: float, eta: float, a: float, m: float) -> None:
    met = bertram_metrics(a, m, speed=alpha, vol=eta, cost=0.0)
    et, vt = _first_passage_moments(alpha, eta, a, m)
    assert met["expected_trade_length"] == pytest.approx(et, rel=1e-5)
    assert met["trade_length_var"] == pytest.approx(vt, rel=1e-4)


def test_bertram_return_band_is_the_grid_maximum() -> None:
    alpha, eta, c = 50.0, 0.3, 0.01
    b = bertram_bands(alpha, eta, c, mean=2.0)
    grid = np.linspace(2.0 - 0.2, 2.0 - c / 2 - 1e-6, 4001)
    vals = [
        bertram_metrics(x, 4.0 - x, speed=alpha, vol=eta, cost=c, mean=2.0)["expected_return"] for x in grid
    ]
    best = grid[int(np.argmax(vals))]
    assert b.entry == pytest.approx(best, abs=2 * (grid[1] - grid[0]))
    assert b.exit == pytest.approx(4.0 - b.entry)
    assert b.expected_return >= max(vals) - 1e-12


LL = {"mean": 0.71758, "speed": 6.306, "vol": math.sqrt(0.00698)}


def test_leung_li_reference_levels() -> None:
    # reference levels for theta=0.71758, mu=6.306, sigma^2=0.00698, r=0.05, c=0.02 (ArbitrageLab's test values)
    b = leung_li_bands(**LL, rate=0.05, cost=0.02)
    assert sig3(b.exit) == 0.744
    assert sig3(b.entry) == 0.651
    assert b.entry_lower is None
    s = leung_li_bands(**LL, rate=0.05, cost=0.02, stop_loss=0.2)
    assert sig3(s.exit) == 0.744
    assert sig3(s.entry) == 0.651
    assert s.entry_lower is not None and sig3(s.entry_lower) == 0.207
    assert s.exit_value(0.8) == pytest.approx(0.78)


def test_leung_li_F_G_match_their_integral_definition() -> None:
    f = _OUFunctions(mean=0.5, speed=8.0, vol=0.3, rate=0.04)
    nu = 0.04 / 8.0
    k = math.sqrt(2 * 8.0 / 0.09)
    for x in (0.2, 0.45, 0.5, 0.7):
        # substitute u = w^(1/nu) to remove the u^(nu-1) endpoint singularity: du u^(nu-1) = dw / nu
        ref_f = integrate.quad(
            lambda w, x=x: math.exp(k * (x - 0.5) * w ** (1 / nu) - w ** (2 / nu) / 2) / nu, 0, 1.5
        )[0]
        ref_g = integrate.quad(
            lambda w, x=x: math.exp(k * (0.5 - x) * w ** (1 / nu) - w ** (2 / nu) / 2) / nu, 0, 1.5
        )[0]
        assert f.big_f(x) == pytest.approx(ref_f, rel=1e-6)
        assert f.big_g(x) == pytest.approx(ref_g, rel=1e-6)
        h = 1e-6
        assert f.d_big_f(x) == pytest.approx((f.big_f(x + h) - f.big_f(x - h)) / (2 * h), rel=1e-5)
        assert f.d_big_g(x) == pytest.approx((f.big_g(x + h) - f.big_g(x - h)) / (2 * h), rel=1e-5)


def test_leung_li_levels_maximise_their_value_ratios() -> None:
    # b* maximises (b - c) / F(b); d* maximises (V(d) - d - c) / G(d) (the value-matching characterisation)
    b = leung_li_bands(**LL, rate=0.05, cost=0.02)
    f = _OUFunctions(mean=LL["mean"], speed=LL["speed"], vol=LL["vol"], rate=0.05)
    grid = np.linspace(0.6, 0.9, 3001)
    best_b = grid[int(np.argmax([(g - 0.02) / f.big_f(g) for g in grid]))]
    assert b.exit == pytest.approx(best_b, abs=2e-4)
    grid_d = np.linspace(0.5, b.exit - 1e-3, 3001)
    best_d = grid_d[int(np.argmax([(b.exit_value(g) - g - 0.02) / f.big_g(g) for g in grid_d]))]
    assert b.entry == pytest.approx(best_d, abs=2e-4)


def test_leung_li_higher_stop_loss_lowers_take_profit() -> None:
    # Leung & Li (2015), Sec. 5: b_L* decreases as L rises
    exits = [leung_li_bands(**LL, rate=0.05, cost=0.02, stop_loss=L).exit for L in (0.2, 0.55, 0.6, 0.62)]
    assert all(x2 <= x1 + 1e-12 for x1, x2 in itertools.pairwise(exits))
    assert exits[-1] < exits[0]


def test_bad_input() -> None:
    with pytest.raises(ValidationError, match="speed=-1.0 must be > 0"):
        bertram_bands(-1.0, 0.1, 0.001)
    with pytest.raises(ValidationError, match="cost=-0.1 must be >= 0"):
        bertram_bands(10.0, 0.1, -0.1)
    with pytest.raises(ValidationError, match="objective='x'"):
        bertram_bands(10.0, 0.1, 0.001, objective="x")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="entry=0.1 must be below exit=0.0"):
        bertram_metrics(0.1, 0.0, speed=1.0, vol=1.0, cost=0.0)
    with pytest.raises(ValidationError, match="stop_loss=0.9 must lie below the mean"):
        leung_li_bands(**LL, rate=0.05, cost=0.02, stop_loss=0.9)
    with pytest.raises(ValidationError, match="rate=0.0 must be > 0"):
        leung_li_bands(**LL, rate=0.0, cost=0.02)


def _ou_frame(n: int = 6000, seed: int = 4):
    from spreadlab.signals.base import SignalFrame

    rng = np.random.default_rng(seed)
    s = np.zeros(n)
    for i in range(1, n):
        s[i] = 0.1 + 0.95 * (s[i - 1] - 0.1) + 0.02 * rng.standard_normal()
    s[0] = 0.1
    ts = np.arange(n, dtype=np.int64) * 3_600_000_000_000
    return SignalFrame(ts=ts, columns={"spread": s})


def test_bertram_signal_is_a_signal_model_with_band_hysteresis() -> None:
    from spreadlab.signals.base import FittedSignal, SignalFrame, SignalModel

    frame = _ou_frame()
    spec = BertramSignal(cost=0.01)
    assert isinstance(spec, SignalModel)
    fitted = spec.fit(frame)
    assert isinstance(fitted, FittedSignal)
    # the bands are Bertram's for the fitted OU parameters, centred on the fitted mean
    ref = bertram_bands(fitted.ou.speed, fitted.ou.vol, 0.01, mean=fitted.ou.mean)
    assert fitted.bands.entry == ref.entry and fitted.bands.exit == ref.exit
    assert fitted.ou.mean == pytest.approx(0.1, abs=0.02)
    lo, hi = fitted.bands.entry, fitted.bands.exit
    path = np.array([0.1, lo - 1e-4, 0.1, hi + 1e-4, 0.1, lo])
    obs = SignalFrame(ts=np.arange(6, dtype=np.int64), columns={"spread": path})
    assert fitted.target(obs).tolist() == [0.0, 1.0, 1.0, 0.0, 0.0, 1.0]
    assert fitted.target(obs, current=1.0)[0] == 1.0
    two = BertramSignal(cost=0.01, two_sided=True).fit(frame)
    assert two.target(obs).tolist() == [0.0, 1.0, 1.0, -1.0, -1.0, 1.0]
    np.testing.assert_allclose(fitted.score(obs), (path - fitted.ou.mean) / fitted.ou.stationary_std)
    # no look-ahead: the first rows' targets do not depend on later rows
    longer = SignalFrame(ts=np.arange(7, dtype=np.int64), columns={"spread": np.r_[path, 10.0]})
    assert fitted.target(longer)[:6].tolist() == fitted.target(obs).tolist()
    with pytest.raises(ValidationError, match="current=2.0 must lie in"):
        fitted.target(obs, current=2.0)
