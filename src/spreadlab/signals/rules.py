"""Trading rules that turn a score into target spread positions.

:class:`ThresholdRule` is the classic band rule on a z-score: enter beyond
``entry_z``, leave at ``exit_z`` (convergence), stop beyond ``stop_z``, and
optionally leave after ``max_hold_bars``. The state machine is the numba kernel
:func:`spreadlab.kernels.threshold.threshold_states`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from spreadlab._typing import FloatArray, IntArray
from spreadlab.core.validate import require_finite, require_positive
from spreadlab.errors import ValidationError
from spreadlab.kernels.threshold import threshold_states

__all__ = ["RuleEvent", "RuleOutput", "ThresholdRule"]


class RuleEvent(IntEnum):
    """What a rule did at a bar."""

    NONE = 0
    ENTRY = 1
    EXIT = 2
    STOP = 3
    TIME_EXIT = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleOutput:
    """Target state per bar (-1 short spread, 0 flat, +1 long spread) and the event codes."""

    state: FloatArray
    events: IntArray

    def count(self, event: RuleEvent) -> int:
        """Number of bars with ``event``."""
        return int(np.count_nonzero(self.events == int(event)))


@dataclass(frozen=True, slots=True, kw_only=True)
class ThresholdRule:
    """Enter at ``|z| > entry_z``, exit at ``exit_z``, stop at ``|z| >= stop_z``.

    Parameters
    ----------
    entry_z
        Entry threshold (> 0).
    exit_z
        Exit threshold, in ``[-entry_z, entry_z)``: 0 exits at the mean, a
        negative value waits for an overshoot.
    stop_z
        Stop-loss threshold (> entry_z), or ``inf`` for none.
    max_hold_bars
        Close after this many bars (0 = no limit).

    Examples
    --------
    >>> rule = ThresholdRule(entry_z=2.0, exit_z=0.0, stop_z=4.0)
    >>> rule.apply(np.array([0.0, 2.5, 1.0, -0.1, -2.2, -5.0])).state.tolist()
    [0.0, -1.0, -1.0, 0.0, 1.0, 0.0]
    """

    entry_z: float
    exit_z: float = 0.0
    stop_z: float = math.inf
    max_hold_bars: int = 0

    def __post_init__(self) -> None:
        require_positive("entry_z", self.entry_z)
        require_finite("exit_z", self.exit_z)
        if not -self.entry_z <= self.exit_z < self.entry_z:
            raise ValidationError(
                f"exit_z={self.exit_z} must lie in [-entry_z, entry_z) = [{-self.entry_z}, {self.entry_z})"
            )
        if math.isnan(self.stop_z) or self.stop_z <= self.entry_z:
            raise ValidationError(f"stop_z={self.stop_z} must be > entry_z={self.entry_z} (or inf)")
        if self.max_hold_bars < 0:
            raise ValidationError(f"max_hold_bars={self.max_hold_bars} must be >= 0")

    def apply(self, z: FloatArray) -> RuleOutput:
        """Run the rule over the score series ``z``."""
        arr = np.ascontiguousarray(z, dtype=np.float64)
        if arr.ndim != 1:
            raise ValidationError(f"z must be one-dimensional, got shape {arr.shape}")
        stop = self.stop_z if math.isfinite(self.stop_z) else 1e300
        state, events = threshold_states(arr, self.entry_z, self.exit_z, stop, self.max_hold_bars)
        return RuleOutput(state=state, events=events)
