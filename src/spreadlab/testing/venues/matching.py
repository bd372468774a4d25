"""The matching engine behind the loopback venues.

Each instrument has an *external* book (the recorded real book of the venue,
moved forward by replaying its recorded deltas) and the orders of the one
test account. An incoming order crosses the external levels best price
first, taker, at each level's price; what is left rests (GTC), expires (IOC,
or FOK when the whole order cannot fill) or is rejected (post-only that would
cross). A resting order fills as maker, at its own price, when the replayed
book moves through it. Positions keep a signed quantity and the average entry
price; realised PnL and fees go to the balance of the settlement currency,
with the instrument's own contract math (linear, inverse, coin option).

This is test machinery, not the backtest's ``SimulatedVenue``: it serves the
venue wire protocols in :mod:`spreadlab.testing.venues.binance` and
:mod:`spreadlab.testing.venues.deribit`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from spreadlab.core.enums import Liquidity, Side, TimeInForce
from spreadlab.execution.protocols import OrderStatus
from spreadlab.instruments.base import Instrument, Option

__all__ = ["Book", "Fill", "MatchingEngine", "OrderStatus", "Rejection", "VenueOrder", "VenuePosition"]

_EPS = 1e-12


class Rejection(Exception):  # noqa: N818 - a venue's answer, carried to the wire layer
    """An order the venue refuses: ``reason`` is one of the engine's reason names."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(slots=True)
class Book:
    """One side-pair of price levels (price -> size) with the venue's sequence number."""

    bids: dict[float, float] = field(default_factory=dict)
    asks: dict[float, float] = field(default_factory=dict)
    sequence: int = 0
    ts_ms: int = 0

    def set_level(self, side: Side, price: float, size: float) -> None:
        """Set a level to an absolute size (0 removes it)."""
        levels = self.bids if side is Side.BUY else self.asks
        if size <= 0.0:
            levels.pop(price, None)
        else:
            levels[price] = size

    def sorted_bids(self, depth: int | None = None) -> list[tuple[float, float]]:
        """Bids best first."""
        out = sorted(self.bids.items(), key=lambda kv: -kv[0])
        return out if depth is None else out[:depth]

    def sorted_asks(self, depth: int | None = None) -> list[tuple[float, float]]:
        """Asks best first."""
        out = sorted(self.asks.items())
        return out if depth is None else out[:depth]

    def best_bid(self) -> tuple[float, float] | None:
        """Best bid (price, size) or None."""
        return max(self.bids.items()) if self.bids else None

    def best_ask(self) -> tuple[float, float] | None:
        """Best ask (price, size) or None."""
        return min(self.asks.items()) if self.asks else None


@dataclass(slots=True)
class Fill:
    """One execution of a test-account order."""

    trade_id: int
    order_id: int
    symbol: str
    side: Side
    price: float
    qty: float
    fee: float
    fee_currency: str
    liquidity: Liquidity
    realized_pnl: float
    ts_ms: int


@dataclass(slots=True)
class VenueOrder:
    """An order of the test account as the venue keeps it."""

    order_id: int
    client_id: str
    symbol: str
    side: Side
    kind: str  # "limit" | "market"
    price: float | None
    qty: float
    tif: TimeInForce
    reduce_only: bool
    ts_ms: int
    status: OrderStatus = OrderStatus.OPEN
    filled: float = 0.0
    notional_filled: float = 0.0
    update_ms: int = 0
    fills: list[Fill] = field(default_factory=list)

    @property
    def remaining(self) -> float:
        """Quantity still open."""
        return max(self.qty - self.filled, 0.0)

    @property
    def avg_price(self) -> float:
        """Average fill price (0 before the first fill)."""
        return self.notional_filled / self.filled if self.filled > 0 else 0.0


@dataclass(slots=True)
class VenuePosition:
    """Signed quantity and average entry price of one instrument."""

    symbol: str
    qty: float = 0.0
    entry_price: float = 0.0
    realized_pnl: float = 0.0


