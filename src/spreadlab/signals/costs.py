"""Trading fees: maker/taker rates per venue and instrument class, with option premium caps.

A fee is charged on every fill. For spot, perpetuals and dated futures it is
a fraction of the fill's notional::

    fee_usd = rate * |notional_usd|

(an inverse contract's notional is its USD face value, so the same formula
holds whether the fee is then paid in coin or in USD). For options the
exchanges charge a fraction of the *underlying's* notional, capped at a
fraction of the option's premium (Deribit: 0.03% of the underlying per
contract, at most 12.5% of the option price)::

    fee_usd = |q| * min(rate * underlying_usd, premium_cap * premium_usd)

where ``q`` is the number of underlying units traded, ``underlying_usd`` the
USD price of one unit of the underlying and ``premium_usd`` the USD premium of
one unit. A negative rate is a maker rebate.

Default schedules (:meth:`FeeModel.default`) are each venue's base
(non-VIP, no token discount) tier as published on its fee page, read in
2025: Deribit (futures and perpetuals maker 0.00% / taker 0.05%; options
0.03% of the underlying, capped at 12.5% of the premium), Binance spot
(0.10% / 0.10%), Binance USDⓈ-M and COIN-M futures (0.02% / 0.05%), Bybit
spot (0.10% / 0.10%), Bybit derivatives (0.02% / 0.055%), Bybit options
(0.02% of the underlying, capped at 7% of the premium), OKX spot (0.08% /
0.10%), OKX swaps and futures (0.02% / 0.05%), OKX options (0.02% / 0.03% of
the underlying, capped at 12.5% of the premium), Hyperliquid perpetuals
(0.015% / 0.045%). The simulated venues ``SIM``/``SIM2`` use Binance's
derivatives rates and Deribit's option rates. Venues change their schedules;
pass your own :class:`FeeRate` overrides for an account's actual tier.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from spreadlab.core.enums import Venue
from spreadlab.core.validate import require_finite, require_in_range, require_non_negative
from spreadlab.errors import ValidationError
from spreadlab.instruments.base import Future, Instrument, Option, Perpetual, Spot

__all__ = ["FeeModel", "FeeRate", "InstrumentClass", "Liquidity", "instrument_class"]


class InstrumentClass(StrEnum):
    """The fee class of an instrument."""

    SPOT = "spot"
    PERPETUAL = "perpetual"
    FUTURE = "future"
    OPTION = "option"


class Liquidity(StrEnum):
    """Whether a fill adds liquidity (maker, resting order) or takes it (taker, crossing order)."""

    MAKER = "maker"
    TAKER = "taker"


def instrument_class(instrument: Instrument) -> InstrumentClass:
    """Return the fee class of ``instrument``.

    Examples
    --------
    >>> from spreadlab.instruments import parse_symbol
    >>> instrument_class(parse_symbol("DERIBIT", "BTC-27JUN25-100000-C")).value
    'option'
    """
    if isinstance(instrument, Option):
        return InstrumentClass.OPTION
    if isinstance(instrument, Perpetual):
        return InstrumentClass.PERPETUAL
    if isinstance(instrument, Future):
        return InstrumentClass.FUTURE
    if isinstance(instrument, Spot):
        return InstrumentClass.SPOT
    raise ValidationError(f"instrument {instrument.id} of type {type(instrument).__name__} has no fee class")


@dataclass(frozen=True, slots=True, kw_only=True)
class FeeRate:
    """Maker and taker fee rates of one venue and instrument class.

    Parameters
    ----------
    maker, taker
        Fractions of notional (0.0005 = 5 bp) in ``[-0.01, 0.05]``; negative is a rebate.
        For options, fractions of the underlying's notional.
    premium_cap
        Options only: the fee per unit is at most this fraction of the premium
        (Deribit 0.125). ``None`` means no cap.
    """

    maker: float
    taker: float
    premium_cap: float | None = None

    def __post_init__(self) -> None:
        require_in_range("maker", self.maker, -0.01, 0.05)
        require_in_range("taker", self.taker, -0.01, 0.05)
        if self.premium_cap is not None:
            require_in_range("premium_cap", self.premium_cap, 0.0, 1.0)

    def rate(self, liquidity: Liquidity) -> float:
        """Return the maker or taker rate."""
        if not isinstance(liquidity, Liquidity):
            raise ValidationError(f"liquidity={liquidity!r} must be a Liquidity")
        return self.maker if liquidity is Liquidity.MAKER else self.taker


_BINANCE_DERIV = FeeRate(maker=0.0002, taker=0.0005)
_DERIBIT_OPTION = FeeRate(maker=0.0003, taker=0.0003, premium_cap=0.125)
_DERIBIT_DERIV = FeeRate(maker=0.0, taker=0.0005)
_BYBIT_DERIV = FeeRate(maker=0.0002, taker=0.00055)
_OKX_DERIV = FeeRate(maker=0.0002, taker=0.0005)
_HL_PERP = FeeRate(maker=0.00015, taker=0.00045)
_P, _F, _S, _O = (
    InstrumentClass.PERPETUAL,
    InstrumentClass.FUTURE,
    InstrumentClass.SPOT,
    InstrumentClass.OPTION,
)

_DEFAULTS: tuple[tuple[tuple[str, InstrumentClass], FeeRate], ...] = (
    ((Venue.DERIBIT.value, _P), _DERIBIT_DERIV),
    ((Venue.DERIBIT.value, _F), _DERIBIT_DERIV),
    ((Venue.DERIBIT.value, _O), _DERIBIT_OPTION),
    ((Venue.BINANCE.value, _S), FeeRate(maker=0.001, taker=0.001)),
    ((Venue.BINANCE_USDM.value, _P), _BINANCE_DERIV),
    ((Venue.BINANCE_USDM.value, _F), _BINANCE_DERIV),
    ((Venue.BINANCE_COINM.value, _P), _BINANCE_DERIV),
    ((Venue.BINANCE_COINM.value, _F), _BINANCE_DERIV),
    ((Venue.BYBIT.value, _S), FeeRate(maker=0.001, taker=0.001)),
    ((Venue.BYBIT_LINEAR.value, _P), _BYBIT_DERIV),
    ((Venue.BYBIT_LINEAR.value, _F), _BYBIT_DERIV),
    ((Venue.BYBIT_INVERSE.value, _P), _BYBIT_DERIV),
    ((Venue.BYBIT_INVERSE.value, _F), _BYBIT_DERIV),
    ((Venue.BYBIT_OPTION.value, _O), FeeRate(maker=0.0002, taker=0.0002, premium_cap=0.07)),
    ((Venue.OKX.value, _S), FeeRate(maker=0.0008, taker=0.001)),
    ((Venue.OKX.value, _P), _OKX_DERIV),
    ((Venue.OKX.value, _F), _OKX_DERIV),
    ((Venue.OKX.value, _O), FeeRate(maker=0.0002, taker=0.0003, premium_cap=0.125)),
    ((Venue.HYPERLIQUID.value, _P), _HL_PERP),
    ((Venue.HYPERLIQUID.value, _S), FeeRate(maker=0.0004, taker=0.0007)),
    ((Venue.SIM.value, _S), FeeRate(maker=0.001, taker=0.001)),
    ((Venue.SIM.value, _P), _BINANCE_DERIV),
    ((Venue.SIM.value, _F), _BINANCE_DERIV),
    ((Venue.SIM.value, _O), _DERIBIT_OPTION),
    ((Venue.SIM2.value, _P), _BINANCE_DERIV),
    ((Venue.SIM2.value, _F), _BINANCE_DERIV),
)


def _freeze(items: Iterable[tuple[object, FeeRate]], what: str) -> Mapping[object, FeeRate]:
    out: dict[object, FeeRate] = {}
    for key, rate in items:
        if not isinstance(rate, FeeRate):
            raise ValidationError(f"{what}[{key!r}]={rate!r} must be a FeeRate")
        out[key] = rate
    return MappingProxyType(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class FeeModel:
    """Fee rates per (venue, instrument class), per-instrument overrides and a fallback.

    Parameters
    ----------
    rates
        ``{(venue, InstrumentClass): FeeRate}``.
    overrides
        ``{"VENUE:SYMBOL": FeeRate}``, consulted first.
    fallback
        Rate for venues and classes not in ``rates``; ``None`` makes them an error.

    Examples
    --------
    >>> from spreadlab.instruments import parse_symbol
    >>> fees = FeeModel.default()
    >>> opt = parse_symbol("DERIBIT", "BTC-27JUN25-100000-C")
    >>> # 1 BTC of a 0.05 BTC option with BTC at 60,000: 0.03% of 60,000 = 18 USD (cap 375 USD)
    >>> fees.fee_usd(opt, quantity=1.0, price_usd=0.05 * 60_000, underlying_usd=60_000)
    18.0
    >>> # a cheap 0.001 BTC option: capped at 12.5% of its 60 USD premium
    >>> fees.fee_usd(opt, quantity=1.0, price_usd=0.001 * 60_000, underlying_usd=60_000)
    7.5
    """

    rates: Mapping[tuple[str, InstrumentClass], FeeRate] = field(default_factory=dict)
    overrides: Mapping[str, FeeRate] = field(default_factory=dict)
    fallback: FeeRate | None = None

    def __post_init__(self) -> None:
        for venue, cls in self.rates:
            if not isinstance(venue, str) or not isinstance(cls, InstrumentClass):
                raise ValidationError(f"rates key {(venue, cls)!r} must be (venue: str, InstrumentClass)")
        object.__setattr__(self, "rates", _freeze(self.rates.items(), "rates"))
        object.__setattr__(self, "overrides", _freeze(self.overrides.items(), "overrides"))
        if self.fallback is not None and not isinstance(self.fallback, FeeRate):
            raise ValidationError(f"fallback={self.fallback!r} must be a FeeRate or None")

    @classmethod
    def default(
        cls, *, overrides: Mapping[str, FeeRate] | None = None, fallback: FeeRate | None = None
    ) -> FeeModel:
        """Return the base-tier schedules of the venues listed in the module docstring."""
        return cls(rates=dict(_DEFAULTS), overrides=dict(overrides or {}), fallback=fallback)

    @classmethod
    def zero(cls) -> FeeModel:
        """Return a model that charges nothing (for isolating spread and impact costs)."""
        return cls(fallback=FeeRate(maker=0.0, taker=0.0))

    def rate_for(self, instrument: Instrument) -> FeeRate:
        """Return the :class:`FeeRate` that applies to ``instrument``."""
        key = str(instrument.id)
        if key in self.overrides:
            return self.overrides[key]
        cls = instrument_class(instrument)
        rate = self.rates.get((instrument.id.venue, cls))
        if rate is not None:
            return rate
        if self.fallback is not None:
            return self.fallback
        raise ValidationError(
            f"no fee rate for venue={instrument.id.venue!r} and class={cls.value!r} "
            f"(instrument {key}); add it to rates or set a fallback"
        )

    def fee_usd(
        self,
        instrument: Instrument,
        *,
        quantity: float,
        price_usd: float,
        underlying_usd: float | None = None,
        liquidity: Liquidity = Liquidity.TAKER,
    ) -> float:
        """Return the fee in USD of one fill.

        Parameters
        ----------
        instrument
            The traded instrument.
        quantity
            Units traded (sign ignored): coin for linear contracts and spot,
            contracts for inverse ones, underlying units for options.
        price_usd
            USD value of one unit (``price * multiplier`` for linear, the face
            value ``multiplier`` for inverse contracts, the USD premium of one
            unit for options).
        underlying_usd
            Options only: USD price of one unit of the underlying.
        liquidity
            Maker or taker.
        """
        q = abs(require_finite("quantity", quantity))
        p = require_non_negative("price_usd", price_usd)
        fr = self.rate_for(instrument)
        r = fr.rate(liquidity)
        if isinstance(instrument, Option):
            if underlying_usd is None:
                raise ValidationError(f"underlying_usd is required for the option {instrument.id}")
            u = require_non_negative("underlying_usd", underlying_usd)
            per_unit = r * u * instrument.multiplier
            if fr.premium_cap is not None and per_unit > 0.0:
                per_unit = min(per_unit, fr.premium_cap * p)
            return q * per_unit
        return q * p * r

    def fee_bp(self, instrument: Instrument, *, liquidity: Liquidity = Liquidity.TAKER) -> float:
        """Return the rate in basis points of notional (options: of the underlying's notional)."""
        return self.rate_for(instrument).rate(liquidity) * 1e4
