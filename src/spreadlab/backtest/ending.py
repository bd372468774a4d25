"""End of a vectorised run: positions still open, closed round trips, the funding ledger.

A spread position still held at the last bar is, by default
(:attr:`EndOfRun.CLOSE`), closed at that bar at the executable price (sell
legs at the bid, buy legs at the ask) with fees, so the headline PnL is what
could have been realised; with :attr:`EndOfRun.MARK` it stays open, marked at
the last mid. Either way :func:`open_at_end` reports it per leg: the signed
quantity, the bar it was entered, the last mid and its unrealised PnL (every
PnL part accrued since the entry, marked at mid, in USD), and when closed the
exit price and exit cost (half-spread plus fee). A round trip counts once it
is closed: the position returns to zero or flips sign.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import numpy as np
import polars as pl

from spreadlab._typing import FloatArray, IntArray
from spreadlab.backtest.inputs import LegArrays
from spreadlab.kernels import contracts as _k
from spreadlab.kernels.backtest import run_legs
from spreadlab.signals.spread import Leg

__all__ = ["EndOfRun", "closed_round_trips", "funding_ledger", "open_at_end"]


class EndOfRun(StrEnum):
    """What happens to a position still open at the last bar."""

    CLOSE = "close"
    """Close it at the last bar's executable price, paying the half-spread and fees (default)."""
    MARK = "mark"
    """Leave it open, marked at the last mid (no exit cost)."""


def closed_round_trips(units: FloatArray) -> int:
    """Count the round trips closed in an executed position series (to zero or through it)."""
    u = np.asarray(units, dtype=np.float64)
    prev = np.concatenate(([0.0], u[:-1]))
    closed = (prev != 0.0) & ((u == 0.0) | (np.sign(u) != np.sign(prev)))
    return int(np.count_nonzero(closed))


def _leg_run(units: FloatArray, x: LegArrays, j: int, fee: FloatArray, cap: FloatArray) -> tuple:
    s = slice(j, j + 1)

    def col(a: FloatArray) -> FloatArray:
        return np.ascontiguousarray(a[:, s])

    return run_legs(
        units, col(x.bid), col(x.ask), col(x.mid), x.ratio[s].copy(), x.multiplier[s].copy(),
        x.kind[s].copy(), fee[s].copy(), cap[s].copy(), col(x.funding_rate), col(x.funding_price),
        col(x.underlying), col(x.fx),
    )  # fmt: skip


_OPEN_SCHEMA = {
    "instrument_id": pl.String,
    "qty": pl.Float64,
    "entry_ts_ns": pl.Int64,
    "mark": pl.Float64,
    "unrealised_usd": pl.Float64,
    "closed": pl.Boolean,
    "exit_price": pl.Float64,
    "exit_cost_usd": pl.Float64,
}


def open_at_end(
    ts: IntArray,
    held_units: FloatArray,
    executed_units: FloatArray,
    x: LegArrays,
    fee: FloatArray,
    cap: FloatArray,
    legs: Sequence[Leg],
    *,
    closed: bool,
) -> pl.DataFrame:
    """Report each leg of the spread position open at the last bar (empty if flat).

    ``held_units`` is the position series with the last position held to the
    end (marked at mid); ``executed_units`` what was traded (the last bar flat
    when ``closed``).
    """
    n = ts.size
    units = np.asarray(held_units, dtype=np.float64)
    if n == 0 or units[-1] == 0.0:
        return pl.DataFrame(schema=_OPEN_SCHEMA)
    prev = np.concatenate(([0.0], units[:-1]))
    starts = np.nonzero((units != 0.0) & ((prev == 0.0) | (np.sign(prev) != np.sign(units))))[0]
    s = int(starts[-1])
    rows = []
    for j, leg in enumerate(legs):
        qty = float(units[-1] * x.ratio[j])
        if qty == 0.0:
            continue
        _, conv, cross, fees, fund, _ = _leg_run(units, x, j, fee, cap)
        unreal = float(np.sum((conv + cross + fees + fund)[s:]))
        exit_price, exit_cost = None, 0.0
        if closed:
            _, _, c2, f2, _, _ = _leg_run(np.asarray(executed_units, dtype=np.float64), x, j, fee, cap)
            exit_price = float(x.bid[-1, j] if qty > 0 else x.ask[-1, j])
            exit_cost = float(c2[-1] + f2[-1])
        rows.append(
            {
                "instrument_id": str(leg.instrument.id), "qty": qty, "entry_ts_ns": int(ts[s]),
                "mark": float(x.mid[-1, j]), "unrealised_usd": unreal, "closed": closed,
                "exit_price": exit_price, "exit_cost_usd": exit_cost,
            }
        )  # fmt: skip
    return pl.DataFrame(rows, schema=_OPEN_SCHEMA)


_LEDGER_SCHEMA = {
    "funding_time_ns": pl.Int64,
    "ts_ns": pl.Int64,
    "instrument_id": pl.String,
    "rate": pl.Float64,
    "price": pl.Float64,
    "price_source": pl.String,
    "qty": pl.Float64,
    "payment_usd": pl.Float64,
}


def funding_ledger(ts: IntArray, positions: FloatArray, x: LegArrays, legs: Sequence[Leg]) -> pl.DataFrame:
    """One row per funding event inside the run: the price it was charged on and its source, the payment."""
    frames = []
    for j, times, idx, rates, price, source in x.funding_events:
        held = positions[idx - 1, j]
        m, k = float(x.multiplier[j]), int(x.kind[j])
        pay = _k.funding_payment(np.ascontiguousarray(held), price, rates, m, k) * x.fx[idx, j]
        frames.append(
            pl.DataFrame(
                {
                    "funding_time_ns": times, "ts_ns": ts[idx], "instrument_id": str(legs[j].instrument.id),
                    "rate": rates, "price": price, "price_source": source, "qty": held, "payment_usd": pay,
                }
            )
        )  # fmt: skip
    if not frames:
        return pl.DataFrame(schema=_LEDGER_SCHEMA)
    return pl.concat(frames).sort("funding_time_ns", "instrument_id")
