"""Immutable market messages.

Every message carries ``ts_event`` (the venue's time) and ``ts_recv`` (the
local receive time), both int nanoseconds UTC; latency and look-ahead are
modelled from the pair. Prices are validated at construction: NaN, infinite
or non-positive prices never enter the system.
"""

from __future__ import annotations

from dataclasses import dataclass

from spreadlab.core.enums import Side
from spreadlab.core.ids import InstrumentId
from spreadlab.core.validate import require_finite, require_non_negative, require_positive
from spreadlab.errors import ValidationError

__all__ = [
    "BookAction",
    "BookDelta",
    "BookSnapshot",
    "FundingRate",
    "MarkPrice",
    "MarketEvent",
    "OptionQuote",
    "Quote",
    "Trade",
]


def _check_times(ts_event: int, ts_recv: int) -> None:
    for name, v in (("ts_event", ts_event), ("ts_recv", ts_recv)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValidationError(f"{name}={v!r} must be an int number of nanoseconds >= 0")


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketEvent:
    """Base of every market message."""

    instrument_id: InstrumentId
    ts_event: int
    ts_recv: int

    def __post_init__(self) -> None:
        if not isinstance(self.instrument_id, InstrumentId):
            raise ValidationError(f"instrument_id={self.instrument_id!r} must be an InstrumentId")
        _check_times(self.ts_event, self.ts_recv)


@dataclass(frozen=True, slots=True, kw_only=True)
class Quote(MarketEvent):
    """Best bid and offer. A crossed quote (bid > ask) is rejected; locked is allowed."""

    bid: float
    ask: float
    bid_size: float
    ask_size: float

    def __post_init__(self) -> None:
        MarketEvent.__post_init__(self)
        require_positive("bid", self.bid)
        require_positive("ask", self.ask)
        require_non_negative("bid_size", self.bid_size)
        require_non_negative("ask_size", self.ask_size)
        if self.bid > self.ask:
            raise ValidationError(f"bid={self.bid} > ask={self.ask}: a quote cannot be crossed")

    @property
    def mid(self) -> float:
        """Mid price."""
        return 0.5 * (self.bid + self.ask)


@dataclass(frozen=True, slots=True, kw_only=True)
class Trade(MarketEvent):
    """A print. ``aggressor`` is the taker's side, if the venue says."""

    price: float
    size: float
    aggressor: Side | None = None
    trade_id: str = ""

    def __post_init__(self) -> None:
        MarketEvent.__post_init__(self)
        require_positive("price", self.price)
        require_positive("size", self.size)


class BookAction:
    """Integer codes of book actions (kept as ints for the columnar schema)."""

    SET = 0  # set the level to ``size`` (0 deletes it): Binance/Bybit/Tardis semantics
    CLEAR = 1  # clear the side before a snapshot


@dataclass(frozen=True, slots=True, kw_only=True)
class BookDelta(MarketEvent):
    """Set one price level to an absolute size; ``size == 0`` removes the level.

    ``sequence`` is the venue's update id (Binance ``u``); ``is_snapshot``
    marks levels that belong to a snapshot being (re)loaded.
    """

    side: Side
    price: float
    size: float
    sequence: int = 0
    is_snapshot: bool = False

    def __post_init__(self) -> None:
        MarketEvent.__post_init__(self)
        if not isinstance(self.side, Side):
            raise ValidationError(f"side={self.side!r} must be a Side")
        require_positive("price", self.price)
        require_non_negative("size", self.size)


@dataclass(frozen=True, slots=True, kw_only=True)
class BookSnapshot(MarketEvent):
    """A full (or top-N) book: ``bids`` descending and ``asks`` ascending (price, size)."""

    bids: tuple[tuple[float, float], ...]
    asks: tuple[tuple[float, float], ...]
    sequence: int = 0

    def __post_init__(self) -> None:
        MarketEvent.__post_init__(self)
        for name, levels, desc in (("bids", self.bids, True), ("asks", self.asks, False)):
            prev: float | None = None
            for i, (p, s) in enumerate(levels):
                require_positive(f"{name}[{i}].price", p)
                require_non_negative(f"{name}[{i}].size", s)
                if prev is not None and ((p >= prev) if desc else (p <= prev)):
                    order = "descending" if desc else "ascending"
                    raise ValidationError(f"{name}[{i}].price={p} breaks the {order} order of {name}")
                prev = p
        if self.bids and self.asks and self.bids[0][0] > self.asks[0][0]:
            raise ValidationError(
                f"best bid {self.bids[0][0]} > best ask {self.asks[0][0]}: the snapshot is crossed"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class FundingRate(MarketEvent):
    """A perpetual's funding rate per funding interval, paid at ``funding_time_ns``."""

    rate: float
    funding_time_ns: int
    interval_ns: int

    def __post_init__(self) -> None:
        MarketEvent.__post_init__(self)
        require_finite("rate", self.rate)
        if self.interval_ns <= 0:
            raise ValidationError(f"interval_ns={self.interval_ns} must be > 0")
        if self.funding_time_ns < 0:
            raise ValidationError(f"funding_time_ns={self.funding_time_ns} must be >= 0")


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkPrice(MarketEvent):
    """The venue's mark and index price."""

    mark: float
    index: float

    def __post_init__(self) -> None:
        MarketEvent.__post_init__(self)
        require_positive("mark", self.mark)
        require_positive("index", self.index)


@dataclass(frozen=True, slots=True, kw_only=True)
class OptionQuote(MarketEvent):
    """An option's quote with the venue's IVs and greeks.

    Prices are in the option's premium currency (coin for coin-settled
    options). ``bid``/``ask`` are ``None`` when that side is empty.
    """

    bid: float | None
    ask: float | None
    mark: float
    underlying_price: float
    bid_iv: float | None = None
    ask_iv: float | None = None
    mark_iv: float | None = None
    delta: float | None = None
    open_interest: float = 0.0

    def __post_init__(self) -> None:
        MarketEvent.__post_init__(self)
        if self.bid is not None:
            require_positive("bid", self.bid)
        if self.ask is not None:
            require_positive("ask", self.ask)
        if self.bid is not None and self.ask is not None and self.bid > self.ask:
            raise ValidationError(f"bid={self.bid} > ask={self.ask}: a quote cannot be crossed")
        require_positive("mark", self.mark)
        require_positive("underlying_price", self.underlying_price)
        for name in ("bid_iv", "ask_iv", "mark_iv", "delta"):
            v = getattr(self, name)
            if v is not None:
                require_finite(name, v)
        require_non_negative("open_interest", self.open_interest)
