"""LightGBMSignal: a swappable SignalModel that learns real structure, reproducibly, and fails clearly."""

from __future__ import annotations

import numpy as np
import pytest

from spreadlab.errors import InsufficientDataError, ValidationError
from spreadlab.signals.base import FittedSignal, SignalFrame, SignalModel
from spreadlab.signals.cv import PurgedKFold, walk_forward
from spreadlab.signals.features import first_passage_labels
from spreadlab.signals.ml import LightGBMParams, LightGBMSignal, MLTarget
from spreadlab.signals.rules import ThresholdRule, ZScoreBands
from spreadlab.signals.zscore import rolling_zscore


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Mann-Whitney AUC with ties counted half (the textbook definition, brute force)."""
    pos, neg = score[y == 1.0], score[y == 0.0]
    gt = (pos[:, None] > neg[None, :]).sum()
    eq = (pos[:, None] == neg[None, :]).sum()
    return float((gt + 0.5 * eq) / (pos.size * neg.size))


FAST = LightGBMParams(n_estimators=60, learning_rate=0.1, num_leaves=7, min_child_samples=20, seed=0)


def _leading(n: int = 1500, seed: int = 0) -> SignalFrame:
    rng = np.random.default_rng(seed)
    lead = rng.normal(size=n)
    noise = rng.normal(size=n)
    x = np.zeros(n)
    for t in range(1, n):  # mean-reverting spread pushed by yesterday's lead
        x[t] = 0.9 * x[t - 1] + 0.5 * lead[t - 1] + 0.2 * rng.normal()
    return SignalFrame(ts=np.arange(n), columns={"spread": x, "lead": lead, "noise": noise})


def _regime(n: int = 3000, seed: int = 1) -> SignalFrame:
    """Fast OU in regime 0, a trending random walk in regime 1 (regime known as a feature)."""
    rng = np.random.default_rng(seed)
    block = np.arange(n) // 150
    regime = block % 2
    drift = np.where(rng.random(block.max() + 1) < 0.5, -0.5, 0.5)[block]
    x = np.zeros(n)
    for t in range(1, n):
        if regime[t] == 0:
            x[t] = 0.8 * x[t - 1] + rng.normal()
        else:
            x[t] = x[t - 1] + drift[t] + rng.normal()
    return SignalFrame(ts=np.arange(n), columns={"spread": x, "regime": regime.astype(float)})


def test_is_a_signal_model_and_learns_a_leading_feature() -> None:
    model = LightGBMSignal(
        features=("lead", "noise", "spread"), horizon=1, rule=ThresholdRule(entry_z=1.0), params=FAST,
        cv=PurgedKFold(n_splits=4),
    )  # fmt: skip
    assert isinstance(model, SignalModel)
    frame = _leading()
    fitted = model.fit(frame)
    assert isinstance(fitted, FittedSignal)
    m = fitted.cv.metrics
    # the true one-step forecast 0.5 lead - 0.1 x explains most of the change: OOF IC well above 0.8
    assert m["ic"] > 0.8 and m["r2"] > 0.6 and m["hit_rate"] > 0.75
    assert fitted.importance["lead"] > 0.5 > fitted.importance["noise"]
    assert sum(fitted.importance.values()) == pytest.approx(1.0)
    assert fitted.cv.n_samples == len(frame) - 1 and fitted.cv.purged > 0
    # a high lead means the spread will rise: cheap -> negative score -> long
    new = _leading(seed=5)
    score = fitted.score(new)
    assert np.corrcoef(score, new["lead"])[0, 1] < -0.8
    tgt = fitted.target(new)
    assert set(np.unique(tgt)) <= {-1.0, 0.0, 1.0}
    assert new["lead"][tgt == 1.0].mean() > 0 > new["lead"][tgt == -1.0].mean()
    assert "lead=" in fitted.summary()


def test_fit_is_reproducible_and_seeded() -> None:
    frame = _leading(800)
    spec = LightGBMSignal(features=("lead", "noise"), horizon=3, params=FAST, cv=PurgedKFold(n_splits=3))
    a, b = spec.fit(frame), spec.fit(frame)
    np.testing.assert_array_equal(a.predict(frame), b.predict(frame))
    np.testing.assert_array_equal(a.cv.oof, b.cv.oof)
    other = LightGBMSignal(
        features=("lead", "noise"), horizon=3, cv=PurgedKFold(n_splits=3),
        params=LightGBMParams(n_estimators=60, learning_rate=0.1, min_child_samples=20, seed=7),
    )  # fmt: skip
    assert not np.array_equal(other.fit(frame).predict(frame), a.predict(frame))


def test_reversion_classifier_learns_the_regime_and_filters_zscore_entries() -> None:
    frame = _regime()
    rule = ThresholdRule(entry_z=1.5, exit_z=0.0, stop_z=3.5, max_hold_bars=30)
    spec = LightGBMSignal(
        features=("regime",), target=MLTarget.REVERSION, horizon=30, window=50, rule=rule, params=FAST,
        cv=PurgedKFold(n_splits=4, embargo=0.01), min_samples=100, min_probability=0.3,
    )  # fmt: skip
    fitted = spec.fit(frame)
    m = fitted.cv.metrics
    # the oracle scores each sample by its true regime; the model's out-of-fold AUC comes close to it
    z = rolling_zscore(frame["spread"], window=50)
    lab = first_passage_labels(z, exit_z=0.0, stop_z=3.5, horizon=30)
    use = lab.known & (np.abs(np.nan_to_num(z)) > 1.5)
    oracle = roc_auc(lab.value[use], -frame["regime"][use])
    assert fitted.cv.n_samples == int(use.sum())
    assert oracle > 0.58 and m["auc"] > oracle - 0.05
    assert 0.0 < m["base_rate"] < 1.0
    new = _regime(seed=9)
    p = fitted.predict(new)
    assert np.all((p >= 0) & (p <= 1))
    assert p[new["regime"] == 0].mean() > p[new["regime"] == 1].mean() + 0.1
    # with every entry allowed the model trades exactly like the plain z-score rule on the same bands
    open_all = LightGBMSignal(
        features=("regime",), target=MLTarget.REVERSION, horizon=30, window=50, rule=rule, params=FAST,
        cv=PurgedKFold(n_splits=4), min_samples=100, min_probability=0.0,
    ).fit(frame)  # fmt: skip
    plain = ZScoreBands(window=50, rule=rule).fit(frame)
    np.testing.assert_array_equal(open_all.target(new), plain.target(new))
    np.testing.assert_allclose(open_all.score(new), plain.score(new))
    # the filter only removes entries: every bar the filtered model holds, the z-score rule would enter or hold too
    filt = fitted.apply(new)
    allz = plain.apply(new)
    assert 0 < filt.count(1) < allz.count(1)  # RuleEvent.ENTRY == 1
    assert np.all(fitted.allowed(new)[filt.events == 1])


def test_walk_forward_with_lightgbm_has_no_look_ahead() -> None:
    frame = _leading(900, seed=2)
    spec = LightGBMSignal(features=("lead", "spread"), horizon=2, rule=ThresholdRule(entry_z=1.0), params=FAST,
                          cv=PurgedKFold(n_splits=3), min_samples=100)  # fmt: skip
    base = walk_forward(spec, frame, n_splits=3, initial=0.4)
    cut = 700
    cols = {k: v.copy() for k, v in frame.columns.items()}
    cols["spread"][cut:] += 50.0
    cols["lead"][cut:] = -cols["lead"][cut:]
    other = walk_forward(spec, SignalFrame(ts=frame.ts, columns=cols), n_splits=3, initial=0.4)
    np.testing.assert_array_equal(base.target[:cut], other.target[:cut])
    np.testing.assert_array_equal(base.score[:cut], other.score[:cut])


def test_bad_input_is_named() -> None:
    frame = _leading(300)
    with pytest.raises(ValidationError, match="column 'missing' is missing"):
        LightGBMSignal(features=("missing",), params=FAST).fit(frame)
    with pytest.raises(InsufficientDataError, match=r"300 rows giving 276 labelled bars; min_samples=500"):
        LightGBMSignal(features=("lead",), horizon=24, min_samples=500, params=FAST).fit(frame)
    with pytest.raises(InsufficientDataError, match="PurgedKFold"):
        LightGBMSignal(features=("lead",), min_samples=2, cv=PurgedKFold(n_splits=5), params=FAST).fit(
            SignalFrame(ts=np.arange(30), columns={"spread": np.arange(30.0), "lead": np.zeros(30)})
        )
    calm = SignalFrame(
        ts=np.arange(400), columns={"spread": np.sin(np.arange(400) / 3.0), "f": np.zeros(400)}
    )
    with pytest.raises(InsufficientDataError, match="labelled band entries"):
        LightGBMSignal(features=("f",), target=MLTarget.REVERSION, window=20, params=FAST).fit(calm)
    with pytest.raises(ValidationError, match="non-finite"):
        SignalFrame(ts=np.arange(3), columns={"spread": np.zeros(3), "f": np.array([0.0, np.nan, 1.0])})
    with pytest.raises(ValidationError, match="column 'f' has 2 rows but ts has 3"):
        SignalFrame(ts=np.arange(3), columns={"spread": np.zeros(3), "f": np.zeros(2)})
    with pytest.raises(ValidationError, match="features"):
        LightGBMSignal(features=())
    with pytest.raises(ValidationError, match="repeats"):
        LightGBMSignal(features=("a", "a"))
    with pytest.raises(ValidationError, match="learning_rate"):
        LightGBMParams(learning_rate=0.0)
    with pytest.raises(ValidationError, match="subsample"):
        LightGBMParams(subsample=1.5)