class MatchingEngine:
    """Orders, fills, positions and balances of one test account at one venue.

    Parameters
    ----------
    instruments
        The venue's symbol -> spreadlab instrument (tick, lot, contract math).
    balances
        Starting balance per currency.
    maker_fee, taker_fee
        Fee rates on the fill's notional in the settlement currency.
    """

    def __init__(
        self,
        instruments: dict[str, Instrument],
        *,
        balances: dict[str, float],
        maker_fee: float,
        taker_fee: float,
    ) -> None:
        self.instruments = dict(instruments)
        self.books: dict[str, Book] = {s: Book() for s in instruments}
        self.balances = dict(balances)
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        self.orders: dict[int, VenueOrder] = {}
        self.by_client_id: dict[str, int] = {}
        self.positions: dict[str, VenuePosition] = {s: VenuePosition(s) for s in instruments}
        self.funding_payments: list[tuple[str, float, str, int]] = []  # symbol, amount, ccy, ts_ms
        self.partial_fill_ratio: float | None = None  # fault: crossing orders fill this fraction only
        self.unique_client_ids = True  # Binance and Bybit refuse a repeated client id; Deribit does not
        self._order_ids = itertools.count(1_000_001)
        self._trade_ids = itertools.count(5_000_001)

    # ------------------------------------------------------------------ orders

    def place(
        self,
        *,
        symbol: str,
        side: Side,
        kind: str,
        qty: float,
        price: float | None,
        tif: TimeInForce,
        reduce_only: bool,
        client_id: str,
        ts_ms: int,
    ) -> VenueOrder:
        """Validate and match a new order; raise :class:`Rejection` when the venue refuses it."""
        inst = self.instruments.get(symbol)
        if inst is None:
            raise Rejection("unknown_symbol", f"unknown symbol {symbol!r}")
        if self.unique_client_ids and client_id and client_id in self.by_client_id:
            raise Rejection("duplicate_client_id", f"client order id {client_id!r} was already used")
        if not (qty > 0 and math.isfinite(qty)):
            raise Rejection("bad_qty", f"quantity {qty!r} must be > 0")
        if not _is_multiple(qty, inst.lot_size):
            raise Rejection("bad_lot", f"quantity {qty} is not a multiple of the lot size {inst.lot_size}")
        if kind == "limit":
            if price is None or not (price > 0 and math.isfinite(price)):
                raise Rejection("bad_price", f"limit price {price!r} must be > 0")
            if not _is_multiple(price, inst.tick_size):
                raise Rejection(
                    "bad_tick", f"price {price} is not a multiple of the tick size {inst.tick_size}"
                )
        book = self.books[symbol]
        ref = price if price is not None else _touch(book, side)
        if ref is not None and inst.min_notional > 0 and qty * inst.multiplier * ref < inst.min_notional:
            raise Rejection(
                "min_notional",
                f"order notional {qty * inst.multiplier * ref:.4f} is below the minimum {inst.min_notional}",
            )
        pos = self.positions[symbol]
        if reduce_only and (pos.qty * side.sign >= 0 or qty > abs(pos.qty) + _EPS):
            raise Rejection("reduce_only", f"reduce-only order of {qty} would not reduce position {pos.qty}")
        order = VenueOrder(
            order_id=next(self._order_ids),
            client_id=client_id,
            symbol=symbol,
            side=side,
            kind=kind,
            price=price,
            qty=qty,
            tif=tif,
            reduce_only=reduce_only,
            ts_ms=ts_ms,
            update_ms=ts_ms,
        )
        if tif is TimeInForce.POST_ONLY and self._crosses(order, book):
            order.status = OrderStatus.EXPIRED  # a post-only order never takes
            self._store(order)
            return order
        if tif is TimeInForce.FOK and self._fillable(order, book) + _EPS < qty:
            order.status = OrderStatus.EXPIRED
            self._store(order)
            return order
        self._store(order)
        self._take(order, book, ts_ms)
        if order.status.is_open and (order.kind == "market" or order.tif is TimeInForce.IOC):
            order.status = OrderStatus.EXPIRED  # the rest of an IOC or market order is dropped
        return order

    def cancel(self, *, order_id: int | None = None, client_id: str | None = None, ts_ms: int) -> VenueOrder:
        """Cancel an open order; raise :class:`Rejection` (``unknown_order``) when there is none."""
        order = self.find(order_id=order_id, client_id=client_id)
        if order is None or not order.status.is_open:
            raise Rejection("unknown_order", f"no open order id={order_id} client_id={client_id!r}")
        order.status = OrderStatus.CANCELED
        order.update_ms = ts_ms
        return order

    def amend(self, *, order_id: int, qty: float, price: float, ts_ms: int) -> VenueOrder:
        """Change an open limit order's quantity and price (it loses its place and may now cross)."""
        order = self.orders.get(order_id)
        if order is None or not order.status.is_open:
            raise Rejection("unknown_order", f"no open order id={order_id}")
        inst = self.instruments[order.symbol]
        if not (qty > order.filled and _is_multiple(qty, inst.lot_size)):
            raise Rejection("bad_lot", f"quantity {qty} must exceed the filled {order.filled} in whole lots")
        if not (price > 0 and _is_multiple(price, inst.tick_size)):
            raise Rejection("bad_tick", f"price {price} is not a multiple of the tick size {inst.tick_size}")
        order.qty, order.price, order.update_ms = qty, price, ts_ms
        self._take(order, self.books[order.symbol], ts_ms)
        return order

    def find(self, *, order_id: int | None = None, client_id: str | None = None) -> VenueOrder | None:
        """Look an order up by venue id or client id."""
        if order_id is not None:
            return self.orders.get(order_id)
        if client_id:
            oid = self.by_client_id.get(client_id)
            return self.orders.get(oid) if oid is not None else None
        return None

    def open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        """Open orders, oldest first."""
        return [
            o for o in self.orders.values() if o.status.is_open and (symbol is None or o.symbol == symbol)
        ]

    def fill_resting(self, *, symbol: str, ts_ms: int) -> list[Fill]:
        """Fill resting orders that the external book now crosses (maker, at the order's price)."""
        book = self.books[symbol]
        out: list[Fill] = []
        for order in self.open_orders(symbol):
            if order.kind != "limit" or order.price is None:
                continue
            levels = book.sorted_asks() if order.side is Side.BUY else book.sorted_bids()
            for lvl_price, lvl_size in levels:
                through = lvl_price <= order.price if order.side is Side.BUY else lvl_price >= order.price
                if not through or order.remaining <= _EPS:
                    break
                qty = self._cap(order, min(order.remaining, lvl_size))
                if qty <= _EPS:
                    break
                out.append(self._fill(order, order.price, qty, Liquidity.MAKER, ts_ms))
                book.set_level(order.side.opposite, lvl_price, lvl_size - qty)
        return out

    # ------------------------------------------------------------------ funding

    def apply_funding(self, *, symbol: str, rate: float, mark: float, ts_ms: int) -> float:
        """Charge one funding payment on the open position; return the amount paid (+) or earned (-)."""
        inst = self.instruments[symbol]
        pos = self.positions[symbol]
        if pos.qty == 0.0:
            return 0.0
        paid = float(inst.notional(pos.qty, mark)[0]) * rate
        ccy = inst.settlement_currency
        self.balances[ccy] = self.balances.get(ccy, 0.0) - paid
        self.funding_payments.append((symbol, -paid, ccy, ts_ms))
        return paid

    # ------------------------------------------------------------------ internals

    def _store(self, order: VenueOrder) -> None:
        self.orders[order.order_id] = order
        if order.client_id:
            self.by_client_id[order.client_id] = order.order_id

    def _crosses(self, order: VenueOrder, book: Book) -> bool:
        best = book.best_ask() if order.side is Side.BUY else book.best_bid()
        if best is None:
            return False
        if order.price is None:
            return True
        return best[0] <= order.price if order.side is Side.BUY else best[0] >= order.price

    def _fillable(self, order: VenueOrder, book: Book) -> float:
        total = 0.0
        for p, s in book.sorted_asks() if order.side is Side.BUY else book.sorted_bids():
            if order.price is not None and (p > order.price if order.side is Side.BUY else p < order.price):
                break
            total += s
        return total

    def _cap(self, order: VenueOrder, qty: float) -> float:
        """Apply the partial-fill fault: at most ``ratio`` of the order, in whole lots."""
        if self.partial_fill_ratio is None:
            return qty
        inst = self.instruments[order.symbol]
        cap = inst.round_qty(order.qty * self.partial_fill_ratio) - order.filled
        return max(min(qty, cap), 0.0)

    def _take(self, order: VenueOrder, book: Book, ts_ms: int) -> None:
        levels = book.sorted_asks() if order.side is Side.BUY else book.sorted_bids()
        for lvl_price, lvl_size in levels:
            if order.remaining <= _EPS:
                break
            if order.price is not None and (
                lvl_price > order.price if order.side is Side.BUY else lvl_price < order.price
            ):
                break
            qty = self._cap(order, min(order.remaining, lvl_size))
            if qty <= _EPS:
                break
            self._fill(order, lvl_price, qty, Liquidity.TAKER, ts_ms)
            book.set_level(order.side.opposite, lvl_price, lvl_size - qty)

    def _fill(self, order: VenueOrder, price: float, qty: float, liq: Liquidity, ts_ms: int) -> Fill:
        inst = self.instruments[order.symbol]
        qty = round(qty, 12)
        rate = self.maker_fee if liq is Liquidity.MAKER else self.taker_fee
        notional = abs(float(inst.notional(qty, price)[0]))
        fee = notional * rate
        if isinstance(inst, Option):
            fee = min(fee, 0.0003 * qty * inst.multiplier, 0.125 * notional)  # Deribit's option fee cap
        realized = self._book_position(inst, order.side, qty, price)
        ccy = inst.settlement_currency
        cash = realized - fee
        if isinstance(inst, Option):
            cash = -order.side.sign * notional - fee  # premium changes hands; no entry-price PnL
            realized = 0.0
        self.balances[ccy] = self.balances.get(ccy, 0.0) + cash
        fill = Fill(
            trade_id=next(self._trade_ids),
            order_id=order.order_id,
            symbol=order.symbol,
            side=order.side,
            price=price,
            qty=qty,
            fee=fee,
            fee_currency=ccy,
            liquidity=liq,
            realized_pnl=realized,
            ts_ms=ts_ms,
        )
        order.filled = round(order.filled + qty, 12)
        order.notional_filled += qty * price
        order.fills.append(fill)
        order.update_ms = ts_ms
        order.status = OrderStatus.FILLED if order.remaining <= _EPS else OrderStatus.PARTIALLY_FILLED
        return fill

    def _book_position(self, inst: Instrument, side: Side, qty: float, price: float) -> float:
        """Move the position by a fill; return the PnL realised by the part that closes."""
        pos = self.positions[str(inst.id.symbol)]
        signed = side.sign * qty
        realized = 0.0
        if pos.qty == 0.0 or (pos.qty > 0) == (signed > 0):
            new = pos.qty + signed
            if isinstance(inst, Option) or not inst.is_inverse:
                pos.entry_price = (pos.entry_price * abs(pos.qty) + price * qty) / abs(new)
            else:  # inverse: the average entry is the harmonic mean weighted by contracts
                pos.entry_price = (
                    abs(new) / (abs(pos.qty) / pos.entry_price + qty / price) if pos.qty else price
                )
            pos.qty = round(new, 12)
            return 0.0
        closing = min(qty, abs(pos.qty))
        if not isinstance(inst, Option):
            realized = float(inst.pnl(math.copysign(closing, pos.qty), pos.entry_price, price)[0])
        pos.realized_pnl += realized
        rest = qty - closing
        pos.qty = round(pos.qty + signed, 12)
        if abs(pos.qty) <= _EPS:
            pos.qty, pos.entry_price = 0.0, 0.0
        elif rest > _EPS:
            pos.entry_price = price
        return realized


def _is_multiple(value: float, step: float) -> bool:
    n = value / step
    return abs(n - round(n)) < 1e-6


def _touch(book: Book, side: Side) -> float | None:
    best = book.best_ask() if side is Side.BUY else book.best_bid()
    return best[0] if best else None
