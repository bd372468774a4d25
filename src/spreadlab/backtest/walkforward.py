"""Walk-forward validation: refit and choose on each training window, trade the next, stitch.

Windows over ``n`` bars (``T`` the training length, ``L`` the test length,
``g`` a gap left out between them)::

    rolling:   train [s - g - T, s - g)      test [s, s + L)
    anchored:  train [0, s - g)              test [s, s + L)

with ``s = T + g + k L`` for window ``k = 0 .. n_windows - 1`` (the last test
window takes the bars left over). ``T`` defaults to ``ceil(initial n)`` and
``L`` to the rest split evenly.

In every window, using the training bars only:

1. refit the strategy's models (:meth:`Refittable.fit`: hedge ratio, size);
2. search the parameter space on the training bars (every evaluation is a
   trial in the log) and keep the best by ``score``;

then trade the test bars with the fitted models and the chosen parameters
(the rolling signal seeded by earlier bars, flat at the end of the window)
and record in-sample against out-of-sample metrics. The test returns,
concatenated, are the out-of-sample record that PSR and DSR judge. Every
candidate of the first window's search is also traded on every test window;
that ``(out-of-sample bars x candidates)`` matrix gives the PBO.

Nothing of a test window enters its own choice: perturbing its prices
changes neither its fitted models nor its parameters (a test holds this).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from spreadlab.analytics.metrics import periods_per_year
from spreadlab.backtest.executors import Executor, LocalExecutor
from spreadlab.backtest.refit import Refittable
from spreadlab.backtest.search import GridSampler, Space, TPESampler, search
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
from spreadlab.errors import InsufficientDataError, ValidationError

__all__ = ["WalkForward", "walk_forward_search"]


def _count(name: str, value: int | None, low: int, *, none_ok: bool) -> None:
    if value is None and none_ok:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValidationError(f"{name}={value!r} must be an int >= {low}" + (" or None" if none_ok else ""))


@dataclass(frozen=True, slots=True, kw_only=True)
class WalkForward:
    """How the history is cut into training and test windows.

    Parameters
    ----------
    scheme
        ``"rolling"`` (fixed-length training window) or ``"anchored"``
        (training from the first bar).
    n_windows
        Number of test windows.
    initial
        First training length as a fraction of the bars (when ``train_bars`` is None).
    train_bars, test_bars
        Explicit lengths in bars (``test_bars`` None: split the rest evenly).
    gap_bars
        Bars left out between each training and test window.
    """

    scheme: Literal["rolling", "anchored"] = "rolling"
    n_windows: int = 5
    initial: float = 0.4
    train_bars: int | None = None
    test_bars: int | None = None
    gap_bars: int = 0

    def __post_init__(self) -> None:
        if self.scheme not in ("rolling", "anchored"):
            raise ValidationError(f"scheme={self.scheme!r} must be 'rolling' or 'anchored'")
        _count("n_windows", self.n_windows, 1, none_ok=False)
        require_in_range("initial", self.initial, 0.0, 1.0, inclusive=False)
        _count("train_bars", self.train_bars, 3, none_ok=True)
        _count("test_bars", self.test_bars, 3, none_ok=True)
        _count("gap_bars", self.gap_bars, 0, none_ok=False)

    def windows(self, n: int) -> list[tuple[int, int, int, int]]:
        """``(train_lo, train_hi, test_lo, test_hi)`` of every window over ``n`` bars."""
        t = self.train_bars if self.train_bars is not None else math.ceil(self.initial * n)
        first = t + self.gap_bars
        rest = n - first
        length = self.test_bars if self.test_bars is not None else rest // self.n_windows
        if t < 3 or length < 3 or first + self.n_windows * length > n:
            raise InsufficientDataError(
                f"{n} bars cannot hold {self.n_windows} test window(s) of {max(length, 3)} bars after "
                f"{t} training bars and a gap of {self.gap_bars} (fewer windows or more data)"
            )
        out = []
        for k in range(self.n_windows):
            lo = first + k * length
            hi = n if (k == self.n_windows - 1 and self.test_bars is None) else lo + length
            tr_hi = lo - self.gap_bars
            tr_lo = 0 if self.scheme == "anchored" else tr_hi - t
            out.append((tr_lo, tr_hi, lo, hi))
        return out


def walk_forward_search(
    strategy: Refittable,
    space: Space,
    *,
    sampler: GridSampler | TPESampler,
    walk: WalkForward | None = None,
    executor: Executor | None = None,
    log: TrialLog | None = None,
    score: str = "sharpe",
    confidence: float = 0.95,
    run_id: str | None = None,
) -> ValidationResult:
    """Walk forward: in each window refit and search on training bars, trade the test bars, stitch.

    Parameters
    ----------
    strategy
        The strategy on its whole history (e.g. :class:`~spreadlab.backtest.refit.BandStrategy`).
    space, sampler, score
        The search run on every training window (see :func:`~spreadlab.backtest.search.search`).
    walk
        The windows (default :class:`WalkForward`).
    executor
        Where evaluations run (default: this process).
    log
        Trial log: every training evaluation is appended; deflation counts
        every configuration logged on this data.
    confidence
        DSR the verdict needs, in ``(0, 1)``.
    run_id
        Base run id; window ``k`` logs as ``<run_id>-w<k>``.
    """
    require_in_range("confidence", confidence, 0.0, 1.0, inclusive=False)
    wf = walk if walk is not None else WalkForward()
    ex = executor if executor is not None else LocalExecutor(workers=1)
    rid = run_id or new_run_id()
    ts = np.asarray(strategy.ts_ns)
    spans = wf.windows(ts.size)
    windows: list[WindowResult] = []
    oos: list[np.ndarray] = []
    cand_oos: list[np.ndarray] = []
    candidates: list[dict] = []
    seen: dict[str, float] = {}
    name = strategy.name
    for k, (tr_lo, tr_hi, te_lo, te_hi) in enumerate(spans):
        fitted = strategy.fit(np.arange(tr_lo, tr_hi))
        res = search(
            fitted.window(tr_lo, tr_hi), space, sampler=sampler, executor=ex, log=log, score=score,
            run_id=f"{rid}-w{k}",
        )  # fmt: skip
        name = res.objective
        record_trials(seen, res)
        if k == 0:
            candidates = [dict(p) for p in res.params]
        test = fitted.window(te_lo, te_hi)
        chosen = res.best_params
        out = test(chosen)
        oos.append(out.returns)
        cand_oos.append(np.column_stack([o.returns for o in ex.map(test, candidates)]))
        windows.append(
            WindowResult(
                index=k, train=(tr_lo, tr_hi), test=(te_lo, te_hi),
                train_ns=(int(ts[tr_lo]), int(ts[tr_hi - 1])), test_ns=(int(ts[te_lo]), int(ts[te_hi - 1])),
                params=dict(chosen), fitted=fitted.fitted(), is_metrics=dict(res.metrics[res.best]),
                oos_metrics=dict(out.metrics), n_candidates=len(res.params), run_id=f"{rid}-w{k}",
                trials=tuple((dict(p), float(v)) for p, v in zip(res.params, res.scores, strict=True)),
            )
        )  # fmt: skip
    n_trials, var = deflation_inputs(log, strategy.data_key, seen, int(ts[spans[0][0]]), int(ts[-1]))
    returns = np.concatenate(oos)
    oos_ts = np.concatenate([ts[lo:hi] for _, _, lo, hi in spans])
    ppy = periods_per_year(ts)
    return ValidationResult(
        method="walk-forward", objective=name, data_key=strategy.data_key, score=score,
        windows=tuple(windows), oos_ts=oos_ts, oos_returns=returns, paths=None, periods_per_year=ppy,
        n_trials=n_trials, sharpe_variance=var,
        stats=oos_statistics(returns, periods_per_year=ppy, n_trials=n_trials, sharpe_variance=var),
        pbo=candidate_pbo(np.vstack(cand_oos)), confidence=confidence,
        settings={
            "scheme": wf.scheme, "n_windows": wf.n_windows, "initial": wf.initial,
            "train_bars": wf.train_bars, "test_bars": wf.test_bars, "gap_bars": wf.gap_bars, "run_id": rid,
            "sampler": type(sampler).__name__, "n_candidates": len(candidates),
        },
    )  # fmt: skip
