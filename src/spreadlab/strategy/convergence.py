"""SpreadConvergence: a spread, a hedge model, a signal model, bands, sizing and legging.

The strategy is specified once and compiled per data window into a
:class:`~spreadlab.strategy.program.SpreadProgram`, whose decision step runs
in the engine's kernel (:mod:`spreadlab.kernels.engine_strategy`).

Schedule
    On a grid of ``bar_ns``, ``m_j`` is each leg's mid just before grid time
    ``g_j`` (events received, plus the feed latency, strictly before ``g_j``).
    Row ``j`` -- used for decisions from ``g_j`` until ``g_{j+1}`` -- is fitted on
    ``m_{j-W+1..j}`` only (``W = window``), so no row sees a price at or after
    its own time:

    * hedge ``FIXED``: ``beta = 1`` (the legs' ratios as given); ``ROLLING``:
      OLS slope of ``f(leg 0)`` on ``f(leg 1)`` over the window (``f`` = log for
      the log quote, identity otherwise), the ratio of leg 1 multiplied by it;
      ``STATIC``: one OLS slope fitted on the first ``window`` grid points, no
      trading before them.
    * signal ``ZSCORE``: ``mu``, ``sd`` = mean and standard deviation of the
      spread value over the window (with the row's ``beta``); ``FAIR_VALUE``:
      ``mu`` = the given fair value (0 for a basis: the perpetual converges
      to spot), ``sd`` over the window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from spreadlab.errors import InsufficientDataError, ValidationError
from spreadlab.kernels.engine_book import blocks_for, new_books
from spreadlab.kernels.engine_loop import grid_mids
from spreadlab.signals.spread import Spread, SpreadQuote
from spreadlab.strategy.program import SpreadProgram

__all__ = ["Bands", "Direction", "HedgeKind", "Legging", "SignalKind", "SpreadConvergence"]

_QUOTES = {SpreadQuote.DIFFERENCE: 0, SpreadQuote.LOG_RATIO: 1, SpreadQuote.BASIS: 2}


class HedgeKind(StrEnum):
    """How the ratio of leg 1 is set."""

    FIXED = "fixed"
    STATIC = "static"
    ROLLING = "rolling"


class Direction(StrEnum):
    """Which side of the spread may be entered (a cash-and-carry without spot margin is short only)."""

    BOTH = "both"
    LONG = "long"
    SHORT = "short"


_DIRS = {Direction.BOTH: 0, Direction.LONG: 1, Direction.SHORT: -1}


class SignalKind(StrEnum):
    """How the spread's centre and scale are estimated."""

    ZSCORE = "zscore"
    FAIR_VALUE = "fair_value"


