"""Fault injection for the loopback venues.

A test sets fields of a venue's :class:`Faults` and the wire layer obeys them
on the next requests or stream messages: rate-limit answers (Binance HTTP 429
code -1003, Deribit error 10028 ``too_many_requests``), 5xx, rejected orders,
delayed acknowledgements, partial fills, a gapped or stale book stream,
dropped connections, a venue down as a whole, and a skewed venue clock.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Faults"]


@dataclass(slots=True)
class Faults:
    """What the loopback venue does wrong next; every counter counts down as it fires."""

    rate_limit_next: int = 0
    """The next N REST (or JSON-RPC) requests are answered with the venue's rate-limit error."""
    server_error_next: int = 0
    """The next N REST requests are answered with HTTP 503."""
    reject_next_orders: int = 0
    """The next N order placements are rejected (insufficient margin)."""
    ack_delay_s: float = 0.0
    """Seconds to wait before acknowledging an order placement or cancel."""
    partial_fill_ratio: float | None = None
    """Crossing orders fill only this fraction of their quantity (the rest rests, or expires for IOC)."""
    drop_next_deltas: int = 0
    """The next N book deltas are applied to the venue's book but not sent: a gap in the stream."""
    stale_book: bool = False
    """Book deltas are applied but none is sent (the stream stays open and silent)."""
    disconnect_after: int | None = None
    """Close every stream connection after sending this many more messages."""
    down: bool = False
    """The venue answers nothing but 503 and refuses stream connections."""
    clock_skew_ms: int = 0
    """The venue's clock runs this many milliseconds ahead of the machine's."""

    def take_rate_limit(self) -> bool:
        """Consume one rate-limit answer if one is due."""
        if self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            return True
        return False

    def take_server_error(self) -> bool:
        """Consume one 5xx answer if one is due."""
        if self.server_error_next > 0:
            self.server_error_next -= 1
            return True
        return False

    def take_reject(self) -> bool:
        """Consume one order rejection if one is due."""
        if self.reject_next_orders > 0:
            self.reject_next_orders -= 1
            return True
        return False

    def take_drop(self) -> bool:
        """Consume one dropped delta if one is due."""
        if self.drop_next_deltas > 0:
            self.drop_next_deltas -= 1
            return True
        return False
