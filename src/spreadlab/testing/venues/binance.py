"""A loopback Binance USDⓈ-M futures venue: the ``/fapi`` REST subset and market/user streams ccxt uses.

REST (``http://127.0.0.1:PORT/fapi/v1|v2|v3/...``): ``time``, ``exchangeInfo``,
``depth``, ``ticker/bookTicker``, ``ticker/24hr``, ``premiumIndex``,
``fundingRate``; signed: ``order`` (POST/GET/DELETE/PUT), ``openOrders``,
``allOrders``, ``userTrades``, ``positionRisk``, ``account``, ``balance``,
``income``, ``leverage``, ``listenKey``. Signed requests carry
``X-MBX-APIKEY`` and ``signature = HMAC-SHA256(secret, <query or body
before &signature=>)``; ``timestamp`` must lie within ``recvWindow``
(default 5000 ms) of the venue's clock, else code -1021 as on Binance.

Streams (``ws://127.0.0.1:PORT/ws/...``): ``{"method": "SUBSCRIBE",
"params": ["btcusdt@depth", ...], "id": n}``; ``<sym>@depth`` sends the
recorded diffs (``U``, ``u``, ``pu`` as recorded) as :meth:`step` replays
them; a connection opened at ``/ws/<listenKey>`` receives
``ORDER_TRADE_UPDATE`` events for the account's orders.

Error bodies and codes are Binance's: -1003 (HTTP 429) too many requests,
-1021 timestamp, -1022 signature, -2014/-2015 API key, -2019 margin is
insufficient, -2011 unknown order (cancel), -2013 order does not exist,
-1111/-4014/-4164 precision, tick and minimum notional, -4116 duplicate
client order id, -2022 reduce-only rejected.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from spreadlab.core.enums import Side, TimeInForce
from spreadlab.instruments.base import Instrument
from spreadlab.instruments.symbols import parse_symbol
from spreadlab.testing.venues.matching import Fill, MatchingEngine, OrderStatus, Rejection, VenueOrder
from spreadlab.testing.venues.recordings import BinanceRecording
from spreadlab.testing.venues.server import LoopbackVenue, StreamConnection

__all__ = ["BinanceUsdmVenue"]

_TIF = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK, "GTX": TimeInForce.POST_ONLY}
_TIF_OUT = {v: k for k, v in _TIF.items()}
_REJECT_CODES = {
    "unknown_symbol": (-1121, "Invalid symbol."),
    "duplicate_client_id": (-4116, "ClientOrderId is duplicated."),
    "bad_qty": (-4003, "Quantity less than or equal to zero."),
    "bad_lot": (-1111, "Precision is over the maximum defined for this asset."),
    "bad_price": (-4001, "Price less than 0."),
    "bad_tick": (-4014, "Price not increased by tick size."),
    "min_notional": (-4164, "Order's notional must be no smaller than 100 (unless you choose reduce only)."),
    "reduce_only": (-2022, "ReduceOnly Order is rejected."),
}
Handler = Callable[[web.Request, dict[str, str]], Awaitable[web.StreamResponse]]


def _fmt(x: float) -> str:
    return f"{x:.8f}".rstrip("0").rstrip(".") if x else "0"


class BinanceUsdmVenue(LoopbackVenue):
    """A Binance USDⓈ-M futures account served on 127.0.0.1.

    Parameters
    ----------
    recording
        The recorded depth snapshot and diffs of the one symbol served.
    api_key, api_secret
        The key pair whose signatures the venue accepts.
    balance_usdt
        Starting wallet balance.
    """

    name = "binanceusdm"

    def __init__(
        self,
        recording: BinanceRecording,
        *,
        api_key: str,
        api_secret: str,
        balance_usdt: float = 10_000.0,
        funding_rate: float = 0.0001,
    ) -> None:
        inst = parse_symbol("BINANCE_USDM", recording.symbol)
        engine = MatchingEngine(
            {recording.symbol: inst}, balances={"USDT": balance_usdt}, maker_fee=0.0002, taker_fee=0.0005
        )
        super().__init__(engine, api_key=api_key, api_secret=api_secret)
        self.symbol = recording.symbol
        self.instrument: Instrument = inst
        self.recording = recording
        self.funding_rate = funding_rate
        self.listen_keys: set[str] = set()
        self._cursor = 0
        book = engine.books[self.symbol]
        for side, key in ((Side.BUY, "bids"), (Side.SELL, "asks")):
            for p, q in recording.snapshot[key]:
                book.set_level(side, float(p), float(q))
        book.sequence = int(recording.snapshot["lastUpdateId"])
        book.ts_ms = int(recording.snapshot["T"])
        self.last_sent_u: int | None = None

    # ------------------------------------------------------------------ app

    def build_app(self) -> web.Application:
        """The aiohttp application: REST under /fapi, streams under /ws."""
        app = web.Application()
        app.router.add_route("*", "/fapi/{version}/{path:.*}", self._rest)
        app.router.add_get("/ws", self._ws)
        app.router.add_get("/ws/{tail:.*}", self._ws)
        # ccxt rewrites a linear ".../ws" base to ".../public/ws", ".../market/ws", ".../private/ws"
        app.router.add_get("/{category}/ws", self._ws)
        app.router.add_get("/{category}/ws/{tail:.*}", self._ws)
        return app

    def ccxt_config(self) -> dict[str, Any]:
        """The ccxt ``binanceusdm`` constructor options that point it at this venue."""
        base = self.http_url
        api = {
            "fapiPublic": f"{base}/fapi/v1",
            "fapiPublicV2": f"{base}/fapi/v2",
            "fapiPublicV3": f"{base}/fapi/v3",
            "fapiPrivate": f"{base}/fapi/v1",
            "fapiPrivateV2": f"{base}/fapi/v2",
            "fapiPrivateV3": f"{base}/fapi/v3",
            "fapiData": f"{base}/futures/data",
            "ws": {"future": f"{self.ws_url}/ws", "linear": f"{self.ws_url}/ws"},
        }
        # fetchCurrencies would call the spot wallet API (sapi), which a USDⓈ-M account does not need
        return {"urls": {"api": api}, "options": {"fetchCurrencies": False}}

    # ------------------------------------------------------------------ replay

    async def step(self, n: int = 1) -> int:
        """Apply the next ``n`` recorded diffs, send them to ``<sym>@depth``, fill resting orders."""
        done = 0
        book = self.engine.books[self.symbol]
        channel = f"{self.symbol.lower()}@depth"
        while done < n and self._cursor < len(self.recording.diffs):
            diff = self.recording.diffs[self._cursor]
            self._cursor += 1
            for side, key in ((Side.BUY, "b"), (Side.SELL, "a")):
                for p, q in diff[key]:
                    book.set_level(side, float(p), float(q))
            book.sequence = int(diff["u"])
            book.ts_ms = int(diff["T"])
            done += 1
            if self.faults.take_drop() or self.faults.stale_book:
                continue
            await self.publish(channel, diff)
            self.last_sent_u = int(diff["u"])
            for fill in self.engine.fill_resting(symbol=self.symbol, ts_ms=self.now_ms()):
                await self._push_fill(fill)
        return done

    @property
    def remaining_diffs(self) -> int:
        """Recorded diffs not replayed yet."""
        return len(self.recording.diffs) - self._cursor

    async def apply_funding(self, *, mark: float | None = None) -> float:
        """Charge the current funding rate on the open position at ``mark`` (default: the mid)."""
        if mark is None:
            mark = self._mid()
        return self.engine.apply_funding(
            symbol=self.symbol, rate=self.funding_rate, mark=mark, ts_ms=self.now_ms()
        )

    # ------------------------------------------------------------------ REST

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = f"{request.match_info['version']}/{request.match_info['path']}"
        self.requests.append((request.method, path))
        if self.faults.down or self.faults.take_server_error():
            return web.Response(status=503, text="Service Unavailable")
        if self.faults.take_rate_limit():
            return self._error(
                -1003, "Too many requests; current limit is 2400 requests per minute.", status=429
            )
        body = await request.text()
        params = dict(parse_qsl(request.query_string, keep_blank_values=True))
        params.update(parse_qsl(body, keep_blank_values=True))
        route = self._routes().get((request.method, path))
        if route is None:
            return self._error(-1100, f"loopback: {request.method} /fapi/{path} is not served", status=404)
        handler, signed = route
        if signed:
            bad = self._check_signature(request, body)
            if bad is not None:
                return bad
        return await handler(request, params)

    def _routes(self) -> dict[tuple[str, str], tuple[Handler, bool]]:
        r: dict[tuple[str, str], tuple[Handler, bool]] = {
            ("GET", "v1/time"): (self._time, False),
            ("GET", "v1/ping"): (self._ping, False),
            ("GET", "v1/exchangeInfo"): (self._exchange_info, False),
            ("GET", "v1/depth"): (self._depth, False),
            ("GET", "v1/ticker/bookTicker"): (self._book_ticker, False),
            ("GET", "v1/ticker/24hr"): (self._ticker_24hr, False),
            ("GET", "v1/premiumIndex"): (self._premium_index, False),
            ("GET", "v1/fundingRate"): (self._funding_history, False),
            ("POST", "v1/order"): (self._create_order, True),
            ("GET", "v1/order"): (self._get_order, True),
            ("DELETE", "v1/order"): (self._cancel_order, True),
            ("PUT", "v1/order"): (self._modify_order, True),
            ("GET", "v1/openOrders"): (self._open_orders, True),
            ("GET", "v1/allOrders"): (self._all_orders, True),
            ("GET", "v1/userTrades"): (self._user_trades, True),
            ("GET", "v1/income"): (self._income, True),
            ("POST", "v1/leverage"): (self._leverage, True),
            ("GET", "v1/leverageBracket"): (self._leverage_bracket, True),
            ("POST", "v1/listenKey"): (self._listen_key, False),
            ("PUT", "v1/listenKey"): (self._listen_key, False),
            ("DELETE", "v1/listenKey"): (self._listen_key, False),
        }
        for v in ("v2", "v3"):
            r[("GET", f"{v}/positionRisk")] = (self._position_risk, True)
            r[("GET", f"{v}/account")] = (self._account, True)
            r[("GET", f"{v}/balance")] = (self._balance, True)
        return r

    def _error(self, code: int, msg: str, *, status: int = 400) -> web.Response:
        headers = {"Retry-After": "1"} if status == 429 else None
        return web.json_response({"code": code, "msg": msg}, status=status, headers=headers)

    def _check_signature(self, request: web.Request, body: str) -> web.Response | None:
        if request.headers.get("X-MBX-APIKEY") != self.api_key:
            return self._error(-2015, "Invalid API-key, IP, or permissions for action.", status=401)
        payload = body if request.method in ("POST", "PUT") and body else request.query_string
        signed, sep, signature = payload.rpartition("&signature=")
        if not sep:
            return self._error(
                -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
            )
        expected = hmac.new(self.api_secret.encode(), signed.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return self._error(-1022, "Signature for this request is not valid.")
        params = dict(parse_qsl(signed))
        ts = int(params.get("timestamp", "0"))
        window = int(params.get("recvWindow", "5000"))
        now = self.now_ms()
        if ts > now + 1000 or now - ts > window:
            return self._error(-1021, "Timestamp for this request is outside of the recvWindow.")
        return None

    async def _ping(self, request: web.Request, params: dict[str, str]) -> web.Response:
        return web.json_response({})

    async def _time(self, request: web.Request, params: dict[str, str]) -> web.Response:
        return web.json_response({"serverTime": self.now_ms()})

    async def _exchange_info(self, request: web.Request, params: dict[str, str]) -> web.Response:
        inst = self.instrument
        symbol = {
            "symbol": self.symbol,
            "pair": self.symbol,
            "contractType": "PERPETUAL",
            "deliveryDate": 4133404800000,
            "onboardDate": 1569398400000,
            "status": "TRADING",
            "baseAsset": inst.base,
            "quoteAsset": inst.quote,
            "marginAsset": inst.settlement_currency,
            "pricePrecision": 2,
            "quantityPrecision": 3,
            "baseAssetPrecision": 8,
            "quotePrecision": 8,
            "underlyingType": "COIN",
            "settlePlan": 0,
            "triggerProtect": "0.0500",
            "liquidationFee": "0.012500",
            "marketTakeBound": "0.05",
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": "556.80",
                    "maxPrice": "4529764",
                    "tickSize": _fmt(inst.tick_size),
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": _fmt(inst.lot_size),
                    "maxQty": "1000",
                    "stepSize": _fmt(inst.lot_size),
                },
                {
                    "filterType": "MARKET_LOT_SIZE",
                    "minQty": _fmt(inst.lot_size),
                    "maxQty": "120",
                    "stepSize": _fmt(inst.lot_size),
                },
                {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                {"filterType": "MIN_NOTIONAL", "notional": _fmt(inst.min_notional)},
                {
                    "filterType": "PERCENT_PRICE",
                    "multiplierUp": "1.0500",
                    "multiplierDown": "0.9500",
                    "multiplierDecimal": "4",
                },
            ],
            "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET"],
            "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
        }
        return web.json_response(
            {
                "timezone": "UTC",
                "serverTime": self.now_ms(),
                "rateLimits": [
                    {
                        "rateLimitType": "REQUEST_WEIGHT",
                        "interval": "MINUTE",
                        "intervalNum": 1,
                        "limit": 2400,
                    },
                    {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
                ],
                "exchangeFilters": [],
                "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
                "symbols": [symbol],
            }
        )

    def _mid(self) -> float:
        book = self.engine.books[self.symbol]
        bid, ask = book.best_bid(), book.best_ask()
        if bid is None or ask is None:
            raise RuntimeError("loopback: the book has an empty side")
        return 0.5 * (bid[0] + ask[0])

    async def _depth(self, request: web.Request, params: dict[str, str]) -> web.Response:
        limit = int(params.get("limit", "500"))
        book = self.engine.books[self.symbol]
        return web.json_response(
            {
                "lastUpdateId": book.sequence,
                "E": self.now_ms(),
                "T": book.ts_ms,
                "bids": [[_fmt(p), _fmt(q)] for p, q in book.sorted_bids(limit)],
                "asks": [[_fmt(p), _fmt(q)] for p, q in book.sorted_asks(limit)],
            }
        )

    def _ticker(self) -> dict[str, Any]:
        book = self.engine.books[self.symbol]
        bid, ask = book.best_bid(), book.best_ask()
        assert bid is not None and ask is not None
        return {
            "symbol": self.symbol,
            "bidPrice": _fmt(bid[0]),
            "bidQty": _fmt(bid[1]),
            "askPrice": _fmt(ask[0]),
            "askQty": _fmt(ask[1]),
            "time": book.ts_ms,
        }

    async def _book_ticker(self, request: web.Request, params: dict[str, str]) -> web.Response:
        return web.json_response(self._ticker())

    async def _ticker_24hr(self, request: web.Request, params: dict[str, str]) -> web.Response:
        t = self._ticker()
        last = self.recording.trades[-1]["p"] if self.recording.trades else t["bidPrice"]
        return web.json_response(
            {
                "symbol": self.symbol,
                "lastPrice": last,
                "bidPrice": t["bidPrice"],
                "bidQty": t["bidQty"],
                "askPrice": t["askPrice"],
                "askQty": t["askQty"],
                "openTime": t["time"] - 86_400_000,
                "closeTime": t["time"],
            }
        )

    def _next_funding_ms(self) -> int:
        now = self.now_ms()
        period = 8 * 3_600_000
        return (now // period + 1) * period

    async def _premium_index(self, request: web.Request, params: dict[str, str]) -> web.Response:
        mid = self._mid()
        return web.json_response(
            {
                "symbol": self.symbol,
                "markPrice": _fmt(mid),
                "indexPrice": _fmt(mid),
                "estimatedSettlePrice": _fmt(mid),
                "lastFundingRate": _fmt(self.funding_rate),
                "interestRate": "0.00010000",
                "nextFundingTime": self._next_funding_ms(),
                "time": self.now_ms(),
            }
        )

    async def _funding_history(self, request: web.Request, params: dict[str, str]) -> web.Response:
        return web.json_response(
            [
                {
                    "symbol": self.symbol,
                    "fundingRate": _fmt(self.funding_rate),
                    "fundingTime": self._next_funding_ms() - 8 * 3_600_000,
                    "markPrice": _fmt(self._mid()),
                }
            ]
        )

    # ------------------------------------------------------------------ orders

    def _order_json(self, o: VenueOrder) -> dict[str, Any]:
        status = {
            OrderStatus.OPEN: "NEW",
            OrderStatus.PARTIALLY_FILLED: "PARTIALLY_FILLED",
            OrderStatus.FILLED: "FILLED",
            OrderStatus.CANCELED: "CANCELED",
            OrderStatus.EXPIRED: "EXPIRED",
            OrderStatus.REJECTED: "REJECTED",
        }[o.status]
        return {
            "orderId": o.order_id,
            "symbol": o.symbol,
            "status": status,
            "clientOrderId": o.client_id,
            "price": _fmt(o.price or 0.0),
            "avgPrice": _fmt(o.avg_price),
            "origQty": _fmt(o.qty),
            "executedQty": _fmt(o.filled),
            "cumQty": _fmt(o.filled),
            "cumQuote": _fmt(o.notional_filled),
            "timeInForce": _TIF_OUT.get(o.tif, "GTC"),
            "type": o.kind.upper(),
            "origType": o.kind.upper(),
            "reduceOnly": o.reduce_only,
            "closePosition": False,
            "side": "BUY" if o.side is Side.BUY else "SELL",
            "positionSide": "BOTH",
            "stopPrice": "0",
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "time": o.ts_ms,
            "updateTime": o.update_ms,
        }

    async def _create_order(self, request: web.Request, params: dict[str, str]) -> web.Response:
        if self.faults.ack_delay_s:
            await asyncio.sleep(self.faults.ack_delay_s)
        if self.faults.take_reject():
            return self._error(-2019, "Margin is insufficient.")
        kind = params.get("type", "").lower()
        if kind not in ("limit", "market"):
            return self._error(-1116, "Invalid orderType.")
        tif = TimeInForce.GTC if kind == "limit" else TimeInForce.IOC
        if "timeInForce" in params:
            tif = _TIF.get(params["timeInForce"], TimeInForce.GTC)
        self.engine.partial_fill_ratio = self.faults.partial_fill_ratio
        try:
            order = self.engine.place(
                symbol=params.get("symbol", ""),
                side=Side.BUY if params.get("side") == "BUY" else Side.SELL,
                kind=kind,
                qty=float(params.get("quantity", "0")),
                price=float(params["price"]) if "price" in params else None,
                tif=tif,
                reduce_only=params.get("reduceOnly", "false").lower() == "true",
                client_id=params.get("newClientOrderId") or f"loopback-{secrets.token_hex(6)}",
                ts_ms=self.now_ms(),
            )
        except Rejection as rej:
            code, msg = _REJECT_CODES.get(rej.reason, (-1000, rej.message))
            return self._error(code, msg)
        await self._push_order(order, execution="NEW")
        for fill in order.fills:
            await self._push_fill(fill)
        if order.status is OrderStatus.EXPIRED:
            await self._push_order(order, execution="EXPIRED")
        return web.json_response(self._order_json(order))

    def _lookup(self, params: dict[str, str]) -> VenueOrder | None:
        oid = params.get("orderId")
        return self.engine.find(
            order_id=int(oid) if oid else None, client_id=params.get("origClientOrderId") or None
        )

    async def _get_order(self, request: web.Request, params: dict[str, str]) -> web.Response:
        order = self._lookup(params)
        if order is None:
            return self._error(-2013, "Order does not exist.")
        return web.json_response(self._order_json(order))

    async def _cancel_order(self, request: web.Request, params: dict[str, str]) -> web.Response:
        if self.faults.ack_delay_s:
            await asyncio.sleep(self.faults.ack_delay_s)
        order = self._lookup(params)
        if order is None or not order.status.is_open:
            return self._error(-2011, "Unknown order sent.")
        self.engine.cancel(order_id=order.order_id, ts_ms=self.now_ms())
        await self._push_order(order, execution="CANCELED")
        return web.json_response(self._order_json(order))

    async def _modify_order(self, request: web.Request, params: dict[str, str]) -> web.Response:
        order = self._lookup(params)
        if order is None or not order.status.is_open:
            return self._error(-2013, "Order does not exist.")
        fills_before = len(order.fills)
        try:
            self.engine.amend(
                order_id=order.order_id,
                qty=float(params.get("quantity", order.qty)),
                price=float(params.get("price", order.price or 0.0)),
                ts_ms=self.now_ms(),
            )
        except Rejection as rej:
            code, msg = _REJECT_CODES.get(rej.reason, (-1000, rej.message))
            return self._error(code, msg)
        await self._push_order(order, execution="AMENDMENT")
        for fill in order.fills[fills_before:]:
            await self._push_fill(fill)
        return web.json_response(self._order_json(order))

    async def _open_orders(self, request: web.Request, params: dict[str, str]) -> web.Response:
        return web.json_response([self._order_json(o) for o in self.engine.open_orders(params.get("symbol"))])

    async def _all_orders(self, request: web.Request, params: dict[str, str]) -> web.Response:
        return web.json_response([self._order_json(o) for o in self.engine.orders.values()])

    def _fill_json(self, f: Fill) -> dict[str, Any]:
        return {
            "symbol": f.symbol,
            "id": f.trade_id,
            "orderId": f.order_id,
            "side": "BUY" if f.side is Side.BUY else "SELL",
            "price": _fmt(f.price),
            "qty": _fmt(f.qty),
            "realizedPnl": _fmt(f.realized_pnl),
            "quoteQty": _fmt(f.price * f.qty),
            "commission": _fmt(f.fee),
            "commissionAsset": f.fee_currency,
            "time": f.ts_ms,
            "positionSide": "BOTH",
            "buyer": f.side is Side.BUY,
            "maker": f.liquidity.value == "maker",
        }

    async def _user_trades(self, request: web.Request, params: dict[str, str]) -> web.Response:
        fills = [f for o in self.engine.orders.values() for f in o.fills]
        return web.json_response([self._fill_json(f) for f in sorted(fills, key=lambda f: f.trade_id)])

    async def _income(self, request: web.Request, params: dict[str, str]) -> web.Response:
        out = [
            {
                "symbol": sym,
                "incomeType": "FUNDING_FEE",
                "income": _fmt(amount),
                "asset": ccy,
                "info": "FUNDING_FEE",
                "time": ts,
                "tranId": 9_000_000 + i,
                "tradeId": "",
            }
            for i, (sym, amount, ccy, ts) in enumerate(self.engine.funding_payments)
        ]
        return web.json_response(out)

    async def _leverage(self, request: web.Request, params: dict[str, str]) -> web.Response:
        return web.json_response(
            {
                "leverage": int(params.get("leverage", "1")),
                "maxNotionalValue": "1000000",
                "symbol": self.symbol,
            }
        )

    async def _leverage_bracket(self, request: web.Request, params: dict[str, str]) -> web.Response:
        bracket = {
            "bracket": 1,
            "initialLeverage": 125,
            "notionalCap": 50_000,
            "notionalFloor": 0,
            "maintMarginRatio": 0.004,
            "cum": 0.0,
        }
        return web.json_response([{"symbol": self.symbol, "brackets": [bracket]}])

    def _position_json(self) -> dict[str, Any]:
        pos = self.engine.positions[self.symbol]
        mark = self._mid()
        upnl = float(self.instrument.pnl(pos.qty, pos.entry_price, mark)[0]) if pos.qty else 0.0
        return {
            "symbol": self.symbol,
            "positionSide": "BOTH",
            "positionAmt": _fmt(pos.qty),
            "entryPrice": _fmt(pos.entry_price),
            "breakEvenPrice": _fmt(pos.entry_price),
            "markPrice": _fmt(mark),
            "unRealizedProfit": _fmt(upnl),
            "liquidationPrice": "0",
            "isolatedMargin": "0",
            "notional": _fmt(pos.qty * mark),
            "marginAsset": "USDT",
            "isolatedWallet": "0",
            "initialMargin": _fmt(abs(pos.qty * mark) / 10),
            "maintMargin": _fmt(abs(pos.qty * mark) * 0.004),
            "positionInitialMargin": _fmt(abs(pos.qty * mark) / 10),
            "openOrderInitialMargin": "0",
            "adl": 0,
            "bidNotional": "0",
            "askNotional": "0",
            "leverage": "10",
            "marginType": "cross",
            "isAutoAddMargin": "false",
            "maxNotionalValue": "1000000",
            "updateTime": self.now_ms(),
        }

    async def _position_risk(self, request: web.Request, params: dict[str, str]) -> web.Response:
        return web.json_response([self._position_json()])

    def _asset_json(self) -> dict[str, Any]:
        wallet = self.engine.balances["USDT"]
        upnl = float(self._position_json()["unRealizedProfit"])
        return {
            "asset": "USDT",
            "walletBalance": _fmt(wallet),
            "unrealizedProfit": _fmt(upnl),
            "marginBalance": _fmt(wallet + upnl),
            "maintMargin": "0",
            "initialMargin": "0",
            "positionInitialMargin": "0",
            "openOrderInitialMargin": "0",
            "crossWalletBalance": _fmt(wallet),
            "crossUnPnl": _fmt(upnl),
            "availableBalance": _fmt(wallet + upnl),
            "maxWithdrawAmount": _fmt(wallet),
            "marginAvailable": True,
            "updateTime": self.now_ms(),
        }

    async def _account(self, request: web.Request, params: dict[str, str]) -> web.Response:
        asset = self._asset_json()
        return web.json_response(
            {
                "totalWalletBalance": asset["walletBalance"],
                "totalUnrealizedProfit": asset["unrealizedProfit"],
                "totalMarginBalance": asset["marginBalance"],
                "availableBalance": asset["availableBalance"],
                "maxWithdrawAmount": asset["maxWithdrawAmount"],
                "assets": [asset],
                "positions": [self._position_json()],
            }
        )

    async def _balance(self, request: web.Request, params: dict[str, str]) -> web.Response:
        a = self._asset_json()
        return web.json_response([{"accountAlias": "loopback", "balance": a["walletBalance"], **a}])

    async def _listen_key(self, request: web.Request, params: dict[str, str]) -> web.Response:
        if request.headers.get("X-MBX-APIKEY") != self.api_key:
            return self._error(-2015, "Invalid API-key, IP, or permissions for action.", status=401)
        if request.method == "POST":
            key = secrets.token_hex(32)
            self.listen_keys.add(key)
            return web.json_response({"listenKey": key})
        return web.json_response({})

    # ------------------------------------------------------------------ streams

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if self.faults.down:
            return web.Response(status=503, text="Service Unavailable")
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        conn = StreamConnection(ws)
        tail = request.match_info.get("tail", "") or request.query.get("listenKey", "")
        if tail in self.listen_keys:  # a user-data stream: /ws/<listenKey> or /private/ws?listenKey=
            conn.channels.add("user")
        self.register(conn)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                req = json.loads(msg.data)
                method = req.get("method")
                if method == "SUBSCRIBE":
                    conn.channels.update(
                        str(s).split("@")[0] + "@depth" if "@depth" in s else s for s in req["params"]
                    )
                    await ws.send_json({"result": None, "id": req.get("id")})
                elif method == "UNSUBSCRIBE":
                    for s in req["params"]:
                        conn.channels.discard(str(s).split("@")[0] + "@depth" if "@depth" in s else s)
                    await ws.send_json({"result": None, "id": req.get("id")})
                else:
                    await ws.send_json(
                        {
                            "error": {"code": 2, "msg": f"Invalid request: unknown method {method!r}"},
                            "id": req.get("id"),
                        }
                    )
        finally:
            if conn in self.connections:
                self.connections.remove(conn)
        return ws

    async def _push_order(self, o: VenueOrder, *, execution: str, fill: Fill | None = None) -> None:
        """Send an ORDER_TRADE_UPDATE with the order as it stood at this event (not as it ends)."""
        j = self._order_json(o)
        if execution == "NEW":
            j |= {"status": "NEW", "executedQty": "0", "avgPrice": "0"}
        elif fill is not None:
            upto = o.fills[: o.fills.index(fill) + 1]
            cum = sum(f.qty for f in upto)
            status = "FILLED" if cum >= o.qty - 1e-12 else "PARTIALLY_FILLED"
            avg = sum(f.qty * f.price for f in upto) / cum
            j |= {"status": status, "executedQty": _fmt(cum), "avgPrice": _fmt(avg)}
        event = {
            "e": "ORDER_TRADE_UPDATE",
            "E": self.now_ms(),
            "T": self.now_ms(),
            "o": {
                "s": o.symbol,
                "c": o.client_id,
                "S": j["side"],
                "o": j["type"],
                "f": j["timeInForce"],
                "q": j["origQty"],
                "p": j["price"],
                "ap": j["avgPrice"],
                "sp": "0",
                "x": execution,
                "X": j["status"],
                "i": o.order_id,
                "l": _fmt(fill.qty) if fill else "0",
                "z": j["executedQty"],
                "L": _fmt(fill.price) if fill else "0",
                "n": _fmt(fill.fee) if fill else "0",
                "N": fill.fee_currency if fill else "USDT",
                "T": fill.ts_ms if fill else o.update_ms,
                "t": fill.trade_id if fill else 0,
                "b": "0",
                "a": "0",
                "m": bool(fill and fill.liquidity.value == "maker"),
                "R": o.reduce_only,
                "wt": "CONTRACT_PRICE",
                "ot": j["type"],
                "ps": "BOTH",
                "cp": False,
                "rp": _fmt(fill.realized_pnl) if fill else "0",
                "pP": False,
                "si": 0,
                "ss": 0,
            },
        }
        await self.publish("user", event)

    async def _push_fill(self, fill: Fill) -> None:
        order = self.engine.orders[fill.order_id]
        await self._push_order(order, execution="TRADE", fill=fill)
