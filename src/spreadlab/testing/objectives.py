"""Objectives with a known answer, for testing searches and executors (picklable, importable by workers)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from spreadlab.backtest.objective import Outcome

__all__ = ["QuadraticObjective"]


@dataclass(frozen=True, slots=True, kw_only=True)
class QuadraticObjective:
    """``score = -(x - x0)^2 - (y - y0)^2``; returns are seeded noise with that mean (per 1,000).

    The returns of each parameter set are drawn from a generator seeded by the
    parameters, so every process computes the same bytes.
    """

    x0: float = 0.3
    y0: int = 7
    n_obs: int = 200
    name: str = "quadratic"
    data_key: str = "synthetic-quadratic"
    data_range: tuple[int, int] = (0, 199)

    def __call__(self, params: Mapping[str, Any]) -> Outcome:
        x, y = float(params["x"]), int(params["y"])
        score = -((x - self.x0) ** 2) - (y - self.y0) ** 2 / 100.0
        rng = np.random.default_rng([round(x * 1e9) % 2**32, y % 2**32, 12345])
        r = rng.normal(score / 1000.0, 0.01, size=self.n_obs)
        sd = float(np.std(r, ddof=1))
        return Outcome(metrics={"score": score, "sharpe_per_period": float(np.mean(r)) / sd}, returns=r)
