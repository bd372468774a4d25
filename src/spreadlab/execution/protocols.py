"""What the engine needs from a venue: the ``MarketDataFeed`` and ``ExecutionClient`` protocols.

A live adapter (``spreadlab.adapters.<venue>``) and the backtest's simulated venue both satisfy
them, so the engine, strategy and risk code never see which one they drive. Everything crossing
the protocol is a spreadlab value: instruments by :class:`~spreadlab.core.ids.InstrumentId`,
sides, order types and times in force as the core enums, times as int nanoseconds UTC with the
venue's time (``ts_event``) and the local receive time (``ts_recv``). Raw venue payloads stay in
the adapter.

An order is named by its client order id, chosen by the caller: sending the same request twice
(a retry after a timeout) never makes two orders. A refused order is a value
(:attr:`OrderStatus.REJECTED` with the venue's reason), not an exception.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from spreadlab.core.enums import Liquidity, OrderType, Side, TimeInForce
from spreadlab.core.ids import InstrumentId
from spreadlab.core.validate import require_finite, require_non_negative, require_positive
from spreadlab.errors import ValidationError
from spreadlab.events.messages import BookSnapshot, FundingRate, Quote

__all__ = [
    "BalanceReport",
    "ExecutionClient",
    "FillReport",
    "FundingPayment",
    "MarketDataFeed",
    "OrderAck",
    "OrderRequest",
    "OrderStatus",
    "PositionReport",
]


class OrderStatus(StrEnum):
    """Where an order stands at the venue."""

    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"

    @property
    def is_open(self) -> bool:
        """True while the order can still fill."""
        return self in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)


def _check_id(name: str, value: str) -> None:
    if not isinstance(value, str) or not value or len(value) > 36:
        raise ValidationError(f"{name}={value!r} must be a non-empty string of at most 36 characters")


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    """One order to send. ``qty`` is in the instrument's contracts (its lot units); ``price`` for limits."""

    client_order_id: str
    instrument_id: InstrumentId
    side: Side
    qty: float
    order_type: OrderType = OrderType.LIMIT
    price: float | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False

    def __post_init__(self) -> None:
        _check_id("client_order_id", self.client_order_id)
        if not isinstance(self.side, Side):
            raise ValidationError(f"side={self.side!r} must be a Side")
        require_positive("qty", self.qty)
        if self.order_type is OrderType.LIMIT:
            if self.price is None:
                raise ValidationError("price=None: a limit order needs a price")
            require_positive("price", self.price)
        elif self.order_type is OrderType.MARKET:
            if self.price is not None:
                raise ValidationError(f"price={self.price!r}: a market order takes no price")
        else:
            raise ValidationError(f"order_type={self.order_type!r}: adapters send limit and market orders")


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderAck:
    """The venue's view of an order: its id, status and what has filled so far."""

    client_order_id: str
    venue_order_id: str
    instrument_id: InstrumentId
    side: Side
    status: OrderStatus
    qty: float
    filled_qty: float
    avg_price: float | None
    ts_event: int
    ts_recv: int
    reason: str = ""

    def __post_init__(self) -> None:
        require_non_negative("qty", self.qty)
        require_non_negative("filled_qty", self.filled_qty)
        if self.avg_price is not None:
            require_positive("avg_price", self.avg_price)


@dataclass(frozen=True, slots=True, kw_only=True)
class FillReport:
    """One execution of one of our orders; ``fee`` in ``fee_currency``."""

    trade_id: str
    venue_order_id: str
    instrument_id: InstrumentId
    side: Side
    price: float
    qty: float
    fee: float
    fee_currency: str
    liquidity: Liquidity
    ts_event: int
    ts_recv: int

    def __post_init__(self) -> None:
        require_positive("price", self.price)
        require_positive("qty", self.qty)
        require_finite("fee", self.fee)


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionReport:
    """A venue position: signed ``qty`` in contracts, the venue's average entry price."""

    instrument_id: InstrumentId
    qty: float
    entry_price: float
    ts_recv: int

    def __post_init__(self) -> None:
        require_finite("qty", self.qty)
        require_non_negative("entry_price", self.entry_price)


@dataclass(frozen=True, slots=True, kw_only=True)
class BalanceReport:
    """Wallet balance (``total``) and what is free to trade, in one currency."""

    currency: str
    total: float
    free: float
    ts_recv: int

    def __post_init__(self) -> None:
        require_finite("total", self.total)
        require_finite("free", self.free)


@dataclass(frozen=True, slots=True, kw_only=True)
class FundingPayment:
    """Funding paid (``amount < 0``) or received (``amount > 0``) on a perpetual position."""

    instrument_id: InstrumentId
    amount: float
    currency: str
    ts_event: int

    def __post_init__(self) -> None:
        require_finite("amount", self.amount)


@runtime_checkable
class MarketDataFeed(Protocol):
    """Market data of one venue."""

    async def book(self, instrument_id: InstrumentId, *, depth: int = 20) -> BookSnapshot:
        """Fetch a book snapshot now."""
        ...

    def books(self, instrument_ids: Sequence[InstrumentId]) -> AsyncIterator[BookSnapshot]:
        """Stream books: each update as a full snapshot, resynced after a gap or a reconnect."""
        ...

    async def quote(self, instrument_id: InstrumentId) -> Quote:
        """Fetch the best bid and offer."""
        ...

    async def funding(self, instrument_id: InstrumentId) -> FundingRate:
        """Fetch the current funding rate of a perpetual."""
        ...

    async def close(self) -> None:
        """Close connections."""
        ...


@runtime_checkable
class ExecutionClient(Protocol):
    """Orders and account state at one venue."""

    async def place(self, request: OrderRequest) -> OrderAck:
        """Send an order (idempotent by client order id); a refusal is an ack with REJECTED."""
        ...

    async def cancel(self, instrument_id: InstrumentId, client_order_id: str) -> OrderAck:
        """Cancel an order; cancelling one that is no longer open returns its final state."""
        ...

    async def amend(
        self, instrument_id: InstrumentId, client_order_id: str, *, qty: float, price: float
    ) -> OrderAck:
        """Set an open limit order's total quantity and price (it may fill at once if it now crosses)."""
        ...

    async def order(self, instrument_id: InstrumentId, client_order_id: str) -> OrderAck | None:
        """Fetch an order by client order id (None if the venue has never seen it)."""
        ...

    async def open_orders(self, instrument_id: InstrumentId | None = None) -> list[OrderAck]:
        """Open orders."""
        ...

    async def fills(self, instrument_id: InstrumentId) -> list[FillReport]:
        """Our executions on an instrument, oldest first."""
        ...

    async def positions(self) -> list[PositionReport]:
        """Non-zero positions."""
        ...

    async def balances(self) -> list[BalanceReport]:
        """Balances per currency."""
        ...

    async def close(self) -> None:
        """Close connections."""
        ...
