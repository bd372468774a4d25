"""Contract specifications and venue symbol parsers."""

from spreadlab.instruments.base import Future, Instrument, Option, Perpetual, Spot
from spreadlab.instruments.registry import InstrumentRegistry
from spreadlab.instruments.symbols import format_symbol, parse_instrument_id, parse_symbol

__all__ = [
    "Future",
    "Instrument",
    "InstrumentRegistry",
    "Option",
    "Perpetual",
    "Spot",
    "format_symbol",
    "parse_instrument_id",
    "parse_symbol",
]
