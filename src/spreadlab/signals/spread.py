"""Spreads: a set of legs and how their prices combine into one quoted value.

A spread with legs (instrument_i, ratio_i) and leg prices P_i is quoted as

- ``DIFFERENCE``:        sum_i ratio_i * P_i
- ``LOG_RATIO``:         sum_i ratio_i * ln P_i
- ``RATIO``:             P_1 / P_2                          (two legs)
- ``BASIS``:             P_1 / P_2 - 1                      (two legs: premium of leg 1 over leg 2)
- ``ANNUALISED_BASIS``:  (P_1 / P_2 - 1) / T                (leg 1 a dated future, T in years to its expiry)

Each quote is increasing in the price of a positive-ratio leg (leg 1 for the
two-leg quotes) and decreasing in the others, so the executable prices follow:
buying the spread pays the ask of increasing legs and the bid of decreasing
legs, selling it receives the reverse. ``executable`` returns the (bid, ask)
of the spread at the touch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from spreadlab._typing import FloatArray, IntArray
from spreadlab.core.ids import InstrumentId
from spreadlab.core.time import NS_PER_YEAR
from spreadlab.core.validate import require_finite
from spreadlab.errors import ValidationError
from spreadlab.instruments.base import Future, Instrument

__all__ = ["Leg", "Spread", "SpreadQuote"]


class SpreadQuote(StrEnum):
    """How leg prices combine into the spread's value."""

    DIFFERENCE = "difference"
    LOG_RATIO = "log_ratio"
    RATIO = "ratio"
    BASIS = "basis"
    ANNUALISED_BASIS = "annualised_basis"


_TWO_LEG = {SpreadQuote.RATIO, SpreadQuote.BASIS, SpreadQuote.ANNUALISED_BASIS}


@dataclass(frozen=True, slots=True, kw_only=True)
class Leg:
    """One leg: an instrument and its signed ratio (quantity per unit of spread)."""

    instrument: Instrument
    ratio: float

    def __post_init__(self) -> None:
        require_finite("ratio", self.ratio)
        if self.ratio == 0.0:
            raise ValidationError("ratio=0.0 must be non-zero: a leg with no quantity is not a leg")


