"""Trading fees: maker/taker rates per venue and instrument class, volume tiers, option caps.

The one fee model of spreadlab: backtests, scanners, pricing and the engine
all ask :class:`FeeModel`. A fee is charged on every fill, in the
instrument's settlement currency. For ``|q|`` contracts of multiplier ``m``
filled at price ``P``:

* spot, linear perpetuals and futures (fee in the quote currency)::

      fee = r * |q| * m * P

* inverse perpetuals and futures (fee in coin; ``m`` is USD per contract)::

      fee = r * |q| * m / P

* options: a fraction of the *underlying's* notional, capped at a fraction
  of the option's premium (Deribit: 0.03% of the underlying, at most 12.5%
  of the option price)::

      fee = |q| * m * min(r * U, cap * P)

  where ``U`` is one unit of the underlying in the premium currency: 1 for a
  coin-settled option whose premium is quoted in coin (Deribit's 0.0003 BTC
  per 1-BTC contract), the underlying's index price for a USDC-linear option.
  The cap applies only to a positive fee; a negative rate is a rebate.

``r`` is the maker or taker rate of the venue and instrument class at the
account's 30-day volume (:class:`FeeTier` rows are data: pass the tiers your
account qualifies for). Lookup order: a per-instrument override, then
``(venue, class, settlement)``, then ``(venue, class)``, then the fallback.

Default schedules (:meth:`FeeModel.default`) are each venue's base (non-VIP,
no token discount) tier as published on its fee page: Deribit futures and
perpetuals maker 0.00% / taker 0.05%, BTC/ETH options 0.03% of the
underlying capped at 12.5% of the option price, USDC-linear options maker
0.01% / taker 0.05% of the index price capped at 12.5% of the premium
(support.deribit.com "Fees"); Binance spot 0.10% / 0.10%; Binance USDⓈ-M
VIP 0 0.02% / 0.05%, COIN-M 0.02% / 0.05%; Bybit spot 0.10% / 0.10%,
derivatives 0.02% / 0.055%, options 0.02% of the underlying capped at 7%
of the premium; OKX spot 0.08% / 0.10%, swaps and futures 0.02% / 0.05%,
options 0.02% / 0.03% capped at 12.5%; Hyperliquid perpetuals 0.015% /
0.045%. The simulated venues ``SIM``/``SIM2`` use Binance's rates and
Deribit's option rates. The defaults carry no volume tiers (venues change
their thresholds and some also count token holdings); Deribit's weekly
futures (maker -0.01%) need a per-instrument override.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from spreadlab._typing import FloatArray
from spreadlab.core.enums import Liquidity, Settlement, Venue
from spreadlab.core.validate import require_finite, require_in_range, require_non_negative
from spreadlab.errors import ValidationError
from spreadlab.instruments.base import Future, Instrument, Option, Perpetual, Spot

__all__ = [
    "FeeArrays",
    "FeeModel",
    "FeeRate",
    "FeeTier",
    "InstrumentClass",
    "Liquidity",
    "instrument_class",
]


class InstrumentClass(StrEnum):
    """The fee class of an instrument."""

    SPOT = "spot"
    PERPETUAL = "perpetual"
    FUTURE = "future"
    OPTION = "option"


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


def _capped(fee: float, cap: float, premium: float) -> float:
    """An option fee capped at ``cap`` times the premium (a rebate is not capped)."""
    return min(fee, cap * premium) if fee > 0.0 else fee


def _check_liquidity(liquidity: object) -> Liquidity:
    if not isinstance(liquidity, Liquidity):
        raise ValidationError(f"liquidity={liquidity!r} must be a Liquidity (MAKER or TAKER)")
    return liquidity


@dataclass(frozen=True, slots=True, kw_only=True)
class FeeTier:
    """Maker and taker rates from a 30-day traded volume upward.

    Parameters
    ----------
    min_volume_30d
        30-day volume (USD) from which the tier applies (> 0; the base rates apply below the first tier).
    maker, taker
        Fractions of notional in ``[-0.01, 0.05]``; negative is a rebate.
    """

    min_volume_30d: float
    maker: float
    taker: float

    def __post_init__(self) -> None:
        v = require_finite("min_volume_30d", self.min_volume_30d)
        if v <= 0.0:
            raise ValidationError(f"min_volume_30d={v} must be > 0 (the base rates are the zero tier)")
        require_in_range("maker", self.maker, -0.01, 0.05)
        require_in_range("taker", self.taker, -0.01, 0.05)


@dataclass(frozen=True, slots=True, kw_only=True)
class FeeRate:
    """Maker and taker fee rates of one venue and instrument class (or one instrument).

    Parameters
    ----------
    maker, taker
        Base-tier fractions of notional (0.0005 = 5 bp) in ``[-0.01, 0.05]``;
        negative is a rebate. For options, fractions of the underlying's notional.
    premium_cap
        Options only: the fee per contract is at most this fraction of the
        option's premium (Deribit 0.125). ``None`` means no cap.
    tiers
        Volume tiers above the base, with strictly increasing ``min_volume_30d``.

    Examples
    --------
    >>> vip1 = FeeTier(min_volume_30d=15e6, maker=0.00016, taker=0.0004)
    >>> vip = FeeRate(maker=0.0002, taker=0.0005, tiers=(vip1,))
    >>> vip.rate(Liquidity.TAKER), vip.rate(Liquidity.TAKER, volume_30d=20e6)
    (0.0005, 0.0004)
    """

    maker: float
    taker: float
    premium_cap: float | None = None
    tiers: tuple[FeeTier, ...] = ()

    def __post_init__(self) -> None:
        require_in_range("maker", self.maker, -0.01, 0.05)
        require_in_range("taker", self.taker, -0.01, 0.05)
        if self.premium_cap is not None:
            require_in_range("premium_cap", self.premium_cap, 0.0, 1.0)
        tiers = tuple(self.tiers)
        for i, tier in enumerate(tiers):
            if not isinstance(tier, FeeTier):
                raise ValidationError(f"tiers[{i}]={tier!r} must be a FeeTier")
            if i and tier.min_volume_30d <= tiers[i - 1].min_volume_30d:
                raise ValidationError(
                    f"tiers[{i}].min_volume_30d={tier.min_volume_30d} must exceed "
                    f"tiers[{i - 1}].min_volume_30d={tiers[i - 1].min_volume_30d}"
                )
        object.__setattr__(self, "tiers", tiers)

    def rate(self, liquidity: Liquidity, *, volume_30d: float = 0.0) -> float:
        """Return the maker or taker rate at a 30-day volume (USD)."""
        liq = _check_liquidity(liquidity)
        vol = require_non_negative("volume_30d", volume_30d)
        maker, taker = self.maker, self.taker
        for tier in self.tiers:
            if vol < tier.min_volume_30d:
                break
            maker, taker = tier.maker, tier.taker
        return maker if liq is Liquidity.MAKER else taker

    def option_fee(
        self,
        premium: npt.ArrayLike,
        unit: npt.ArrayLike,
        *,
        liquidity: Liquidity = Liquidity.TAKER,
        volume_30d: float = 0.0,
    ) -> FloatArray:
        """Return the fee per unit of underlying of option fills: ``min(r * unit, cap * premium)``.

        ``premium`` and ``unit`` (one unit of the underlying) are in the
        premium currency: ``unit`` is 1 for a coin-premium option, the
        underlying's price for a linear one. A NaN premium gives NaN.

        Examples
        --------
        >>> deribit = FeeModel.default().class_rate("DERIBIT", InstrumentClass.OPTION)
        >>> deribit.option_fee([0.05, 0.0008], 1.0).tolist()  # 0.0003 BTC, capped at 12.5% of 0.0008
        [0.0003, 0.0001]
        """
        r = self.rate(liquidity, volume_30d=volume_30d)
        p = np.asarray(premium, dtype=np.float64)
        per = r * np.asarray(unit, dtype=np.float64) * np.ones_like(p)
        out: FloatArray = np.where(per > 0.0, np.minimum(per, self.cap * p), per + 0.0 * p)
        return out

    @property
    def cap(self) -> float:
        """The premium cap as a float: ``inf`` where there is none (for kernels)."""
        return np.inf if self.premium_cap is None else float(self.premium_cap)


@dataclass(frozen=True, slots=True, kw_only=True)
class FeeArrays:
    """Per-instrument fee rates as plain float64 arrays, for numba kernels.

    ``premium_cap`` is ``inf`` where no cap applies (every non-option).
    """

    maker: FloatArray
    taker: FloatArray
    premium_cap: FloatArray

    def rate(self, liquidity: Liquidity) -> FloatArray:
        """Return the maker or taker column."""
        return self.maker if _check_liquidity(liquidity) is Liquidity.MAKER else self.taker


_BINANCE_DERIV = FeeRate(maker=0.0002, taker=0.0005)
_BINANCE_SPOT = FeeRate(maker=0.001, taker=0.001)
_DERIBIT_OPTION = FeeRate(maker=0.0003, taker=0.0003, premium_cap=0.125)
_DERIBIT_LINEAR_OPTION = FeeRate(maker=0.0001, taker=0.0005, premium_cap=0.125)
_DERIBIT_DERIV = FeeRate(maker=0.0, taker=0.0005)
_BYBIT_DERIV = FeeRate(maker=0.0002, taker=0.00055)
_OKX_DERIV = FeeRate(maker=0.0002, taker=0.0005)
_P, _F, _S, _O = (
    InstrumentClass.PERPETUAL,
    InstrumentClass.FUTURE,
    InstrumentClass.SPOT,
    InstrumentClass.OPTION,
)

RateKey = tuple[str, InstrumentClass] | tuple[str, InstrumentClass, Settlement]

_DEFAULTS: tuple[tuple[RateKey, FeeRate], ...] = (
    ((Venue.DERIBIT.value, _P), _DERIBIT_DERIV),
    ((Venue.DERIBIT.value, _F), _DERIBIT_DERIV),
    ((Venue.DERIBIT.value, _O), _DERIBIT_OPTION),
    ((Venue.DERIBIT.value, _O, Settlement.LINEAR), _DERIBIT_LINEAR_OPTION),
    ((Venue.BINANCE.value, _S), _BINANCE_SPOT),
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
    ((Venue.HYPERLIQUID.value, _P), FeeRate(maker=0.00015, taker=0.00045)),
    ((Venue.HYPERLIQUID.value, _S), FeeRate(maker=0.0004, taker=0.0007)),
    ((Venue.SIM.value, _S), _BINANCE_SPOT),
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


def _rebuild_model(
    rates: Mapping[RateKey, FeeRate], overrides: Mapping[str, FeeRate], fallback: FeeRate | None
) -> FeeModel:
    return FeeModel(rates=rates, overrides=overrides, fallback=fallback)


def _check_key(key: object) -> None:
    ok = (
        isinstance(key, tuple)
        and len(key) in (2, 3)
        and isinstance(key[0], str)
        and isinstance(key[1], InstrumentClass)
        and (len(key) == 2 or isinstance(key[2], Settlement))
    )
    if not ok:
        raise ValidationError(
            f"rates key {key!r} must be (venue: str, InstrumentClass) or (venue, InstrumentClass, Settlement)"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FeeModel:
    """Fee rates per (venue, instrument class[, settlement]), per-instrument overrides and a fallback.

    Parameters
    ----------
    rates
        ``{(venue, InstrumentClass): FeeRate}``; a key may add a
        :class:`~spreadlab.core.enums.Settlement` to single out e.g. a venue's
        USDC-linear options.
    overrides
        ``{"VENUE:SYMBOL": FeeRate}``, consulted first.
    fallback
        Rate for venues and classes not in ``rates``; ``None`` makes them an error.

    Examples
    --------
    >>> from spreadlab.instruments import parse_symbol
    >>> fees = FeeModel.default()
    >>> perp = parse_symbol("BINANCE_USDM", "BTCUSDT")
    >>> fees.fee(perp, 0.5, 60_000.0, Liquidity.TAKER)  # 0.05% of 30,000 USDT
    15.0
    >>> opt = parse_symbol("DERIBIT", "BTC-27JUN25-100000-C")
    >>> fees.fee(opt, 1.0, 0.05, Liquidity.TAKER)  # 0.03% of 1 BTC, below 12.5% of 0.05 BTC
    0.0003
    >>> fees.fee(opt, 1.0, 0.001, Liquidity.TAKER)  # capped: 12.5% of 0.001 BTC
    0.000125
    """

    rates: Mapping[RateKey, FeeRate] = field(default_factory=dict)
    overrides: Mapping[str, FeeRate] = field(default_factory=dict)
    fallback: FeeRate | None = None

    def __post_init__(self) -> None:
        for key in self.rates:
            _check_key(key)
        object.__setattr__(self, "rates", _freeze(self.rates.items(), "rates"))
        object.__setattr__(self, "overrides", _freeze(self.overrides.items(), "overrides"))
        if self.fallback is not None and not isinstance(self.fallback, FeeRate):
            raise ValidationError(f"fallback={self.fallback!r} must be a FeeRate or None")

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickle as plain dicts (a mappingproxy does not pickle): objectives ship to worker processes."""
        return (_rebuild_model, (dict(self.rates), dict(self.overrides), self.fallback))

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

    def class_rate(self, venue: str, cls: InstrumentClass, settlement: Settlement | None = None) -> FeeRate:
        """Return the :class:`FeeRate` of a venue and instrument class (and settlement).

        Examples
        --------
        >>> FeeModel.default().class_rate("DERIBIT", InstrumentClass.OPTION, Settlement.LINEAR).taker
        0.0005
        """
        rate = (
            self.rates.get((venue, cls, settlement)) if settlement is not None else None
        ) or self.rates.get((venue, cls))
        if rate is not None:
            return rate
        if self.fallback is not None:
            return self.fallback
        raise ValidationError(
            f"no fee rate for venue={venue!r} and class={cls.value!r}; add it to rates or set a fallback"
        )

    def rate_for(self, instrument: Instrument) -> FeeRate:
        """Return the :class:`FeeRate` that applies to ``instrument``."""
        key = str(instrument.id)
        if key in self.overrides:
            return self.overrides[key]
        try:
            return self.class_rate(instrument.id.venue, instrument_class(instrument), instrument.settlement)
        except ValidationError as exc:
            raise ValidationError(f"{exc} (instrument {key})") from None

    def rate(self, instrument: Instrument, liquidity: Liquidity, *, volume_30d: float = 0.0) -> float:
        """Return the fee rate (fraction of notional; options: of the underlying's notional)."""
        return self.rate_for(instrument).rate(liquidity, volume_30d=volume_30d)

    def fee(
        self,
        instrument: Instrument,
        qty: float,
        price: float,
        liquidity: Liquidity,
        *,
        underlying_price: float | None = None,
        volume_30d: float = 0.0,
    ) -> float:
        """Return the fee of one fill in the instrument's settlement currency (negative: a rebate).

        Parameters
        ----------
        instrument
            The traded instrument.
        qty
            Contracts traded (sign ignored).
        price
            Fill price as the venue quotes it (coin for a coin-settled option's premium).
        liquidity
            Maker or taker.
        underlying_price
            USDC-linear options only: the underlying's index price in the premium currency.
        volume_30d
            The account's 30-day volume (USD) for the tier lookup.
        """
        q = abs(require_finite("qty", qty))
        p = require_finite("price", price)
        if p <= 0.0:
            raise ValidationError(f"price={p} must be > 0")
        fr = self.rate_for(instrument)
        r = fr.rate(liquidity, volume_30d=volume_30d)
        m = instrument.multiplier
        if isinstance(instrument, Option):
            if instrument.is_inverse:
                unit = 1.0
            elif underlying_price is None:
                raise ValidationError(
                    f"underlying_price is required for the linear option {instrument.id} "
                    "(its fee is a fraction of the underlying's price)"
                )
            else:
                unit = require_non_negative("underlying_price", underlying_price)
            return q * m * _capped(r * unit, fr.cap, p)
        if instrument.is_inverse:
            return r * q * m / p
        return r * q * m * p

    def fee_usd(
        self,
        instrument: Instrument,
        *,
        quantity: float,
        price_usd: float,
        underlying_usd: float | None = None,
        liquidity: Liquidity = Liquidity.TAKER,
        volume_30d: float = 0.0,
    ) -> float:
        """Return the fee in USD of one fill, from USD values (what scanners hold).

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
        volume_30d
            The account's 30-day volume (USD) for the tier lookup.

        Examples
        --------
        >>> from spreadlab.instruments import parse_symbol
        >>> opt = parse_symbol("DERIBIT", "BTC-27JUN25-100000-C")
        >>> # 1 BTC of a 0.05 BTC option with BTC at 60,000: 0.03% of 60,000 = 18 USD (cap 375 USD)
        >>> FeeModel.default().fee_usd(opt, quantity=1.0, price_usd=0.05 * 60_000, underlying_usd=60_000)
        18.0
        """
        q = abs(require_finite("quantity", quantity))
        p = require_non_negative("price_usd", price_usd)
        fr = self.rate_for(instrument)
        r = fr.rate(liquidity, volume_30d=volume_30d)
        if isinstance(instrument, Option):
            if underlying_usd is None:
                raise ValidationError(f"underlying_usd is required for the option {instrument.id}")
            u = require_non_negative("underlying_usd", underlying_usd)
            return q * _capped(r * u * instrument.multiplier, fr.cap, p)
        return q * p * r

    def fee_bp(
        self, instrument: Instrument, *, liquidity: Liquidity = Liquidity.TAKER, volume_30d: float = 0.0
    ) -> float:
        """Return the rate in basis points of notional (options: of the underlying's notional)."""
        return self.rate(instrument, liquidity, volume_30d=volume_30d) * 1e4

    def arrays(self, instruments: Sequence[Instrument], *, volume_30d: float = 0.0) -> FeeArrays:
        """Export the maker rate, taker rate and option premium cap of each instrument as float64 arrays.

        Examples
        --------
        >>> from spreadlab.instruments import parse_symbol
        >>> a = FeeModel.default().arrays([parse_symbol("DERIBIT", "BTC-PERPETUAL"),
        ...                                parse_symbol("DERIBIT", "BTC-27JUN25-100000-C")])
        >>> a.taker.tolist(), a.premium_cap.tolist()
        ([0.0005, 0.0003], [inf, 0.125])
        """
        rates = [self.rate_for(i) for i in instruments]
        caps = [r.cap if isinstance(i, Option) else np.inf for r, i in zip(rates, instruments, strict=True)]
        return FeeArrays(
            maker=np.array([r.rate(Liquidity.MAKER, volume_30d=volume_30d) for r in rates], dtype=np.float64),
            taker=np.array([r.rate(Liquidity.TAKER, volume_30d=volume_30d) for r in rates], dtype=np.float64),
            premium_cap=np.array(caps, dtype=np.float64),
        )
