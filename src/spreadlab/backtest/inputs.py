"""Leg inputs of the vectorised backtest: validated quote arrays, USD conversion, funding.

Each leg's settlement currency is converted to USD with the instrument's own
rule (:meth:`spreadlab.instruments.base.Instrument.settlement_usd`): 1 for a
stablecoin, the leg's mid for an inverse perpetual or future (USD per coin),
the underlying's price for a coin-settled option (``LegQuotes.underlying``;
the option's coin premium is not a USD price). ``LegQuotes.settlement_usd``
overrides it (e.g. a linear leg settled in a coin).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from spreadlab._typing import FloatArray, IntArray
from spreadlab.core.enums import ContractKind
from spreadlab.core.ids import InstrumentId
from spreadlab.errors import ValidationError
from spreadlab.instruments.base import Perpetual
from spreadlab.signals.spread import Leg

__all__ = ["LegArrays", "LegQuotes", "leg_arrays"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LegQuotes:
    """One leg's aligned bar data.

    Parameters
    ----------
    bid, ask
        Executable touch per bar, as the venue quotes it (coin for a Deribit option premium).
    funding_times_ns, funding_rates
        Perpetuals: the funding events (rate paid by longs when positive).
    underlying
        USD price of the underlying per bar: required for coin-settled options
        (their PnL, in coin, converts at it) and linear options (their fee is
        a fraction of it).
    settlement_usd
        USD per unit of the settlement currency per bar, overriding the
        instrument's own conversion.
    """

    bid: FloatArray
    ask: FloatArray
    funding_times_ns: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    funding_rates: FloatArray = field(default_factory=lambda: np.zeros(0))
    underlying: FloatArray | None = None
    settlement_usd: FloatArray | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LegArrays:
    """The kernel's inputs, shape ``(n, L)`` per bar and leg or ``(L,)`` per leg."""

    bid: FloatArray
    ask: FloatArray
    mid: FloatArray
    underlying: FloatArray
    fx: FloatArray
    funding_rate: FloatArray
    funding_price: FloatArray
    kind: IntArray
    multiplier: FloatArray
    ratio: FloatArray


def _prices(iid: InstrumentId, name: str, value: object, n: int) -> FloatArray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (n,):
        raise ValidationError(f"{iid} {name} has shape {arr.shape}; expected ({n},)")
    bad = ~np.isfinite(arr) | (arr <= 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValidationError(f"{iid} {name}[{i}]={float(arr[i])} is not a positive finite price")
    return arr


def leg_arrays(ts: IntArray, legs: Mapping[InstrumentId, LegQuotes], spread_legs: Sequence[Leg]) -> LegArrays:
    """Validate each leg's quotes and build the kernel's arrays (funding charged at the bar's mid)."""
    n, L = ts.size, len(spread_legs)
    bid, ask, und, fx = np.empty((n, L)), np.empty((n, L)), np.ones((n, L)), np.ones((n, L))
    rate = np.zeros((n, L))
    for j, leg in enumerate(spread_legs):
        inst = leg.instrument
        iid = inst.id
        if iid not in legs:
            raise ValidationError(f"legs has no quotes for {iid}")
        q = legs[iid]
        b, a = _prices(iid, "bid", q.bid, n), _prices(iid, "ask", q.ask, n)
        if np.any(b > a):
            i = int(np.argmax(b > a))
            raise ValidationError(f"{iid} is crossed at bar {i}: bid {b[i]} > ask {a[i]}")
        bid[:, j], ask[:, j] = b, a
        kind = inst.contract_kind
        if q.underlying is not None:
            und[:, j] = _prices(iid, "underlying", q.underlying, n)
        elif kind in (ContractKind.COIN_OPTION, ContractKind.LINEAR_OPTION):
            raise ValidationError(
                f"{iid} is an option: LegQuotes.underlying (the {inst.base} USD price per bar) is required "
                "for its USD conversion and fees"
            )
        if q.settlement_usd is not None:
            fx[:, j] = _prices(iid, "settlement_usd", q.settlement_usd, n)
        else:
            fx[:, j] = inst.settlement_usd(0.5 * (b + a), underlying_price=und[:, j])
        if q.funding_times_ns.size:
            if not isinstance(inst, Perpetual):
                raise ValidationError(f"{iid} is not a perpetual but has funding events")
            idx = np.searchsorted(ts, np.asarray(q.funding_times_ns, dtype=np.int64), side="left")
            inside = (idx > 0) & (idx < n)  # a funding time before the first bar is not held
            np.add.at(rate[:, j], idx[inside], np.asarray(q.funding_rates, dtype=np.float64)[inside])
    mid = 0.5 * (bid + ask)
    return LegArrays(
        bid=bid,
        ask=ask,
        mid=mid,
        underlying=und,
        fx=fx,
        funding_rate=rate,
        funding_price=mid.copy(),
        kind=np.array([int(leg.instrument.contract_kind) for leg in spread_legs], dtype=np.int64),
        multiplier=np.array([leg.instrument.multiplier for leg in spread_legs], dtype=np.float64),
        ratio=np.array([leg.ratio for leg in spread_legs], dtype=np.float64),
    )
