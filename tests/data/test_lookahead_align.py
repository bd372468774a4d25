"""No look-ahead in the data layer's alignment and funding booking (random cuts, hypothesis).

``align_asof`` on ``ts_recv``: rewriting every value received after a clock time t changes no aligned
row at or before t. Funding: rewriting every observation received after ``t + snap_ns`` changes no
clock row at or before t (``snap_ns`` is the documented allowance for a venue stamping a settlement a
few ms late: a settlement at ``T + 1 ms`` is booked on clock time ``T``).
"""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from spreadlab.data.align import align_asof, funding_on_clock, funding_settlements
from spreadlab.testing.lookahead import assert_prefix_equal

S = 1_000_000_000
HOUR = 3600 * S


def _series(rng: np.random.Generator, n: int, span: int) -> pl.DataFrame:
    ts = np.sort(rng.choice(span, size=n, replace=False)).astype(np.int64) * S
    return pl.DataFrame({"ts_recv": ts, "bid": rng.normal(100, 1, n), "ask": rng.normal(101, 1, n)})


def _bump_after(df: pl.DataFrame, t: int, rng: np.random.Generator, cols: list[str]) -> pl.DataFrame:
    late = (df["ts_recv"] > t).to_numpy()
    return df.with_columns(
        *(pl.col(c) + pl.Series(np.where(late, rng.normal(scale=10.0, size=df.height), 0.0)) for c in cols)
    )


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), frac=st.floats(0, 1), grid=st.booleans(), limit=st.integers(1, 60))
def test_align_asof_rows_ignore_later_arrivals(seed: int, frac: float, grid: bool, limit: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = _series(rng, 80, 1000), _series(rng, 50, 1000)
    kw = {"clock": "grid" if grid else "union", "step_ns": 7 * S if grid else None,
          "staleness_ns": {"a": limit * S, "b": None}, "with_age": True}  # fmt: skip
    base = align_asof({"a": a, "b": b}, **kw)  # type: ignore[arg-type]
    t = int(base["ts"][int(frac * (base.height - 1))])
    pa, pb = _bump_after(a, t, rng, ["bid", "ask"]), _bump_after(b, t, rng, ["bid", "ask"])
    other = align_asof({"a": pa, "b": pb}, **kw)  # type: ignore[arg-type]
    keep = int((base["ts"] <= t).sum())
    assert_prefix_equal(base, other, keep, name="align_asof")


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), frac=st.floats(0, 1), snap=st.sampled_from([0, S]))
def test_funding_booked_on_the_clock_ignores_later_observations(seed: int, frac: float, snap: int) -> None:
    rng = np.random.default_rng(seed)
    settle = np.arange(1, 13, dtype=np.int64) * 8 * HOUR + rng.integers(0, 5_000_000, 12)  # a few ms late
    obs_t, obs_settle = [], []
    for s in settle:  # predicted rates streamed over the 8 h before each settlement, and one after it
        for lag in sorted(rng.choice(8 * 3600, size=6, replace=False)):
            obs_t.append(int(s) - int(lag) * S)
            obs_settle.append(int(s))
        obs_t.append(int(s) + 30 * S)
        obs_settle.append(int(s))
    obs = pl.DataFrame({"instrument_id": "X:P", "ts_recv": obs_t, "rate": rng.normal(1e-4, 1e-4, len(obs_t)),
                        "funding_time_ns": obs_settle}).sort("ts_recv")  # fmt: skip
    clock = np.arange(0, 100 * 8 * HOUR // HOUR + 1, dtype=np.int64) * HOUR
    t = int(clock[int(frac * (clock.size - 1))])
    base = funding_on_clock(funding_settlements(obs), clock, snap_ns=snap)
    late = (obs["ts_recv"] > t + snap).to_numpy()
    other_obs = obs.with_columns(pl.Series("rate", np.where(late, rng.normal(size=obs.height), obs["rate"])))
    other = funding_on_clock(funding_settlements(other_obs), clock, snap_ns=snap)
    assert_prefix_equal(base, other, int((clock <= t).sum()), name="funding_on_clock")
