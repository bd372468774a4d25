"""Injected dislocation episodes and the ground-truth table that records them.

An episode is a half-open window of steps ``[start, end)`` during which a
component gets an additive offset of the recorded ``size`` (a step profile:
full size from the first step, gone at ``end``). Episodes of one component
never overlap: after each episode the next start is ``end`` plus an
exponential gap of mean ``1 / rate`` (a Poisson process of episode starts on
the free time).

The ground-truth table has one row per episode: ``instrument_id`` (the
dislocated instrument), ``reference_id`` (what it is dislocated against),
``kind`` (:class:`DislocationKind`), ``start_ns`` and ``end_ns`` (the window
``ts_event in [start_ns, end_ns)``), ``size`` and ``unit``
(:class:`SizeUnit`: basis points of price, or implied-volatility points).

Reference ids that are not instruments: ``SIM:<B>-INDEX`` is the index (the
``index`` column of the mark table; a basis dislocation is measured against
the fair carry price ``index * exp(c T)``), and ``SVI:SIM:<B>-<DMYY>`` is the
SVI smile of that expiry (the ``smiles`` table). A pair-spread size is in bp
of the follower's log price; in the bars it first shows in the bar whose
close (``ts_recv``) is ``start_ns``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import polars as pl

from spreadlab._typing import FloatArray, IntArray
from spreadlab.core.time import NS_PER_DAY, NS_PER_MINUTE

__all__ = [
    "GROUND_TRUTH_SCHEMA",
    "DislocationKind",
    "Episodes",
    "SizeUnit",
    "draw_episodes",
    "truth_frame",
]


class DislocationKind(StrEnum):
    """What an injected episode displaces."""

    PREMIUM_BURST = "premium_burst"
    """Perpetual premium over the index (reference: the index of the perpetual)."""
    VENUE_DISLOCATION = "venue_dislocation"
    """``SIM2`` perpetual vs the lagged ``SIM`` perpetual."""
    BASIS_DISLOCATION = "basis_dislocation"
    """Dated future vs its fair carry price ``index * exp(c T)``."""
    IV_MISPRICING = "iv_mispricing"
    """Option quote implied volatility vs the SVI smile."""
    PAIR_SPREAD = "pair_spread"
    """Cointegrated follower's log spread vs its leader."""


class SizeUnit(StrEnum):
    """Unit of an episode's size."""

    BP = "bp"
    VOL_POINTS = "vol_points"


GROUND_TRUTH_SCHEMA = pl.Schema(
    {
        "instrument_id": pl.String(),
        "reference_id": pl.String(),
        "kind": pl.String(),
        "start_ns": pl.Int64(),
        "end_ns": pl.Int64(),
        "size": pl.Float64(),
        "unit": pl.String(),
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Episodes:
    """Non-overlapping episodes on a step grid: ``[start[i], end[i])`` with offset ``size[i]``."""

    start: IntArray
    end: IntArray
    size: FloatArray

    def __len__(self) -> int:
        return int(self.start.shape[0])

    def profile(self, n: int) -> FloatArray:
        """Return the offset at each of ``n`` steps (0 outside every episode)."""
        out = np.zeros(n, dtype=np.float64)
        for s, e, v in zip(self.start, self.end, self.size):
            out[s:e] = v
        return out

    def take(self, mask: np.ndarray) -> Episodes:
        """Keep the episodes where ``mask`` is true."""
        return Episodes(start=self.start[mask], end=self.end[mask], size=self.size[mask])


def draw_episodes(
    rng: np.random.Generator,
    *,
    n_steps: int,
    step_ns: int,
    rate_per_day: float,
    minutes: tuple[float, float],
    size: tuple[float, float],
    positive_share: float = 0.5,
    first: int = 1,
    limit: int | None = None,
) -> Episodes:
    """Draw episodes whose starts form a Poisson process of ``rate_per_day`` on the free steps.

    Durations are uniform in ``minutes`` (at least one step), sizes uniform in
    ``size`` (rounded to 4 decimals) with a positive sign with probability ``positive_share``. Every
    episode starts at or after step ``first`` and ends at or before ``limit``
    (default ``n_steps``); the last one is cut at ``limit``.

    Examples
    --------
    >>> ep = draw_episodes(np.random.default_rng(1), n_steps=10_000, step_ns=60 * 10**9,
    ...                    rate_per_day=5, minutes=(10, 20), size=(1, 2))
    >>> bool(np.all(ep.start[1:] >= ep.end[:-1]))
    True
    """
    stop = n_steps if limit is None else min(limit, n_steps)
    starts: list[int] = []
    ends: list[int] = []
    sizes: list[float] = []
    if rate_per_day <= 0.0 or stop <= first:
        return Episodes(start=np.zeros(0, np.int64), end=np.zeros(0, np.int64), size=np.zeros(0, np.float64))
    steps_per_day = NS_PER_DAY / step_ns
    mean_gap = steps_per_day / rate_per_day
    t = float(first - 1)
    while True:
        t += float(rng.exponential(mean_gap))
        start = math.ceil(t)
        if start >= stop:
            break
        dur_steps = max(1, round(float(rng.uniform(minutes[0], minutes[1])) * NS_PER_MINUTE / step_ns))
        sign = 1.0 if rng.uniform() < positive_share else -1.0
        value = round(sign * float(rng.uniform(size[0], size[1])), 4)
        end = min(start + dur_steps, stop)
        starts.append(start)
        ends.append(end)
        sizes.append(value)
        t = float(end)
    return Episodes(
        start=np.asarray(starts, dtype=np.int64),
        end=np.asarray(ends, dtype=np.int64),
        size=np.asarray(sizes, dtype=np.float64),
    )


def truth_frame(
    episodes: Episodes,
    ts: IntArray,
    step_ns: int,
    *,
    instrument_id: str,
    reference_id: str,
    kind: DislocationKind,
    unit: SizeUnit,
) -> pl.DataFrame:
    """Label ``episodes`` on the time grid ``ts`` as ground-truth rows."""
    n = ts.shape[0]
    ends = np.where(episodes.end < n, ts[np.minimum(episodes.end, n - 1)], ts[-1] + step_ns)
    k = len(episodes)
    return pl.DataFrame(
        {
            "instrument_id": [instrument_id] * k,
            "reference_id": [reference_id] * k,
            "kind": [kind.value] * k,
            "start_ns": ts[episodes.start] if k else np.zeros(0, np.int64),
            "end_ns": ends.astype(np.int64),
            "size": episodes.size,
            "unit": [unit.value] * k,
        },
        schema=GROUND_TRUTH_SCHEMA,
    )
