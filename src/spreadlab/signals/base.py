"""The ``SignalModel -> FittedSignal`` protocol and the input checks shared by signal models.

A :class:`SignalModel` is a specification (a frozen dataclass of options).
``fit(history)`` estimates it on a history and returns a :class:`FittedSignal`,
an immutable object that maps new observations to a score and a target
position. Strategies depend only on this protocol, so a z-score rule, an OU
band rule and a LightGBM model can be swapped for one another.

Conventions (every implementation follows them):

* ``history`` and ``observations`` are :class:`SignalFrame` values: aligned
  int64 nanosecond timestamps (strictly increasing, UTC) and named float64
  columns of equal length with no NaN. ``"spread"`` is the column a spread
  strategy trades; other columns are features.
* ``FittedSignal.score(observations)`` returns one float per row: the model's
  standardised view of the spread (a z-score, a forecast in spread units
  divided by its scale, ...). Larger means "the spread is rich".
* ``FittedSignal.target(observations, *, current)`` returns one position per
  row in ``[-1, 1]`` (fraction of the strategy's maximum size; ``-1`` = short
  the spread) given the position ``current`` held before the first row, so
  band rules with hysteresis (enter at one level, exit at another) can be
  expressed. Row ``i`` uses only rows ``<= i``: no look-ahead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from spreadlab._typing import FloatArray, IntArray
from spreadlab.errors import InsufficientDataError, ValidationError

__all__ = [
    "FittedSignal",
    "SignalFrame",
    "SignalModel",
    "as_float_series",
    "require_min_length",
    "require_same_length",
]


def as_float_series(name: str, values: object, *, allow_nan: bool = False) -> FloatArray:
    """Return ``values`` as a contiguous 1-D float64 array or raise naming the problem.

    Parameters
    ----------
    name
        The argument name, used in error messages.
    values
        Anything :func:`numpy.asarray` accepts.
    allow_nan
        Accept NaN (never inf).

    Examples
    --------
    >>> as_float_series("spread", [1, 2, 3])
    array([1., 2., 3.])
    """
    try:
        arr = np.ascontiguousarray(np.asarray(values, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name} must be a 1-D array of numbers: {exc}") from exc
    if arr.ndim != 1:
        raise ValidationError(f"{name} must be 1-D, got shape {arr.shape}")
    bad = np.isinf(arr) if allow_nan else ~np.isfinite(arr)
    if bad.any():
        idx = np.flatnonzero(bad)
        raise ValidationError(
            f"{name} has {idx.size} non-finite value(s) (NaN or inf), first at index {int(idx[0])} "
            f"(value {arr[idx[0]]!r}); clean or drop them first"
        )
    return arr


def require_same_length(**arrays: FloatArray | IntArray) -> int:
    """Return the common length of the named arrays or raise naming each length."""
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{k} has {n}" for k, n in lengths.items())
        raise ValidationError(f"series must have the same length: {detail}")
    return next(iter(lengths.values()))


def require_min_length(name: str, n: int, needed: int, *, why: str) -> None:
    """Raise :class:`InsufficientDataError` if ``n < needed``, saying how many are needed and why."""
    if n < needed:
        raise InsufficientDataError(f"{name} has {n} observation(s); {needed} are needed {why}")


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalFrame:
    """Aligned observations handed to a signal model.

    Parameters
    ----------
    ts
        Strictly increasing int64 nanoseconds UTC, one per row.
    columns
        Named float64 columns, each as long as ``ts`` and free of NaN/inf.

    Examples
    --------
    >>> f = SignalFrame(ts=np.array([1, 2, 3]), columns={"spread": np.array([0.1, -0.2, 0.0])})
    >>> len(f), f["spread"][1]
    (3, np.float64(-0.2))
    """

    ts: IntArray
    columns: Mapping[str, FloatArray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ts = np.ascontiguousarray(np.asarray(self.ts, dtype=np.int64))
        if ts.ndim != 1:
            raise ValidationError(f"ts must be 1-D, got shape {ts.shape}")
        if ts.size > 1 and not (np.diff(ts) > 0).all():
            i = int(np.flatnonzero(np.diff(ts) <= 0)[0]) + 1
            raise ValidationError(f"ts must be strictly increasing; row {i} ({ts[i]}) <= row {i - 1}")
        cols: dict[str, FloatArray] = {}
        for key, col in self.columns.items():
            arr = as_float_series(f"column {key!r}", col)
            if arr.size != ts.size:
                raise ValidationError(f"column {key!r} has {arr.size} rows but ts has {ts.size}")
            arr.setflags(write=False)
            cols[key] = arr
        ts.setflags(write=False)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "columns", cols)

    def __len__(self) -> int:
        return int(self.ts.size)

    def __getitem__(self, key: str) -> FloatArray:
        try:
            return self.columns[key]
        except KeyError:
            raise ValidationError(f"column {key!r} is missing; have {sorted(self.columns)}") from None

    @property
    def names(self) -> Sequence[str]:
        """Return the column names."""
        return tuple(self.columns)


@runtime_checkable
class FittedSignal(Protocol):
    """A fitted, immutable signal: maps observations to a score and a target position."""

    def score(self, observations: SignalFrame) -> FloatArray:
        """Return one standardised score per row (larger = spread rich); row i uses rows <= i."""
        ...

    def target(self, observations: SignalFrame, *, current: float = 0.0) -> FloatArray:
        """Return one target position in [-1, 1] per row, starting from position ``current``."""
        ...


@runtime_checkable
class SignalModel(Protocol):
    """A signal specification; ``fit`` estimates it on a history."""

    def fit(self, history: SignalFrame) -> FittedSignal:
        """Estimate the model on ``history`` and return the fitted signal."""
        ...
