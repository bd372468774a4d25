"""No look-ahead in hedges, regime monitors and fitted signals: rewriting the data after a random cut t
changes no output at or before t.

Covered: rolling OLS hedge (every field), Kalman hedge (fixed variances: any cut; ML variances: any cut
at or after the training window), the regime monitor, every :class:`FittedSignal` (z-score bands, OU /
Bertram bands, LightGBM) through ``score`` and ``target``, and walk-forward runs. Labels are the one
builder that must look ahead: a label at t may use rows up to t + horizon and no further, which is
checked the same way. The static hedges (``ols_hedge``, ``tls_hedge``, ``min_half_life_hedge``) and
``fit_ou`` are whole-sample estimators with no per-bar output; their causal use is fit-then-apply,
which ``walk_forward`` and the fitted signals above cover. The helper itself is shown to catch a leak.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spreadlab.signals.bands import BertramSignal
from spreadlab.signals.base import SignalFrame
from spreadlab.signals.cv import PurgedKFold, walk_forward
from spreadlab.signals.features import first_passage_labels, horizon_change
from spreadlab.signals.hedge import rolling_ols_hedge
from spreadlab.signals.kalman import KalmanHedge
from spreadlab.signals.regime import RegimeMonitor
from spreadlab.signals.rules import ThresholdRule, ZScoreBands
from spreadlab.testing.lookahead import assert_prefix_equal, check_builder, perturb_after

N = 400
HOUR = 3_600_000_000_000
CASES = settings(max_examples=20, deadline=None)
seeds = st.integers(0, 2**31 - 1)
cuts = st.integers(0, N - 2)


def _pair(seed: int, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = 50.0 + np.cumsum(rng.normal(size=n))
    s = np.zeros(n)
    for i in range(1, n):
        s[i] = 0.9 * s[i - 1] + rng.normal(scale=0.5)
    return 1.5 * x + 3.0 + s, x


def _ou(seed: int, n: int, phi: float = 0.95) -> np.ndarray:
    rng = np.random.default_rng(seed)
    s = np.zeros(n)
    for i in range(1, n):
        s[i] = phi * s[i - 1] + 0.01 * rng.standard_normal()
    return s


def test_the_check_catches_a_leak() -> None:
    # a centred moving average and a whole-sample z-score both leak; the check must say so
    x = {"values": _ou(1, N)}

    def centred(values: np.ndarray) -> np.ndarray:
        return np.convolve(values, np.ones(5) / 5, mode="same")

    def full_sample_z(values: np.ndarray) -> np.ndarray:
        return (values - values.mean()) / values.std()

    for leaky in (centred, full_sample_z):
        with pytest.raises(AssertionError, match="changed"):
            check_builder(leaky, x, N // 2, 0)


@CASES
@given(seed=seeds, t=cuts)
def test_rolling_ols_hedge(seed: int, t: int) -> None:
    y, x = _pair(seed)
    check_builder(rolling_ols_hedge, {"y": y, "x": x}, t, seed, window=40)
    check_builder(rolling_ols_hedge, {"y": y, "x": x}, t, seed, window=60, min_periods=10)


@CASES
@given(seed=seeds, t=cuts)
def test_kalman_hedge_with_fixed_variances(seed: int, t: int) -> None:
    y, x = _pair(seed)
    spec = KalmanHedge(obs_var=0.3, state_var=(1e-4, 1e-6))
    check_builder(spec.fit, {"y": y, "x": x}, t, seed)


@settings(max_examples=8, deadline=None)
@given(seed=seeds, t=st.integers(199, N - 2))
def test_kalman_hedge_with_ml_variances_after_training(seed: int, t: int) -> None:
    y, x = _pair(seed)
    check_builder(KalmanHedge().fit, {"y": y, "x": x}, t, seed, train=200)


@settings(max_examples=10, deadline=None)
@given(seed=seeds, t=cuts)
def test_regime_monitor(seed: int, t: int) -> None:
    y, x = _pair(seed)
    check_builder(RegimeMonitor(window=100, step=7, vol_window=20).fit, {"y": y, "x": x}, t, seed)


def _signals() -> list[tuple[str, object, int]]:
    """(name, fitted signal, number of history rows) for every FittedSignal in the package."""
    n_hist = 3000
    ts = np.arange(n_hist, dtype=np.int64) * HOUR
    hist = SignalFrame(ts=ts, columns={"spread": _ou(7, n_hist)})
    out: list[tuple[str, object, int]] = [
        (
            "ZScoreBands",
            ZScoreBands(window=48, rule=ThresholdRule(entry_z=1.5, stop_z=4.0)).fit(hist),
            n_hist,
        ),
        ("BertramSignal", BertramSignal(cost=0.002).fit(hist), n_hist),
        ("BertramSignal two-sided", BertramSignal(cost=0.002, two_sided=True).fit(hist), n_hist),
    ]
    try:
        import lightgbm  # noqa: F401
    except ImportError:
        return out
    from spreadlab.signals.ml import LightGBMParams, LightGBMSignal, MLTarget

    rng = np.random.default_rng(3)
    lead = rng.normal(size=n_hist)
    hist_ml = SignalFrame(ts=ts, columns={"spread": hist["spread"], "lead": lead})
    fast = LightGBMParams(n_estimators=30, learning_rate=0.1, num_leaves=7, min_child_samples=20, seed=0)
    for target in (MLTarget.HORIZON_CHANGE, MLTarget.REVERSION):
        spec = LightGBMSignal(features=("lead", "spread"), target=target, horizon=6, window=48, params=fast,
                              cv=PurgedKFold(n_splits=3), min_samples=100)  # fmt: skip
        out.append((f"LightGBMSignal {target.value}", spec.fit(hist_ml), n_hist))
    return out


SIGNALS = _signals()


@pytest.mark.parametrize(("name", "fitted", "n_hist"), SIGNALS, ids=[s[0] for s in SIGNALS])
@settings(max_examples=10, deadline=None)
@given(seed=seeds, t=cuts, current=st.sampled_from([-1.0, 0.0, 1.0]))
def test_fitted_signals_score_and_target(
    name: str, fitted, n_hist: int, seed: int, t: int, current: float
) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    ts = (n_hist + np.arange(N, dtype=np.int64)) * HOUR
    cols = {"spread": _ou(seed, N), "lead": rng.normal(size=N)}
    pert = {k: perturb_after(v, t, rng) for k, v in cols.items()}

    def outputs(c: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        frame = SignalFrame(ts=ts, columns=c)
        return fitted.score(frame), fitted.target(frame, current=current)

    assert_prefix_equal(outputs(cols), outputs(pert), t + 1, name=name)


@settings(max_examples=8, deadline=None)
@given(seed=seeds, t=st.integers(0, 1198))
def test_walk_forward(seed: int, t: int) -> None:
    n = 1200
    ts = np.arange(n, dtype=np.int64) * HOUR
    s = _ou(seed, n)
    spec = BertramSignal(cost=0.002)
    zb = ZScoreBands(window=30, rule=ThresholdRule(entry_z=1.5))
    for model, window in ((spec, None), (zb, 300)):
        base = walk_forward(model, SignalFrame(ts=ts, columns={"spread": s}), n_splits=4, initial=0.3,
                            train_window=window)  # fmt: skip
        s2 = s.copy()
        s2[t + 1 :] = (
            _ou(seed + 1, n, phi=0.8)[t + 1 :] * 2
        )  # another mean-reverting tail, so every refit runs
        other = walk_forward(model, SignalFrame(ts=ts, columns={"spread": s2}),
                             n_splits=4, initial=0.3, train_window=window)  # fmt: skip
        for field in ("target", "score", "fold"):
            assert_prefix_equal(getattr(base, field), getattr(other, field), t + 1, name=field)


@CASES
@given(seed=seeds, t=cuts, horizon=st.integers(1, 20))
def test_labels_look_exactly_horizon_bars_ahead(seed: int, t: int, horizon: int) -> None:
    # a label at bar i may use bars up to i + horizon: rewriting bars after t leaves labels i <= t - horizon
    x = _ou(seed, N) * 100
    rng = np.random.default_rng(seed)
    pert = perturb_after(x, t, rng)
    keep = max(t - horizon + 1, 0)
    for fn, kw in ((horizon_change, {}), (first_passage_labels, {"exit_z": 0.0, "stop_z": 3.0})):
        a, b = fn(x, horizon=horizon, **kw), fn(pert, horizon=horizon, **kw)
        assert_prefix_equal(a, b, keep, name=fn.__name__)
    # and they do look ahead: the last label before the cut depends on the bars after it
    if t + 1 < N and t - horizon + 1 >= 0:
        a = horizon_change(x, horizon=horizon)
        b = horizon_change(pert, horizon=horizon)
        assert a.value[t - horizon + 1] != b.value[t - horizon + 1]
