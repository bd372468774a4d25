"""A LightGBM spread model behind the ``SignalModel -> FittedSignal`` protocol.

Two targets (:class:`MLTarget`), both learnt on the named feature columns of
a :class:`~spreadlab.signals.base.SignalFrame`:

* ``HORIZON_CHANGE`` (regression, L2): forecast ``x_{t+h} - x_t``. The score
  is ``-forecast / s`` with ``s`` the standard deviation of the out-of-fold
  forecasts (a rich spread is one expected to fall), and ``rule`` (a
  :class:`~spreadlab.signals.rules.ThresholdRule`) turns it into positions.
* ``REVERSION`` (binary, log-loss; meta-labelling): on the bars where the
  rolling z-score of the spread is beyond ``rule.entry_z``, predict whether
  the band trade entered there reverts to ``rule.exit_z`` before reaching
  ``rule.stop_z`` within ``h`` bars (first-passage label,
  :func:`~spreadlab.signals.features.first_passage_labels`). The score is
  the z-score and the positions are those of the plain z-score rule with
  entries allowed only where the predicted probability is at least
  ``min_probability`` (exits and stops are never blocked).

``fit`` builds the labels from the history alone, runs purged, embargoed
k-fold cross-validation (:class:`~spreadlab.signals.cv.PurgedKFold`) for
honest out-of-fold metrics, then trains the final model on every labelled
bar. Training is deterministic for a given seed (``deterministic=True``,
fixed thread count). lightgbm is imported lazily (the ``ml`` extra).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
from scipy import stats

from spreadlab._typing import BoolArray, FloatArray
from spreadlab.core.validate import require_in_range, require_positive
from spreadlab.errors import ConfigError, InsufficientDataError, ValidationError
from spreadlab.signals.base import SignalFrame
from spreadlab.signals.cv import PurgedKFold
from spreadlab.signals.features.targets import LabelSet, first_passage_labels, horizon_change
from spreadlab.signals.rules import RuleOutput, ThresholdRule
from spreadlab.signals.zscore import rolling_zscore

__all__ = ["CVReport", "FittedLightGBMSignal", "LightGBMParams", "LightGBMSignal", "MLTarget"]


def _lightgbm() -> Any:
    try:
        import lightgbm
    except ImportError as exc:  # pragma: no cover - the dev environment has it
        raise ConfigError(
            "LightGBMSignal needs the lightgbm package: install the ml extra (pip install 'spreadlab[ml]')"
        ) from exc
    return lightgbm


class MLTarget(StrEnum):
    """What the model learns."""

    HORIZON_CHANGE = "horizon_change"
    REVERSION = "reversion"


def _int(name: str, value: int, lowest: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
        raise ValidationError(f"{name}={value!r} must be an int >= {lowest}")


@dataclass(frozen=True, slots=True, kw_only=True)
class LightGBMParams:
    """Gradient-boosting hyper-parameters (LightGBM names in brackets).

    Parameters
    ----------
    n_estimators
        Boosting rounds (``num_boost_round``).
    learning_rate
        Shrinkage, in ``(0, 1]``.
    num_leaves
        Leaves per tree (>= 2).
    min_child_samples
        Fewest samples in a leaf (``min_data_in_leaf``).
    subsample
        Row fraction per tree (``bagging_fraction``), in ``(0, 1]``.
    colsample
        Feature fraction per tree (``feature_fraction``), in ``(0, 1]``.
    reg_lambda
        L2 penalty on leaf values (``lambda_l2``).
    seed
        Seed of every random choice.
    num_threads
        Threads (fixed for reproducibility).
    """

    n_estimators: int = 200
    learning_rate: float = 0.03
    num_leaves: int = 7
    min_child_samples: int = 50
    subsample: float = 0.8
    colsample: float = 0.8
    reg_lambda: float = 1.0
    seed: int = 0
    num_threads: int = 1

    def __post_init__(self) -> None:
        _int("n_estimators", self.n_estimators, 1)
        _int("num_leaves", self.num_leaves, 2)
        _int("min_child_samples", self.min_child_samples, 1)
        _int("seed", self.seed, 0)
        _int("num_threads", self.num_threads, 1)
        require_in_range("learning_rate", self.learning_rate, 0.0, 1.0)
        require_positive("learning_rate", self.learning_rate)
        for name in ("subsample", "colsample"):
            v = getattr(self, name)
            require_in_range(name, v, 0.0, 1.0)
            require_positive(name, v)
        require_in_range("reg_lambda", self.reg_lambda, 0.0, math.inf)

    def booster_params(self, objective: str) -> dict[str, Any]:
        """The LightGBM parameter dict for ``objective``."""
        return {
            "objective": objective,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "bagging_fraction": self.subsample,
            "bagging_freq": 1 if self.subsample < 1.0 else 0,
            "feature_fraction": self.colsample,
            "lambda_l2": self.reg_lambda,
            "seed": self.seed,
            "deterministic": True,
            "force_col_wise": True,
            "num_threads": self.num_threads,
            "verbose": -1,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CVReport:
    """Out-of-fold quality of the model from purged, embargoed k-fold CV.

    ``metrics`` holds, for ``HORIZON_CHANGE``: ``r2`` (out-of-sample, against
    the training mean of each fold), ``ic`` (Pearson correlation of forecast
    and outcome), ``rank_ic`` (Spearman), ``hit_rate`` (sign agreement); for
    ``REVERSION``: ``auc``, ``log_loss``, ``accuracy`` (at 0.5),
    ``base_rate`` (share of reverting labels).
    """

    n_samples: int
    n_folds: int
    purged: int
    embargoed: int
    metrics: Mapping[str, float]
    oof: FloatArray


def _auc(y: FloatArray, p: FloatArray) -> float:
    pos = y == 1.0
    n1, n0 = int(pos.sum()), int((~pos).sum())
    if n1 == 0 or n0 == 0:
        return math.nan
    ranks = stats.rankdata(p)
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _metrics(target: MLTarget, y: FloatArray, pred: FloatArray, base: FloatArray) -> dict[str, float]:
    if target is MLTarget.HORIZON_CHANGE:
        sse = float(np.sum((y - pred) ** 2))
        sst = float(np.sum((y - base) ** 2))
        sd_ok = np.std(pred) > 0 and np.std(y) > 0
        return {
            "r2": 1.0 - sse / sst if sst > 0 else math.nan,
            "ic": float(np.corrcoef(pred, y)[0, 1]) if sd_ok else math.nan,
            "rank_ic": float(stats.spearmanr(pred, y).statistic) if sd_ok else math.nan,
            "hit_rate": float(np.mean(np.sign(pred) == np.sign(y))),
        }
    p = np.clip(pred, 1e-12, 1 - 1e-12)
    return {
        "auc": _auc(y, pred),
        "log_loss": float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))),
        "accuracy": float(np.mean((pred >= 0.5) == (y == 1.0))),
        "base_rate": float(np.mean(y)),
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class FittedLightGBMSignal:
    """A fitted :class:`LightGBMSignal`: the booster, importances, CV report and warm-up state."""

    spec: LightGBMSignal
    booster: Any = field(repr=False)
    importance: Mapping[str, float]
    cv: CVReport
    scale: float
    n_train: int
    warmup: FloatArray = field(repr=False)

    def _matrix(self, observations: SignalFrame) -> FloatArray:
        return np.column_stack([observations[f] for f in self.spec.features])

    def predict(self, observations: SignalFrame) -> FloatArray:
        """Raw model output per row: the forecast change, or the reversion probability."""
        if len(observations) == 0:
            return np.zeros(0)
        return np.asarray(self.booster.predict(self._matrix(observations)), dtype=np.float64)

    def zscore(self, observations: SignalFrame) -> FloatArray:
        """Rolling z-score of ``observations["spread"]`` continuing from the history's last bars."""
        x = np.concatenate((self.warmup, observations["spread"]))
        if x.size < self.spec.window:
            return np.full(len(observations), np.nan)
        return rolling_zscore(x, window=self.spec.window)[self.warmup.size :]

    def score(self, observations: SignalFrame) -> FloatArray:
        """``-forecast / scale`` (``HORIZON_CHANGE``) or the z-score (``REVERSION``); larger = rich."""
        if self.spec.target is MLTarget.REVERSION:
            return self.zscore(observations)
        if not math.isfinite(self.scale):
            return np.zeros(len(observations))
        return -self.predict(observations) / self.scale

    def allowed(self, observations: SignalFrame) -> BoolArray:
        """Bars where a ``REVERSION`` model allows an entry (probability >= ``min_probability``)."""
        return self.predict(observations) >= self.spec.min_probability

    def apply(self, observations: SignalFrame, *, current: float = 0.0) -> RuleOutput:
        """Run the rule over the observations: states and event codes."""
        if self.spec.target is MLTarget.REVERSION:
            return self.spec.rule.apply(
                self.zscore(observations), current=current, allow=self.allowed(observations)
            )
        return self.spec.rule.apply(self.score(observations), current=current)

    def target(self, observations: SignalFrame, *, current: float = 0.0) -> FloatArray:
        """Target spread position per row in {-1, 0, 1}, starting from ``current``."""
        return self.apply(observations, current=current).state

    def summary(self) -> str:
        """A short text report: target, samples, CV metrics and the top features by gain."""
        top = sorted(self.importance.items(), key=lambda kv: -kv[1])[:10]
        lines = [
            f"LightGBMSignal target={self.spec.target.value} horizon={self.spec.horizon} "
            f"trained on {self.n_train} samples",
            f"purged {self.cv.n_folds}-fold CV on {self.cv.n_samples} samples "
            f"(purged {self.cv.purged}, embargoed {self.cv.embargoed}): "
            + ", ".join(f"{k}={v:.4f}" for k, v in self.cv.metrics.items()),
            "feature importance (gain share): " + ", ".join(f"{k}={v:.3f}" for k, v in top),
        ]
        return "\n".join(lines)


