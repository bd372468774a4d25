"""Objectives whose models are refitted on a training span: the unit a walk-forward or CPCV trades.

A :class:`Refittable` knows the whole history of one strategy's data and
makes two things from it:

- ``fit(train)`` -> the same strategy with every model fitted on the bars
  ``train`` only (hedge ratio, position size; anything else a strategy
  estimates), and
- ``window(lo, hi)`` -> an :class:`~spreadlab.backtest.objective.Objective`
  that trades bars ``[lo, hi)`` with those models, its rolling signal seeded
  by the bars before ``lo`` and flat at the end (nothing carried into the next
  window).

:func:`spreadlab.backtest.walkforward.walk_forward_search` and
:func:`spreadlab.backtest.walkforward.cpcv_search` use only that, so the
event-driven ``Backtest`` plugs in as a second ``Refittable``.

:class:`BandStrategy` is the vectorised one: the rolling z-score band rule of
:class:`~spreadlab.backtest.objective.BandObjective` on

- a spread with fixed ratios (``hedge="fixed"``, e.g. the basis
  ``perp / spot - 1``), or
- a two-leg pair ``y - beta x`` in prices (``hedge="ols"``): ``beta`` is the
  OLS slope of leg 1's mid on leg 2's mid over the training bars only
  (:func:`spreadlab.signals.hedge.ols_hedge`), and the spread traded in the
  window is ``1`` unit of leg 1 against ``beta`` units of leg 2.

With ``notional_usd`` the size is refitted too: ``units = notional_usd /
mean(leg-1 mid over the training bars)``. Band parameters (``window``,
``entry_z``, ``exit_z``, ...) are what a search chooses on the training bars.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from spreadlab._typing import IntArray
from spreadlab.backtest.objective import BandObjective, Objective, Outcome, SpreadData
from spreadlab.core.validate import require_positive
from spreadlab.errors import ValidationError
from spreadlab.instruments.fees import FeeModel
from spreadlab.signals.hedge import ols_hedge
from spreadlab.signals.spread import Leg, SpreadQuote

__all__ = ["BandStrategy", "Refittable"]

HedgeMode = Literal["fixed", "ols"]


@runtime_checkable
class Refittable(Protocol):
    """A strategy on one history that can be refitted on a training span and traded on a window."""

    @property
    def name(self) -> str:
        """What is evaluated (the trial log's objective name; stable across refits)."""
        ...

    @property
    def data_key(self) -> str:
        """Which data it runs on."""
        ...

    @property
    def ts_ns(self) -> IntArray:
        """Bar times of the whole history."""
        ...

    def fit(self, train: IntArray) -> Refittable:
        """The strategy with its models fitted on the bars ``train`` (sorted indices) only."""
        ...

    def window(self, lo: int, hi: int) -> Objective:
        """An objective trading bars ``[lo, hi)`` with the fitted models, flat at the end."""
        ...

    def fitted(self) -> dict[str, float]:
        """The fitted model values to report (e.g. ``hedge_ratio``, ``units``)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class BandStrategy:
    """The z-score band rule on a spread, with the hedge ratio and size refitted per training span.

    Parameters
    ----------
    data
        The whole history. With ``hedge="ols"`` its spread must have two
        legs; their ratios are replaced by ``1`` and ``-beta`` at each fit.
    hedge
        ``"fixed"`` keeps the spread's ratios; ``"ols"`` refits ``beta``.
    notional_usd
        Refit ``units`` so leg 1 trades this many USD at its training mean
        (``None``: keep ``units``).
    defaults, fees, units, capital, delay_bars
        As in :class:`~spreadlab.backtest.objective.BandObjective`.
    """

    data: SpreadData
    hedge: HedgeMode = "fixed"
    notional_usd: float | None = None
    defaults: Mapping[str, float] = field(
        default_factory=lambda: {"window": 240, "entry_z": 2.0, "exit_z": 0.0, "min_edge_multiple": 1.0}
    )
    fees: FeeModel = field(default_factory=FeeModel.default)
    units: float = 1.0
    capital: float = 100_000.0
    delay_bars: int = 1
    fit_span: tuple[int, int] | None = None
    beta: float | None = None

    def __post_init__(self) -> None:
        if self.hedge not in ("fixed", "ols"):
            raise ValidationError(f"hedge={self.hedge!r} must be 'fixed' or 'ols'")
        if self.hedge == "ols":
            legs = self.data.spread.legs
            if len(legs) != 2:
                raise ValidationError(f"hedge='ols' needs a two-leg pair; the spread has {len(legs)} legs")
            if self.data.spread.quote is not SpreadQuote.DIFFERENCE:
                raise ValidationError(
                    f"hedge='ols' hedges prices: the spread's quote must be 'difference', "
                    f"not {self.data.spread.quote.value!r}"
                )
        if self.notional_usd is not None:
            require_positive("notional_usd", self.notional_usd)
        self._objective(self.data, None)  # validates the band defaults, fees, units, capital, delay

    @property
    def name(self) -> str:
        """``zscore-bands:<spread name>``, the name of every window's objective."""
        return self._objective(self.data, None).name

    @property
    def data_key(self) -> str:
        """The data's key."""
        return self.data.data_key

    @property
    def ts_ns(self) -> IntArray:
        """Bar times of the whole history."""
        return np.asarray(self.data.ts_ns)

    def __len__(self) -> int:
        return len(self.data)

    def _mids(self, j: int) -> np.ndarray:
        q = self.data.legs[self.data.spread.legs[j].instrument.id]
        return 0.5 * (np.asarray(q.bid) + np.asarray(q.ask))

    def fit(self, train: IntArray) -> BandStrategy:
        """Refit the hedge ratio (``hedge="ols"``) and size (``notional_usd``) on the bars ``train``."""
        idx = np.asarray(train, dtype=np.int64)
        if idx.size < 3 or idx[0] < 0 or idx[-1] >= len(self.data) or np.any(np.diff(idx) <= 0):
            raise ValidationError(
                f"train must be >= 3 increasing bar indices in [0, {len(self.data)}), got {idx.size} indices"
            )
        data, beta = self.data, self.beta
        if self.hedge == "ols":
            y, x = self._mids(0)[idx], self._mids(1)[idx]
            beta = float(ols_hedge(y, x).beta)
            if not np.isfinite(beta) or beta == 0.0:
                raise ValidationError(f"the OLS hedge ratio on the training bars is {beta}; cannot trade it")
            l1, l2 = data.spread.legs
            spread = dataclasses.replace(
                data.spread,
                legs=(Leg(instrument=l1.instrument, ratio=1.0), Leg(instrument=l2.instrument, ratio=-beta)),
            )
            data = dataclasses.replace(data, spread=spread)
        units = self.units
        if self.notional_usd is not None:
            units = self.notional_usd / float(np.mean(self._mids(0)[idx]))
        return dataclasses.replace(
            self, data=data, units=units, beta=beta, fit_span=(int(idx[0]), int(idx[-1]) + 1)
        )

    def _objective(self, data: SpreadData, warmup: SpreadData | None) -> BandObjective:
        return BandObjective(
            data=data, defaults=self.defaults, fees=self.fees, units=self.units, capital=self.capital,
            delay_bars=self.delay_bars, warmup=warmup, flat_at_end=True,
        )  # fmt: skip

    def window(self, lo: int, hi: int) -> BandObjective:
        """The band objective on bars ``[lo, hi)``, seeded by the bars before ``lo``, flat at the end."""
        n = len(self.data)
        if not 0 <= lo < hi <= n or hi - lo < 3:
            raise ValidationError(f"window [{lo}, {hi}) must hold >= 3 bars inside [0, {n})")
        warmup = self.data.slice(0, lo) if lo >= 3 else None
        return self._objective(self.data.slice(lo, hi), warmup)

    def fitted(self) -> dict[str, float]:
        """``units`` and, with ``hedge="ols"``, ``hedge_ratio``."""
        out = {"units": float(self.units)}
        if self.beta is not None:
            out["hedge_ratio"] = float(self.beta)
        return out

    def __call__(self, params: Mapping[str, Any]) -> Outcome:
        """Evaluate one parameter set on the whole history (with the current fit)."""
        return self.window(0, len(self.data))(params)

    @property
    def data_range(self) -> tuple[int, int]:
        """First and last bar time (ns)."""
        return self.data.data_range
