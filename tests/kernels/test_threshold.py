from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spreadlab.kernels.threshold import threshold_states, threshold_states_py

scores = st.lists(st.one_of(st.floats(-6, 6), st.just(float("nan"))), min_size=1, max_size=200)


@settings(max_examples=200, deadline=None)
@given(
    z=scores,
    entry=st.floats(0.5, 3),
    exit_frac=st.floats(-1, 0.99),
    stop_extra=st.floats(0.1, 3),
    max_hold=st.integers(0, 20),
    init=st.sampled_from([-1.0, 0.0, 1.0]),
    seed=st.integers(0, 4),
)
def test_kernel_matches_twin(
    z: list[float], entry: float, exit_frac: float, stop_extra: float, max_hold: int, init: float, seed: int
) -> None:
    arr = np.array(z)
    allow = np.array([(i * 7919 + seed) % 5 != 0 for i in range(arr.size)])
    exit_ = exit_frac * entry
    stop = entry + stop_extra
    s1, e1 = threshold_states(arr, entry, exit_, stop, max_hold, init, allow)
    s2, e2 = threshold_states_py(arr, entry, exit_, stop, max_hold, init, allow)
    np.testing.assert_array_equal(s1, s2)
    np.testing.assert_array_equal(e1, e2)
    # the state only changes at a recorded event
    changed = np.diff(np.concatenate(([init], s1))) != 0
    assert np.all(e1[changed] != 0)


def test_stop_blocks_reentry_until_back_inside_the_band() -> None:
    z = np.array([0.0, 2.5, 4.5, 4.0, 3.0, 1.0, 2.5, 0.0])
    state, events = threshold_states(z, 2.0, 0.0, 4.0, 0, 0.0, np.ones(z.size, dtype=bool))
    assert state.tolist() == [0, -1, 0, 0, 0, 0, -1, 0]
    assert events.tolist() == [0, 1, 3, 0, 0, 0, 1, 2]


@pytest.mark.parametrize("max_hold", [2])
def test_time_exit(max_hold: int) -> None:
    z = np.array([-3.0, -2.5, -2.5, -2.5])
    state, events = threshold_states(z, 2.0, 0.0, 10.0, max_hold, 0.0, np.ones(z.size, dtype=bool))
    assert state.tolist() == [1, 1, 0, 1]
    assert events.tolist() == [1, 0, 4, 1]


def test_entry_filter_blocks_entries_but_never_exits() -> None:
    z = np.array([3.0, 3.0, 0.0, 3.0, 5.0])
    allow = np.array([False, True, False, True, False])
    state, events = threshold_states(z, 2.0, 0.0, 4.0, 0, 0.0, allow)
    assert state.tolist() == [0, -1, 0, -1, 0]
    assert events.tolist() == [0, 1, 2, 1, 3]