@dataclass(frozen=True, slots=True, kw_only=True)
class Spread:
    """A spread: its legs and its quote convention.

    Examples
    --------
    >>> from spreadlab.instruments import parse_symbol
    >>> perp = parse_symbol("BINANCE_USDM", "BTCUSDT")
    >>> spot = parse_symbol("BINANCE", "BTCUSDT")
    >>> basis = Spread(legs=(Leg(instrument=perp, ratio=1.0), Leg(instrument=spot, ratio=-1.0)),
    ...                quote=SpreadQuote.BASIS)
    >>> bid, ask = basis.executable({perp.id: np.array([60_010.0]), spot.id: np.array([59_990.0])},
    ...                             {perp.id: np.array([60_011.0]), spot.id: np.array([59_991.0])})
    >>> round(float(bid[0]) * 1e4, 3), round(float(ask[0]) * 1e4, 3)
    (3.167, 3.5)
    """

    legs: tuple[Leg, ...]
    quote: SpreadQuote = SpreadQuote.DIFFERENCE
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.quote, SpreadQuote):
            raise ValidationError(f"quote={self.quote!r} must be a SpreadQuote")
        if len(self.legs) < 2:
            raise ValidationError(f"legs has {len(self.legs)} leg(s); a spread needs at least 2")
        ids = [leg.instrument.id for leg in self.legs]
        if len(set(ids)) != len(ids):
            raise ValidationError(f"legs repeat an instrument: {[str(i) for i in ids]}")
        if self.quote in _TWO_LEG:
            if len(self.legs) != 2:
                raise ValidationError(f"quote={self.quote.value} needs exactly 2 legs, got {len(self.legs)}")
            if self.legs[0].ratio <= 0 or self.legs[1].ratio >= 0:
                raise ValidationError(
                    f"quote={self.quote.value} needs leg 1 long (ratio > 0) and leg 2 short (ratio < 0)"
                )
        if self.quote is SpreadQuote.ANNUALISED_BASIS and not isinstance(self.legs[0].instrument, Future):
            raise ValidationError("quote=annualised_basis needs a dated Future as leg 1")

    @property
    def instrument_ids(self) -> tuple[InstrumentId, ...]:
        """The legs' instrument ids, in order."""
        return tuple(leg.instrument.id for leg in self.legs)

    @property
    def label(self) -> str:
        """The spread's name, or one built from its legs."""
        if self.name:
            return self.name
        parts = [f"{leg.ratio:+g}*{leg.instrument.id}" for leg in self.legs]
        return f"{self.quote.value}({' '.join(parts)})"

    def _prices(self, prices: Mapping[InstrumentId, FloatArray] | Sequence[FloatArray]) -> list[FloatArray]:
        if isinstance(prices, Mapping):
            missing = [str(i) for i in self.instrument_ids if i not in prices]
            if missing:
                raise ValidationError(f"prices are missing for legs {missing}")
            arrays = [np.asarray(prices[i], dtype=np.float64) for i in self.instrument_ids]
        else:
            arrays = [np.asarray(p, dtype=np.float64) for p in prices]
            if len(arrays) != len(self.legs):
                raise ValidationError(f"got {len(arrays)} price arrays for {len(self.legs)} legs")
        shapes = {a.shape for a in arrays}
        if len(shapes) != 1:
            raise ValidationError(f"leg price arrays have different shapes: {sorted(shapes)}")
        return arrays

    def value(
        self,
        prices: Mapping[InstrumentId, FloatArray] | Sequence[FloatArray],
        *,
        ts_ns: IntArray | None = None,
    ) -> FloatArray:
        """The spread's value from one price per leg (e.g. mids).

        ``ts_ns`` (int64 ns per row) is required for ``ANNUALISED_BASIS``.
        """
        p = self._prices(prices)
        q = self.quote
        if q is SpreadQuote.DIFFERENCE:
            return np.sum([leg.ratio * x for leg, x in zip(self.legs, p, strict=True)], axis=0)
        if q is SpreadQuote.LOG_RATIO:
            return np.sum([leg.ratio * np.log(x) for leg, x in zip(self.legs, p, strict=True)], axis=0)
        if q is SpreadQuote.RATIO:
            return p[0] / p[1]
        basis = p[0] / p[1] - 1.0
        if q is SpreadQuote.BASIS:
            return basis
        if ts_ns is None:
            raise ValidationError("ts_ns is required for quote=annualised_basis")
        fut = self.legs[0].instrument
        if not isinstance(fut, Future):  # pragma: no cover - guaranteed by __post_init__
            raise ValidationError("quote=annualised_basis needs a dated Future as leg 1")
        years = (fut.expiry_ns - np.asarray(ts_ns, dtype=np.int64)) / NS_PER_YEAR
        if np.any(years <= 0):
            raise ValidationError(f"ts_ns reaches the expiry of {fut.id}: annualised basis is undefined")
        return basis / years

    def executable(
        self,
        bids: Mapping[InstrumentId, FloatArray] | Sequence[FloatArray],
        asks: Mapping[InstrumentId, FloatArray] | Sequence[FloatArray],
        *,
        ts_ns: IntArray | None = None,
    ) -> tuple[FloatArray, FloatArray]:
        """Return (bid, ask) of the spread at the touch: where it can be sold and bought."""
        b = self._prices(bids)
        a = self._prices(asks)
        increasing = [i == 0 if self.quote in _TWO_LEG else leg.ratio > 0 for i, leg in enumerate(self.legs)]
        sell_side = [bb if inc else aa for bb, aa, inc in zip(b, a, increasing, strict=True)]
        buy_side = [aa if inc else bb for bb, aa, inc in zip(b, a, increasing, strict=True)]
        return self.value(sell_side, ts_ns=ts_ns), self.value(buy_side, ts_ns=ts_ns)
