"""A loopback Deribit venue: JSON-RPC v2 over HTTP (``/api/v2/<scope>/<method>``) and WS (``/ws/api/v2``).

Methods: ``public/`` ``get_time``, ``test``, ``status``, ``get_currencies``,
``get_instruments``, ``get_order_book``, ``ticker``, ``auth``, ``subscribe``,
``unsubscribe``, ``set_heartbeat``; ``private/`` ``buy``, ``sell``, ``edit``,
``cancel``, ``cancel_all``, ``get_order_state``, ``get_open_orders``,
``get_open_orders_by_currency``, ``get_open_orders_by_instrument``, ``get_order_state_by_label``,
``get_user_trades_by_currency``, ``get_user_trades_by_instrument``,
``get_positions``, ``get_position``, ``get_account_summary``,
``get_account_summaries``, ``subscribe``.

HTTP private calls carry ``Authorization: deri-hmac-sha256
id=KEY,ts=MS,sig=SIG,nonce=N`` with ``SIG = HMAC-SHA256(secret,
"MS\\nN\\nGET\\n<path?query>\\n\\n")``; a WebSocket authenticates with
``public/auth`` (``client_signature``: ``HMAC(secret, "MS\\nN\\n<data>")``, or
``client_credentials``). Book channels ``book.<instrument>.raw`` and
``book.<instrument>.100ms`` send a snapshot, then the recorded changes with
their real ``change_id``/``prev_change_id``; ``user.orders.*`` and
``user.trades.*`` carry the account's order updates and fills.

Errors are Deribit's: 10028 ``too_many_requests`` (HTTP 429), 10009
``not_enough_funds``, 10004 ``order_not_found``, 13004
``invalid_credentials``, 13009 ``unauthorized``, 10001 ``error`` (bad
amount, tick, reduce-only), 11050 ``bad_request``, -32601 method not found.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from spreadlab.core.enums import OptionKind, Side, TimeInForce
from spreadlab.instruments.base import Future, Instrument, Option, Perpetual
from spreadlab.instruments.symbols import parse_symbol
from spreadlab.testing.venues.matching import Fill, MatchingEngine, OrderStatus, Rejection, VenueOrder
from spreadlab.testing.venues.recordings import DeribitRecording
from spreadlab.testing.venues.server import LoopbackVenue, StreamConnection

__all__ = ["DeribitError", "DeribitVenue"]

_TIF = {
    "good_til_cancelled": TimeInForce.GTC,
    "immediate_or_cancel": TimeInForce.IOC,
    "fill_or_kill": TimeInForce.FOK,
}
_TIF_OUT = {v: k for k, v in _TIF.items()}
_AUTH_RE = re.compile(r"deri-hmac-sha256 id=([^,]*),ts=(\d+),sig=([0-9a-f]+),nonce=([^,]*)")


class DeribitError(Exception):
    """A JSON-RPC error answer."""

    def __init__(self, code: int, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


Method = Callable[[dict[str, Any]], Awaitable[Any]]


class DeribitVenue(LoopbackVenue):
    """A Deribit account served on 127.0.0.1.

    Parameters
    ----------
    recording
        Recorded books (and tickers) of the instruments served.
    api_key, api_secret
        The client id and secret whose signatures the venue accepts.
    balances
        Starting equity per currency (coin-margined: BTC, ETH).
    """

    name = "deribit"

    def __init__(
        self,
        recording: DeribitRecording,
        *,
        api_key: str,
        api_secret: str,
        balances: dict[str, float] | None = None,
        funding_rate: float = 0.0001,
    ) -> None:
        instruments = {name: parse_symbol("DERIBIT", name) for name in recording.books}
        engine = MatchingEngine(
            instruments, balances=balances or {"BTC": 1.0, "ETH": 10.0}, maker_fee=0.0, taker_fee=0.0005
        )
        engine.unique_client_ids = False  # a Deribit label is free text: the venue never refuses a repeat
        super().__init__(engine, api_key=api_key, api_secret=api_secret)
        self.recording = recording
        self.funding_rate = funding_rate
        self.tokens: set[str] = set()
        self._replay: list[dict[str, Any]] = []
        for name, msgs in recording.books.items():
            self._apply(name, msgs[0])
            self._replay.extend(msgs[1:])
        self._replay.sort(key=lambda m: (m["timestamp"], m["change_id"]))
        self._cursor = 0
        self._trade_seq = 0

    # ------------------------------------------------------------------ app

    def build_app(self) -> web.Application:
        """The aiohttp application: JSON-RPC over HTTP and over one WebSocket path."""
        app = web.Application()
        app.router.add_route("*", "/api/v2/{scope}/{method}", self._http)
        app.router.add_get("/ws/api/v2", self._ws)
        return app

    def ccxt_config(self) -> dict[str, Any]:
        """The ccxt ``deribit`` constructor options that point it at this venue."""
        return {"urls": {"api": {"rest": self.http_url, "ws": f"{self.ws_url}/ws/api/v2"}}}

    # ------------------------------------------------------------------ replay

    def _apply(self, name: str, msg: dict[str, Any]) -> None:
        book = self.engine.books[name]
        if msg["type"] == "snapshot":
            book.bids.clear()
            book.asks.clear()
        for side, key in ((Side.BUY, "bids"), (Side.SELL, "asks")):
            for action, price, size in msg[key]:
                book.set_level(side, float(price), 0.0 if action == "delete" else float(size))
        book.sequence = int(msg["change_id"])
        book.ts_ms = int(msg["timestamp"])

    async def step(self, n: int = 1) -> int:
        """Apply the next ``n`` recorded book changes, send them to subscribers, fill resting orders."""
        done = 0
        while done < n and self._cursor < len(self._replay):
            msg = self._replay[self._cursor]
            self._cursor += 1
            name = msg["instrument_name"]
            self._apply(name, msg)
            done += 1
            if self.faults.take_drop() or self.faults.stale_book:
                continue
            for interval in ("raw", "100ms"):
                channel = f"book.{name}.{interval}"
                await self.publish(channel, _notification(channel, msg))
            for fill in self.engine.fill_resting(symbol=name, ts_ms=self.now_ms()):
                await self._push_fill(fill)
        return done

    @property
    def remaining_changes(self) -> int:
        """Recorded book changes not replayed yet."""
        return len(self._replay) - self._cursor

    def apply_funding(self, *, symbol: str, mark: float) -> float:
        """Charge the funding rate on the open position of a perpetual at ``mark``."""
        return self.engine.apply_funding(
            symbol=symbol, rate=self.funding_rate, mark=mark, ts_ms=self.now_ms()
        )

    # ------------------------------------------------------------------ transport

    async def _http(self, request: web.Request) -> web.StreamResponse:
        scope, method = request.match_info["scope"], request.match_info["method"]
        self.requests.append((request.method, f"{scope}/{method}"))
        us_in = time.time_ns() // 1000
        if self.faults.down or self.faults.take_server_error():
            return web.Response(status=503, text="Service Unavailable")
        params: dict[str, Any] = dict(parse_qsl(request.query_string, keep_blank_values=True))
        if request.method == "POST" and request.can_read_body:
            body = await request.json()
            params.update(body.get("params", {}))
        try:
            if self.faults.take_rate_limit():
                raise DeribitError(10028, "too_many_requests", status=429)
            if scope == "private":
                self._check_http_auth(request)
            result = await self._call(f"{scope}/{method}", params, None)
        except DeribitError as err:
            return web.json_response(
                _envelope(None, us_in, error={"message": err.message, "code": err.code}), status=err.status
            )
        return web.json_response(_envelope(None, us_in, result=result))

    def _check_http_auth(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            if header[7:] in self.tokens:
                return
            raise DeribitError(13009, "unauthorized", status=401)
        m = _AUTH_RE.fullmatch(header)
        if m is None:
            raise DeribitError(13009, "unauthorized", status=401)
        key, ts, sig, nonce = m.groups()
        if key != self.api_key:
            raise DeribitError(13004, "invalid_credentials", status=401)
        payload = f"{ts}\n{nonce}\n{request.method}\n{request.raw_path}\n\n"
        expected = hmac.new(self.api_secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, sig):
            raise DeribitError(13004, "invalid_credentials", status=401)

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if self.faults.down:
            return web.Response(status=503, text="Service Unavailable")
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        conn = StreamConnection(ws)
        self.register(conn)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                req = json.loads(msg.data)
                us_in = time.time_ns() // 1000
                rid, method = req.get("id"), str(req.get("method", ""))
                self.requests.append(("WS", method))
                try:
                    if self.faults.take_rate_limit():
                        raise DeribitError(10028, "too_many_requests", status=429)
                    if method.startswith("private/") and not conn.authenticated:
                        raise DeribitError(13009, "unauthorized")
                    result = await self._call(method, req.get("params") or {}, conn)
                    reply = _envelope(rid, us_in, result=result)
                except DeribitError as err:
                    reply = _envelope(rid, us_in, error={"message": err.message, "code": err.code})
                if not ws.closed:
                    await ws.send_json(reply)
                if method.endswith("/subscribe") and "error" not in reply:
                    for channel in reply["result"]:
                        await self._send_initial(conn, channel)
        finally:
            if conn in self.connections:
                self.connections.remove(conn)
        return ws

    async def _send_initial(self, conn: StreamConnection, channel: str) -> None:
        parts = channel.split(".")
        if parts[0] == "book" and parts[1] in self.engine.books:
            await conn.send(self, _notification(channel, self._snapshot(parts[1])))

    def _snapshot(self, name: str) -> dict[str, Any]:
        book = self.engine.books[name]
        return {
            "type": "snapshot",
            "timestamp": book.ts_ms,
            "instrument_name": name,
            "change_id": book.sequence,
            "bids": [["new", p, q] for p, q in book.sorted_bids()],
            "asks": [["new", p, q] for p, q in book.sorted_asks()],
        }

    # ------------------------------------------------------------------ dispatch

    async def _call(self, method: str, params: dict[str, Any], conn: StreamConnection | None) -> Any:
        table: dict[str, Method] = {
            "public/get_time": self._get_time,
            "public/test": self._test,
            "public/status": self._status,
            "public/get_currencies": self._get_currencies,
            "public/get_instruments": self._get_instruments,
            "public/get_order_book": self._get_order_book,
            "public/ticker": self._get_order_book,
            "public/set_heartbeat": self._test,
            "private/buy": self._buy,
            "private/sell": self._sell,
            "private/cancel": self._cancel,
            "private/edit": self._edit,
            "private/cancel_all": self._cancel_all,
            "private/get_order_state": self._get_order_state,
            "private/get_order_state_by_label": self._get_order_state_by_label,
            "private/get_open_orders": self._open_orders,
            "private/get_open_orders_by_currency": self._open_orders,
            "private/get_open_orders_by_instrument": self._open_orders,
            "private/get_user_trades_by_currency": self._user_trades,
            "private/get_user_trades_by_instrument": self._user_trades,
            "private/get_positions": self._get_positions,
            "private/get_position": self._get_position,
            "private/get_account_summary": self._account_summary,
            "private/get_account_summaries": self._account_summaries,
        }
        if method == "public/auth":
            return self._auth(params, conn)
        if method in ("public/subscribe", "private/subscribe"):
            return self._subscribe(params, conn, private=method.startswith("private"))
        if method in ("public/unsubscribe", "private/unsubscribe"):
            if conn is not None:
                conn.channels.difference_update(_channels(params))
            return _channels(params)
        fn = table.get(method)
        if fn is None:
            raise DeribitError(-32601, "Method not found")
        return await fn(params)

    def _auth(self, params: dict[str, Any], conn: StreamConnection | None) -> dict[str, Any]:
        grant = params.get("grant_type")
        if params.get("client_id") != self.api_key:
            raise DeribitError(13004, "invalid_credentials")
        if grant == "client_credentials":
            ok = hmac.compare_digest(str(params.get("client_secret", "")), self.api_secret)
        elif grant == "client_signature":
            payload = f"{params.get('timestamp')}\n{params.get('nonce', '')}\n{params.get('data', '')}"
            expected = hmac.new(self.api_secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
            ok = hmac.compare_digest(expected, str(params.get("signature", "")))
        else:
            raise DeribitError(11050, "bad_request")
        if not ok:
            raise DeribitError(13004, "invalid_credentials")
        token = secrets.token_hex(16)
        self.tokens.add(token)
        if conn is not None:
            conn.authenticated = True
        return {
            "access_token": token,
            "expires_in": 31_536_000,
            "refresh_token": secrets.token_hex(16),
            "scope": "connection mainaccount",
            "token_type": "bearer",
        }

    def _subscribe(
        self, params: dict[str, Any], conn: StreamConnection | None, *, private: bool
    ) -> list[str]:
        if conn is None:
            raise DeribitError(11050, "bad_request: subscriptions need a WebSocket")
        channels = _channels(params)
        if any(c.startswith("user.") for c in channels) and not conn.authenticated:
            raise DeribitError(13009, "unauthorized")
        conn.channels.update(channels)
        return channels

    async def _get_time(self, params: dict[str, Any]) -> int:
        return self.now_ms()

    async def _test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"version": "1.2.26"}

    async def _status(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"locked": "false", "locked_indices": []}

    async def _get_currencies(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        coins = sorted({i.settlement_currency for i in self.engine.instruments.values()})
        return [
            {
                "currency": c,
                "currency_long": c,
                "fee_precision": 8,
                "min_confirmations": 1,
                "min_withdrawal_fee": 0.0001,
                "withdrawal_fee": 0.0001,
                "withdrawal_priorities": [],
                "coin_type": "BITCOIN" if c == "BTC" else "ETHER",
            }
            for c in coins
        ]

    def _instrument_json(self, name: str, inst: Instrument) -> dict[str, Any]:
        out: dict[str, Any] = {
            "instrument_name": name,
            "instrument_id": abs(hash(name)) % 1_000_000,
            "base_currency": inst.base,
            "quote_currency": inst.quote,
            "counter_currency": inst.quote,
            "settlement_currency": inst.settlement_currency,
            "price_index": f"{inst.base.lower()}_usd",
            "tick_size": inst.tick_size,
            "min_trade_amount": inst.lot_size,
            "contract_size": inst.lot_size if isinstance(inst, Perpetual | Future) else 1.0,
            "maker_commission": self.engine.maker_fee,
            "taker_commission": self.engine.taker_fee,
            "is_active": True,
            "creation_timestamp": 1_534_242_287_000,
            "rfq": False,
            "block_trade_commission": 0.00025,
        }
        if isinstance(inst, Option):
            out |= {
                "kind": "option",
                "instrument_type": "reversed" if inst.is_inverse else "linear",
                "option_type": "call" if inst.kind is OptionKind.CALL else "put",
                "strike": inst.strike,
                "expiration_timestamp": inst.expiry_ns // 1_000_000,
                "settlement_period": "month",
            }
        elif isinstance(inst, Future):
            out |= {
                "kind": "future",
                "instrument_type": "reversed" if inst.is_inverse else "linear",
                "future_type": "reversed",
                "expiration_timestamp": inst.expiry_ns // 1_000_000,
                "settlement_period": "month",
            }
        else:
            out |= {
                "kind": "future",
                "instrument_type": "reversed" if inst.is_inverse else "linear",
                "future_type": "reversed",
                "expiration_timestamp": 32_503_708_800_000,
                "settlement_period": "perpetual",
            }
        return out

    async def _get_instruments(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        currency = params.get("currency", "any")
        kind = params.get("kind")
        out = []
        for name, inst in self.engine.instruments.items():
            j = self._instrument_json(name, inst)
            if currency not in ("any", None) and inst.base != currency:
                continue
            if kind and j["kind"] != kind:
                continue
            out.append(j)
        return out

    def _instrument(self, params: dict[str, Any]) -> str:
        name = str(params.get("instrument_name", ""))
        if name not in self.engine.instruments:
            raise DeribitError(10001, f"instrument_name {name!r} is not listed")
        return name

    async def _get_order_book(self, params: dict[str, Any]) -> dict[str, Any]:
        name = self._instrument(params)
        depth = int(params.get("depth", 20))
        book = self.engine.books[name]
        tick = self.recording.tickers.get(name, {})
        bid, ask = book.best_bid(), book.best_ask()
        mid = 0.5 * (bid[0] + ask[0]) if bid and ask else (bid or ask or (0.0, 0.0))[0]
        return {
            "timestamp": book.ts_ms,
            "instrument_name": name,
            "change_id": book.sequence,
            "state": "open",
            "bids": [[p, q] for p, q in book.sorted_bids(depth)],
            "asks": [[p, q] for p, q in book.sorted_asks(depth)],
            "best_bid_price": bid[0] if bid else None,
            "best_bid_amount": bid[1] if bid else 0.0,
            "best_ask_price": ask[0] if ask else None,
            "best_ask_amount": ask[1] if ask else 0.0,
            "mark_price": tick.get("mark_price", mid),
            "index_price": tick.get("index_price", mid),
            "underlying_price": tick.get("underlying_price"),
            "mark_iv": tick.get("mark_iv"),
            "last_price": tick.get("last_price"),
            "open_interest": tick.get("open_interest", 0.0),
            "current_funding": self.funding_rate if name.endswith("PERPETUAL") else None,
            "funding_8h": self.funding_rate if name.endswith("PERPETUAL") else None,
            "stats": tick.get("stats", {"volume": None, "high": None, "low": None, "price_change": None}),
        }

    # ------------------------------------------------------------------ orders

    def _order_json(self, o: VenueOrder) -> dict[str, Any]:
        state = {
            OrderStatus.OPEN: "open",
            OrderStatus.PARTIALLY_FILLED: "open",
            OrderStatus.FILLED: "filled",
            OrderStatus.CANCELED: "cancelled",
            OrderStatus.EXPIRED: "cancelled",
            OrderStatus.REJECTED: "rejected",
        }[o.status]
        return {
            "order_id": str(o.order_id),
            "order_state": state,
            "order_type": o.kind,
            "instrument_name": o.symbol,
            "direction": "buy" if o.side is Side.BUY else "sell",
            "price": o.price if o.price is not None else "market_price",
            "amount": o.qty,
            "filled_amount": o.filled,
            "average_price": o.avg_price,
            "time_in_force": _TIF_OUT.get(o.tif, "good_til_cancelled"),
            "post_only": o.tif is TimeInForce.POST_ONLY,
            "reduce_only": o.reduce_only,
            "label": o.client_id,
            "creation_timestamp": o.ts_ms,
            "last_update_timestamp": o.update_ms,
            "commission": sum(f.fee for f in o.fills),
            "api": True,
            "web": False,
            "max_show": o.qty,
            "is_liquidation": False,
            "replaced": False,
            "risk_reducing": False,
        }

    def _trade_json(self, f: Fill) -> dict[str, Any]:
        order = self.engine.orders[f.order_id]
        return {
            "trade_id": str(f.trade_id),
            "trade_seq": f.trade_id,
            "instrument_name": f.symbol,
            "order_id": str(f.order_id),
            "direction": "buy" if f.side is Side.BUY else "sell",
            "price": f.price,
            "amount": f.qty,
            "fee": f.fee,
            "fee_currency": f.fee_currency,
            "liquidity": "M" if f.liquidity.value == "maker" else "T",
            "timestamp": f.ts_ms,
            "order_type": order.kind,
            "state": self._order_json(order)["order_state"],
            "label": order.client_id,
            "index_price": self._mid(f.symbol),
            "mark_price": self._mid(f.symbol),
            "tick_direction": 0,
            "self_trade": False,
        }

    async def _place(self, params: dict[str, Any], side: Side) -> dict[str, Any]:
        if self.faults.ack_delay_s:
            await asyncio.sleep(self.faults.ack_delay_s)
        name = self._instrument(params)
        if self.faults.take_reject():
            raise DeribitError(10009, "not_enough_funds")
        kind = str(params.get("type", "limit"))
        if kind not in ("limit", "market"):
            raise DeribitError(10001, f"order type {kind!r} is not served by the loopback venue")
        tif = _TIF.get(str(params.get("time_in_force", "good_til_cancelled")), TimeInForce.GTC)
        if str(params.get("post_only", "false")).lower() == "true":
            tif = TimeInForce.POST_ONLY
        if kind == "market" and tif is TimeInForce.GTC:
            tif = TimeInForce.IOC
        self.engine.partial_fill_ratio = self.faults.partial_fill_ratio
        try:
            order = self.engine.place(
                symbol=name,
                side=side,
                kind=kind,
                qty=float(params.get("amount", 0)),
                price=float(params["price"]) if "price" in params and kind == "limit" else None,
                tif=tif,
                reduce_only=str(params.get("reduce_only", "false")).lower() == "true",
                client_id=str(params.get("label", "")),
                ts_ms=self.now_ms(),
            )
        except Rejection as rej:
            if rej.reason == "duplicate_client_id":
                raise DeribitError(10001, f"label {params.get('label')!r} is already used") from rej
            raise DeribitError(10001, rej.message) from rej
        reject_post_only = str(params.get("reject_post_only", "false")).lower() == "true"
        if tif is TimeInForce.POST_ONLY and reject_post_only and order.status is OrderStatus.EXPIRED:
            raise DeribitError(11054, "post_only_reject")
        await self._push_order(order)
        for fill in order.fills:
            await self._push_trade(fill)
        return {"order": self._order_json(order), "trades": [self._trade_json(f) for f in order.fills]}

    async def _buy(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._place(params, Side.BUY)

    async def _sell(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._place(params, Side.SELL)

    def _lookup(self, params: dict[str, Any]) -> VenueOrder:
        try:
            order = self.engine.find(order_id=int(params.get("order_id", "")))
        except ValueError:
            order = None
        if order is None:
            raise DeribitError(10004, "order_not_found")
        return order

    async def _cancel(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.faults.ack_delay_s:
            await asyncio.sleep(self.faults.ack_delay_s)
        order = self._lookup(params)
        if not order.status.is_open:
            raise DeribitError(10004, "order_not_found")
        self.engine.cancel(order_id=order.order_id, ts_ms=self.now_ms())
        await self._push_order(order)
        return self._order_json(order)

    async def _edit(self, params: dict[str, Any]) -> dict[str, Any]:
        order = self._lookup(params)
        before = len(order.fills)
        try:
            self.engine.amend(
                order_id=order.order_id,
                qty=float(params.get("amount", order.qty)),
                price=float(params.get("price", order.price or 0.0)),
                ts_ms=self.now_ms(),
            )
        except Rejection as rej:
            code = 10004 if rej.reason == "unknown_order" else 10001
            raise DeribitError(code, rej.message) from rej
        await self._push_order(order)
        for fill in order.fills[before:]:
            await self._push_trade(fill)
        return {
            "order": self._order_json(order),
            "trades": [self._trade_json(f) for f in order.fills[before:]],
        }

    async def _cancel_all(self, params: dict[str, Any]) -> int:
        n = 0
        for order in self.engine.open_orders():
            self.engine.cancel(order_id=order.order_id, ts_ms=self.now_ms())
            await self._push_order(order)
            n += 1
        return n

    async def _get_order_state(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._order_json(self._lookup(params))

    async def _get_order_state_by_label(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        label = str(params.get("label", ""))
        return [
            self._order_json(o)
            for o in self.engine.orders.values()
            if o.client_id == label and self._matches(o.symbol, {"currency": params.get("currency")})
        ]

    def _matches(self, symbol: str, params: dict[str, Any]) -> bool:
        inst = self.engine.instruments[symbol]
        if "instrument_name" in params and params["instrument_name"] != symbol:
            return False
        currency = params.get("currency")
        return currency in (None, "any") or inst.settlement_currency == currency

    async def _open_orders(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return [self._order_json(o) for o in self.engine.open_orders() if self._matches(o.symbol, params)]

    async def _user_trades(self, params: dict[str, Any]) -> dict[str, Any]:
        fills = [f for o in self.engine.orders.values() for f in o.fills if self._matches(o.symbol, params)]
        return {
            "trades": [self._trade_json(f) for f in sorted(fills, key=lambda f: f.trade_id)],
            "has_more": False,
        }

    def _mid(self, name: str) -> float:
        book = self.engine.books[name]
        bid, ask = book.best_bid(), book.best_ask()
        if bid and ask:
            return 0.5 * (bid[0] + ask[0])
        tick = self.recording.tickers.get(name)
        if tick:
            return float(tick["mark_price"])
        return (bid or ask or (0.0, 0.0))[0]

    def _position_json(self, name: str) -> dict[str, Any]:
        inst = self.engine.instruments[name]
        pos = self.engine.positions[name]
        mark = self._mid(name)
        kind = "option" if isinstance(inst, Option) else "future"
        upnl = 0.0
        if pos.qty and not isinstance(inst, Option):
            upnl = float(inst.pnl(pos.qty, pos.entry_price, mark)[0])
        elif pos.qty:
            upnl = pos.qty * (mark - pos.entry_price)
        return {
            "instrument_name": name,
            "kind": kind,
            "size": pos.qty,
            "size_currency": pos.qty / mark if kind == "future" and mark else pos.qty,
            "direction": "buy" if pos.qty > 0 else "sell" if pos.qty < 0 else "zero",
            "average_price": pos.entry_price,
            "mark_price": mark,
            "index_price": mark,
            "settlement_price": mark,
            "floating_profit_loss": upnl,
            "realized_profit_loss": pos.realized_pnl,
            "total_profit_loss": upnl + pos.realized_pnl,
            "initial_margin": 0.0,
            "maintenance_margin": 0.0,
            "open_orders_margin": 0.0,
            "leverage": 50,
            "delta": pos.qty / mark if kind == "future" and mark else pos.qty,
            "interest_value": 0.0,
            "estimated_liquidation_price": None,
        }

    async def _get_positions(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        kind = params.get("kind")
        out = []
        for name in self.engine.instruments:
            if not self._matches(name, params) or self.engine.positions[name].qty == 0.0:
                continue
            j = self._position_json(name)
            if kind in (None, "any") or j["kind"] == kind:
                out.append(j)
        return out

    async def _get_position(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._position_json(self._instrument(params))

    def _summary(self, currency: str) -> dict[str, Any]:
        bal = self.engine.balances.get(currency, 0.0)
        upnl = sum(
            self._position_json(n)["floating_profit_loss"]
            for n, i in self.engine.instruments.items()
            if i.settlement_currency == currency and self.engine.positions[n].qty
        )
        return {
            "currency": currency,
            "balance": bal,
            "equity": bal + upnl,
            "margin_balance": bal + upnl,
            "available_funds": bal + upnl,
            "available_withdrawal_funds": bal,
            "initial_margin": 0.0,
            "maintenance_margin": 0.0,
            "session_upl": upnl,
            "session_rpl": 0.0,
            "total_pl": upnl,
            "futures_pl": 0.0,
            "options_pl": 0.0,
            "delta_total": 0.0,
            "fee_balance": 0.0,
            "limits": {},
        }

    async def _account_summary(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._summary(str(params.get("currency", "BTC")))

    async def _account_summaries(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": 1,
            "email": "loopback@127.0.0.1",
            "summaries": [self._summary(c) for c in sorted(self.engine.balances)],
        }

    # ------------------------------------------------------------------ user streams

    async def _push_order(self, o: VenueOrder) -> None:
        body = self._order_json(o)
        inst = self.engine.instruments[o.symbol]
        kind = "option" if isinstance(inst, Option) else "future"
        for channel in _user_channels("orders", o.symbol, kind, inst.settlement_currency):
            await self.publish(channel, _notification(channel, body))

    async def _push_trade(self, f: Fill) -> None:
        inst = self.engine.instruments[f.symbol]
        kind = "option" if isinstance(inst, Option) else "future"
        for channel in _user_channels("trades", f.symbol, kind, inst.settlement_currency):
            await self.publish(channel, _notification(channel, [self._trade_json(f)]))

    async def _push_fill(self, fill: Fill) -> None:
        await self._push_order(self.engine.orders[fill.order_id])
        await self._push_trade(fill)


def _channels(params: dict[str, Any]) -> list[str]:
    raw = params.get("channels", [])
    return [str(c) for c in (raw if isinstance(raw, list) else [raw])]


def _user_channels(what: str, symbol: str, kind: str, currency: str) -> list[str]:
    out = []
    for interval in ("raw", "100ms"):
        out.append(f"user.{what}.{symbol}.{interval}")
        for k in (kind, "any"):
            for c in (currency, "any"):
                out.append(f"user.{what}.{k}.{c}.{interval}")
    return out


def _notification(channel: str, data: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": "subscription", "params": {"channel": channel, "data": data}}


def _envelope(
    rid: Any, us_in: int, *, result: Any = None, error: dict[str, Any] | None = None
) -> dict[str, Any]:
    us_out = time.time_ns() // 1000
    out: dict[str, Any] = {
        "jsonrpc": "2.0",
        "usIn": us_in,
        "usOut": us_out,
        "usDiff": us_out - us_in,
        "testnet": True,
    }
    if rid is not None:
        out["id"] = rid
    if error is not None:
        out["error"] = error
    else:
        out["result"] = result
    return out
