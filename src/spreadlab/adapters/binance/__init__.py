"""Binance USDⓈ-M futures through ccxt's ``binanceusdm`` (REST and websocket books)."""

from spreadlab.adapters.binance.adapter import BinanceUsdmAdapter

__all__ = ["BinanceUsdmAdapter"]
