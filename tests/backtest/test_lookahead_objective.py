"""No look-ahead in the vectorised band objective's positions, over random cuts and parameters."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spreadlab.backtest.objective import BandObjective, SpreadData
from spreadlab.backtest.vectorized import LegQuotes
from spreadlab.data.market import MarketConfig, build_market
from spreadlab.testing.lookahead import assert_prefix_equal


@pytest.fixture(scope="module")
def objective() -> BandObjective:
    return BandObjective(data=SpreadData.basis(build_market(MarketConfig(days=1.0, seed=4))))


@settings(max_examples=15, deadline=None)
@given(
    frac=st.floats(0.0, 0.99),
    seed=st.integers(0, 2**31 - 1),
    window=st.integers(20, 300),
    entry=st.floats(1.0, 3.0),
)
def test_positions_at_or_before_t_ignore_later_quotes(
    objective: BandObjective, frac: float, seed: int, window: int, entry: float
) -> None:
    data = objective.data
    n = len(data)
    t = int(frac * (n - 2))
    rng = np.random.default_rng(seed)
    legs = {}
    for iid, q in data.legs.items():
        bump = np.ones(n)
        bump[t + 1 :] = rng.uniform(0.95, 1.05, size=n - t - 1)
        legs[iid] = LegQuotes(
            bid=np.asarray(q.bid) * bump, ask=np.asarray(q.ask) * bump,
            funding_times_ns=q.funding_times_ns, funding_rates=q.funding_rates,
        )  # fmt: skip
    other = objective.with_data(
        SpreadData(spread=data.spread, ts_ns=data.ts_ns, legs=legs, data_key="perturbed")
    )
    params = {"window": window, "entry_z": entry}
    assert_prefix_equal(objective.positions(params), other.positions(params), t + 1, name="positions")
