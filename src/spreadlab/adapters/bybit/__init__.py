"""Bybit linear (USDT) perpetuals through ccxt's ``bybit`` (v5 REST and the public book stream)."""

from spreadlab.adapters.bybit.adapter import BybitLinearAdapter

__all__ = ["BybitLinearAdapter"]
