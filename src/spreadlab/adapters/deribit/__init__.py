"""Deribit through ccxt's ``deribit`` (JSON-RPC over HTTP, books over the websocket)."""

from spreadlab.adapters.deribit.adapter import DeribitAdapter

__all__ = ["DeribitAdapter"]
