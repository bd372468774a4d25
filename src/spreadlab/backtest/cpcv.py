"""Combinatorial purged cross-validation of a parameter choice: a distribution of out-of-sample paths.

The bars are cut into ``N`` groups (:class:`~spreadlab.signals.cv.CombinatorialPurgedKFold`);
bar ``i``'s label is its return, which depends on the bars ``[i - delay,
i + label_bars]``, so training bars overlapping a test group are purged and
those just after it embargoed. For each of the ``C(N, k)`` splits:

1. refit the strategy's models on the split's training bars
   (:meth:`Refittable.fit`; with nothing to refit every split shares one fit);
2. trade every candidate of the grid over the whole history with that fit
   (signals are trailing, so a bar's position uses only earlier prices;
   these evaluations are the trials logged);
3. choose the candidate with the best per-period Sharpe ratio on the
   training bars, and keep its returns on the test bars.

The test returns assemble into ``C(N-1, k-1)`` complete out-of-sample paths
(:meth:`~spreadlab.signals.cv.CPCVSplits.stitch`). The report shows their
Sharpe distribution; the verdict judges the path with the median Sharpe
ratio by its DSR. PBO is the CSCV of every candidate's returns over the
history.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from spreadlab._typing import FloatArray
from spreadlab.analytics.metrics import periods_per_year
from spreadlab.backtest.executors import Executor, LocalExecutor
from spreadlab.backtest.refit import Refittable
from spreadlab.backtest.search import GridSampler, SearchResult, Space, search
from spreadlab.backtest.validation import (
    ValidationResult,
    WindowResult,
    candidate_pbo,
    deflation_inputs,
    oos_statistics,
    record_trials,
)
from spreadlab.core.validate import require_in_range
from spreadlab.data.trials import TrialLog, new_run_id
from spreadlab.errors import ValidationError
from spreadlab.signals.cv import CombinatorialPurgedKFold

__all__ = ["cpcv_search"]


def _sharpe(r: FloatArray) -> float:
    sd = float(np.std(r, ddof=1))
    return float(np.mean(r)) / sd if sd > 0 else 0.0


def cpcv_search(
    strategy: Refittable,
    space: Space,
    *,
    cv: CombinatorialPurgedKFold | None = None,
    label_bars: int = 1,
    executor: Executor | None = None,
    log: TrialLog | None = None,
    confidence: float = 0.95,
    run_id: str | None = None,
) -> ValidationResult:
    """Choose grid parameters on each CPCV split's training bars; return every out-of-sample path.

    Parameters
    ----------
    strategy
        The strategy on its whole history.
    space
        A grid (every range needs a step): CPCV compares one fixed set of candidates.
    cv
        The splitter (default ``CombinatorialPurgedKFold(n_groups=6, n_test_groups=2)``).
    label_bars
        Bars after ``i`` that bar ``i``'s label depends on (purge width).
    executor, log, confidence, run_id
        As in :func:`~spreadlab.backtest.walkforward.walk_forward_search`.
    """
    require_in_range("confidence", confidence, 0.0, 1.0, inclusive=False)
    if isinstance(label_bars, bool) or not isinstance(label_bars, int) or label_bars < 0:
        raise ValidationError(f"label_bars={label_bars!r} must be an int >= 0")
    splitter = cv if cv is not None else CombinatorialPurgedKFold(n_groups=6, n_test_groups=2)
    ex = executor if executor is not None else LocalExecutor(workers=1)
    rid = run_id or new_run_id()
    ts = np.asarray(strategy.ts_ns)
    n = ts.size
    start = np.arange(n, dtype=np.int64)
    splits = splitter.split(start, np.minimum(start + label_bars, n - 1))
    fits: dict[str, tuple[Refittable, SearchResult]] = {}
    tests: list[FloatArray] = []
    windows: list[WindowResult] = []
    for s, split in enumerate(splits.splits):
        fitted = strategy.fit(split.train)
        key = repr(sorted(fitted.fitted().items()))
        if key not in fits:
            res = search(
                fitted.window(0, n), space, sampler=GridSampler(), executor=ex, log=log,
                run_id=f"{rid}-f{len(fits)}",
            )  # fmt: skip
            fits[key] = (fitted, res)
        fitted, res = fits[key]
        r = res.returns
        train_sr = np.array([_sharpe(r[split.train, j]) for j in range(r.shape[1])])
        best = int(np.argmax(train_sr))
        test_r = r[split.test, best]
        tests.append(test_r)
        ppy = periods_per_year(ts)
        windows.append(
            WindowResult(
                index=s, train=(int(split.train[0]), int(split.train[-1]) + 1),
                test=(int(split.test[0]), int(split.test[-1]) + 1),
                train_ns=(int(ts[split.train[0]]), int(ts[split.train[-1]])),
                test_ns=(int(ts[split.test[0]]), int(ts[split.test[-1]])),
                params=dict(res.params[best]), fitted=fitted.fitted(),
                is_metrics=_metrics(r[split.train, best], ppy), oos_metrics=_metrics(test_r, ppy),
                n_candidates=len(res.params), run_id=res.run_id,
                trials=tuple((dict(p), float(v)) for p, v in zip(res.params, train_sr, strict=True)),
            )
        )  # fmt: skip
    paths = splits.stitch(tests)
    ppy = periods_per_year(ts)
    sharpes = np.array([_sharpe(p) for p in paths])
    median = int(np.argsort(sharpes)[(sharpes.size - 1) // 2])
    seen: dict[str, float] = {}
    for _, res in fits.values():
        record_trials(seen, res)
    n_trials, var = deflation_inputs(log, strategy.data_key, seen, int(ts[0]), int(ts[-1]))
    first = next(iter(fits.values()))[1]
    settings: dict[str, Any] = {
        "n_groups": splitter.n_groups, "n_test_groups": splitter.n_test_groups, "embargo": splitter.embargo,
        "label_bars": label_bars, "n_paths": splits.n_paths, "n_splits": len(splits.splits),
        "n_fits": len(fits), "run_id": rid, "sampler": "GridSampler", "n_candidates": len(first.params),
    }  # fmt: skip
    return ValidationResult(
        method="cpcv", objective=first.objective, data_key=strategy.data_key, score="sharpe_per_period",
        windows=tuple(windows), oos_ts=ts, oos_returns=paths[median], paths=paths, periods_per_year=ppy,
        n_trials=n_trials, sharpe_variance=var,
        stats=oos_statistics(paths[median], periods_per_year=ppy, n_trials=n_trials, sharpe_variance=var),
        pbo=candidate_pbo(first.returns), confidence=confidence, settings=settings,
    )  # fmt: skip


def _metrics(r: FloatArray, ppy: float) -> dict[str, float]:
    sr = _sharpe(r) if r.size > 1 else 0.0
    return {
        "sharpe": sr * math.sqrt(ppy),
        "sharpe_per_period": sr,
        "total_return": float(np.sum(r)),
        "n_bars": float(r.size),
    }
