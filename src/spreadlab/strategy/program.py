"""A spread strategy compiled to arrays: what the engine's decision kernel reads.

:class:`SpreadProgram` is the fitted, frozen form of a
:class:`spreadlab.strategy.SpreadConvergence` on one data window: the legs,
their ratios, the bands, sizing, legging and a schedule of ``(t, beta, mu,
sd)`` rows, each fitted on data strictly before ``t``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spreadlab.core.ids import InstrumentId
from spreadlab.errors import ValidationError

__all__ = ["SpreadProgram"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SpreadProgram:
    """Arrays and bands of one spread for the compiled decision step (see ``kernels/engine_strategy``)."""

    name: str
    instrument_ids: tuple[InstrumentId, ...]
    ratios: tuple[float, ...]
    quote_code: int
    entry_z: float
    exit_z: float
    stop_z: float
    notional_usd: float
    slippage_bp: float
    market_orders: bool
    max_hold_ns: int
    legging_timeout_ns: int
    cooldown_ns: int
    direction_code: int = 0
    maker_leg: int = -1
    schedule_t: np.ndarray
    schedule_beta: np.ndarray
    schedule_mean: np.ndarray
    schedule_std: np.ndarray

    def __post_init__(self) -> None:
        n = self.schedule_t.shape[0]
        for name in ("schedule_beta", "schedule_mean", "schedule_std"):
            if getattr(self, name).shape != (n,):
                raise ValidationError(f"{name} has shape {getattr(self, name).shape}, expected ({n},)")
        if n and (np.diff(self.schedule_t) < 0).any():
            raise ValidationError("schedule_t must be non-decreasing")
        if not -1 <= self.maker_leg < len(self.instrument_ids):
            raise ValidationError(
                f"maker_leg={self.maker_leg} must be -1 or a leg index < {len(self.instrument_ids)}"
            )
        if len(self.ratios) != len(self.instrument_ids):
            raise ValidationError(f"{len(self.ratios)} ratios for {len(self.instrument_ids)} legs")
        if not -self.entry_z < self.exit_z < self.entry_z < self.stop_z:
            raise ValidationError(
                "bands must satisfy -entry_z < exit_z < entry_z < stop_z, "
                f"got {self.exit_z}, {self.entry_z}, {self.stop_z}"
            )
