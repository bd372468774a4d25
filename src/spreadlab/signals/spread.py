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

``IV_RESIDUAL`` quotes an option (leg 1) against its forward (leg 2, the
delta hedge): the value is the option's Black-76 implied volatility with leg
2's price as the forward, so its deviation from a fitted surface's vol is the
option's IV residual (a volatility relative-value spread). Leg 2 enters at
its mid on both sides (it hedges; it does not move the quote).

Executable prices for a size: :class:`LegMarket` holds one leg's market (the
touch, optionally the L2 levels, and how to convert its price to USD). A leg
trading ``q`` units fills at the VWAP of walking the far side's levels
(:meth:`spreadlab.data.orderbook.OrderBook.impact`), or at the touch where
only a quote is known. :meth:`Spread.executable_at_size` prices the spread
from those VWAPs (each leg trades ``|ratio| * quantity`` units) and
:meth:`Spread.round_trip_cost` prices a round trip (enter on one side, exit
on the other) in USD::

    cost = sum over legs and both sides of  |vwap - mid| * units * usd_per_unit  +  fees

split into the half-spread part (touch vs mid), the impact part (vwap vs
touch) and the fees of a :class:`~spreadlab.instruments.fees.FeeModel`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from spreadlab._typing import FloatArray, IntArray
from spreadlab.core.enums import Liquidity, Side
from spreadlab.core.ids import InstrumentId
from spreadlab.core.validate import require_finite, require_non_negative, require_positive
from spreadlab.data.orderbook import OrderBook
from spreadlab.errors import ValidationError
from spreadlab.instruments.base import Future, Instrument, Option
from spreadlab.instruments.fees import FeeModel
from spreadlab.pricing.iv import implied_vol

__all__ = [
    "Leg",
    "LegFill",
    "LegMarket",
    "PriceSource",
    "RoundTripCost",
    "Spread",
    "SpreadQuote",
]


class SpreadQuote(StrEnum):
    """How leg prices combine into the spread's value."""

    DIFFERENCE = "difference"
    LOG_RATIO = "log_ratio"
    RATIO = "ratio"
    BASIS = "basis"
    ANNUALISED_BASIS = "annualised_basis"
    IV_RESIDUAL = "iv_residual"


