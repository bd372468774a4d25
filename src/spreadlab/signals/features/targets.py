"""Learning targets of a spread and the time span each label depends on.

* Horizon change: ``y_t = x_{t+h} - x_t``; its label window is ``[t, t+h]``.
  The last ``h`` bars have no label (NaN; never trained on).
* First-passage (triple-barrier) reversion label on the score ``z`` a band
  rule trades: starting at bar ``t`` on the side ``d = sign(z_t)``, does
  ``d z`` come back to ``exit_z`` (REVERTED, label 1) before it reaches
  ``stop_z`` (STOPPED, label 0) within ``horizon`` bars (else TIMEOUT, label
  0)? It is the outcome of the :class:`~spreadlab.signals.rules.ThresholdRule`
  trade entered at ``t`` with those exit/stop levels and ``max_hold_bars =
  horizon``. The label window ends at the first touch (or ``t + horizon``);
  where the data end first the label is unknown (NaN). Kernel:
  :func:`spreadlab.kernels.features.first_passage`.

The label windows (``start``, ``end`` as bar indices) are what purged
cross-validation (:mod:`spreadlab.signals.cv`) needs to keep a training label
from overlapping a test period.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from spreadlab._typing import FloatArray, IntArray
from spreadlab.core.validate import require_finite
from spreadlab.errors import ValidationError
from spreadlab.kernels import features as _k
from spreadlab.signals.base import as_float_series

__all__ = ["LabelSet", "PassageOutcome", "first_passage_labels", "horizon_change"]


class PassageOutcome(IntEnum):
    """How a first-passage label window ended."""

    UNKNOWN = _k.OUTCOME_UNKNOWN
    REVERTED = _k.OUTCOME_REVERTED
    STOPPED = _k.OUTCOME_STOPPED
    TIMEOUT = _k.OUTCOME_TIMEOUT


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelSet:
    """Labels of every bar and the bar-index window ``[start, end]`` each depends on.

    ``value`` is NaN where the label is not observable (warm-up or too close
    to the end of the data); ``outcome`` is only set for first-passage labels.
    """

    value: FloatArray
    start: IntArray
    end: IntArray
    outcome: IntArray | None = None

    @property
    def known(self) -> np.ndarray:
        """Boolean mask of the bars whose label is observable."""
        return np.isfinite(self.value)

    def count(self, outcome: PassageOutcome) -> int:
        """Number of bars with ``outcome`` (first-passage labels only)."""
        if self.outcome is None:
            raise ValidationError("count() needs first-passage labels (this LabelSet has no outcomes)")
        return int(np.count_nonzero(self.outcome == int(outcome)))


def _horizon(horizon: int) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ValidationError(f"horizon={horizon!r} must be an int >= 1 (bars)")
    return int(horizon)


def horizon_change(values: FloatArray, *, horizon: int) -> LabelSet:
    """Return ``x_{t+h} - x_t`` per bar with its label window ``[t, t+h]``.

    Examples
    --------
    >>> lab = horizon_change(np.array([1.0, 3.0, 2.0, 5.0]), horizon=2)
    >>> lab.value.tolist(), lab.end.tolist()
    ([1.0, 2.0, nan, nan], [2, 3, 3, 3])
    """
    h = _horizon(horizon)
    x = as_float_series("values", values)
    n = x.size
    y = np.full(n, np.nan)
    if n > h:
        y[: n - h] = x[h:] - x[: n - h]
    start = np.arange(n, dtype=np.int64)
    return LabelSet(value=y, start=start, end=np.minimum(start + h, n - 1))


def first_passage_labels(z: FloatArray, *, exit_z: float, stop_z: float, horizon: int) -> LabelSet:
    """Label each bar 1 if the score reverts to ``exit_z`` before hitting ``stop_z`` within ``horizon``.

    Parameters
    ----------
    z
        The score (e.g. a rolling z-score); NaN allowed in the warm-up.
    exit_z
        Profit-taking level on the faded side (``d z <= exit_z``), ``< stop_z``.
    stop_z
        Stop-loss level (``d z >= stop_z``).
    horizon
        Maximum holding in bars.

    Examples
    --------
    >>> lab = first_passage_labels(np.array([2.5, 1.0, -0.1, 3.0, 4.5, 0.0]), exit_z=0.0, stop_z=4.0,
    ...                            horizon=3)
    >>> lab.value.tolist()[:4], [PassageOutcome(o).name for o in lab.outcome[:4]]
    ([1.0, 1.0, 1.0, 0.0], ['REVERTED', 'REVERTED', 'REVERTED', 'STOPPED'])
    """
    h = _horizon(horizon)
    require_finite("exit_z", exit_z)
    if isinstance(stop_z, bool) or not isinstance(stop_z, int | float) or math.isnan(stop_z):
        raise ValidationError(f"stop_z={stop_z!r} must be a number (inf for no stop)")
    if not exit_z < stop_z:
        raise ValidationError(f"exit_z={exit_z} must be < stop_z={stop_z}")
    x = as_float_series("z", z, allow_nan=True)
    stop = stop_z if math.isfinite(stop_z) else 1e300
    outcome, end = _k.first_passage(x, float(exit_z), float(stop), h)
    value = np.where(outcome == _k.OUTCOME_REVERTED, 1.0, 0.0)
    value[outcome == _k.OUTCOME_UNKNOWN] = np.nan
    return LabelSet(value=value, start=np.arange(x.size, dtype=np.int64), end=end, outcome=outcome)
