"""Simulated venue settings: latency, queue position, margin, balances and the impact of quote-only fills.

The matching itself is compiled (:mod:`spreadlab.kernels.engine_venue`);
these frozen values say how each venue behaves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from spreadlab.core.validate import require_finite, require_non_negative, require_positive
from spreadlab.errors import ValidationError

__all__ = ["LatencyModel", "QueueKind", "QueueModel", "SimulatedVenue"]


def _samples(name: str, values: Sequence[int] | np.ndarray | None) -> tuple[int, ...]:
    if values is None:
        return ()
    arr = np.asarray(values)
    if arr.size and (not np.all(np.isfinite(arr)) or (arr < 0).any()):
        raise ValidationError(f"{name} must be finite latencies >= 0 ns")
    return tuple(int(x) for x in arr.astype(np.int64))


@dataclass(frozen=True, slots=True, kw_only=True)
class LatencyModel:
    """Order-entry and response latency of one venue, in ns.

    A constant, or an empirical distribution sampled with the run's seed
    (e.g. the ``ts_recv - ts_event`` of a real capture, :meth:`from_capture`).

    Examples
    --------
    >>> LatencyModel.constant(entry_ns=5_000_000, response_ns=3_000_000).entry_ns
    5000000
    """

    entry_ns: int = 0
    response_ns: int = 0
    entry_samples: tuple[int, ...] = ()
    response_samples: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        require_non_negative("entry_ns", self.entry_ns)
        require_non_negative("response_ns", self.response_ns)
        object.__setattr__(self, "entry_samples", _samples("entry_samples", self.entry_samples))
        object.__setattr__(self, "response_samples", _samples("response_samples", self.response_samples))

    @classmethod
    def constant(cls, *, entry_ns: int, response_ns: int) -> LatencyModel:
        """Fixed latencies."""
        return cls(entry_ns=int(entry_ns), response_ns=int(response_ns))

    @classmethod
    def from_capture(
        cls, ts_event: np.ndarray, ts_recv: np.ndarray, *, floor_ns: int = 0, max_samples: int = 10_000
    ) -> LatencyModel:
        """Draw both directions from the delays ``ts_recv - ts_event`` of a capture.

        The two clocks differ by an unknown offset (Binance's event times are
        often after the local receive time), so the delays are shifted to
        start at ``floor_ns``: the samples keep the capture's jitter above its
        fastest message, and ``floor_ns`` (e.g. a measured ping) sets the
        level.
        """
        d = np.asarray(ts_recv, dtype=np.int64) - np.asarray(ts_event, dtype=np.int64)
        if d.size == 0:
            raise ValidationError("the capture has no rows to take latencies from")
        d = np.sort(d - d.min() + int(floor_ns))
        if d.size > max_samples:
            d = d[np.linspace(0, d.size - 1, max_samples).astype(np.int64)]
        med = int(np.median(d))
        return cls(entry_ns=med, response_ns=med, entry_samples=tuple(d), response_samples=tuple(d))


class QueueKind(StrEnum):
    """How a resting order's place in the queue moves when the level shrinks (see ``engine_venue``)."""

    CONSERVATIVE = "conservative"
    PROBABILISTIC = "probabilistic"


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueModel:
    """Queue position model for resting orders; ``power`` is ``n`` of the probabilistic model."""

    kind: QueueKind = QueueKind.CONSERVATIVE
    power: float = 2.0

    def __post_init__(self) -> None:
        if not isinstance(self.kind, QueueKind):
            raise ValidationError(f"kind={self.kind!r} must be a QueueKind")
        require_positive("power", self.power)


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatedVenue:
    """One simulated venue's account and behaviour.

    Parameters
    ----------
    venue
        Venue name (``BINANCE_USDM``, ``DERIBIT``, ...).
    balances
        Starting balances by currency; empty: the backtest funds it from its capital.
    latency
        Order-entry and response latency.
    initial_margin, maintenance_margin
        Rates of notional for derivatives (10x and 20x by default).
    option_margin
        Rate of the underlying's notional for short options.
    spot_margin
        Whether spot may be sold short or bought beyond the quote balance.
    impact_bp
        Price impact (bp) of fills on instruments without depth.
    """

    venue: str
    balances: Mapping[str, float] = field(default_factory=dict)
    latency: LatencyModel = field(default_factory=LatencyModel)
    initial_margin: float = 0.10
    maintenance_margin: float = 0.05
    option_margin: float = 0.15
    spot_margin: bool = False
    impact_bp: float = 1.0

    def __post_init__(self) -> None:
        if not self.venue:
            raise ValidationError("venue must be a non-empty name")
        for c, v in self.balances.items():
            require_finite(f"balances[{c}]", v)
        object.__setattr__(self, "balances", dict(self.balances))
        require_positive("initial_margin", self.initial_margin)
        require_positive("maintenance_margin", self.maintenance_margin)
        if self.maintenance_margin > self.initial_margin:
            raise ValidationError(
                f"maintenance_margin={self.maintenance_margin} must be <= "
                f"initial_margin={self.initial_margin}"
            )
        require_positive("option_margin", self.option_margin)
        require_non_negative("impact_bp", self.impact_bp)
