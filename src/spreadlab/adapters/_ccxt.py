"""The ccxt shell every venue package shares: retries, rate budget, clock offset, error translation.

Each venue package (``adapters/<venue>/``) subclasses :class:`CcxtAdapter` with its ccxt class,
its symbol mapping (spreadlab's own parsers and formatters) and its payload mapping; the
engine sees only the protocols of :mod:`spreadlab.execution.protocols`.

- Rate budget: at most ``rate_per_s`` requests per second (a token bucket of ``burst``), on top
  of ccxt's own limiter.
- Retries: reads are retried on transient failures (network, 429/418 or the venue's rate-limit
  code, 5xx) with :class:`~spreadlab.data.download.retry.RetryPolicy` backoff. An order send is
  retried only after asking the venue for the client order id, so a lost acknowledgement never
  makes a second order; a duplicate-id refusal resolves to the existing order.
- Clock: :meth:`CcxtAdapter.sync_clock` measures the venue's clock against the local one
  (offset = venue time - midpoint of the request) and signs with it.
- Books: :meth:`CcxtAdapter.books` streams ccxt's websocket books; a sequence gap or a dropped
  connection closes the stream connections, waits the backoff and subscribes again, so the next
  book is a fresh snapshot plus deltas (``resyncs`` and ``reconnects`` count them).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

import ccxt

from spreadlab.core.clock import Clock, WallClock
from spreadlab.core.enums import Liquidity, OrderType, Side
from spreadlab.core.ids import InstrumentId
from spreadlab.data.download.retry import RetryPolicy
from spreadlab.errors import SpreadlabError
from spreadlab.events.messages import BookSnapshot, FundingRate, Quote
from spreadlab.execution.protocols import (
    BalanceReport,
    FillReport,
    OrderAck,
    OrderRequest,
    OrderStatus,
    PositionReport,
)
from spreadlab.instruments.base import Instrument, Perpetual
from spreadlab.live.secrets import ApiCredentials, RedactSecrets

__all__ = ["CcxtAdapter", "RateBudget", "VenueAuthError", "VenueError", "VenueUnavailableError"]

log = logging.getLogger("spreadlab.adapters")
T = TypeVar("T")
_NS_PER_MS = 1_000_000


class VenueError(SpreadlabError):
    """A venue call failed in a way the caller must handle (after retries where they apply)."""


class VenueUnavailableError(VenueError):
    """The venue could not be reached or kept answering 5xx / rate-limit errors."""


class VenueAuthError(VenueError):
    """The venue refused the API key or the signature."""


_TRANSIENT = (ccxt.NetworkError, ccxt.DDoSProtection, ccxt.ExchangeNotAvailable, ccxt.RequestTimeout)
_STATUS = {
    "open": OrderStatus.OPEN,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}


class RateBudget:
    """A token bucket: ``rate_per_s`` requests per second, bursts of up to ``burst``.

    ``now`` and ``sleep`` are injected (the monotonic clock and ``asyncio.sleep`` by default), so a
    test can drive it on a fake clock. ``waited_s`` adds up the time spent waiting.
    """

    def __init__(
        self,
        *,
        rate_per_s: float,
        burst: int,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not (rate_per_s > 0 and burst >= 1):
            raise VenueError(f"rate_per_s={rate_per_s} must be > 0 and burst={burst} >= 1")
        self.rate = rate_per_s
        self.burst = float(burst)
        self.tokens = float(burst)
        self._now = now
        self._sleep = sleep
        self.stamp = now()
        self.waited_s = 0.0

    async def take(self) -> None:
        """Wait until one request may go."""
        while True:
            now = self._now()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1.0 - 1e-9:
                self.tokens -= 1.0
                return
            wait = (1.0 - self.tokens) / self.rate
            self.waited_s += wait
            await self._sleep(wait)


class CcxtAdapter:
    """Base of the venue adapters: implements ``MarketDataFeed`` and ``ExecutionClient`` over ccxt.

    Parameters
    ----------
    credentials
        API key pair (None: public data only).
    config
        Extra ccxt constructor options (URLs of a test venue, timeouts).
    retry
        Backoff for transient failures.
    rate_per_s, burst
        The per-venue request budget.
    clock
        Local receive times (``ts_recv``).
    stale_after_s
        A book stream silent this long is resubscribed.
    """

    venue: str = ""
    ccxt_class: Any = None
    rate_limit_codes: tuple[str, ...] = ()
    duplicate_id_codes: tuple[str, ...] = ()
    #: the venue acknowledges a send with ids only (Bybit): read the order back for its state
    ack_needs_refetch: bool = False

    def __init__(
        self,
        *,
        credentials: ApiCredentials | None = None,
        config: dict[str, Any] | None = None,
        retry: RetryPolicy | None = None,
        rate_per_s: float = 20.0,
        burst: int = 20,
        clock: Clock | None = None,
        stale_after_s: float = 30.0,
    ) -> None:
        # ccxt logs every request's headers (the API key among them) at DEBUG: it gets a logger of
        # its own here whose filter masks the key and secret before any handler sees the record
        self._ccxt_log = logging.getLogger(f"spreadlab.adapters.{self.venue.lower()}.ccxt")
        opts: dict[str, Any] = {"enableRateLimit": True, "logger": self._ccxt_log, **(config or {})}
        self._redact: RedactSecrets | None = None
        if credentials is not None:
            opts |= {"apiKey": credentials.key, "secret": credentials.secret}
            if credentials.passphrase:
                opts["password"] = credentials.passphrase
            self._redact = RedactSecrets(*credentials.values())
            log.addFilter(self._redact)
            self._ccxt_log.addFilter(self._redact)
        self.exchange = self.ccxt_class(opts)
        self.retry = retry or RetryPolicy(max_attempts=5, base_delay=0.05, max_delay=2.0)
        self.budget = RateBudget(rate_per_s=rate_per_s, burst=burst)
        self.clock = clock or WallClock()
        self.clock_offset_ms = 0
        self.retries = 0
        self.resyncs = 0
        self.reconnects = 0
        self.stale = 0
        self.stale_after_s = stale_after_s
        self._instruments: dict[str, Instrument] = {}

    # ------------------------------------------------------------------ venue specifics

    def parse(self, venue_symbol: str) -> Instrument:  # pragma: no cover - each venue overrides
        """The spreadlab instrument of a venue symbol."""
        raise NotImplementedError

    def venue_symbol(self, instrument_id: InstrumentId) -> str:
        """The venue's own symbol (``instrument_id.symbol``), checked to parse on this venue."""
        if instrument_id.venue != self.venue:
            raise VenueError(f"instrument {instrument_id} is not on {self.venue}")
        self.instrument(instrument_id)
        return instrument_id.symbol

    def order_params(self, request: OrderRequest) -> dict[str, Any]:  # pragma: no cover
        """Venue parameters for the client order id, time in force and reduce-only."""
        raise NotImplementedError

    def client_id_of(self, order: dict[str, Any]) -> str:  # pragma: no cover
        """The client order id a ccxt order carries."""
        raise NotImplementedError

    async def find_by_client_id(self, symbol: str, client_order_id: str) -> dict[str, Any] | None:
        """The ccxt order with this client order id, or None."""
        raise NotImplementedError  # pragma: no cover

    # ------------------------------------------------------------------ plumbing

    def instrument(self, instrument_id: InstrumentId) -> Instrument:
        """The spreadlab instrument (tick, lot, contract math) of an id on this venue."""
        inst = self._instruments.get(instrument_id.symbol)
        if inst is None:
            inst = self.parse(instrument_id.symbol)
            self._instruments[instrument_id.symbol] = inst
        return inst

    def iid(self, venue_symbol: str) -> InstrumentId:
        """The spreadlab id of a venue symbol."""
        return InstrumentId(self.venue, venue_symbol)

    def ccxt_symbol(self, instrument_id: InstrumentId) -> str:
        """ccxt's unified symbol for an instrument (markets must be loaded)."""
        market = self.exchange.markets_by_id.get(self.venue_symbol(instrument_id))
        if not market:
            raise VenueError(f"{instrument_id} is not listed at {self.venue}")
        return str(market[0]["symbol"])

    def _translate(self, exc: Exception, what: str) -> VenueError:
        if isinstance(exc, ccxt.AuthenticationError) or "-1022" in str(exc) or "13004" in str(exc):
            return VenueAuthError(f"{self.venue} {what}: the venue refused the key or signature")
        if isinstance(exc, _TRANSIENT) or self._is_rate_limit(exc):
            return VenueUnavailableError(f"{self.venue} {what}: {type(exc).__name__} after retries")
        return VenueError(f"{self.venue} {what}: {type(exc).__name__}: {self._scrub(str(exc))}")

    def _scrub(self, text: str) -> str:
        return self._redact.scrub(text) if self._redact is not None else text

    def _is_rate_limit(self, exc: Exception) -> bool:
        return isinstance(exc, ccxt.DDoSProtection) or any(c in str(exc) for c in self.rate_limit_codes)

    async def call(self, what: str, fn: Callable[[], Awaitable[T]]) -> T:
        """Run one idempotent ccxt call within the budget, retrying transient failures."""
        attempt = 0
        while True:
            attempt += 1
            await self.budget.take()
            try:
                return await fn()
            except Exception as exc:
                transient = isinstance(exc, _TRANSIENT) or self._is_rate_limit(exc)
                if not transient or attempt >= self.retry.max_attempts:
                    raise self._translate(exc, what) from exc
                self.retries += 1
                delay = self.retry.backoff(attempt, rng=None)
                log.warning(
                    "%s %s: %s, retry %d in %.2fs", self.venue, what, type(exc).__name__, attempt, delay
                )
                await asyncio.sleep(delay)

    async def connect(self) -> None:
        """Load the markets and measure the clock offset."""
        await self.call("load_markets", self.exchange.load_markets)
        await self.sync_clock()

    async def sync_clock(self) -> int:
        """Measure venue time - local time in ms and sign requests with it; return the offset."""
        t0 = time.time_ns() // _NS_PER_MS
        venue_ms = await self.call("fetch_time", self.exchange.fetch_time)
        t1 = time.time_ns() // _NS_PER_MS
        self.clock_offset_ms = int(venue_ms) - (t0 + t1) // 2
        self.exchange.options["timeDifference"] = -self.clock_offset_ms
        return self.clock_offset_ms

    async def close(self) -> None:
        """Close every connection ccxt holds."""
        await self.exchange.close()
        if self._redact is not None:
            log.removeFilter(self._redact)
            self._ccxt_log.removeFilter(self._redact)

    # ------------------------------------------------------------------ market data

    def _ts(self, ms: Any) -> int:
        return int(ms) * _NS_PER_MS if ms else self.clock.timestamp_ns()

    def _snapshot(
        self, instrument_id: InstrumentId, ob: dict[str, Any], depth: int | None = None
    ) -> BookSnapshot:
        bids = tuple((float(p), float(q)) for p, q, *_ in ob["bids"][:depth] if q > 0)
        asks = tuple((float(p), float(q)) for p, q, *_ in ob["asks"][:depth] if q > 0)
        return BookSnapshot(
            instrument_id=instrument_id,
            ts_event=self._ts(ob.get("timestamp")),
            ts_recv=self.clock.timestamp_ns(),
            bids=bids,
            asks=asks,
            sequence=int(ob.get("nonce") or 0),
        )

    async def book(self, instrument_id: InstrumentId, *, depth: int = 20) -> BookSnapshot:
        """Fetch a book snapshot by REST."""
        sym = self.ccxt_symbol(instrument_id)
        ob = await self.call("fetch_order_book", lambda: self.exchange.fetch_order_book(sym, depth))
        return self._snapshot(instrument_id, ob, depth)

    async def quote(self, instrument_id: InstrumentId) -> Quote:
        """Fetch the best bid and offer (from the top of the book)."""
        snap = await self.book(instrument_id, depth=5)
        if not snap.bids or not snap.asks:
            raise VenueError(f"{instrument_id}: the book has an empty side, no quote")
        return Quote(
            instrument_id=instrument_id,
            ts_event=snap.ts_event,
            ts_recv=snap.ts_recv,
            bid=snap.bids[0][0],
            ask=snap.asks[0][0],
            bid_size=snap.bids[0][1],
            ask_size=snap.asks[0][1],
        )

    async def funding(self, instrument_id: InstrumentId) -> FundingRate:
        """Fetch the current funding rate of a perpetual."""
        inst = self.instrument(instrument_id)
        if not isinstance(inst, Perpetual):
            raise VenueError(f"{instrument_id} is not a perpetual: it pays no funding")
        sym = self.ccxt_symbol(instrument_id)
        fr = await self.call("fetch_funding_rate", lambda: self.exchange.fetch_funding_rate(sym))
        ts_event = self._ts(fr.get("timestamp"))
        next_ns = inst.funding_times(ts_event, ts_event + inst.funding_interval_ns)
        funding_ms = fr.get("fundingTimestamp")
        return FundingRate(
            instrument_id=instrument_id,
            ts_event=ts_event,
            ts_recv=self.clock.timestamp_ns(),
            rate=float(fr["fundingRate"]),
            funding_time_ns=int(funding_ms) * _NS_PER_MS if funding_ms else int(next_ns[0]),
            interval_ns=inst.funding_interval_ns,
        )

    async def books(self, instrument_ids: Sequence[InstrumentId]) -> AsyncIterator[BookSnapshot]:
        """Stream book snapshots; resubscribe (fresh snapshot) after a gap, reconnect after a drop.

        A stream silent for ``stale_after_s`` is treated as lost: its connection is dropped and the
        books subscribed again. After ``retry.max_attempts`` failures in a row (drops or silent
        periods) it raises :class:`VenueUnavailableError`.
        """
        syms = {self.ccxt_symbol(i): i for i in instrument_ids}
        failures = 0
        while True:
            try:
                if len(syms) == 1:
                    watch = self.exchange.watch_order_book(next(iter(syms)))
                else:
                    watch = self.exchange.watch_order_book_for_symbols(list(syms))
                ob = await asyncio.wait_for(watch, self.stale_after_s)
            except (ccxt.ChecksumError, ccxt.InvalidNonce) as exc:
                self.resyncs += 1
                log.warning(
                    "%s book gap (%s): resubscribing for a fresh snapshot", self.venue, type(exc).__name__
                )
                await self._drop_streams()
                continue
            except (TimeoutError, *_TRANSIENT) as exc:
                failures += 1
                if failures >= self.retry.max_attempts:
                    raise VenueUnavailableError(
                        f"{self.venue} book stream: {failures} failures in a row ({type(exc).__name__})"
                    ) from exc
                if isinstance(exc, TimeoutError):
                    self.stale += 1
                else:
                    self.reconnects += 1
                delay = self.retry.backoff(failures, rng=None)
                log.warning(
                    "%s book stream %s: reconnect %d in %.2fs",
                    self.venue,
                    "silent" if isinstance(exc, TimeoutError) else f"lost ({type(exc).__name__})",
                    failures,
                    delay,
                )
                await self._drop_streams()
                await asyncio.sleep(delay)
                continue
            failures = 0
            yield self._snapshot(syms[ob["symbol"]], ob)

    async def order_updates(self, instrument_ids: Sequence[InstrumentId]) -> AsyncIterator[OrderAck]:
        """Stream our order updates (new, fills, cancels) from the venue's private stream.

        A dropped connection is reconnected with backoff; after a reconnect the open orders are
        fetched again and yielded, so an update missed while the stream was down is not lost.
        """
        syms = {self.ccxt_symbol(i): i for i in instrument_ids}
        sym = next(iter(syms)) if len(syms) == 1 else None
        failures = 0
        while True:
            try:
                rows = await self.exchange.watch_orders(sym)
            except _TRANSIENT as exc:
                failures += 1
                if failures >= self.retry.max_attempts:
                    raise VenueUnavailableError(
                        f"{self.venue} order stream: {failures} failures in a row"
                    ) from exc
                self.reconnects += 1
                await self._drop_streams()
                await asyncio.sleep(self.retry.backoff(failures, rng=None))
                for iid in syms.values():
                    for ack in await self.open_orders(iid):
                        yield ack
                continue
            failures = 0
            for row in rows:
                if row.get("symbol") in syms:
                    yield self._ack(syms[row["symbol"]], row, client_id=self.client_id_of(row))

    async def _drop_streams(self) -> None:
        for client in list(getattr(self.exchange, "clients", {}).values()):
            try:
                await client.close()
            except Exception:  # a connection already gone
                log.debug("%s: stream close failed", self.venue)
        getattr(self.exchange, "clients", {}).clear()
        self.exchange.orderbooks = {}

    # ------------------------------------------------------------------ execution

    def _ack(self, instrument_id: InstrumentId, order: dict[str, Any], *, client_id: str) -> OrderAck:
        status = _STATUS.get(str(order.get("status")), OrderStatus.OPEN)
        filled = float(order.get("filled") or 0.0)
        qty = float(order.get("amount") or 0.0)
        if status is OrderStatus.OPEN and filled > 0:
            status = OrderStatus.PARTIALLY_FILLED
        if status is OrderStatus.CANCELED and self._expired(order):
            status = OrderStatus.EXPIRED
        avg = order.get("average")
        return OrderAck(
            client_order_id=client_id,
            venue_order_id=str(order["id"]),
            instrument_id=instrument_id,
            side=Side.BUY if order.get("side") == "buy" else Side.SELL,
            status=status,
            qty=qty,
            filled_qty=filled,
            avg_price=float(avg) if avg else None,
            ts_event=self._ts(order.get("lastUpdateTimestamp") or order.get("timestamp")),
            ts_recv=self.clock.timestamp_ns(),
        )

    def _expired(self, order: dict[str, Any]) -> bool:
        return False

    def _rejected(self, request: OrderRequest, reason: str) -> OrderAck:
        now = self.clock.timestamp_ns()
        return OrderAck(
            client_order_id=request.client_order_id,
            venue_order_id="",
            instrument_id=request.instrument_id,
            side=request.side,
            status=OrderStatus.REJECTED,
            qty=request.qty,
            filled_qty=0.0,
            avg_price=None,
            ts_event=now,
            ts_recv=now,
            reason=reason,
        )

    def check_size(self, symbol: str, qty: float, price: float | None) -> str:
        """Why the venue's market rules refuse ``qty`` / ``price`` ('' if they do not).

        ccxt would silently truncate a quantity to the venue's step (0.0205 -> 0.020): an order of a
        size other than the one asked for is refused here instead.
        """
        market = self.exchange.market(symbol)
        step = market["precision"].get("amount")
        low = (market["limits"].get("amount") or {}).get("min")
        if step and abs(qty / step - round(qty / step)) > 1e-6:
            return f"qty={qty} is not a whole number of the venue's lots ({step})"
        if low and qty < low - 1e-12:
            return f"qty={qty} is below the venue's minimum {low}"
        tick = market["precision"].get("price")
        if price is not None and tick and abs(price / tick - round(price / tick)) > 1e-6:
            return f"price={price} is not a multiple of the venue's tick ({tick})"
        return ""

    async def place(self, request: OrderRequest) -> OrderAck:
        """Send an order once: a lost ack is resolved by the client order id, a refusal is REJECTED."""
        sym = self.ccxt_symbol(request.instrument_id)
        bad = self.check_size(sym, request.qty, request.price)
        if bad:
            return self._rejected(request, bad)
        kind = "market" if request.order_type is OrderType.MARKET else "limit"
        price = request.price  # on the venue's tick: check_size refused anything else
        params = self.order_params(request)
        attempt = 0
        while True:
            attempt += 1
            await self.budget.take()
            try:
                order = await self.exchange.create_order(
                    sym, kind, "buy" if request.side is Side.BUY else "sell", request.qty, price, params
                )
                order = await self._refetched(sym, request.client_order_id, order)
                return self._ack(request.instrument_id, order, client_id=request.client_order_id)
            except Exception as exc:
                text = str(exc)
                if any(c in text for c in self.duplicate_id_codes):
                    found = await self.find_by_client_id(sym, request.client_order_id)
                    if found is not None:
                        return self._ack(request.instrument_id, found, client_id=request.client_order_id)
                transient = isinstance(exc, _TRANSIENT) or self._is_rate_limit(exc)
                if not transient:
                    if isinstance(exc, ccxt.AuthenticationError):
                        raise self._translate(exc, "create_order") from exc
                    return self._rejected(request, f"{type(exc).__name__}: {self._scrub(text)}")
                if attempt >= self.retry.max_attempts:
                    raise self._translate(exc, "create_order") from exc
                self.retries += 1
                await asyncio.sleep(self.retry.backoff(attempt, rng=None))
                # the request may still reach the venue: look for it for as long as one request may
                # take before sending again (a venue that allows repeated client ids, such as
                # Deribit, would otherwise get the order twice)
                found = await self._await_order(sym, request.client_order_id)
                if found is not None:
                    return self._ack(request.instrument_id, found, client_id=request.client_order_id)

    async def _await_order(self, symbol: str, client_order_id: str) -> dict[str, Any] | None:
        """Poll for an order by client id for up to one request timeout; None if it never shows."""
        grace_s = float(self.exchange.timeout) / 1000.0
        deadline = time.monotonic() + grace_s
        while True:
            found = await self.find_by_client_id(symbol, client_order_id)
            if found is not None or time.monotonic() >= deadline:
                return found
            await asyncio.sleep(min(0.05, grace_s / 4))

    async def order(self, instrument_id: InstrumentId, client_order_id: str) -> OrderAck | None:
        """Fetch an order by client order id."""
        sym = self.ccxt_symbol(instrument_id)
        found = await self.find_by_client_id(sym, client_order_id)
        return None if found is None else self._ack(instrument_id, found, client_id=client_order_id)

    async def cancel(self, instrument_id: InstrumentId, client_order_id: str) -> OrderAck:
        """Cancel by client order id; an order already closed returns its final state."""
        sym = self.ccxt_symbol(instrument_id)
        found = await self.find_by_client_id(sym, client_order_id)
        if found is None:
            raise VenueError(f"{self.venue}: no order with client id {client_order_id!r} on {instrument_id}")
        if found.get("status") != "open":
            return self._ack(instrument_id, found, client_id=client_order_id)
        try:
            oid = str(found["id"])
            order = await self.call("cancel_order", lambda: self.exchange.cancel_order(oid, sym))
            order = await self._refetched(sym, client_order_id, order)
        except VenueError:
            again = await self.find_by_client_id(sym, client_order_id)
            if again is None or again.get("status") == "open":
                raise
            return self._ack(instrument_id, again, client_id=client_order_id)
        return self._ack(instrument_id, order, client_id=client_order_id)

    async def amend(
        self, instrument_id: InstrumentId, client_order_id: str, *, qty: float, price: float
    ) -> OrderAck:
        """Set an open limit order's quantity and price; a refusal is a REJECTED ack carrying the reason.

        Amending to absolute values is idempotent, so transient failures are retried.
        """
        sym = self.ccxt_symbol(instrument_id)
        found = await self.find_by_client_id(sym, client_order_id)
        if found is None:
            raise VenueError(f"{self.venue}: no order with client id {client_order_id!r} on {instrument_id}")
        oid, side = str(found["id"]), str(found["side"])
        px = price
        bad = self.check_size(sym, qty, price)
        if bad:
            ack = self._ack(instrument_id, found, client_id=client_order_id)
            return dataclasses.replace(ack, status=OrderStatus.REJECTED, reason=bad)
        try:
            order = await self.call(
                "edit_order",
                lambda: self.exchange.edit_order(oid, sym, "limit", side, qty, px, self.amend_params()),
            )
        except VenueError as exc:
            if isinstance(exc, VenueUnavailableError | VenueAuthError):
                raise
            ack = self._ack(instrument_id, found, client_id=client_order_id)
            return dataclasses.replace(ack, status=OrderStatus.REJECTED, reason=str(exc))
        order = await self._refetched(sym, client_order_id, order)
        return self._ack(instrument_id, order, client_id=client_order_id)

    async def _refetched(self, symbol: str, client_order_id: str, order: dict[str, Any]) -> dict[str, Any]:
        if not self.ack_needs_refetch:
            return order
        found = await self.find_by_client_id(symbol, client_order_id)
        return found if found is not None else order

    def amend_params(self) -> dict[str, Any]:
        """Extra venue parameters of an amend."""
        return {}

    async def open_orders(self, instrument_id: InstrumentId | None = None) -> list[OrderAck]:
        """Open orders (of one instrument, or every loaded one)."""
        sym = self.ccxt_symbol(instrument_id) if instrument_id is not None else None
        rows = await self.call("fetch_open_orders", lambda: self.exchange.fetch_open_orders(sym))
        return [
            self._ack(
                self.iid(r["info"].get("symbol") or r["info"].get("instrument_name")),
                r,
                client_id=self.client_id_of(r),
            )
            for r in rows
        ]

    async def fills(self, instrument_id: InstrumentId) -> list[FillReport]:
        """Our executions on one instrument, oldest first."""
        sym = self.ccxt_symbol(instrument_id)
        rows = await self.call("fetch_my_trades", lambda: self.exchange.fetch_my_trades(sym))
        out = []
        for t in rows:
            fee = t.get("fee") or {}
            out.append(
                FillReport(
                    trade_id=str(t["id"]),
                    venue_order_id=str(t["order"]),
                    instrument_id=instrument_id,
                    side=Side.BUY if t["side"] == "buy" else Side.SELL,
                    price=float(t["price"]),
                    qty=float(t["amount"]),
                    fee=float(fee.get("cost") or 0.0),
                    fee_currency=str(fee.get("currency") or ""),
                    liquidity=Liquidity.MAKER if t.get("takerOrMaker") == "maker" else Liquidity.TAKER,
                    ts_event=self._ts(t.get("timestamp")),
                    ts_recv=self.clock.timestamp_ns(),
                )
            )
        return sorted(out, key=lambda f: f.ts_event)

    async def positions(self) -> list[PositionReport]:
        """Non-zero positions, quantity signed (long > 0)."""
        rows = await self.call("fetch_positions", self.exchange.fetch_positions)
        out = []
        for p in rows:
            qty = float(p.get("contracts") or 0.0)
            if qty == 0.0:
                continue
            sign = -1.0 if p.get("side") == "short" else 1.0
            out.append(
                PositionReport(
                    instrument_id=self.iid(self.exchange.market(p["symbol"])["id"]),
                    qty=sign * qty,
                    entry_price=float(p.get("entryPrice") or 0.0),
                    ts_recv=self.clock.timestamp_ns(),
                )
            )
        return out

    async def balances(self) -> list[BalanceReport]:
        """Balances per currency."""
        bal = await self.call("fetch_balance", self.exchange.fetch_balance)
        now = self.clock.timestamp_ns()
        return [
            BalanceReport(
                currency=c, total=float(v.get("total") or 0.0), free=float(v.get("free") or 0.0), ts_recv=now
            )
            for c, v in bal.items()
            if isinstance(v, dict)
            and c not in ("info", "free", "used", "total")
            and v.get("total") is not None
        ]
