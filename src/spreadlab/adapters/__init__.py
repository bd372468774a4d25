"""Venue adapters: one package per venue, ccxt inside, the execution protocols outside.

``spreadlab.adapters.binance.BinanceUsdmAdapter`` and ``spreadlab.adapters.deribit.DeribitAdapter``
implement :class:`~spreadlab.execution.protocols.MarketDataFeed` and
:class:`~spreadlab.execution.protocols.ExecutionClient`. They need the ``live`` extra (ccxt).
"""

from spreadlab.adapters._ccxt import (
    CcxtAdapter,
    RateBudget,
    VenueAuthError,
    VenueError,
    VenueUnavailableError,
)

__all__ = ["CcxtAdapter", "RateBudget", "VenueAuthError", "VenueError", "VenueUnavailableError"]
