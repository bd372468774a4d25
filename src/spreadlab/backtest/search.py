"""Parameter search over an objective: grid or Optuna TPE, logged, deflated.

A search proposes parameter sets, evaluates them on an
:class:`~spreadlab.backtest.executors.Executor` and keeps every outcome:

- :class:`GridSampler` enumerates the Cartesian product of the space
  (``FloatRange`` needs a ``step``) in a fixed order.
- :class:`TPESampler` runs Optuna's Tree-structured Parzen Estimator
  (Bergstra et al., 2011) seeded, in batches of ``batch_size``: a batch is
  asked, evaluated in parallel, told in order. The batch size, not the
  number of workers, fixes the sequence, so the same search gives the same
  trials on one process, many processes or a Ray cluster. Optuna is an
  optional dependency (``pip install 'spreadlab[opt]'``).

Every evaluated set is appended to the :class:`~spreadlab.data.trials.TrialLog`
when one is given. The result's :meth:`SearchResult.deflated_sharpe` deflates
the best trial by the number of distinct configurations ever logged on the
same data (this search's when there is no log) and the variance of their
per-period Sharpe ratios (Bailey & López de Prado, 2014); :meth:`SearchResult.pbo`
is the CSCV probability of backtest overfitting of all the trials' returns.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from spreadlab._typing import FloatArray
from spreadlab.analytics.pbo import PBOResult, pbo
from spreadlab.analytics.sharpe_stats import deflated_sharpe, sharpe_moments
from spreadlab.backtest.executors import Executor, LocalExecutor
from spreadlab.backtest.objective import Objective, Outcome
from spreadlab.core.validate import require_finite, require_positive
from spreadlab.data.trials import Trial, TrialLog, new_run_id
from spreadlab.errors import ConfigError, ValidationError

__all__ = ["Choice", "FloatRange", "GridSampler", "IntRange", "SearchResult", "TPESampler", "search"]


@dataclass(frozen=True, slots=True, kw_only=True)
class IntRange:
    """Integers ``low, low + step, ..., <= high``."""

    low: int
    high: int
    step: int = 1

    def __post_init__(self) -> None:
        if self.high < self.low or self.step < 1:
            raise ValidationError(f"IntRange(low={self.low}, high={self.high}, step={self.step}) is empty")

    def values(self) -> list[int]:
        """Every value in order."""
        return list(range(self.low, self.high + 1, self.step))


@dataclass(frozen=True, slots=True, kw_only=True)
class FloatRange:
    """Reals in ``[low, high]``; a ``step`` makes it a grid (needed by :class:`GridSampler`)."""

    low: float
    high: float
    step: float | None = None
    log: bool = False

    def __post_init__(self) -> None:
        require_finite("low", self.low)
        require_finite("high", self.high)
        if self.high < self.low:
            raise ValidationError(f"FloatRange high={self.high} must be >= low={self.low}")
        if self.step is not None:
            require_positive("step", self.step)
            if self.log:
                raise ValidationError("FloatRange cannot have both a step and log=True")
        if self.log and self.low <= 0:
            raise ValidationError(f"FloatRange(log=True) needs low > 0, got {self.low}")

    def values(self) -> list[float]:
        """Grid values ``low, low + step, ..., <= high`` (rounded to 12 digits)."""
        if self.step is None:
            raise ValidationError(
                f"FloatRange({self.low}, {self.high}) needs a step to be searched on a grid"
            )
        n = math.floor((self.high - self.low) / self.step + 1e-9)
        return [round(self.low + i * self.step, 12) for i in range(n + 1)]


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice:
    """One of a few values."""

    options: tuple[Any, ...]

    def __post_init__(self) -> None:
        if not self.options:
            raise ValidationError("Choice needs at least one option")

    def values(self) -> list[Any]:
        """The options in order."""
        return list(self.options)


Space = Mapping[str, IntRange | FloatRange | Choice]


@dataclass(frozen=True, slots=True, kw_only=True)
class GridSampler:
    """Every point of the space's grid, in row-major order of the space's keys."""

    def points(self, space: Space) -> list[dict[str, Any]]:
        """The grid points."""
        names = list(space)
        grids = [space[k].values() for k in names]
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*grids)]


@dataclass(frozen=True, slots=True, kw_only=True)
class TPESampler:
    """Optuna TPE, seeded, ``n_trials`` in batches of ``batch_size``."""

    n_trials: int
    seed: int = 0
    batch_size: int = 8
    n_startup_trials: int = 10

    def __post_init__(self) -> None:
        for name in ("n_trials", "batch_size", "n_startup_trials"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValidationError(f"{name}={v!r} must be an int >= 1")


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchResult:
    """Every trial of a search, in evaluation order."""

    run_id: str
    objective: str
    data_key: str
    data_range: tuple[int, int]
    params: tuple[dict[str, Any], ...]
    metrics: tuple[dict[str, float], ...]
    returns: FloatArray  # (bars x trials)
    score: str
    n_trials_logged: int
    sharpe_variance_logged: float

    @property
    def scores(self) -> FloatArray:
        """The score metric of every trial."""
        return np.array([m[self.score] for m in self.metrics], dtype=np.float64)

    @property
    def best(self) -> int:
        """Index of the best trial (first of equals)."""
        return int(np.argmax(self.scores))

    @property
    def best_params(self) -> dict[str, Any]:
        """Parameters of the best trial."""
        return self.params[self.best]

    def deflated_sharpe(self) -> float:
        """DSR of the best trial over every configuration logged on the same data."""
        r = self.returns[:, self.best]
        sr, g3, g4, n = sharpe_moments(r)
        return deflated_sharpe(
            sr, n_obs=n, n_trials=max(1, self.n_trials_logged), sharpe_variance=self.sharpe_variance_logged,
            skew=g3, kurtosis=g4,
        )  # fmt: skip

    def pbo(self, *, n_splits: int = 16) -> PBOResult:
        """CSCV probability of backtest overfitting of all the trials."""
        return pbo(self.returns, n_splits=n_splits)

    def table(self) -> list[dict[str, Any]]:
        """One dict per trial: ``trial``, the parameters and the metrics."""
        return [
            {"trial": i, **p, **m} for i, (p, m) in enumerate(zip(self.params, self.metrics, strict=True))
        ]


def _optuna() -> Any:
    try:
        import optuna
    except ImportError as exc:
        raise ConfigError(
            "the TPE sampler needs Optuna, which is not installed: pip install 'spreadlab[opt]'"
        ) from exc
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _distributions(optuna: Any, space: Space) -> dict[str, Any]:
    d = optuna.distributions
    out: dict[str, Any] = {}
    for k, v in space.items():
        if isinstance(v, IntRange):
            out[k] = d.IntDistribution(v.low, v.high, step=v.step)
        elif isinstance(v, FloatRange):
            out[k] = d.FloatDistribution(v.low, v.high, step=v.step, log=v.log)
        else:
            out[k] = d.CategoricalDistribution(list(v.options))
    return out


def _score(outcome: Outcome, score: str) -> float:
    v = outcome.metrics.get(score)
    if v is None:
        raise ValidationError(f"score={score!r} is not a metric of the objective: {sorted(outcome.metrics)}")
    return float(v) if math.isfinite(v) else -math.inf


def search(
    objective: Objective,
    space: Space,
    *,
    sampler: GridSampler | TPESampler,
    executor: Executor | None = None,
    log: TrialLog | None = None,
    score: str = "sharpe",
    run_id: str | None = None,
) -> SearchResult:
    """Search ``space`` for the parameters that maximise ``score``.

    Parameters
    ----------
    objective
        ``params -> Outcome`` (e.g. :class:`~spreadlab.backtest.objective.BandObjective`).
    space
        Parameter name -> :class:`IntRange`, :class:`FloatRange` or :class:`Choice`.
    sampler
        :class:`GridSampler` or :class:`TPESampler`.
    executor
        Where to evaluate (default: :class:`LocalExecutor` on every CPU).
    log
        Trial log to append every evaluated set to (and to read earlier trials from).
    score
        Metric to maximise.
    run_id
        Id of this run in the log (default: a fresh uuid).
    """
    if not space:
        raise ValidationError("space is empty: give at least one parameter to search")
    ex = executor if executor is not None else LocalExecutor()
    rid = run_id or new_run_id()
    params: list[dict[str, Any]] = []
    outcomes: list[Outcome] = []
    if isinstance(sampler, GridSampler):
        params = sampler.points(space)
        outcomes = ex.map(objective, params)
    else:
        optuna = _optuna()
        dists = _distributions(optuna, space)
        study = optuna.create_study(
            direction="maximize",
            sampler=optuna.samplers.TPESampler(seed=sampler.seed, n_startup_trials=sampler.n_startup_trials),
        )
        with ex.session(objective) as run:
            while len(params) < sampler.n_trials:
                batch = [
                    study.ask(dists) for _ in range(min(sampler.batch_size, sampler.n_trials - len(params)))
                ]
                ps = [dict(t.params) for t in batch]
                got = run(ps)
                for t, o in zip(batch, got, strict=True):
                    study.tell(t, _score(o, score))
                params += ps
                outcomes += got
    for o in outcomes[:1]:
        _score(o, score)
    lo, hi = objective.data_range
    trials = [
        Trial(
            run_id=rid,
            trial=i,
            objective=objective.name,
            params=p,
            data_key=objective.data_key,
            data_start_ns=lo,
            data_end_ns=hi,
            sharpe=float(o.metrics.get("sharpe_per_period", math.nan)),
            n_obs=int(o.returns.size),
            metrics=dict(o.metrics),
        )
        for i, (p, o) in enumerate(zip(params, outcomes, strict=True))
    ]
    if log is not None:
        log.append(trials)
        n_logged, var_logged = log.deflation(objective.data_key, start_ns=lo, end_ns=hi)
    else:
        sr = np.array([t.sharpe for t in trials])
        distinct = {t.config_hash: s for t, s in zip(trials, sr, strict=True)}
        vals = np.array(list(distinct.values()))
        n_logged, var_logged = len(distinct), float(np.var(vals, ddof=1)) if vals.size > 1 else 0.0
    return SearchResult(
        run_id=rid,
        objective=objective.name,
        data_key=objective.data_key,
        data_range=(lo, hi),
        params=tuple(params),
        metrics=tuple(dict(o.metrics) for o in outcomes),
        returns=np.column_stack([o.returns for o in outcomes]) if outcomes else np.zeros((0, 0)),
        score=score,
        n_trials_logged=n_logged,
        sharpe_variance_logged=var_logged,
    )
