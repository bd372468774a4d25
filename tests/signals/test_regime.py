"""Regime monitor: detects a simulated breakdown and a volatility burst, matches statsmodels, no look-ahead."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.tsa.stattools import coint

from spreadlab.errors import InsufficientDataError, ValidationError
from spreadlab.signals.regime import RegimeMonitor


def pair_with_break(
    seed: int, n: int = 1600, brk: int = 1000, burst: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = 100 + rng.normal(size=n).cumsum()
    e = rng.normal(size=n)
    if burst is not None:
        e[burst : burst + 40] *= 6.0
    s = np.zeros(n)
    for i in range(1, n):
        s[i] = (0.8 if i < brk else 1.0) * s[i - 1] + e[i]
    return 1.5 * x + s, x


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_detects_breakdown_after_it_happens_and_not_before(seed: int) -> None:
    y, x = pair_with_break(seed)
    rep = RegimeMonitor(window=300, step=10).fit(y, x)
    assert np.isnan(rep.pvalue[:299]).all() and not rep.tradable[:299].any()
    # cointegrated regime: tradable nearly all the time
    assert rep.tradable[299:1000].mean() > 0.9
    # once the window is mostly post-break the spread is a random walk: trading stops
    assert not rep.tradable[1350:].any()
    assert rep.coint_broken[1350:].all() or rep.half_life_broken[1350:].all()
    assert rep.n_failed_windows == 0


def test_pvalues_match_statsmodels_coint_at_evaluation_points() -> None:
    y, x = pair_with_break(5, n=900, brk=600)
    rep = RegimeMonitor(window=250, step=50).fit(y, x)
    for t in rep.eval_index[::3]:
        ref = coint(y[t - 249 : t + 1], x[t - 249 : t + 1], trend="c", autolag="aic")[1]
        assert rep.pvalue[t] == pytest.approx(ref, rel=1e-6, abs=1e-9)


def test_volatility_burst_raises_the_volatility_flag() -> None:
    y, x = pair_with_break(7, n=1200, brk=10**9, burst=800)
    rep = RegimeMonitor(window=300, step=5, vol_window=30, vol_ratio=2.5).fit(y, x)
    assert not rep.vol_regime[400:790].any()
    assert rep.vol_regime[820:845].all()
    assert not rep.tradable[820:845].any()


def test_no_look_ahead() -> None:
    y, x = pair_with_break(3)
    spec = RegimeMonitor(window=300, step=20)
    full = spec.fit(y, x)
    part = spec.fit(y[:1200], x[:1200])
    last_common = part.eval_index[-2]  # the truncated run appends its own final point
    np.testing.assert_array_equal(full.tradable[: last_common + 1], part.tradable[: last_common + 1])
    np.testing.assert_array_equal(full.pvalue[: last_common + 1], part.pvalue[: last_common + 1])


def test_stale_window_counts_as_failed_not_crash() -> None:
    y, x = pair_with_break(4, n=700)
    x[400:] = x[400]  # the hedge leg stops printing
    rep = RegimeMonitor(window=200, step=20).fit(y, x)
    assert rep.n_failed_windows > 0
    assert not rep.tradable[-1]


def test_bad_input() -> None:
    with pytest.raises(ValidationError, match="window=10 must be an int >= 30"):
        RegimeMonitor(window=10)
    with pytest.raises(ValidationError, match="vol_window=100 must be an int in"):
        RegimeMonitor(window=100, vol_window=100)
    with pytest.raises(InsufficientDataError, match=r"50 observation\(s\); 100 are needed"):
        RegimeMonitor(window=100).fit(np.arange(50.0), np.arange(50.0) ** 1.5)
    with pytest.raises(ValidationError, match="y has 60, x has 59"):
        RegimeMonitor(window=30).fit(np.arange(60.0), np.arange(59.0))
