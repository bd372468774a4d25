"""Bybit linear perpetuals (unified account, v5 API): symbols as Bybit writes them (``XRPUSDT``).

Bybit acknowledges a create, amend or cancel with the order ids only, so the adapter reads the
order back (``/v5/order/realtime`` by ``orderLinkId``, the client order id) for its status and
fills. 10006 is Bybit's per-account rate limit, 110072 a duplicate ``orderLinkId``. ccxt's Bybit
book handler applies deltas without a sequence check (and leaves the nonce empty); the subclass
here requires each delta's ``u`` to follow the last one by one and, on a gap, fails the watch
with ``InvalidNonce`` so the adapter resubscribes for a fresh snapshot.
"""

from __future__ import annotations

from typing import Any

import ccxt
import ccxt.pro as ccxtpro

from spreadlab.adapters._ccxt import CcxtAdapter
from spreadlab.core.enums import TimeInForce, Venue
from spreadlab.execution.protocols import OrderRequest
from spreadlab.instruments.base import Instrument
from spreadlab.instruments.symbols import parse_symbol

__all__ = ["BybitLinearAdapter"]

_TIF = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK", TimeInForce.POST_ONLY: "PO"}


class _CheckedBybit(ccxtpro.bybit):  # type: ignore[misc]
    """ccxt's Bybit with a ``u`` sequence check on ``orderbook.*`` messages."""

    def handle_order_book(self, client: Any, message: dict[str, Any]) -> None:
        data = message.get("data") or {}
        name = data.get("s")
        seqs: dict[str, int] = self.__dict__.setdefault("_book_u", {})
        u = data.get("u")
        if message.get("type") == "delta" and name in seqs and u != seqs[name] + 1:
            symbol = self.safe_market(name, None, None, "contract")["symbol"]
            last = seqs.pop(name)
            self.orderbooks.pop(symbol, None)
            client.reject(
                ccxt.InvalidNonce(f"bybit {name}: delta u={u} after u={last}"), "orderbook:" + symbol
            )
            return
        if name is not None and u is not None:
            seqs[name] = int(u)
        super().handle_order_book(client, message)
        if name is not None and u is not None:
            symbol = self.safe_market(name, None, None, "contract")["symbol"]
            if symbol in self.orderbooks:
                self.orderbooks[symbol]["nonce"] = int(u)


class BybitLinearAdapter(CcxtAdapter):
    """``MarketDataFeed`` and ``ExecutionClient`` for Bybit linear perpetuals."""

    venue = Venue.BYBIT_LINEAR.value
    ccxt_class = _CheckedBybit
    rate_limit_codes = ("10006",)
    duplicate_id_codes = ("110072",)
    ack_needs_refetch = True

    def __init__(self, **kwargs: Any) -> None:
        config = dict(kwargs.pop("config", None) or {})
        options = {"fetchMarkets": {"types": ["linear"]}, "defaultType": "swap", **config.pop("options", {})}
        super().__init__(config={**config, "options": options}, **kwargs)

    def parse(self, venue_symbol: str) -> Instrument:
        """Bybit's own symbol through spreadlab's linear parser."""
        return parse_symbol(Venue.BYBIT_LINEAR, venue_symbol)

    def order_params(self, request: OrderRequest) -> dict[str, Any]:
        """``orderLinkId`` (the client order id), ``timeInForce`` (PO = post-only), ``reduceOnly``."""
        params: dict[str, Any] = {"clientOrderId": request.client_order_id}
        if request.price is not None:
            params["timeInForce"] = _TIF[request.time_in_force]
        if request.reduce_only:
            params["reduceOnly"] = True
        return params

    def client_id_of(self, order: dict[str, Any]) -> str:
        """Bybit returns the client id as ``orderLinkId``."""
        return str(order.get("clientOrderId") or order["info"].get("orderLinkId", ""))

    def _expired(self, order: dict[str, Any]) -> bool:
        return order.get("info", {}).get("timeInForce") in ("IOC", "FOK", "PostOnly")

    async def find_by_client_id(self, symbol: str, client_order_id: str) -> dict[str, Any] | None:
        """``/v5/order/realtime?orderLinkId=...`` (open and recent orders), or None."""
        market = self.exchange.market(symbol)
        request = {"category": "linear", "symbol": market["id"], "orderLinkId": client_order_id}
        rows = await self.call("order_realtime", lambda: self.exchange.private_get_v5_order_realtime(request))
        found = (rows.get("result") or {}).get("list") or []
        return dict(self.exchange.parse_order(found[0], market)) if found else None
