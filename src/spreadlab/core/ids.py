"""Identifiers. An instrument is named ``VENUE:SYMBOL``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from spreadlab.errors import ValidationError

__all__ = ["InstrumentId"]

_VENUE_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
_SYMBOL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-./@]*$")


@dataclass(frozen=True, slots=True)
class InstrumentId:
    """The identity of an instrument: a venue and the venue's own symbol.

    Parameters
    ----------
    venue
        Upper-case venue name, e.g. ``"DERIBIT"`` or ``"BINANCE_USDM"``.
    symbol
        The venue's symbol exactly as the venue writes it.

    Examples
    --------
    >>> InstrumentId.parse("DERIBIT:BTC-PERPETUAL")
    InstrumentId('DERIBIT:BTC-PERPETUAL')
    >>> str(InstrumentId("BINANCE", "BTCUSDT"))
    'BINANCE:BTCUSDT'
    """

    venue: str
    symbol: str

    def __post_init__(self) -> None:
        if not isinstance(self.venue, str) or not _VENUE_RE.match(self.venue):
            raise ValidationError(
                f"venue={self.venue!r} is invalid: expected upper-case letters, digits and '_'"
            )
        if not isinstance(self.symbol, str) or not _SYMBOL_RE.match(self.symbol):
            raise ValidationError(f"symbol={self.symbol!r} is invalid: expected letters, digits and '-_./@'")

    @classmethod
    def parse(cls, text: str) -> InstrumentId:
        """Parse ``"VENUE:SYMBOL"``."""
        venue, sep, symbol = text.partition(":")
        if not sep:
            raise ValidationError(f"instrument id {text!r} is invalid: expected 'VENUE:SYMBOL'")
        return cls(venue, symbol)

    def __str__(self) -> str:
        return f"{self.venue}:{self.symbol}"

    def __repr__(self) -> str:
        return f"InstrumentId('{self}')"
