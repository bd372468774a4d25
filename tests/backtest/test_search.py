"""Grid and TPE search: right answers, logged trials, the same results on every executor."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from spreadlab.backtest.executors import LocalExecutor, RayExecutor
from spreadlab.backtest.search import Choice, FloatRange, GridSampler, IntRange, TPESampler, search
from spreadlab.data.trials import TrialLog
from spreadlab.errors import ConfigError, ValidationError
from spreadlab.testing.objectives import QuadraticObjective

SPACE = {"x": FloatRange(low=-1.0, high=1.0, step=0.1), "y": IntRange(low=0, high=12, step=2)}


def test_grid_enumerates_the_product_and_finds_the_known_optimum() -> None:
    obj = QuadraticObjective(x0=0.3, y0=7)
    res = search(obj, SPACE, sampler=GridSampler(), executor=LocalExecutor(workers=1), score="score")
    assert len(res.params) == 21 * 7
    assert res.params[0] == {"x": -1.0, "y": 0} and res.params[1] == {"x": -1.0, "y": 2}
    # y0 = 7 lies between the grid's 6 and 8 (equal score): the first in order wins
    assert res.best_params == {"x": 0.3, "y": 6}
    for p, m in zip(res.params, res.metrics, strict=True):
        assert m["score"] == pytest.approx(-((p["x"] - 0.3) ** 2) - (p["y"] - 7) ** 2 / 100)
    assert res.returns.shape == (200, 147)
    assert res.n_trials_logged == 147


def test_tpe_is_seeded_and_beats_its_own_random_start() -> None:
    obj = QuadraticObjective(x0=-0.45, y0=3)
    space = {"x": FloatRange(low=-1.0, high=1.0), "y": IntRange(low=0, high=10)}
    a = search(
        obj,
        space,
        sampler=TPESampler(n_trials=60, seed=5, batch_size=6),
        executor=LocalExecutor(workers=1),
        score="score",
    )
    b = search(
        obj,
        space,
        sampler=TPESampler(n_trials=60, seed=5, batch_size=6),
        executor=LocalExecutor(workers=1),
        score="score",
    )
    assert a.params == b.params and a.metrics == b.metrics
    assert abs(a.best_params["x"] + 0.45) < 0.15 and abs(a.best_params["y"] - 3) <= 1
    assert a.scores[30:].mean() > a.scores[:10].mean()  # TPE concentrates on the good region
    c = search(
        obj,
        space,
        sampler=TPESampler(n_trials=60, seed=6, batch_size=6),
        executor=LocalExecutor(workers=1),
        score="score",
    )
    assert c.params != a.params


def test_two_processes_give_exactly_the_results_of_one() -> None:
    obj = QuadraticObjective()
    space = {"x": FloatRange(low=-1.0, high=1.0), "y": Choice(options=(1, 5, 9))}
    sampler = TPESampler(n_trials=24, seed=2, batch_size=8)
    one = search(obj, space, sampler=sampler, executor=LocalExecutor(workers=1), score="score")
    two = search(obj, space, sampler=sampler, executor=LocalExecutor(workers=2), score="score")
    assert one.params == two.params and one.metrics == two.metrics
    assert np.array_equal(one.returns, two.returns)


def test_every_trial_is_logged_and_later_runs_deflate_more(tmp_path: Path) -> None:
    log = TrialLog(tmp_path)
    obj = QuadraticObjective()
    small = {"x": FloatRange(low=0.0, high=0.5, step=0.1), "y": IntRange(low=6, high=8)}
    first = search(
        obj, small, sampler=GridSampler(), executor=LocalExecutor(workers=1), log=log, score="score"
    )
    assert log.read(run_id=first.run_id).height == 18
    assert first.n_trials_logged == 18
    dsr_first = first.deflated_sharpe()
    # a second, wider search on the same data: the log now holds every distinct configuration of both
    second = search(
        obj, SPACE, sampler=GridSampler(), executor=LocalExecutor(workers=1), log=log, score="score"
    )
    overlap = {(round(p["x"], 9), p["y"]) for p in first.params} & {
        (round(p["x"], 9), p["y"]) for p in second.params
    }
    assert second.n_trials_logged == 18 + 147 - len(overlap)
    assert log.read().height == 18 + 147
    # the same best Sharpe is worth less after more trials
    assert 0.0 <= second.deflated_sharpe() <= 1.0
    assert first.deflated_sharpe() == dsr_first
    assert second.n_trials_logged > first.n_trials_logged


def test_missing_optional_dependencies_are_clear_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(ConfigError, match=r"needs Optuna.*spreadlab\[opt\]"):
        search(QuadraticObjective(), SPACE, sampler=TPESampler(n_trials=2), executor=LocalExecutor(workers=1))
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ConfigError, match=r"needs Ray.*spreadlab\[opt\]"):
        search(QuadraticObjective(), SPACE, sampler=GridSampler(), executor=RayExecutor())


def test_bad_search_input_is_a_clear_error() -> None:
    with pytest.raises(ValidationError, match="needs a step"):
        search(
            QuadraticObjective(),
            {"x": FloatRange(low=0, high=1), "y": IntRange(low=0, high=1)},
            sampler=GridSampler(),
            executor=LocalExecutor(workers=1),
        )
    with pytest.raises(ValidationError, match="score='nope'"):
        search(
            QuadraticObjective(),
            SPACE,
            sampler=GridSampler(),
            executor=LocalExecutor(workers=1),
            score="nope",
        )
    with pytest.raises(ValidationError, match="empty"):
        IntRange(low=3, high=1)
    with pytest.raises(ValidationError, match="workers=0"):
        LocalExecutor(workers=0)
    with pytest.raises(ValidationError, match="n_trials=0"):
        TPESampler(n_trials=0)
