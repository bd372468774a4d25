"""Binance USDⓈ-M: symbols as Binance writes them (``BTCUSDT``), quantities in coin.

Binance's own codes decide what is retried and what is an answer: -1003 (429) is a rate limit,
-4116 a duplicate client order id (the order already exists: it is fetched, not sent again),
-2013 an unknown order. Requests are signed with the measured clock offset, so a venue clock
ahead of ours does not fail with -1021.
"""

from __future__ import annotations

from typing import Any

import ccxt
import ccxt.pro as ccxtpro

from spreadlab.adapters._ccxt import CcxtAdapter
from spreadlab.core.enums import TimeInForce, Venue
from spreadlab.core.ids import InstrumentId
from spreadlab.execution.protocols import FundingPayment, OrderRequest
from spreadlab.instruments.base import Instrument
from spreadlab.instruments.symbols import parse_symbol

__all__ = ["BinanceUsdmAdapter"]

_TIF = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK", TimeInForce.POST_ONLY: "GTX"}


class BinanceUsdmAdapter(CcxtAdapter):
    """``MarketDataFeed`` and ``ExecutionClient`` for Binance USDⓈ-M futures."""

    venue = Venue.BINANCE_USDM.value
    ccxt_class = ccxtpro.binanceusdm
    rate_limit_codes = ("-1003",)
    duplicate_id_codes = ("-4116",)

    def __init__(self, **kwargs: Any) -> None:
        config = dict(kwargs.pop("config", None) or {})
        options = {"fetchCurrencies": False, **config.pop("options", {})}  # USDⓈ-M needs no spot wallet
        super().__init__(config={**config, "options": options}, **kwargs)

    def parse(self, venue_symbol: str) -> Instrument:
        """Binance's own symbol through spreadlab's USDⓈ-M parser."""
        return parse_symbol(Venue.BINANCE_USDM, venue_symbol)

    def order_params(self, request: OrderRequest) -> dict[str, Any]:
        """``newClientOrderId``, ``timeInForce`` (GTX = post-only), ``reduceOnly``."""
        params: dict[str, Any] = {"clientOrderId": request.client_order_id}
        if request.price is not None:
            params["timeInForce"] = _TIF[request.time_in_force]
        if request.reduce_only:
            params["reduceOnly"] = True
        return params

    def client_id_of(self, order: dict[str, Any]) -> str:
        """Binance returns the client id as ``clientOrderId``."""
        return str(order.get("clientOrderId") or order["info"].get("clientOrderId", ""))

    async def funding_payments(self, instrument_id: InstrumentId) -> list[FundingPayment]:
        """Funding paid (< 0) or received (> 0) on a perpetual, from ``/fapi/v1/income`` (FUNDING_FEE)."""
        sym = self.ccxt_symbol(instrument_id)
        rows = await self.call("fetch_funding_history", lambda: self.exchange.fetch_funding_history(sym))
        return [
            FundingPayment(
                instrument_id=instrument_id,
                amount=float(r["amount"]),
                currency=str(r["code"]),
                ts_event=int(r["timestamp"]) * 1_000_000,
            )
            for r in rows
        ]

    async def find_by_client_id(self, symbol: str, client_order_id: str) -> dict[str, Any] | None:
        """``GET /fapi/v1/order?origClientOrderId=...``; -2013 means the venue never saw it."""
        try:
            return dict(
                await self.call(
                    "fetch_order",
                    lambda: self.exchange.fetch_order(None, symbol, {"origClientOrderId": client_order_id}),
                )
            )
        except Exception as exc:
            cause = exc.__cause__ or exc
            if isinstance(cause, ccxt.OrderNotFound) or "-2013" in str(cause):
                return None
            raise
