"""The Python strategy interface: what the engine calls and the reports it hands over.

A strategy written in plain Python implements :class:`Strategy`; the engine
calls it only for the instruments it subscribed to (when their best bid or
ask changed in the local view), for reports of its own orders (and expiry or
liquidation fills), and for the timer it set. It acts through the context
(``ctx.submit``, ``ctx.cancel``, ``ctx.set_timer``), which sends orders into
the same latency queues as the compiled strategies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from spreadlab.core.ids import InstrumentId

__all__ = ["Report", "ReportKind", "Strategy"]


class ReportKind(StrEnum):
    """What a report says about an order."""

    ACK = "ack"
    FILL = "fill"
    DONE = "done"
    REJECT = "reject"
    SETTLE = "settle"

    @classmethod
    def from_code(cls, code: int) -> ReportKind:
        """The kind of an engine report code (``RP_*``)."""
        return _CODES[code]


_CODES = {
    0: ReportKind.ACK,
    1: ReportKind.FILL,
    2: ReportKind.DONE,
    3: ReportKind.REJECT,
    4: ReportKind.SETTLE,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """A report reaching the strategy (after the venue's response latency).

    ``filled`` is the signed quantity of a fill or settlement (0 otherwise),
    ``price`` its price; ``order_id`` is -1 for expiry and liquidation fills;
    ``reason`` the engine's reject/cancel code (``RJ_*``).
    """

    kind: ReportKind
    ts: int
    order_id: int
    instrument_id: InstrumentId
    filled: float = 0.0
    price: float = 0.0
    reason: int = 0


class Strategy(Protocol):
    """A strategy in plain Python (slower than the compiled ones; same orders for the same decisions)."""

    def subscriptions(self) -> Sequence[InstrumentId]:
        """Instruments whose best-price changes call :meth:`on_market`."""
        ...

    def on_start(self, ctx: Any) -> None:
        """Called once before the first event."""
        ...

    def on_market(self, ctx: Any, instrument_id: InstrumentId) -> None:
        """A subscribed instrument's best bid or ask changed in the local view."""
        ...

    def on_report(self, ctx: Any, report: Report) -> None:
        """A report of one of the strategy's orders (or an expiry/liquidation fill) arrived."""
        ...

    def on_timer(self, ctx: Any) -> None:
        """The timer set with ``ctx.set_timer`` fired."""
        ...