_TWO_LEG = {SpreadQuote.RATIO, SpreadQuote.BASIS, SpreadQuote.ANNUALISED_BASIS, SpreadQuote.IV_RESIDUAL}
_SIGNED = {SpreadQuote.RATIO, SpreadQuote.BASIS, SpreadQuote.ANNUALISED_BASIS}


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
    (3.167, 3.501)
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
        if self.quote in _TWO_LEG and len(self.legs) != 2:
            raise ValidationError(f"quote={self.quote.value} needs exactly 2 legs, got {len(self.legs)}")
        if self.quote in _SIGNED and (self.legs[0].ratio <= 0 or self.legs[1].ratio >= 0):
            raise ValidationError(
                f"quote={self.quote.value} needs leg 1 long (ratio > 0) and leg 2 short (ratio < 0)"
            )
        if self.quote is SpreadQuote.ANNUALISED_BASIS and not isinstance(self.legs[0].instrument, Future):
            raise ValidationError("quote=annualised_basis needs a dated Future as leg 1")
        if self.quote is SpreadQuote.IV_RESIDUAL and (
            not isinstance(self.legs[0].instrument, Option) or isinstance(self.legs[1].instrument, Option)
        ):
            raise ValidationError(
                "quote=iv_residual needs an Option as leg 1 and its forward (not an option) as leg 2"
            )

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

        ``ts_ns`` (int64 ns per row) is required for ``ANNUALISED_BASIS`` and
        ``IV_RESIDUAL`` (whose value is the option's implied vol, NaN where the
        price is outside the no-arbitrage bounds).
        """
        p = self._prices(prices)
        q = self.quote
        if q is SpreadQuote.DIFFERENCE:
            return np.sum([leg.ratio * x for leg, x in zip(self.legs, p, strict=True)], axis=0)
        if q is SpreadQuote.LOG_RATIO:
            return np.sum([leg.ratio * np.log(x) for leg, x in zip(self.legs, p, strict=True)], axis=0)
        if q is SpreadQuote.RATIO:
            return p[0] / p[1]
        if q is SpreadQuote.IV_RESIDUAL:
            return self._implied_vol(p[0], p[1], ts_ns)
        basis = p[0] / p[1] - 1.0
        if q is SpreadQuote.BASIS:
            return basis
        if ts_ns is None:
            raise ValidationError("ts_ns is required for quote=annualised_basis")
        fut = self.legs[0].instrument
        if not isinstance(fut, Future):  # pragma: no cover - guaranteed by __post_init__
            raise ValidationError("quote=annualised_basis needs a dated Future as leg 1")
        years = fut.years_to_expiry(np.asarray(ts_ns, dtype=np.int64)).reshape(np.shape(ts_ns))
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
        if self.quote is SpreadQuote.IV_RESIDUAL:
            fwd = 0.5 * (b[1] + a[1])
            return self.value([b[0], fwd], ts_ns=ts_ns), self.value([a[0], fwd], ts_ns=ts_ns)
        increasing = [i == 0 if self.quote in _TWO_LEG else leg.ratio > 0 for i, leg in enumerate(self.legs)]
        sell_side = [bb if inc else aa for bb, aa, inc in zip(b, a, increasing, strict=True)]
        buy_side = [aa if inc else bb for bb, aa, inc in zip(b, a, increasing, strict=True)]
        return self.value(sell_side, ts_ns=ts_ns), self.value(buy_side, ts_ns=ts_ns)

    def _implied_vol(
        self, option_price: FloatArray, forward: FloatArray, ts_ns: IntArray | None
    ) -> FloatArray:
        if ts_ns is None:
            raise ValidationError("ts_ns is required for quote=iv_residual")
        opt = self.legs[0].instrument
        if not isinstance(opt, Option):  # pragma: no cover - guaranteed by __post_init__
            raise ValidationError("quote=iv_residual needs an Option as leg 1")
        years = opt.years_to_expiry(np.asarray(ts_ns, dtype=np.int64)).reshape(np.shape(ts_ns))
        if np.any(years <= 0):
            raise ValidationError(f"ts_ns reaches the expiry of {opt.id}: implied vol is undefined")
        shape = np.broadcast_shapes(option_price.shape, forward.shape, np.shape(years))
        res = implied_vol(
            np.broadcast_to(option_price, shape),
            forward=np.broadcast_to(forward, shape),
            strike=opt.strike,
            expiry_years=np.broadcast_to(years, shape),
            kind=opt.kind,
            settlement=opt.settlement,
        )
        return np.asarray(res.vol, dtype=np.float64)

    def _increasing(self) -> list[bool]:
        return [i == 0 if self.quote in _TWO_LEG else leg.ratio > 0 for i, leg in enumerate(self.legs)]

    def _markets(self, markets: Mapping[InstrumentId, LegMarket]) -> list[LegMarket]:
        missing = [str(i) for i in self.instrument_ids if i not in markets]
        if missing:
            raise ValidationError(f"markets are missing for legs {missing}")
        return [markets[i] for i in self.instrument_ids]

    def fills(
        self, markets: Mapping[InstrumentId, LegMarket], *, quantity: float, buy: bool
    ) -> tuple[LegFill, ...]:
        """Return each leg's fill when buying (``buy=True``) or selling ``quantity`` units of the spread.

        Buying the spread buys the legs its value increases with and sells the
        others; each leg trades ``|ratio| * quantity`` units.
        """
        q = require_positive("quantity", quantity)
        out = []
        for leg, mkt, inc in zip(self.legs, self._markets(markets), self._increasing(), strict=True):
            side = Side.BUY if inc == buy else Side.SELL
            out.append(mkt.fill(side, abs(leg.ratio) * q))
        return tuple(out)

    def executable_at_size(
        self,
        markets: Mapping[InstrumentId, LegMarket],
        *,
        quantity: float,
        ts_ns: int | None = None,
    ) -> tuple[float, float]:
        """Return (bid, ask) of the spread for ``quantity`` units, walking each leg's book.

        Each leg trades ``|ratio| * quantity`` units at the VWAP of its book
        levels (or at the touch where only a quote is known), so the band
        widens with size.

        Examples
        --------
        >>> from spreadlab.instruments import parse_symbol
        >>> perp = parse_symbol("BINANCE_USDM", "BTCUSDT")
        >>> spot = parse_symbol("BINANCE", "BTCUSDT")
        >>> s = Spread(legs=(Leg(instrument=perp, ratio=1.0), Leg(instrument=spot, ratio=-1.0)))
        >>> mk = {perp.id: LegMarket(instrument=perp, bid=101.0, ask=102.0,
        ...                          bid_levels=[(101.0, 1.0), (100.0, 1.0)], ask_levels=[(102.0, 5.0)]),
        ...       spot.id: LegMarket(instrument=spot, bid=99.0, ask=100.0, bid_size=9.0, ask_size=9.0)}
        >>> s.executable_at_size(mk, quantity=2.0)  # sells perp at (101 + 100) / 2, buys spot at 100
        (0.5, 3.0)
        """
        q = require_positive("quantity", quantity)
        return self.executable_at_units(markets, units=[abs(leg.ratio) * q for leg in self.legs], ts_ns=ts_ns)

    def executable_at_units(
        self,
        markets: Mapping[InstrumentId, LegMarket],
        *,
        units: Sequence[float],
        ts_ns: int | None = None,
    ) -> tuple[float, float]:
        """Return (bid, ask) of the spread when each leg trades the given number of ``units``.

        Use this when the legs' sizes are not ``|ratio| * quantity`` (e.g.
        equal USD notional on a linear and an inverse leg).
        """
        if len(units) != len(self.legs):
            raise ValidationError(f"units has {len(units)} entries for {len(self.legs)} legs")
        mk = self._markets(markets)
        ts = None if ts_ns is None else np.array([ts_ns], dtype=np.int64)
        sell: list[float] = []
        buy: list[float] = []
        for m, u, inc in zip(mk, units, self._increasing(), strict=True):
            u = require_positive("units", u)
            lo, hi = m.fill(Side.SELL, u).vwap, m.fill(Side.BUY, u).vwap
            sell.append(lo if inc else hi)
            buy.append(hi if inc else lo)
        if self.quote is SpreadQuote.IV_RESIDUAL:
            sell[1] = buy[1] = mk[1].mid
        bid = self.value([np.array([x]) for x in sell], ts_ns=ts)
        ask = self.value([np.array([x]) for x in buy], ts_ns=ts)
        return float(bid[0]), float(ask[0])

    def round_trip_cost(
        self,
        markets: Mapping[InstrumentId, LegMarket],
        *,
        quantity: float,
        fees: FeeModel,
        liquidity: Liquidity = Liquidity.TAKER,
        hedge_ratios: Sequence[float] | None = None,
    ) -> RoundTripCost:
        """Return the USD cost of entering ``quantity`` units of the spread and exiting them.

        The entry crosses one side of every leg's book and the exit the other,
        at the current books: half-spreads (touch vs mid), impact (VWAP vs
        touch) and fees on both fills of every leg. ``hedge_ratios`` replace
        the legs' ratios for sizing (e.g. an option's delta for its hedge leg).

        Examples
        --------
        >>> from spreadlab.instruments import parse_symbol
        >>> from spreadlab.instruments.fees import FeeModel
        >>> perp = parse_symbol("BINANCE_USDM", "BTCUSDT")
        >>> spot = parse_symbol("BINANCE", "BTCUSDT")
        >>> s = Spread(legs=(Leg(instrument=perp, ratio=1.0), Leg(instrument=spot, ratio=-1.0)))
        >>> mk = {perp.id: LegMarket(instrument=perp, bid=100.0, ask=100.2),
        ...       spot.id: LegMarket(instrument=spot, bid=99.9, ask=100.1)}
        >>> c = s.round_trip_cost(mk, quantity=10.0, fees=FeeModel.zero())
        >>> round(c.half_spread_usd, 9), c.fees_usd  # (0.1 + 0.1) * 10 per leg
        (4.0, 0.0)
        """
        q = require_positive("quantity", quantity)
        ratios = [leg.ratio for leg in self.legs] if hedge_ratios is None else list(hedge_ratios)
        if len(ratios) != len(self.legs):
            raise ValidationError(f"hedge_ratios has {len(ratios)} entries for {len(self.legs)} legs")
        fee_usd = spread_usd = impact_usd = notional = 0.0
        complete = True
        for leg, mkt, ratio in zip(self.legs, self._markets(markets), ratios, strict=True):
            units = abs(require_finite("hedge ratio", ratio)) * q
            if units == 0.0:
                continue
            mid = mkt.mid
            for side in (Side.BUY, Side.SELL):
                f = mkt.fill(side, units)
                complete = complete and f.complete
                spread_usd += abs(f.touch - mid) * units * mkt.usd_per_unit(mid)
                impact_usd += abs(f.vwap - f.touch) * units * mkt.usd_per_unit(mid)
                fee_usd += fees.fee_usd(
                    leg.instrument,
                    quantity=units,
                    price_usd=mkt.unit_usd(f.vwap),
                    underlying_usd=mkt.underlying_usd,
                    liquidity=liquidity,
                )
            notional += (
                units * mkt.unit_usd(mid)
                if not isinstance(leg.instrument, Option)
                else units * float(mkt.underlying_usd or 0.0) * leg.instrument.multiplier
            )
        return RoundTripCost(
            fees_usd=fee_usd,
            half_spread_usd=spread_usd,
            impact_usd=impact_usd,
            notional_usd=notional,
            complete=complete,
        )


class PriceSource(StrEnum):
    """Where a leg's executable prices come from, best first."""

    BOOK = "book"
    """L2 levels: fills walk the book."""
    QUOTE = "quote"
    """Top of book with sizes: fills at the touch."""
    MARK = "mark"
    """A mark price with an assumed half-spread: no executable quote was available."""
    BAR = "bar"
    """A bar close with an assumed half-spread: no executable quote was available."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LegFill:
    """The fill of one leg: ``vwap`` over ``filled`` of ``requested`` units; ``touch`` the best price.

    ``complete`` is False when the known depth (book levels or touch size)
    held less than ``requested``; the missing part is then priced at the
    last known level, so the cost is understated.
    """

    side: Side
    requested: float
    filled: float
    vwap: float
    touch: float
    complete: bool


def _levels(name: str, levels: object) -> FloatArray | None:
    if levels is None:
        return None
    arr = np.asarray(levels, dtype=np.float64)
    if arr.size == 0:
        return None
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValidationError(f"{name} must be (price, size) pairs, got shape {arr.shape}")
    if not np.isfinite(arr).all() or (arr[:, 0] <= 0).any() or (arr[:, 1] < 0).any():
        raise ValidationError(f"{name} must hold finite prices > 0 and sizes >= 0")
    return arr


@dataclass(frozen=True, slots=True, kw_only=True)
class LegMarket:
    """One leg's market at one time: touch, optional depth, and its USD conversion.

    Parameters
    ----------
    instrument
        The instrument.
    bid, ask
        Best bid and ask (> 0, ``bid <= ask``), in the instrument's quoting
        currency (coin for Deribit option premiums).
    bid_size, ask_size
        Sizes at the touch in units (None: unknown depth).
    bid_levels, ask_levels
        L2 levels as (price, size) pairs, best first; when given, fills walk them.
    usd_per_price
        USD per unit of price: 1 for USD-quoted prices, the coin's USD price
        for coin-quoted option premiums.
    underlying_usd
        Options: USD price of one unit of the underlying (for fees and notional).
    source
        Where the prices came from (:class:`PriceSource`).
    ts_ns
        Time of the quote (ns), if known.
    """

    instrument: Instrument
    bid: float
    ask: float
    bid_size: float | None = None
    ask_size: float | None = None
    bid_levels: FloatArray | None = None
    ask_levels: FloatArray | None = None
    usd_per_price: float = 1.0
    underlying_usd: float | None = None
    source: PriceSource = PriceSource.QUOTE
    ts_ns: int | None = None
    _book: OrderBook | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        require_positive("bid", self.bid)
        require_positive("ask", self.ask)
        if self.bid > self.ask:
            raise ValidationError(
                f"bid={self.bid!r} > ask={self.ask!r} for {self.instrument.id}: crossed quote"
            )
        for name in ("bid_size", "ask_size"):
            v = getattr(self, name)
            if v is not None:
                require_non_negative(name, v)
        require_positive("usd_per_price", self.usd_per_price)
        if self.underlying_usd is not None:
            require_positive("underlying_usd", self.underlying_usd)
        if isinstance(self.instrument, Option) and self.underlying_usd is None:
            raise ValidationError(f"underlying_usd is required for the option {self.instrument.id}")
        if not isinstance(self.source, PriceSource):
            raise ValidationError(f"source={self.source!r} must be a PriceSource")
        bl = _levels("bid_levels", self.bid_levels)
        al = _levels("ask_levels", self.ask_levels)
        object.__setattr__(self, "bid_levels", bl)
        object.__setattr__(self, "ask_levels", al)
        if bl is not None or al is not None:
            book = OrderBook(self.instrument.id)
            book.apply_snapshot(
                bids=bl if bl is not None else [(self.bid, 0.0)],
                asks=al if al is not None else [(self.ask, 0.0)],
            )
            object.__setattr__(self, "_book", book)

    @classmethod
    def from_price(
        cls,
        instrument: Instrument,
        price: float,
        *,
        half_spread_bp: float,
        source: PriceSource,
        usd_per_price: float = 1.0,
        underlying_usd: float | None = None,
        ts_ns: int | None = None,
    ) -> LegMarket:
        """Build a leg from one price (a mark or a bar close) and an assumed half-spread in bp."""
        p = require_positive("price", price)
        h = require_non_negative("half_spread_bp", half_spread_bp) / 1e4
        return cls(
            instrument=instrument,
            bid=p * (1.0 - h),
            ask=p * (1.0 + h),
            usd_per_price=usd_per_price,
            underlying_usd=underlying_usd,
            source=source,
            ts_ns=ts_ns,
        )

    @property
    def mid(self) -> float:
        """Return ``(bid + ask) / 2``."""
        return 0.5 * (self.bid + self.ask)

    @property
    def has_depth(self) -> bool:
        """True when book levels or touch sizes are known."""
        return self._book is not None or (self.bid_size is not None and self.ask_size is not None)

    def unit_usd(self, price: float) -> float:
        """Return the USD value of one unit at ``price`` (inverse contracts: their USD face value)."""
        if self.instrument.is_inverse and not isinstance(self.instrument, Option):
            return self.instrument.multiplier
        return price * self.instrument.multiplier * self.usd_per_price

    def usd_per_unit(self, price: float) -> float:
        """Return d(USD value of one unit)/d(price) near ``price``: the USD value of a price move."""
        if self.instrument.is_inverse and not isinstance(self.instrument, Option):
            return self.instrument.multiplier / price
        return self.instrument.multiplier * self.usd_per_price

    def fill(self, side: Side, quantity: float) -> LegFill:
        """Return the fill of a market order of ``quantity`` units on ``side``."""
        if not isinstance(side, Side):
            raise ValidationError(f"side={side!r} must be a Side")
        q = require_positive("quantity", quantity)
        touch = self.ask if side is Side.BUY else self.bid
        if self._book is not None:
            levels = self.ask_levels if side is Side.BUY else self.bid_levels
            if levels is not None and levels[:, 1].sum() > 0:
                imp = self._book.impact(side, q)
                if imp.complete:
                    return LegFill(
                        side=side, requested=q, filled=q, vwap=imp.vwap, touch=touch, complete=True
                    )
                # price the unfilled rest at the worst level seen
                vwap = (imp.vwap * imp.filled + imp.worst_price * (q - imp.filled)) / q
                return LegFill(
                    side=side, requested=q, filled=imp.filled, vwap=vwap, touch=touch, complete=False
                )
        size = self.ask_size if side is Side.BUY else self.bid_size
        complete = size is not None and q <= size * (1.0 + 1e-12)
        filled = q if size is None else min(q, size)
        return LegFill(side=side, requested=q, filled=filled, vwap=touch, touch=touch, complete=complete)


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundTripCost:
    """USD cost of entering and exiting a spread position at the current books.

    ``notional_usd`` is the one-way gross notional of all legs (options: of
    their underlying). ``complete`` is False when some leg's known depth was
    smaller than its size (the cost is then a lower bound).
    """

    fees_usd: float
    half_spread_usd: float
    impact_usd: float
    notional_usd: float
    complete: bool

    @property
    def total_usd(self) -> float:
        """Return fees + half-spreads + impact."""
        return self.fees_usd + self.half_spread_usd + self.impact_usd

    @property
    def bp_of_notional(self) -> float:
        """Return the total as basis points of ``notional_usd`` (NaN if it is 0)."""
        return self.total_usd / self.notional_usd * 1e4 if self.notional_usd > 0 else math.nan
