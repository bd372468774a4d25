"""A loopback Bybit v5 venue (linear perpetuals): the REST subset and public book stream ccxt uses.

REST (``http://127.0.0.1:PORT/v5/...``): ``market/time``, ``market/instruments-info``,
``market/orderbook``, ``market/tickers``; signed: ``order/create``, ``order/amend``,
``order/cancel``, ``order/realtime``, ``order/history``, ``execution/list``, ``position/list``,
``account/wallet-balance``, ``account/info``, ``user/query-api``. Signed requests carry
``X-BAPI-API-KEY``, ``X-BAPI-TIMESTAMP``, ``X-BAPI-RECV-WINDOW`` and ``X-BAPI-SIGN =
HMAC-SHA256(secret, timestamp + key + recvWindow + (query | JSON body))``. Answers are
``{"retCode", "retMsg", "result", "retExtInfo", "time"}``; errors are Bybit's: 10006 too many
visits (the per-UID rate limit), 10003 invalid key, 10004 bad signature, 10002 timestamp outside
recvWindow, 110007 insufficient balance, 110001 order does not exist, 110072 duplicate
orderLinkId, 10001 parameter errors.

Stream (``ws://127.0.0.1:PORT/v5/public/linear``): ``{"op": "subscribe", "args":
["orderbook.<depth>.<symbol>"]}`` sends a snapshot of the venue's book, then the recorded
``orderbook.500`` deltas with their real ``u`` (consecutive) and ``seq`` as :meth:`step`
replays them. The instrument's tick and quantity step are read off the recorded prices and sizes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import json
import secrets
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from spreadlab.core.enums import Side, TimeInForce
from spreadlab.instruments.symbols import parse_symbol
from spreadlab.testing.venues.matching import MatchingEngine, OrderStatus, Rejection, VenueOrder
from spreadlab.testing.venues.recordings import BybitRecording
from spreadlab.testing.venues.server import LoopbackVenue, StreamConnection

__all__ = ["BybitLinearVenue"]

_TIF = {
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "FOK": TimeInForce.FOK,
    "PostOnly": TimeInForce.POST_ONLY,
}
_TIF_OUT = {v: k for k, v in _TIF.items()}
_STATUS = {
    OrderStatus.OPEN: "New",
    OrderStatus.PARTIALLY_FILLED: "PartiallyFilled",
    OrderStatus.FILLED: "Filled",
    OrderStatus.CANCELED: "Cancelled",
    OrderStatus.EXPIRED: "Cancelled",
    OrderStatus.REJECTED: "Rejected",
}
_REJECT = {
    "duplicate_client_id": (110072, "OrderLinkedID is duplicate"),
    "bad_lot": (10001, "The number of contracts exceeds minimum limit allowed"),
    "bad_tick": (10001, "The price is not a multiple of the tick size"),
    "bad_qty": (10001, "Qty invalid"),
    "bad_price": (10001, "Price invalid"),
    "min_notional": (110094, "Order does not meet minimum order value"),
    "reduce_only": (110017, "Reduce-only order has same side with current position"),
    "unknown_order": (110001, "Order does not exist"),
}


def _decimals(values: list[str]) -> int:
    return max((len(v.split(".")[1].rstrip("0")) if "." in v else 0) for v in values)


def _fmt(x: float) -> str:
    return f"{x:.10f}".rstrip("0").rstrip(".") if x else "0"


class BybitLinearVenue(LoopbackVenue):
    """A Bybit unified account trading one linear perpetual, served on 127.0.0.1."""

    name = "bybit"

    def __init__(
        self,
        recording: BybitRecording,
        *,
        api_key: str,
        api_secret: str,
        balance_usdt: float = 10_000.0,
        funding_rate: float = 0.0001,
    ) -> None:
        data = recording.snapshot["data"]
        prices = [p for p, _ in data["b"] + data["a"]]
        sizes = [q for _, q in data["b"] + data["a"]]
        inst = dataclasses.replace(
            parse_symbol("BYBIT_LINEAR", recording.symbol),
            tick_size=10.0 ** -_decimals(prices),
            lot_size=10.0 ** -_decimals(sizes),
            min_notional=5.0,
        )
        engine = MatchingEngine(
            {recording.symbol: inst}, balances={"USDT": balance_usdt}, maker_fee=0.0002, taker_fee=0.00055
        )
        super().__init__(engine, api_key=api_key, api_secret=api_secret)
        self.symbol = recording.symbol
        self.instrument = inst
        self.recording = recording
        self.funding_rate = funding_rate
        self._cursor = 0
        self._apply(recording.snapshot)

    def _apply(self, msg: dict[str, Any]) -> None:
        book = self.engine.books[self.symbol]
        data = msg["data"]
        if msg["type"] == "snapshot":
            book.bids.clear()
            book.asks.clear()
        for side, key in ((Side.BUY, "b"), (Side.SELL, "a")):
            for p, q in data[key]:
                book.set_level(side, float(p), float(q))
        book.sequence = int(data["u"])
        book.ts_ms = int(msg["ts"])

    def build_app(self) -> web.Application:
        """REST under /v5, the public linear stream at /v5/public/linear."""
        app = web.Application()
        app.router.add_get("/v5/public/linear", self._ws)
        app.router.add_route("*", "/v5/{path:.*}", self._rest)
        return app

    def ccxt_config(self) -> dict[str, Any]:
        """The ccxt ``bybit`` options that point it at this venue (linear markets, unified account)."""
        base = self.http_url
        return {
            "urls": {
                "api": {k: base for k in ("spot", "futures", "v2", "public", "private")}
                | {"ws": {"public": {"linear": f"{self.ws_url}/v5/public/linear"}}}
            },
            "options": {
                "fetchMarkets": {"types": ["linear"]},
                "fetchCurrencies": False,
                "enableUnifiedAccount": True,
                "enableUnifiedMargin": False,
                "defaultType": "swap",
            },
        }

    # ------------------------------------------------------------------ replay

    async def step(self, n: int = 1) -> int:
        """Apply the next ``n`` recorded deltas, send them to book subscribers, fill resting orders."""
        done = 0
        while done < n and self._cursor < len(self.recording.deltas):
            msg = self.recording.deltas[self._cursor]
            self._cursor += 1
            self._apply(msg)
            done += 1
            if self.faults.take_drop() or self.faults.stale_book:
                continue
            for conn in list(self.connections):
                for channel in list(conn.channels):
                    if channel.startswith("orderbook.") and channel.endswith("." + self.symbol):
                        await conn.send(self, {**msg, "topic": channel})
            self.engine.fill_resting(symbol=self.symbol, ts_ms=self.now_ms())
        return done

    # ------------------------------------------------------------------ REST

    def _reply(self, result: Any, *, code: int = 0, msg: str = "OK", status: int = 200) -> web.Response:
        body = {"retCode": code, "retMsg": msg, "result": result, "retExtInfo": {}, "time": self.now_ms()}
        return web.json_response(body, status=status)

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        self.requests.append((request.method, path))
        if self.faults.down or self.faults.take_server_error():
            return web.Response(status=503, text="Service Unavailable")
        if self.faults.take_rate_limit():
            return self._reply({}, code=10006, msg="Too many visits. Exceeded the API Rate Limit.")
        body = await request.text()
        params: dict[str, Any] = dict(parse_qsl(request.query_string, keep_blank_values=True))
        if request.method == "POST" and body:
            params.update(json.loads(body))
        public = path.startswith("market/")
        if not public:
            bad = self._check_signature(request, body)
            if bad is not None:
                return bad
        handler = {
            "market/time": self._time,
            "market/instruments-info": self._instruments,
            "market/orderbook": self._orderbook,
            "market/tickers": self._tickers,
            "order/create": self._create,
            "order/amend": self._amend,
            "order/cancel": self._cancel,
            "order/realtime": self._orders,
            "order/history": self._orders,
            "execution/list": self._executions,
            "position/list": self._positions,
            "account/wallet-balance": self._wallet,
            "account/info": self._account_info,
            "user/query-api": self._query_api,
            "asset/coin/query-info": self._coins,
        }.get(path)
        if handler is None:
            return self._reply({}, code=10001, msg=f"loopback: /v5/{path} is not served", status=404)
        return await handler(params)

    def _check_signature(self, request: web.Request, body: str) -> web.Response | None:
        h = request.headers
        if h.get("X-BAPI-API-KEY") != self.api_key:
            return self._reply({}, code=10003, msg="API key is invalid.")
        ts, window = h.get("X-BAPI-TIMESTAMP", "0"), h.get("X-BAPI-RECV-WINDOW", "5000")
        payload = ts + self.api_key + window + (body if request.method == "POST" else request.query_string)
        expected = hmac.new(self.api_secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, h.get("X-BAPI-SIGN", "")):
            return self._reply({}, code=10004, msg="error sign! origin_string[...]")
        now = self.now_ms()
        if int(ts) > now + 1000 or now - int(ts) > int(window):
            return self._reply(
                {}, code=10002, msg="invalid request, please check your server timestamp or recv_window param"
            )
        return None

    async def _time(self, params: dict[str, Any]) -> web.Response:
        now = self.now_ms()
        return self._reply({"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)})

    async def _instruments(self, params: dict[str, Any]) -> web.Response:
        inst = self.instrument
        row = {
            "symbol": self.symbol,
            "contractType": "LinearPerpetual",
            "status": "Trading",
            "baseCoin": inst.base,
            "quoteCoin": inst.quote,
            "settleCoin": inst.settlement_currency,
            "launchTime": "1585526400000",
            "deliveryTime": "0",
            "deliveryFeeRate": "",
            "priceScale": str(_decimals([_fmt(inst.tick_size)])),
            "leverageFilter": {"minLeverage": "1", "maxLeverage": "75.00", "leverageStep": "0.01"},
            "priceFilter": {
                "minPrice": _fmt(inst.tick_size),
                "maxPrice": "199.9998",
                "tickSize": _fmt(inst.tick_size),
            },
            "lotSizeFilter": {
                "maxOrderQty": "5000000",
                "minOrderQty": _fmt(inst.lot_size),
                "qtyStep": _fmt(inst.lot_size),
                "postOnlyMaxOrderQty": "5000000",
                "maxMktOrderQty": "1000000",
                "minNotionalValue": _fmt(inst.min_notional),
            },
            "unifiedMarginTrade": True,
            "fundingInterval": 480,
            "settleCoinPrecision": 8,
            "copyTrading": "both",
            "upperFundingRate": "0.02",
            "lowerFundingRate": "-0.02",
        }
        return self._reply({"category": "linear", "list": [row], "nextPageCursor": ""})

    async def _orderbook(self, params: dict[str, Any]) -> web.Response:
        book = self.engine.books[self.symbol]
        limit = int(params.get("limit", 25))
        return self._reply(
            {
                "s": self.symbol,
                "b": [[_fmt(p), _fmt(q)] for p, q in book.sorted_bids(limit)],
                "a": [[_fmt(p), _fmt(q)] for p, q in book.sorted_asks(limit)],
                "ts": book.ts_ms,
                "u": book.sequence,
                "seq": book.sequence,
                "cts": book.ts_ms,
            }
        )

    def _mid(self) -> float:
        book = self.engine.books[self.symbol]
        bid, ask = book.best_bid(), book.best_ask()
        assert bid is not None and ask is not None
        return 0.5 * (bid[0] + ask[0])

    async def _tickers(self, params: dict[str, Any]) -> web.Response:
        book = self.engine.books[self.symbol]
        bid, ask = book.best_bid(), book.best_ask()
        assert bid is not None and ask is not None
        period = 8 * 3_600_000
        row = {
            "symbol": self.symbol,
            "lastPrice": _fmt(self._mid()),
            "bid1Price": _fmt(bid[0]),
            "bid1Size": _fmt(bid[1]),
            "ask1Price": _fmt(ask[0]),
            "ask1Size": _fmt(ask[1]),
            "markPrice": _fmt(self._mid()),
            "indexPrice": _fmt(self._mid()),
            "fundingRate": _fmt(self.funding_rate),
            "nextFundingTime": str((self.now_ms() // period + 1) * period),
            "openInterest": "0",
            "volume24h": "0",
            "turnover24h": "0",
            "price24hPcnt": "0",
            "highPrice24h": _fmt(self._mid()),
            "lowPrice24h": _fmt(self._mid()),
            "prevPrice24h": _fmt(self._mid()),
        }
        return self._reply({"category": "linear", "list": [row]})

    def _order_json(self, o: VenueOrder) -> dict[str, Any]:
        return {
            "orderId": str(o.order_id),
            "orderLinkId": o.client_id,
            "symbol": o.symbol,
            "price": _fmt(o.price or 0.0),
            "qty": _fmt(o.qty),
            "side": "Buy" if o.side is Side.BUY else "Sell",
            "orderStatus": _STATUS[o.status],
            "cancelType": "UNKNOWN",
            "rejectReason": "EC_NoError",
            "avgPrice": _fmt(o.avg_price),
            "leavesQty": _fmt(o.remaining if o.status.is_open else 0.0),
            "leavesValue": "0",
            "cumExecQty": _fmt(o.filled),
            "cumExecValue": _fmt(o.notional_filled),
            "cumExecFee": _fmt(sum(f.fee for f in o.fills)),
            "timeInForce": _TIF_OUT.get(o.tif, "GTC"),
            "orderType": "Market" if o.kind == "market" else "Limit",
            "stopOrderType": "",
            "reduceOnly": o.reduce_only,
            "closeOnTrigger": False,
            "positionIdx": 0,
            "createdTime": str(o.ts_ms),
            "updatedTime": str(o.update_ms),
            "category": "linear",
        }

    async def _create(self, params: dict[str, Any]) -> web.Response:
        if self.faults.ack_delay_s:
            await asyncio.sleep(self.faults.ack_delay_s)
        if self.faults.take_reject():
            return self._reply({}, code=110007, msg="ab not enough for new order")
        kind = str(params.get("orderType", "Limit")).lower()
        tif = _TIF.get(str(params.get("timeInForce", "GTC")), TimeInForce.GTC)
        if kind == "market":
            tif = TimeInForce.IOC
        self.engine.partial_fill_ratio = self.faults.partial_fill_ratio
        try:
            order = self.engine.place(
                symbol=str(params.get("symbol", "")),
                side=Side.BUY if params.get("side") == "Buy" else Side.SELL,
                kind=kind,
                qty=float(params.get("qty", 0)),
                price=float(params["price"]) if kind == "limit" and "price" in params else None,
                tif=tif,
                reduce_only=bool(params.get("reduceOnly", False)),
                client_id=str(params.get("orderLinkId") or f"loopback-{secrets.token_hex(6)}"),
                ts_ms=self.now_ms(),
            )
        except Rejection as rej:
            code, msg = _REJECT.get(rej.reason, (10001, rej.message))
            return self._reply({}, code=code, msg=msg)
        return self._reply({"orderId": str(order.order_id), "orderLinkId": order.client_id})

    def _find(self, params: dict[str, Any]) -> VenueOrder | None:
        oid = params.get("orderId")
        return self.engine.find(
            order_id=int(oid) if oid else None, client_id=params.get("orderLinkId") or None
        )

    async def _amend(self, params: dict[str, Any]) -> web.Response:
        order = self._find(params)
        if order is None or not order.status.is_open:
            return self._reply({}, code=110001, msg="order not exists or too late to replace")
        try:
            self.engine.amend(
                order_id=order.order_id,
                qty=float(params.get("qty", order.qty)),
                price=float(params.get("price", order.price or 0.0)),
                ts_ms=self.now_ms(),
            )
        except Rejection as rej:
            code, msg = _REJECT.get(rej.reason, (10001, rej.message))
            return self._reply({}, code=code, msg=msg)
        return self._reply({"orderId": str(order.order_id), "orderLinkId": order.client_id})

    async def _cancel(self, params: dict[str, Any]) -> web.Response:
        if self.faults.ack_delay_s:
            await asyncio.sleep(self.faults.ack_delay_s)
        order = self._find(params)
        if order is None or not order.status.is_open:
            return self._reply({}, code=110001, msg="Order does not exist.")
        self.engine.cancel(order_id=order.order_id, ts_ms=self.now_ms())
        return self._reply({"orderId": str(order.order_id), "orderLinkId": order.client_id})

    async def _orders(self, params: dict[str, Any]) -> web.Response:
        if params.get("orderId") or params.get("orderLinkId"):
            found = self._find(params)
            rows = [found] if found is not None else []
        elif str(params.get("openOnly", "0")) in ("0", "") and "history" not in str(params.get("_path", "")):
            rows = self.engine.open_orders(params.get("symbol"))
        else:
            rows = list(self.engine.orders.values())
        return self._reply(
            {"category": "linear", "list": [self._order_json(o) for o in rows], "nextPageCursor": ""}
        )

    async def _executions(self, params: dict[str, Any]) -> web.Response:
        out = []
        for o in self.engine.orders.values():
            for f in o.fills:
                out.append(
                    {
                        "symbol": f.symbol,
                        "orderId": str(f.order_id),
                        "orderLinkId": o.client_id,
                        "side": "Buy" if f.side is Side.BUY else "Sell",
                        "orderPrice": _fmt(o.price or 0.0),
                        "orderQty": _fmt(o.qty),
                        "orderType": "Market" if o.kind == "market" else "Limit",
                        "execFee": _fmt(f.fee),
                        "feeCurrency": f.fee_currency,
                        "execId": str(f.trade_id),
                        "execPrice": _fmt(f.price),
                        "execQty": _fmt(f.qty),
                        "execType": "Trade",
                        "execValue": _fmt(f.price * f.qty),
                        "execTime": str(f.ts_ms),
                        "feeRate": _fmt(
                            self.engine.maker_fee if f.liquidity.value == "maker" else self.engine.taker_fee
                        ),
                        "isMaker": f.liquidity.value == "maker",
                        "leavesQty": "0",
                        "closedSize": "0",
                        "markPrice": _fmt(self._mid()),
                        "category": "linear",
                    }
                )
        out.sort(key=lambda r: int(r["execId"]), reverse=True)  # Bybit lists newest first
        return self._reply({"category": "linear", "list": out, "nextPageCursor": ""})

    async def _positions(self, params: dict[str, Any]) -> web.Response:
        pos = self.engine.positions[self.symbol]
        mark = self._mid()
        upnl = float(self.instrument.pnl(pos.qty, pos.entry_price, mark)[0]) if pos.qty else 0.0
        row = {
            "symbol": self.symbol,
            "positionIdx": 0,
            "side": "Buy" if pos.qty > 0 else "Sell" if pos.qty < 0 else "",
            "size": _fmt(abs(pos.qty)),
            "avgPrice": _fmt(pos.entry_price),
            "positionValue": _fmt(abs(pos.qty) * pos.entry_price),
            "markPrice": _fmt(mark),
            "unrealisedPnl": _fmt(upnl),
            "cumRealisedPnl": _fmt(pos.realized_pnl),
            "leverage": "10",
            "tradeMode": 0,
            "liqPrice": "",
            "positionIM": "0",
            "positionMM": "0",
            "createdTime": "1733011200000",
            "updatedTime": str(self.now_ms()),
            "positionStatus": "Normal",
            "riskId": 1,
            "autoAddMargin": 0,
        }
        return self._reply({"category": "linear", "list": [row], "nextPageCursor": ""})

    async def _wallet(self, params: dict[str, Any]) -> web.Response:
        wallet = self.engine.balances["USDT"]
        pos = self.engine.positions[self.symbol]
        upnl = float(self.instrument.pnl(pos.qty, pos.entry_price, self._mid())[0]) if pos.qty else 0.0
        coin = {
            "coin": "USDT",
            "equity": _fmt(wallet + upnl),
            "walletBalance": _fmt(wallet),
            "availableToWithdraw": _fmt(wallet),
            "usdValue": _fmt(wallet + upnl),
            "unrealisedPnl": _fmt(upnl),
            "cumRealisedPnl": _fmt(pos.realized_pnl),
            "locked": "0",
            "totalOrderIM": "0",
            "totalPositionIM": "0",
            "borrowAmount": "0",
        }
        acct = {
            "accountType": "UNIFIED",
            "totalEquity": coin["equity"],
            "totalWalletBalance": coin["walletBalance"],
            "totalAvailableBalance": coin["availableToWithdraw"],
            "totalMarginBalance": coin["equity"],
            "coin": [coin],
        }
        return self._reply({"list": [acct]})

    async def _account_info(self, params: dict[str, Any]) -> web.Response:
        return self._reply({"unifiedMarginStatus": 6, "marginMode": "REGULAR_MARGIN", "updatedTime": "0"})

    async def _coins(self, params: dict[str, Any]) -> web.Response:
        chain = {
            "chainType": "ETH",
            "chain": "ETH",
            "confirmation": "6",
            "withdrawFee": "1",
            "depositMin": "0",
            "withdrawMin": "1",
            "chainDeposit": "1",
            "chainWithdraw": "1",
            "minAccuracy": "6",
            "withdrawPercentageFee": "0",
        }
        rows = [
            {"name": c, "coin": c, "remainAmount": "1000000", "chains": [chain]}
            for c in ("USDT", self.instrument.base)
        ]
        return self._reply({"rows": rows})

    async def _query_api(self, params: dict[str, Any]) -> web.Response:
        return self._reply(
            {"id": "1", "apiKey": "***", "readOnly": 0, "uta": 1, "unified": 0, "permissions": {}}
        )

    # ------------------------------------------------------------------ stream

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
                op = req.get("op")
                reply: dict[str, Any] = {"success": True, "ret_msg": "", "conn_id": "loopback", "op": op}
                if "req_id" in req:
                    reply["req_id"] = req["req_id"]
                if op == "ping":
                    reply["ret_msg"] = "pong"
                    await ws.send_json(reply)
                elif op in ("subscribe", "unsubscribe"):
                    topics = [str(t) for t in req.get("args", [])]
                    if op == "subscribe":
                        conn.channels.update(topics)
                    else:
                        conn.channels.difference_update(topics)
                    await ws.send_json(reply)
                    for topic in topics if op == "subscribe" else []:
                        if topic.startswith("orderbook.") and topic.endswith("." + self.symbol):
                            await conn.send(self, self._snapshot(topic))
                else:
                    await ws.send_json(reply | {"success": False, "ret_msg": f"unknown op {op!r}"})
        finally:
            if conn in self.connections:
                self.connections.remove(conn)
        return ws

    def _snapshot(self, topic: str) -> dict[str, Any]:
        book = self.engine.books[self.symbol]
        depth = int(topic.split(".")[1])
        return {
            "topic": topic,
            "type": "snapshot",
            "ts": book.ts_ms,
            "data": {
                "s": self.symbol,
                "b": [[_fmt(p), _fmt(q)] for p, q in book.sorted_bids(depth)],
                "a": [[_fmt(p), _fmt(q)] for p, q in book.sorted_asks(depth)],
                "u": book.sequence,
                "seq": book.sequence,
            },
            "cts": book.ts_ms,
        }
