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

from spreadlab._typing import BoolArray, FloatArray, IntArray
from spreadlab.core.validate import require_finite, require_positive
from spreadlab.errors import ValidationError
from spreadlab.kernels.threshold import threshold_states
from spreadlab.signals.base import SignalFrame, require_min_length
from spreadlab.signals.zscore import rolling_zscore

__all__ = ["FittedZScoreBands", "RuleEvent", "RuleOutput", "ThresholdRule", "ZScoreBands"]


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

    def apply(self, z: FloatArray, *, current: float = 0.0, allow: BoolArray | None = None) -> RuleOutput:
        """Run the rule over the score series ``z`` starting from state ``current``.

        ``allow`` (one bool per bar) restricts entries to the bars where it is
        true; exits and stops are never blocked.
        """
        arr = np.ascontiguousarray(z, dtype=np.float64)
        if arr.ndim != 1:
            raise ValidationError(f"z must be one-dimensional, got shape {arr.shape}")
        if current not in (-1.0, 0.0, 1.0):
            raise ValidationError(f"current={current} must be -1, 0 or 1 for a band rule")
        if allow is None:
            mask = np.ones(arr.size, dtype=np.bool_)
        else:
            mask = np.ascontiguousarray(allow, dtype=np.bool_)
            if mask.shape != arr.shape:
                raise ValidationError(f"allow has shape {mask.shape}; expected {arr.shape} like z")
        stop = self.stop_z if math.isfinite(self.stop_z) else 1e300
        state, events = threshold_states(
            arr, self.entry_z, self.exit_z, stop, self.max_hold_bars, float(current), mask
        )
        return RuleOutput(state=state, events=events)


@dataclass(frozen=True, slots=True, kw_only=True)
class FittedZScoreBands:
    """A fitted rolling-z-score band signal (see :class:`ZScoreBands`).

    It keeps the last ``window - 1`` spread values of the history so the
    z-score of new observations is computed on the same trailing window.
    """

    window: int
    rule: ThresholdRule
    warmup: FloatArray

    def score(self, observations: SignalFrame) -> FloatArray:
        """Rolling z-score of ``observations["spread"]`` continuing from the history."""
        x = np.concatenate((self.warmup, observations["spread"]))
        z = rolling_zscore(x, window=self.window)
        return z[self.warmup.size :]

    def target(self, observations: SignalFrame, *, current: float = 0.0) -> FloatArray:
        """Target state per row in {-1, 0, 1} starting from ``current``."""
        return self.apply(observations, current=current).state

    def apply(
        self, observations: SignalFrame, *, current: float = 0.0, allow: BoolArray | None = None
    ) -> RuleOutput:
        """Score the observations and run the rule; returns states and event codes."""
        return self.rule.apply(self.score(observations), current=current, allow=allow)


@dataclass(frozen=True, slots=True, kw_only=True)
class ZScoreBands:
    """Rolling z-score of the spread with threshold bands: a :class:`SignalModel`.

    The score at bar t uses the trailing ``window`` spread values up to and
    including t (no look-ahead); :class:`ThresholdRule` turns it into a target.

    Examples
    --------
    >>> model = ZScoreBands(window=3, rule=ThresholdRule(entry_z=1.0))
    >>> hist = SignalFrame(ts=np.arange(4), columns={"spread": np.array([0.0, 1.0, 0.0, 1.0])})
    >>> fitted = model.fit(hist)
    >>> new = SignalFrame(ts=np.arange(4, 6), columns={"spread": np.array([5.0, 0.0])})
    >>> fitted.target(new).tolist()
    [-1.0, 0.0]
    """

    window: int
    rule: ThresholdRule

    def __post_init__(self) -> None:
        if self.window < 2:
            raise ValidationError(f"window={self.window} must be >= 2")

    def fit(self, history: SignalFrame) -> FittedZScoreBands:
        """Keep the history's last ``window - 1`` spread values for warm-up."""
        spread = history["spread"]
        require_min_length(
            "history", spread.size, self.window - 1, why=f"to warm up a window of {self.window}"
        )
        tail = spread[spread.size - (self.window - 1) :].copy()
        return FittedZScoreBands(window=self.window, rule=self.rule, warmup=tail)
