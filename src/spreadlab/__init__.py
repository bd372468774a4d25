"""spreadlab: spread-convergence trading for crypto derivatives.

The public API is flat: ``from spreadlab import Spread, Perpetual, parse_symbol``.
Names are loaded on first use so that ``import spreadlab`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # errors
    "SpreadlabError": "spreadlab.errors",
    "ValidationError": "spreadlab.errors",
    "DataError": "spreadlab.errors",
    "UnknownSymbolError": "spreadlab.errors",
    "InsufficientDataError": "spreadlab.errors",
    "ConfigError": "spreadlab.errors",
    "ConvergenceError": "spreadlab.errors",
    # core
    "Clock": "spreadlab.core",
    "SimClock": "spreadlab.core",
    "WallClock": "spreadlab.core",
    "InstrumentId": "spreadlab.core",
    "Side": "spreadlab.core",
    "OptionKind": "spreadlab.core",
    "Settlement": "spreadlab.core",
    "OrderType": "spreadlab.core",
    "TimeInForce": "spreadlab.core",
    "Venue": "spreadlab.core",
    "parse_time": "spreadlab.core",
    "ns_to_datetime": "spreadlab.core",
    "datetime_to_ns": "spreadlab.core",
    # instruments
    "Instrument": "spreadlab.instruments",
    "Spot": "spreadlab.instruments",
    "Perpetual": "spreadlab.instruments",
    "Future": "spreadlab.instruments",
    "Option": "spreadlab.instruments",
    "InstrumentRegistry": "spreadlab.instruments",
    "parse_symbol": "spreadlab.instruments",
    "format_symbol": "spreadlab.instruments",
    # events
    "Quote": "spreadlab.events",
    "Trade": "spreadlab.events",
    "BookDelta": "spreadlab.events",
    "BookSnapshot": "spreadlab.events",
    "FundingRate": "spreadlab.events",
    "MarkPrice": "spreadlab.events",
    "OptionQuote": "spreadlab.events",
    "EventKind": "spreadlab.events",
}

__all__ = [*sorted(_EXPORTS), "__version__"]  # noqa: PLE0604


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'spreadlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
