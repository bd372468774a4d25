"""Immutable market messages and their columnar schemas."""

from spreadlab.events.messages import (
    BookAction,
    BookDelta,
    BookSnapshot,
    FundingRate,
    MarketEvent,
    MarkPrice,
    OptionQuote,
    Quote,
    Trade,
)
from spreadlab.events.schema import EventKind, arrow_schema, polars_schema

__all__ = [
    "BookAction",
    "BookDelta",
    "BookSnapshot",
    "EventKind",
    "FundingRate",
    "MarkPrice",
    "MarketEvent",
    "OptionQuote",
    "Quote",
    "Trade",
    "arrow_schema",
    "polars_schema",
]
