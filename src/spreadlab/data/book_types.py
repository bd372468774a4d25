"""Value types of the order book: sequence rules, event outcomes, query and replay results."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

import polars as pl

from spreadlab._typing import FloatArray
from spreadlab.core.enums import Side, Venue
from spreadlab.kernels import orderbook as k

__all__ = ["BookReplay", "Depth", "EventOutcome", "Impact", "SequenceRule", "TopLevels"]


class SequenceRule(StrEnum):
    """How a book checks the venue's update ids.

    ``NONE``: no ids (Tardis, files without sequence numbers); every diff is
    applied. ``BINANCE_SPOT``: first diff after snapshot ``L`` has
    ``U <= L+1 <= u``, then ``U == previous u + 1``. ``BINANCE_FUTURES``
    (USDT-M and COIN-M): first diff has ``U <= L <= u``, then
    ``pu == previous u``.
    """

    NONE = "none"
    BINANCE_SPOT = "binance_spot"
    BINANCE_FUTURES = "binance_futures"

    @property
    def code(self) -> int:
        """Return the kernel's integer code of the rule."""
        return _RULE_CODES[self]

    @classmethod
    def for_venue(cls, venue: Venue | str) -> SequenceRule:
        """Return the rule of a venue's diff-depth stream.

        Examples
        --------
        >>> SequenceRule.for_venue("BINANCE_USDM")
        <SequenceRule.BINANCE_FUTURES: 'binance_futures'>
        """
        v = str(venue)
        if v == Venue.BINANCE:
            return cls.BINANCE_SPOT
        if v in (Venue.BINANCE_USDM, Venue.BINANCE_COINM):
            return cls.BINANCE_FUTURES
        return cls.NONE


_RULE_CODES = {
    SequenceRule.NONE: k.RULE_NONE,
    SequenceRule.BINANCE_SPOT: k.RULE_BINANCE_SPOT,
    SequenceRule.BINANCE_FUTURES: k.RULE_BINANCE_FUTURES,
}


class EventOutcome(IntEnum):
    """What happened to one message (snapshot or diff) given to a book."""

    APPLIED = k.EV_APPLIED
    SNAPSHOT = k.EV_SNAPSHOT
    STALE = k.EV_STALE
    """Dropped: older than the book (before the snapshot, or a duplicate)."""
    UNSYNCED = k.EV_UNSYNCED
    """Dropped: the book is waiting for a snapshot."""
    GAP = k.EV_GAP
    """A message is missing before this one: the book was cleared and awaits a snapshot."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Depth:
    """Resting size within ``bp`` basis points of the mid on each side (base units)."""

    bp: float
    bid_size: float
    ask_size: float
    bid_notional: float
    ask_notional: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Impact:
    """The cost of a market order of ``requested`` size walking the book.

    ``complete`` is False when the book held less than ``requested``; then
    ``vwap`` and ``impact_bp`` describe the ``filled`` part only.
    """

    side: Side
    requested: float
    filled: float
    vwap: float
    worst_price: float
    levels: int
    mid: float
    impact_bp: float
    complete: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class TopLevels:
    """The best ``n`` levels after each event, best first; NaN where a side has fewer levels."""

    bid_prices: FloatArray
    bid_sizes: FloatArray
    ask_prices: FloatArray
    ask_sizes: FloatArray


@dataclass(frozen=True, slots=True, kw_only=True)
class BookReplay:
    """The result of replaying a stream of deltas through a book.

    ``frame`` has one row per message: ``ts``, ``sequence`` (the message's
    update id ``u``), ``first_sequence`` (its ``U``), ``book_id`` (the update
    id the book is at after it; -1 while invalid), ``outcome``
    (:class:`EventOutcome` value), ``valid``, ``bid``, ``bid_size``, ``ask``,
    ``ask_size`` (null where the side is empty or the book invalid).
    ``buffered`` counts diffs received before a snapshot and re-applied on
    top of it.
    """

    frame: pl.DataFrame
    top: TopLevels | None
    events: int
    rows: int
    snapshots: int
    applied: int
    stale: int
    unsynced: int
    gaps: int
    buffered: int
    uncrossed_levels: int
