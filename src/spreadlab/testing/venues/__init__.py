"""Loopback venues: local HTTP + WebSocket servers on 127.0.0.1 that speak the Binance USDⓈ-M and
Deribit wire protocols, with a matching engine, recorded real payloads and fault injection.

ccxt is pointed at them through its URL settings (:meth:`ccxt_config`), so adapter tests run the
real ccxt request, signing and parsing code with no network.
"""

from spreadlab.testing.venues.binance import BinanceUsdmVenue
from spreadlab.testing.venues.bybit import BybitLinearVenue
from spreadlab.testing.venues.deribit import DeribitVenue
from spreadlab.testing.venues.faults import Faults
from spreadlab.testing.venues.matching import MatchingEngine, OrderStatus
from spreadlab.testing.venues.recordings import load_binance_usdm, load_deribit, need
from spreadlab.testing.venues.server import LoopbackVenue

__all__ = [
    "BinanceUsdmVenue",
    "BybitLinearVenue",
    "DeribitVenue",
    "Faults",
    "LoopbackVenue",
    "MatchingEngine",
    "OrderStatus",
    "load_binance_usdm",
    "load_deribit",
    "need",
]