@dataclass(frozen=True, slots=True, kw_only=True)
class Bands:
    """Entry, exit and stop in z units (entry short above ``entry``, long below ``-entry``)."""

    entry: float = 2.0
    exit: float = 0.0
    stop: float = 4.0

    def __post_init__(self) -> None:
        if not -self.entry < self.exit < self.entry < self.stop:
            raise ValidationError(
                f"bands must satisfy -entry < exit < entry < stop, got entry={self.entry}, "
                f"exit={self.exit}, stop={self.stop}"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class Legging:
    """How legs are sent: IOC limits at the touch with ``slippage_bp`` allowed, or market orders.

    After every order of a round trip is done, a leg short of its target is
    completed at market once ``timeout_ns`` has passed (an entry that filled
    nothing goes back to flat). With ``passive_leg = k`` entries post leg ``k``
    alone as a post-only limit at its own touch (it waits in the queue), hedge
    each of its fills on the other legs at market, cancel it after
    ``timeout_ns`` and keep the round trip to what it filled; exits are taken.
    """

    market: bool = False
    slippage_bp: float = 5.0
    timeout_ns: int = 1_000_000_000
    passive_leg: int | None = None

    def __post_init__(self) -> None:
        if self.passive_leg is not None and (isinstance(self.passive_leg, bool) or self.passive_leg < 0):
            raise ValidationError(f"passive_leg={self.passive_leg!r} must be a leg index >= 0 or None")
        if self.slippage_bp < 0:
            raise ValidationError(f"slippage_bp={self.slippage_bp} must be >= 0")
        if self.timeout_ns < 0:
            raise ValidationError(f"timeout_ns={self.timeout_ns} must be >= 0")


@dataclass(frozen=True, slots=True, kw_only=True)
class SpreadConvergence:
    """Trade the reversion of ``spread`` to its centre (see the module doc).

    Parameters
    ----------
    spread
        The legs (2 to 4) and the quote (difference, log ratio or basis).
    hedge, signal
        Models for the ratio of leg 1 and for the centre and scale.
    window
        Grid points per fit.
    bar_ns
        Grid step of the schedule.
    bands, legging
        Thresholds and how orders are sent.
    notional_usd
        USD notional of leg 0 per round trip.
    fair_value
        Centre of the ``FAIR_VALUE`` signal.
    max_hold_ns, cooldown_ns
        Time stop (0 none) and the pause after a stop-loss.
    direction
        Enter both sides, or only long / only short the spread.
    """

    spread: Spread
    hedge: HedgeKind = HedgeKind.FIXED
    signal: SignalKind = SignalKind.ZSCORE
    window: int = 120
    bar_ns: int = 60_000_000_000
    bands: Bands = field(default_factory=Bands)
    legging: Legging = field(default_factory=Legging)
    notional_usd: float = 10_000.0
    fair_value: float = 0.0
    max_hold_ns: int = 0
    cooldown_ns: int = 0
    direction: Direction = Direction.BOTH

    def __post_init__(self) -> None:
        if self.spread.quote not in _QUOTES:
            raise ValidationError(
                f"spread quote {self.spread.quote.value} is not traded by SpreadConvergence; "
                f"use one of {[q.value for q in _QUOTES]}"
            )
        if len(self.spread.legs) > 4:
            raise ValidationError(f"SpreadConvergence trades at most 4 legs, got {len(self.spread.legs)}")
        if self.hedge is not HedgeKind.FIXED and len(self.spread.legs) != 2:
            raise ValidationError(f"hedge={self.hedge.value} needs exactly 2 legs")
        if isinstance(self.window, bool) or not isinstance(self.window, int) or self.window < 3:
            raise ValidationError(f"window={self.window!r} must be an int >= 3")
        if self.bar_ns <= 0:
            raise ValidationError(f"bar_ns={self.bar_ns} must be > 0")
        if not self.notional_usd > 0:
            raise ValidationError(f"notional_usd={self.notional_usd} must be > 0")
        if self.legging.passive_leg is not None and self.legging.passive_leg >= len(self.spread.legs):
            raise ValidationError(
                f"legging.passive_leg={self.legging.passive_leg} must be < the {len(self.spread.legs)} legs"
            )
        if self.max_hold_ns < 0 or self.cooldown_ns < 0:
            raise ValidationError("max_hold_ns and cooldown_ns must be >= 0")

    @property
    def name(self) -> str:
        """The spread's label."""
        return self.spread.label

    def schedule(self, mids: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, ...]:
        """Return ``(t, beta, mu, sd)`` rows from leg mids ``mids[j, k]`` taken just before ``grid[j]``."""
        w = self.window
        q = _QUOTES[self.spread.quote]
        ratios = np.array([leg.ratio for leg in self.spread.legs])
        f = np.log(mids) if q == 1 else mids
        ok = np.isfinite(f).all(axis=1)
        n = grid.shape[0]
        beta = np.ones(n)
        if self.hedge is not HedgeKind.FIXED:
            y, x = f[:, 0], f[:, 1]
            if self.hedge is HedgeKind.STATIC:
                first = np.flatnonzero(ok)[:w]
                if first.size < w:
                    raise InsufficientDataError(
                        f"{self.name}: {first.size} grid points with prices, hedge needs {w}"
                    )
                b = np.polyfit(x[first], y[first], 1)[0]
                beta[:] = -b / ratios[1] if ratios[1] != 0 else 1.0
                beta[: first[-1] + 1] = np.nan
            else:
                beta[:] = np.nan
                for j in range(w - 1, n):
                    sl = slice(j - w + 1, j + 1)
                    if not ok[sl].all():
                        continue
                    xv = x[sl] - x[sl].mean()
                    den = float(xv @ xv)
                    if den > 0:
                        b = float(xv @ (y[sl] - y[sl].mean())) / den
                        beta[j] = b / -ratios[1]
        if q == 2:
            value = mids[:, 0] / mids[:, 1] - 1.0
            a = value
            bpart = np.zeros(n)
        else:
            a = ratios[0] * f[:, 0]
            bpart = (ratios[1:] * f[:, 1:]).sum(axis=1)
        mu = np.full(n, np.nan)
        sd = np.full(n, np.nan)
        for j in range(w - 1, n):
            sl = slice(j - w + 1, j + 1)
            if not ok[sl].all() or not np.isfinite(beta[j]):
                continue
            v = a[sl] + beta[j] * bpart[sl]
            sd[j] = float(v.std(ddof=1))
            mu[j] = self.fair_value if self.signal is SignalKind.FAIR_VALUE else float(v.mean())
        keep = np.isfinite(mu) & np.isfinite(sd) & (sd > 0)
        return grid[keep], beta[keep], mu[keep], sd[keep]

    def program(
        self, engine_tape: object, instrument_ids: list[str], *, feed_latency_ns: int = 0
    ) -> SpreadProgram:
        """Fit the schedule on ``engine_tape`` (a :class:`spreadlab.engine.tape.Tape`) and freeze it."""
        tape = engine_tape
        t0 = int(tape.start_ns)  # type: ignore[attr-defined]
        t1 = int(tape.end_ns)  # type: ignore[attr-defined]
        grid = np.arange(t0 + self.bar_ns, t1 + 1, self.bar_ns, dtype=np.int64)
        if grid.size < self.window:
            raise InsufficientDataError(
                f"{self.name}: the window holds {grid.size} grid points of {self.bar_ns} ns; "
                f"the signal needs window={self.window}"
            )
        legs = [str(leg.instrument.id) for leg in self.spread.legs]
        idx = [instrument_ids.index(s) for s in legs]
        books = new_books(len(instrument_ids), blocks_for(int(tape.max_levels)))  # type: ignore[attr-defined]
        mids = grid_mids(tape.arrays(), books, grid, int(feed_latency_ns))[:, idx]  # type: ignore[attr-defined]
        st, sb, smu, ssd = self.schedule(mids, grid)
        return SpreadProgram(
            name=self.name,
            instrument_ids=tuple(leg.instrument.id for leg in self.spread.legs),
            ratios=tuple(float(leg.ratio) for leg in self.spread.legs),
            quote_code=_QUOTES[self.spread.quote],
            entry_z=self.bands.entry,
            exit_z=self.bands.exit,
            stop_z=self.bands.stop,
            notional_usd=self.notional_usd,
            slippage_bp=self.legging.slippage_bp,
            market_orders=self.legging.market,
            max_hold_ns=int(self.max_hold_ns),
            legging_timeout_ns=int(self.legging.timeout_ns),
            cooldown_ns=int(self.cooldown_ns),
            direction_code=_DIRS[self.direction],
            maker_leg=-1 if self.legging.passive_leg is None else int(self.legging.passive_leg),
            schedule_t=st.astype(np.int64),
            schedule_beta=sb.astype(np.float64),
            schedule_mean=smu.astype(np.float64),
            schedule_std=ssd.astype(np.float64),
        )
