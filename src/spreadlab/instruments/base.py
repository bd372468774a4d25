"""Contract specifications: Spot, Perpetual, Future and Option.

Every instrument knows its tick and lot size, its multiplier (contract size)
and its :class:`~spreadlab.core.enums.ContractKind`: linear (PnL in the quote
currency), inverse (PnL ``q * m * (1/entry - 1/exit)`` in coin), a coin-settled
option (premium quoted in coin, PnL ``q * m * (exit - entry)`` in coin) or a
stablecoin-settled option. Notional, PnL, funding and the USD value of the
settlement currency are computed by the kernels in
:mod:`spreadlab.kernels.contracts`. A dated contract counts its time to expiry
in its ``day_count`` (by default the listing venue's, ACT/365 on Deribit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spreadlab._typing import FloatArray, IntArray
from spreadlab.core.enums import ContractKind, DayCount, OptionKind, Settlement
from spreadlab.core.ids import InstrumentId
from spreadlab.core.time import NS_PER_HOUR, venue_day_count, year_fraction
from spreadlab.core.validate import require_non_negative, require_positive
from spreadlab.errors import ValidationError

__all__ = ["Future", "Instrument", "Option", "Perpetual", "Spot"]

_CCY_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789k")
USD_LIKE = frozenset({"USD", "USDT", "USDC", "BUSD", "FDUSD", "DAI", "TUSD", "USDE"})
"""Currencies taken at 1 USD when converting a settlement currency to USD."""


def _check_currency(name: str, value: str) -> None:
    if not value or not isinstance(value, str) or not set(value) <= _CCY_CHARS:
        raise ValidationError(f"{name}={value!r} must be a currency code such as 'BTC' or 'USDT'")


def _as_array(x: float | FloatArray) -> FloatArray:
    return np.atleast_1d(np.asarray(x, dtype=np.float64))


def _set_day_count(inst: Future | Option) -> None:
    if inst.day_count is None:
        object.__setattr__(inst, "day_count", venue_day_count(inst.id.venue))
    elif not isinstance(inst.day_count, DayCount):
        raise ValidationError(f"day_count={inst.day_count!r} must be a DayCount such as DayCount.ACT_365")


@dataclass(frozen=True, slots=True, kw_only=True)
class Instrument:
    """Fields common to every tradable instrument.

    Parameters
    ----------
    id
        ``VENUE:SYMBOL``.
    base, quote
        The traded coin and the currency prices are quoted in.
    settlement_currency
        Currency in which PnL is paid (the quote for linear, the base for inverse).
    settlement
        ``Settlement.LINEAR`` or ``Settlement.INVERSE``.
    tick_size, lot_size
        Price increment and quantity increment (> 0).
    multiplier
        Contract size: coin per contract (linear) or USD per contract (inverse).
    min_notional
        Smallest order notional in the quote currency (>= 0).
    listing_ns
        Listing time in ns UTC, if known.
    """

    id: InstrumentId
    base: str
    quote: str
    settlement_currency: str
    settlement: Settlement = Settlement.LINEAR
    tick_size: float
    lot_size: float
    multiplier: float = 1.0
    min_notional: float = 0.0
    listing_ns: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, InstrumentId):
            raise ValidationError(f"id={self.id!r} must be an InstrumentId")
        _check_currency("base", self.base)
        _check_currency("quote", self.quote)
        _check_currency("settlement_currency", self.settlement_currency)
        if not isinstance(self.settlement, Settlement):
            raise ValidationError(f"settlement={self.settlement!r} must be a Settlement")
        require_positive("tick_size", self.tick_size)
        require_positive("lot_size", self.lot_size)
        require_positive("multiplier", self.multiplier)
        require_non_negative("min_notional", self.min_notional)
        if self.listing_ns is not None and self.listing_ns < 0:
            raise ValidationError(f"listing_ns={self.listing_ns} must be >= 0")

    @property
    def is_inverse(self) -> bool:
        """True for coin-margined (inverse) contracts and coin-settled options."""
        return self.settlement is Settlement.INVERSE

    @property
    def contract_kind(self) -> ContractKind:
        """How value, PnL and fees are computed: ``LINEAR`` or ``INVERSE`` (options override)."""
        return ContractKind.INVERSE if self.is_inverse else ContractKind.LINEAR

    def settlement_usd(
        self, price: float | FloatArray, *, underlying_price: float | FloatArray | None = None
    ) -> FloatArray:
        """Return USD per unit of the settlement currency at each ``price``.

        1 for a stablecoin (:data:`USD_LIKE`); the contract's own price (USD
        per coin) for an inverse perpetual or future; ``underlying_price`` for
        a coin-settled option (its premium is in coin, not USD). A linear
        contract settled in a coin (e.g. ETH/BTC spot) has no conversion of
        its own: pass the coin's price yourself.

        Examples
        --------
        >>> from spreadlab.instruments import parse_symbol
        >>> parse_symbol("DERIBIT", "BTC-PERPETUAL").settlement_usd(60_000.0).tolist()
        [60000.0]
        >>> call = parse_symbol("DERIBIT", "BTC-27JUN25-100000-C")
        >>> call.settlement_usd(0.05, underlying_price=60_000.0).tolist()
        [60000.0]
        """
        p = _as_array(price)
        kind = self.contract_kind
        if kind is ContractKind.COIN_OPTION:
            if underlying_price is None:
                raise ValidationError(
                    f"underlying_price is required to convert {self.id}'s {self.settlement_currency} "
                    "to USD (a coin option's premium is not a USD price)"
                )
            u = _as_array(underlying_price)
        elif kind is ContractKind.INVERSE:
            u = p
        elif self.settlement_currency in USD_LIKE:
            u = np.ones_like(p)
        else:
            raise ValidationError(
                f"{self.id} settles in {self.settlement_currency}, not a USD stablecoin: "
                f"pass the USD price of {self.settlement_currency} explicitly"
            )
        p, u = np.broadcast_arrays(p, u)
        from spreadlab.kernels import contracts as _k  # numba: loaded on first use

        return _k.settlement_fx(np.ascontiguousarray(p), np.ascontiguousarray(u), int(kind))

    def round_price(self, price: float) -> float:
        """Round ``price`` to the nearest tick."""
        return round(round(price / self.tick_size) * self.tick_size, 12)

    def round_qty(self, qty: float) -> float:
        """Round ``qty`` toward zero to a whole number of lots."""
        lots = math.floor(abs(qty) / self.lot_size + 1e-9)
        return math.copysign(round(lots * self.lot_size, 12), qty)

    def notional(self, qty: float | FloatArray, price: float | FloatArray) -> FloatArray:
        """Signed value of ``qty`` contracts at ``price`` in the settlement currency.

        Linear: ``q * m * P`` (quote); inverse: ``q * m / P`` (coin); options:
        the premium value ``q * m * P`` (coin for a coin-settled option).
        """
        q, p = np.broadcast_arrays(_as_array(qty), _as_array(price))
        from spreadlab.kernels import contracts as _k  # numba: loaded on first use

        return _k.notional(
            np.ascontiguousarray(q), np.ascontiguousarray(p), self.multiplier, int(self.contract_kind)
        )

    def pnl(
        self, qty: float | FloatArray, entry: float | FloatArray, exit_: float | FloatArray
    ) -> FloatArray:
        """PnL in the settlement currency of ``qty`` contracts from ``entry`` to ``exit_``.

        Examples
        --------
        >>> from spreadlab.instruments import parse_symbol
        >>> perp = parse_symbol("DERIBIT", "BTC-PERPETUAL")
        >>> float(perp.pnl(10_000 / perp.multiplier, 50_000.0, 55_000.0)[0])  # doctest: +ELLIPSIS
        0.01818181...
        >>> call = parse_symbol("DERIBIT", "BTC-27JUN25-100000-C")  # premium in BTC
        >>> round(float(call.pnl(1, 0.05, 0.06)[0]), 12)
        0.01
        """
        q, a, b = np.broadcast_arrays(_as_array(qty), _as_array(entry), _as_array(exit_))
        from spreadlab.kernels import contracts as _k  # numba: loaded on first use

        return _k.pnl(
            np.ascontiguousarray(q),
            np.ascontiguousarray(a),
            np.ascontiguousarray(b),
            self.multiplier,
            int(self.contract_kind),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Spot(Instrument):
    """A spot pair: buy ``base`` with ``quote``; always linear."""

    def __post_init__(self) -> None:
        Instrument.__post_init__(self)
        if self.settlement is not Settlement.LINEAR:
            raise ValidationError("settlement of a Spot instrument must be LINEAR")


@dataclass(frozen=True, slots=True, kw_only=True)
class Perpetual(Instrument):
    """A perpetual swap paying funding every ``funding_interval_ns``.

    Funding times are the multiples of the interval since the epoch shifted by
    ``funding_offset_ns`` (00:00, 08:00, 16:00 UTC for an 8h venue).
    """

    funding_interval_ns: int = 8 * NS_PER_HOUR
    funding_offset_ns: int = 0

    def __post_init__(self) -> None:
        Instrument.__post_init__(self)
        if self.funding_interval_ns <= 0:
            raise ValidationError(f"funding_interval_ns={self.funding_interval_ns} must be > 0")
        if not 0 <= self.funding_offset_ns < self.funding_interval_ns:
            raise ValidationError(
                f"funding_offset_ns={self.funding_offset_ns} must lie in [0, funding_interval_ns)"
            )

    def funding_times(self, start_ns: int, end_ns: int) -> np.ndarray:
        """Funding times in ``(start_ns, end_ns]`` as int64 ns."""
        step = self.funding_interval_ns
        first = ((start_ns - self.funding_offset_ns) // step + 1) * step + self.funding_offset_ns
        return np.arange(first, end_ns + 1, step, dtype=np.int64)

    def funding(
        self, qty: float | FloatArray, mark: float | FloatArray, rate: float | FloatArray
    ) -> FloatArray:
        """Funding cash flow in the settlement currency (positive = received)."""
        q, m, r = np.broadcast_arrays(_as_array(qty), _as_array(mark), _as_array(rate))
        from spreadlab.kernels import contracts as _k  # numba: loaded on first use

        return _k.funding_payment(
            np.ascontiguousarray(q),
            np.ascontiguousarray(m),
            np.ascontiguousarray(r),
            self.multiplier,
            int(self.contract_kind),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Future(Instrument):
    """A dated future expiring at ``expiry_ns``; years to expiry in ``day_count``.

    ``day_count=None`` takes the venue's (:func:`spreadlab.core.time.venue_day_count`).
    """

    expiry_ns: int
    day_count: DayCount | None = None

    def __post_init__(self) -> None:
        Instrument.__post_init__(self)
        _set_day_count(self)
        if self.expiry_ns <= 0:
            raise ValidationError(f"expiry_ns={self.expiry_ns} must be > 0")
        if self.listing_ns is not None and self.expiry_ns <= self.listing_ns:
            raise ValidationError(f"expiry_ns={self.expiry_ns} must be after listing_ns={self.listing_ns}")

    def time_to_expiry(self, ts_ns: int) -> float:
        """Years (in ``day_count``) from ``ts_ns`` to expiry; negative after expiry."""
        return float(year_fraction(ts_ns, self.expiry_ns, self.day_count))  # type: ignore[arg-type]

    def years_to_expiry(self, ts_ns: IntArray) -> FloatArray:
        """Years (in ``day_count``) from each of ``ts_ns`` to expiry, as a float64 array."""
        return np.atleast_1d(year_fraction(ts_ns, self.expiry_ns, self.day_count))  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True, kw_only=True)
class Option(Instrument):
    """A European option on ``underlying`` (coin-settled if inverse).

    Coin-settled (Deribit-style) options quote their premium in the base coin;
    linear options quote it in the quote currency. Years to expiry are counted
    in ``day_count`` (``None``: the venue's), the year of the venue's IVs.

    Examples
    --------
    >>> from spreadlab.instruments import parse_symbol
    >>> opt = parse_symbol("DERIBIT", "BTC-27JUN25-100000-C")
    >>> opt.day_count.value, round(opt.time_to_expiry(opt.expiry_ns - 73 * 86_400 * 10**9), 6)
    ('ACT/365', 0.2)
    """

    strike: float
    expiry_ns: int
    kind: OptionKind
    underlying: str
    day_count: DayCount | None = None

    def __post_init__(self) -> None:
        Instrument.__post_init__(self)
        _set_day_count(self)
        require_positive("strike", self.strike)
        if not isinstance(self.kind, OptionKind):
            raise ValidationError(f"kind={self.kind!r} must be an OptionKind")
        if self.expiry_ns <= 0:
            raise ValidationError(f"expiry_ns={self.expiry_ns} must be > 0")
        if self.listing_ns is not None and self.expiry_ns <= self.listing_ns:
            raise ValidationError(f"expiry_ns={self.expiry_ns} must be after listing_ns={self.listing_ns}")
        if not self.underlying:
            raise ValidationError("underlying must be a non-empty name")

    def time_to_expiry(self, ts_ns: int) -> float:
        """Years (in ``day_count``) from ``ts_ns`` to expiry; negative after expiry."""
        return float(year_fraction(ts_ns, self.expiry_ns, self.day_count))  # type: ignore[arg-type]

    def years_to_expiry(self, ts_ns: IntArray) -> FloatArray:
        """Years (in ``day_count``) from each of ``ts_ns`` to expiry, as a float64 array."""
        return np.atleast_1d(year_fraction(ts_ns, self.expiry_ns, self.day_count))  # type: ignore[arg-type]

    @property
    def contract_kind(self) -> ContractKind:
        """``COIN_OPTION`` (premium and PnL in coin) or ``LINEAR_OPTION`` (in the quote)."""
        return ContractKind.COIN_OPTION if self.is_inverse else ContractKind.LINEAR_OPTION

    def underlying_notional(
        self, qty: float | FloatArray, underlying_price: float | FloatArray
    ) -> FloatArray:
        """Signed notional of the underlying, ``q * m * S``, in the underlying's quote (USD).

        Examples
        --------
        >>> from spreadlab.instruments import parse_symbol
        >>> parse_symbol("OKX", "BTC-USD-250627-100000-C").underlying_notional(10, 60_000.0).tolist()
        [6000.0]
        """
        q, s = np.broadcast_arrays(_as_array(qty), _as_array(underlying_price))
        out: FloatArray = q * self.multiplier * s
        return out
