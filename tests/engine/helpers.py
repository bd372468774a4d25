"""Builders for engine tests: quotes, deltas, trades, marks, funding, and a scripted Python strategy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from spreadlab.core.enums import Side
from spreadlab.strategy.base import Report

T0 = 1_750_000_000_000_000_000  # 2025-06-15
S = 1_000_000_000


def quotes(
    inst: object, rows: Sequence[tuple[float, float, float, float, float]], lag: int = 0
) -> pl.DataFrame:
    """Rows of (t_seconds, bid, ask, bid_size, ask_size); ts_recv = ts_event + lag ns."""
    t = np.array([T0 + int(r[0] * S) for r in rows], dtype=np.int64)
    return pl.DataFrame(
        {
            "ts_event": t,
            "ts_recv": t + lag,
            "instrument_id": [str(inst)] * len(rows),
            "bid": [float(r[1]) for r in rows],
            "ask": [float(r[2]) for r in rows],
            "bid_size": [float(r[3]) for r in rows],
            "ask_size": [float(r[4]) for r in rows],
        }
    )


def deltas(inst: object, rows: Sequence[tuple[float, int, float, float, bool]], lag: int = 0) -> pl.DataFrame:
    """Rows of (t_seconds, side, price, size, is_snapshot)."""
    t = np.array([T0 + int(r[0] * S) for r in rows], dtype=np.int64)
    return pl.DataFrame(
        {
            "ts_event": t,
            "ts_recv": t + lag,
            "instrument_id": [str(inst)] * len(rows),
            "side": pl.Series([int(r[1]) for r in rows], dtype=pl.Int8),
            "price": [float(r[2]) for r in rows],
            "size": [float(r[3]) for r in rows],
            "is_snapshot": [bool(r[4]) for r in rows],
        }
    )


def trades(inst: object, rows: Sequence[tuple[float, float, float, int]]) -> pl.DataFrame:
    """Rows of (t_seconds, price, size, aggressor)."""
    t = np.array([T0 + int(r[0] * S) for r in rows], dtype=np.int64)
    return pl.DataFrame(
        {
            "ts_event": t,
            "ts_recv": t,
            "instrument_id": [str(inst)] * len(rows),
            "price": [float(r[1]) for r in rows],
            "size": [float(r[2]) for r in rows],
            "aggressor": pl.Series([int(r[3]) for r in rows], dtype=pl.Int8),
        }
    )


def marks(inst: object, rows: Sequence[tuple[float, float, float]]) -> pl.DataFrame:
    """Rows of (t_seconds, mark, index)."""
    t = np.array([T0 + int(r[0] * S) for r in rows], dtype=np.int64)
    return pl.DataFrame(
        {
            "ts_event": t,
            "ts_recv": t,
            "instrument_id": [str(inst)] * len(rows),
            "mark": [float(r[1]) for r in rows],
            "index": [float(r[2]) for r in rows],
        }
    )


def funding(inst: object, rows: Sequence[tuple[float, float]]) -> pl.DataFrame:
    """Rows of (funding time in seconds, rate)."""
    t = np.array([T0 + int(r[0] * S) for r in rows], dtype=np.int64)
    return pl.DataFrame(
        {
            "ts_event": t,
            "ts_recv": t,
            "instrument_id": [str(inst)] * len(rows),
            "rate": [float(r[1]) for r in rows],
            "funding_time_ns": t,
        }
    )


@dataclass(frozen=True, slots=True)
class Action:
    """An order a :class:`Scripted` strategy sends at local time ``at`` (seconds after T0)."""

    at: float
    instrument: object
    side: Side
    qty: float
    price: float | None = None
    ioc: bool = False
    fok: bool = False
    post_only: bool = False
    reduce_only: bool = False
    cancel: int | None = None  # cancel this order id instead


@dataclass
class Scripted:
    """A Python strategy that sends scripted orders at given times and records its reports."""

    actions: Sequence[Action]
    subs: Sequence[object] = ()
    reports: list[Report] = field(default_factory=list)
    sent: list[tuple[int, int]] = field(default_factory=list)  # (local time, order id)
    _k: int = 0

    def subscriptions(self) -> Sequence[object]:
        return tuple(self.subs)

    def on_start(self, ctx: object) -> None:
        self._arm(ctx)

    def _arm(self, ctx: object) -> None:
        if self._k < len(self.actions):
            ctx.set_timer(T0 + int(self.actions[self._k].at * S))  # type: ignore[attr-defined]

    def on_timer(self, ctx: object) -> None:
        while self._k < len(self.actions) and T0 + int(self.actions[self._k].at * S) <= ctx.now:  # type: ignore[attr-defined]
            a = self.actions[self._k]
            self._k += 1
            if a.cancel is not None:
                ctx.cancel(a.cancel)  # type: ignore[attr-defined]
                continue
            oid = ctx.submit(
                a.instrument,
                a.side,
                a.qty,
                price=a.price,
                ioc=a.ioc,
                fok=a.fok,  # type: ignore[attr-defined]
                post_only=a.post_only,
                reduce_only=a.reduce_only,
            )
            self.sent.append((ctx.now, oid))  # type: ignore[attr-defined]
        self._arm(ctx)

    def on_market(self, ctx: object, instrument_id: object) -> None:
        pass

    def on_report(self, ctx: object, report: Report) -> None:
        self.reports.append(report)
