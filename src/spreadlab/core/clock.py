"""Clocks. Time is injected: nothing else in spreadlab reads the wall clock.

``SimClock`` is advanced by the backtest from event times; ``WallClock`` is
the one place that reads the system clock, used by live runners.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

from spreadlab.errors import ValidationError

__all__ = ["Clock", "SimClock", "WallClock"]


@runtime_checkable
class Clock(Protocol):
    """Source of the current time in int nanoseconds UTC."""

    def timestamp_ns(self) -> int:
        """Return the current time in nanoseconds since the epoch, UTC."""
        ...


class SimClock:
    """A clock set by the simulation. It never moves backwards.

    Examples
    --------
    >>> clock = SimClock(start_ns=100)
    >>> clock.advance_to(250)
    >>> clock.timestamp_ns()
    250
    """

    __slots__ = ("_now",)

    def __init__(self, *, start_ns: int = 0) -> None:
        if start_ns < 0:
            raise ValidationError(f"start_ns={start_ns} must be >= 0")
        self._now = int(start_ns)

    def timestamp_ns(self) -> int:
        """Return the simulated time."""
        return self._now

    def advance_to(self, ts_ns: int) -> None:
        """Move the clock to ``ts_ns``; moving backwards is an error."""
        if ts_ns < self._now:
            raise ValidationError(
                f"ts_ns={ts_ns} is before the clock's current time {self._now}; "
                "a simulated clock never moves backwards"
            )
        self._now = int(ts_ns)


class WallClock:
    """The system clock (``time.time_ns``). Only live runners use it."""

    __slots__ = ()

    def timestamp_ns(self) -> int:
        """Return the system time in nanoseconds UTC."""
        return time.time_ns()