@dataclass(frozen=True, slots=True, kw_only=True)
class LightGBMSignal:
    """Specification of a LightGBM spread model (a :class:`~spreadlab.signals.base.SignalModel`).

    Parameters
    ----------
    features
        Names of the feature columns of the frames passed to ``fit`` and to
        the fitted signal (``"spread"`` itself may be one).
    target
        :class:`MLTarget`.
    horizon
        Label horizon in bars (change horizon, or maximum holding).
    window
        Rolling z-score window (bars) of the band rule (``REVERSION``).
    rule
        Band rule on the score.
    min_probability
        ``REVERSION``: the predicted reversion probability an entry needs.
    params
        :class:`LightGBMParams`.
    cv
        Purged k-fold used for the out-of-fold report.
    min_samples
        Fewest labelled samples ``fit`` accepts.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> n = 600
    >>> signal = rng.normal(size=n)
    >>> spread = np.cumsum(rng.normal(size=n)) * 0.1
    >>> spread[1:] += 0.5 * signal[:-1]  # the feature leads the spread by one bar
    >>> f = SignalFrame(ts=np.arange(n), columns={"spread": spread, "lead": signal})
    >>> model = LightGBMSignal(features=("lead",), horizon=1, rule=ThresholdRule(entry_z=1.0),
    ...                        cv=PurgedKFold(n_splits=3), params=LightGBMParams(n_estimators=50))
    >>> fitted = model.fit(f)
    >>> fitted.cv.metrics["ic"] > 0.5, list(fitted.importance)
    (True, ['lead'])
    """

    features: tuple[str, ...]
    target: MLTarget = MLTarget.HORIZON_CHANGE
    horizon: int = 24
    window: int = 168
    rule: ThresholdRule = field(default_factory=lambda: ThresholdRule(entry_z=2.0, exit_z=0.0, stop_z=4.0))
    min_probability: float = 0.5
    params: LightGBMParams = field(default_factory=LightGBMParams)
    cv: PurgedKFold = field(default_factory=lambda: PurgedKFold(n_splits=5, embargo=0.01))
    min_samples: int = 200

    def __post_init__(self) -> None:
        if isinstance(self.features, str) or not self.features:
            raise ValidationError(f"features={self.features!r} must be a non-empty tuple of column names")
        object.__setattr__(self, "features", tuple(self.features))
        if len(set(self.features)) != len(self.features):
            raise ValidationError(f"features={self.features} repeats a name")
        object.__setattr__(self, "target", MLTarget(self.target))
        _int("horizon", self.horizon, 1)
        _int("window", self.window, 2)
        _int("min_samples", self.min_samples, 2)
        require_in_range("min_probability", self.min_probability, 0.0, 1.0)
        if not isinstance(self.rule, ThresholdRule):
            raise ValidationError(f"rule={self.rule!r} must be a ThresholdRule")
        if not isinstance(self.cv, PurgedKFold):
            raise ValidationError(f"cv={self.cv!r} must be a PurgedKFold")

    def _labels(self, spread: FloatArray) -> tuple[LabelSet, BoolArray]:
        """Return the label set of a spread history and the mask of the bars that are samples."""
        if self.target is MLTarget.HORIZON_CHANGE:
            lab = horizon_change(spread, horizon=self.horizon)
            return lab, lab.known
        z = (
            rolling_zscore(spread, window=self.window)
            if spread.size >= self.window
            else np.full(spread.size, np.nan)
        )
        lab = first_passage_labels(z, exit_z=self.rule.exit_z, stop_z=self.rule.stop_z, horizon=self.horizon)
        with np.errstate(invalid="ignore"):
            beyond = np.abs(z) > self.rule.entry_z
        return lab, lab.known & beyond

    def fit(self, history: SignalFrame) -> FittedLightGBMSignal:
        """Label the history, cross-validate (purged, embargoed) and train the final model."""
        lgb = _lightgbm()
        spread = history["spread"]
        X = np.column_stack([history[f] for f in self.features])
        lab, mask = self._labels(spread)
        rows = np.flatnonzero(mask)
        if rows.size < self.min_samples:
            what = "labelled bars" if self.target is MLTarget.HORIZON_CHANGE else "labelled band entries"
            raise InsufficientDataError(
                f"history has {len(history)} rows giving {rows.size} {what}; min_samples={self.min_samples} "
                f"are needed (target={self.target.value}, horizon={self.horizon}, window={self.window})"
            )
        y = lab.value[rows]
        objective = "regression" if self.target is MLTarget.HORIZON_CHANGE else "binary"
        if objective == "binary" and (y.min() == y.max()):
            raise InsufficientDataError(
                f"all {rows.size} reversion labels are {int(y[0])}: a classifier needs both outcomes"
            )
        params = self.params.booster_params(objective)
        rounds = self.params.n_estimators
        folds = self.cv.split(lab.start[rows], lab.end[rows])
        oof = np.full(rows.size, np.nan)
        base = np.full(rows.size, np.nan)
        for fold in folds:
            ds = lgb.Dataset(X[rows[fold.train]], label=y[fold.train], free_raw_data=True)
            booster = lgb.train(params, ds, num_boost_round=rounds)
            oof[fold.test] = booster.predict(X[rows[fold.test]])
            base[fold.test] = float(np.mean(y[fold.train]))
        report = CVReport(
            n_samples=int(rows.size),
            n_folds=len(folds),
            purged=sum(f.purged for f in folds),
            embargoed=sum(f.embargoed for f in folds),
            metrics=_metrics(self.target, y, oof, base),
            oof=oof,
        )
        booster = lgb.train(params, lgb.Dataset(X[rows], label=y), num_boost_round=rounds)
        gain = np.asarray(booster.feature_importance(importance_type="gain"), dtype=np.float64)
        total = float(gain.sum())
        importance = {
            f: float(g / total) if total > 0 else 0.0 for f, g in zip(self.features, gain, strict=True)
        }
        sd = float(np.std(oof))
        tail = spread[max(0, spread.size - (self.window - 1)) :].copy()
        return FittedLightGBMSignal(
            spec=self,
            booster=booster,
            importance=importance,
            cv=report,
            scale=sd if sd > 0 else math.inf,
            n_train=int(rows.size),
            warmup=tail,
        )
