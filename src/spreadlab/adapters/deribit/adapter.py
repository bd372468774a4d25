"""Deribit: instrument names as Deribit writes them, quantities in Deribit's amounts (USD for
inverse perpetuals and futures, coin for options).

ccxt's Deribit book handler applies changes without looking at their sequence (and reports the
timestamp as the book's nonce); the subclass
here checks that every change's ``prev_change_id`` is the ``change_id`` before it and, on a
gap, drops the book and fails the watch with ``InvalidNonce``, so the adapter resubscribes and
starts again from a fresh snapshot; a book's ``sequence`` is its ``change_id``. The client order
id travels as Deribit's ``label`` and is
looked up with ``private/get_order_state_by_label``. Error 10028 is Deribit's rate limit.
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

__all__ = ["DeribitAdapter"]

_TIF = {
    TimeInForce.GTC: "good_til_cancelled",
    TimeInForce.IOC: "immediate_or_cancel",
    TimeInForce.FOK: "fill_or_kill",
}


class _CheckedDeribit(ccxtpro.deribit):  # type: ignore[misc]
    """ccxt's Deribit with a ``change_id`` chain check on ``book.*`` notifications."""

    def handle_order_book(self, client: Any, message: dict[str, Any]) -> None:
        data = (message.get("params") or {}).get("data") or {}
        name = data.get("instrument_name")
        chain: dict[str, int] = self.__dict__.setdefault("_change_ids", {})
        if data.get("type") == "change":
            prev = data.get("prev_change_id")
            if name in chain and prev != chain[name]:
                chain.pop(name, None)
                symbol = self.safe_symbol(name)
                self.orderbooks.pop(symbol, None)
                channel = str(message["params"]["channel"])
                descriptor = ".".join(channel.split(".")[2:])
                error = ccxt.InvalidNonce(
                    f"deribit {name}: prev_change_id {prev} != last change_id {chain.get(name)}"
                )
                client.reject(error, "book|" + symbol + "|" + descriptor)
                return
        if name is not None and "change_id" in data:
            chain[name] = int(data["change_id"])
        super().handle_order_book(client, message)
        book = self.orderbooks.get(self.safe_symbol(name)) if name is not None else None
        if book is not None and "change_id" in data:
            book["nonce"] = int(data["change_id"])  # ccxt puts the timestamp there; the sequence is change_id


class DeribitAdapter(CcxtAdapter):
    """``MarketDataFeed`` and ``ExecutionClient`` for Deribit."""

    venue = Venue.DERIBIT.value
    ccxt_class = _CheckedDeribit
    rate_limit_codes = ("10028",)

    def parse(self, venue_symbol: str) -> Instrument:
        """Deribit's own name through spreadlab's Deribit parser."""
        return parse_symbol(Venue.DERIBIT, venue_symbol)

    def order_params(self, request: OrderRequest) -> dict[str, Any]:
        """``label`` (the client order id), ``time_in_force`` or ``post_only``, ``reduce_only``."""
        params: dict[str, Any] = {"label": request.client_order_id}
        if request.time_in_force is TimeInForce.POST_ONLY:
            params["postOnly"] = True
        elif request.price is not None:
            params["time_in_force"] = _TIF[request.time_in_force]
        if request.reduce_only:
            params["reduceOnly"] = True
        return params

    def client_id_of(self, order: dict[str, Any]) -> str:
        """Deribit keeps the client id in the order's ``label``."""
        return str(order["info"].get("label", ""))

    def _expired(self, order: dict[str, Any]) -> bool:
        info = order.get("info", {})
        return info.get("time_in_force") in ("immediate_or_cancel", "fill_or_kill")

    async def find_by_client_id(self, symbol: str, client_order_id: str) -> dict[str, Any] | None:
        """``private/get_order_state_by_label``: the newest order with this label, or None."""
        market = self.exchange.market(symbol)
        request = {"currency": market["settle"] or market["base"], "label": client_order_id}
        rows = await self.call(
            "get_order_state_by_label", lambda: self.exchange.private_get_get_order_state_by_label(request)
        )
        orders = [o for o in rows.get("result", []) if o.get("instrument_name") == market["id"]]
        if not orders:
            return None
        return dict(self.exchange.parse_order(orders[-1], market))
