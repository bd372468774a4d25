"""Threshold rule on a score (z-score): the entry/exit/stop state machine.

State s in {-1, 0, +1} (short spread, flat, long spread). With score z:

- flat:  z >  entry -> s = -1 (the spread is rich: sell it); z < -entry -> s = +1;
- short: z <= exit  -> flat (converged); z >= stop -> flat (stopped out);
- long:  z >= -exit -> flat;             z <= -stop -> flat;
- any position is closed after ``max_hold`` bars (0 = no limit);
- after a stop, no new entry on that side until |z| has come back inside the
  entry band (no immediate re-entry into a breaking spread);
- a NaN score keeps the current state (no decision without data);
- entries happen only at bars where ``allow`` is true (an entry filter such as
  "edge exceeds the round-trip cost" or "the spread still mean-reverts");
  exits and stops are never blocked.

Event codes: 0 none, 1 entry, 2 exit, 3 stop, 4 time exit.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from spreadlab._typing import BoolArray, FloatArray, IntArray

__all__ = ["EVENT_ENTRY", "EVENT_EXIT", "EVENT_STOP", "EVENT_TIME", "threshold_states", "threshold_states_py"]

EVENT_ENTRY = 1
EVENT_EXIT = 2
EVENT_STOP = 3
EVENT_TIME = 4


@njit(cache=True, nogil=True)
def threshold_states(
    z: FloatArray,
    entry: float,
    exit_: float,
    stop: float,
    max_hold: int,
    initial: float,
    allow: BoolArray,
) -> tuple[FloatArray, IntArray]:
    """Return (state per bar, event code per bar) for the score ``z``, starting in state ``initial``."""
    n = z.shape[0]
    state = np.zeros(n)
    events = np.zeros(n, dtype=np.int64)
    s = initial
    held = 0
    blocked = 0.0  # side blocked after a stop: -1, +1 or 0
    for t in range(n):
        x = z[t]
        if math.isnan(x):
            state[t] = s
            if s != 0.0:
                held += 1
            continue
        if blocked != 0.0 and abs(x) < entry:
            blocked = 0.0
        if s == 0.0:
            if not allow[t]:
                pass
            elif x > entry and blocked != -1.0:
                s = -1.0
                held = 0
                events[t] = EVENT_ENTRY
            elif x < -entry and blocked != 1.0:
                s = 1.0
                held = 0
                events[t] = EVENT_ENTRY
        else:
            held += 1
            if (s < 0.0 and x >= stop) or (s > 0.0 and x <= -stop):
                blocked = s
                s = 0.0
                events[t] = EVENT_STOP
            elif (s < 0.0 and x <= exit_) or (s > 0.0 and x >= -exit_):
                s = 0.0
                events[t] = EVENT_EXIT
            elif max_hold > 0 and held >= max_hold:
                s = 0.0
                events[t] = EVENT_TIME
        state[t] = s
    return state, events


def threshold_states_py(
    z: FloatArray,
    entry: float,
    exit_: float,
    stop: float,
    max_hold: int,
    initial: float,
    allow: BoolArray,
) -> tuple[FloatArray, IntArray]:
    """Plain-Python twin of :func:`threshold_states`."""
    state: list[float] = []
    events: list[int] = []
    s, held, blocked = float(initial), 0, 0.0
    for x, ok in zip(map(float, z), allow, strict=True):
        ev = 0
        if math.isnan(x):
            if s != 0.0:
                held += 1
            state.append(s)
            events.append(0)
            continue
        if blocked and abs(x) < entry:
            blocked = 0.0
        if s == 0.0:
            if not ok:
                pass
            elif x > entry and blocked != -1.0:
                s, held, ev = -1.0, 0, EVENT_ENTRY
            elif x < -entry and blocked != 1.0:
                s, held, ev = 1.0, 0, EVENT_ENTRY
        else:
            held += 1
            if (s < 0 and x >= stop) or (s > 0 and x <= -stop):
                blocked, s, ev = s, 0.0, EVENT_STOP
            elif (s < 0 and x <= exit_) or (s > 0 and x >= -exit_):
                s, ev = 0.0, EVENT_EXIT
            elif max_hold > 0 and held >= max_hold:
                s, ev = 0.0, EVENT_TIME
        state.append(s)
        events.append(ev)
    return np.array(state, dtype=np.float64), np.array(events, dtype=np.int64)
