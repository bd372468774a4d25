"""Backtest: spread strategies on the event-driven engine, from tables or from a catalog.

``Backtest(strategies, config=...).run(tables)`` builds the tape of every
leg (plus ``extra_instruments``, e.g. an option's underlying), fits each
strategy's schedule on that tape (each row on data before its time), runs
the engine and returns a :class:`~spreadlab.backtest.result.BacktestResult`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import polars as pl

from spreadlab.backtest.result import BacktestResult, result_from_state
from spreadlab.data.catalog import Catalog
from spreadlab.engine.core import Engine, EngineConfig
from spreadlab.engine.tape import build_tape
from spreadlab.errors import ValidationError
from spreadlab.execution.venue import LatencyModel, SimulatedVenue
from spreadlab.instruments.base import Instrument
from spreadlab.strategy.base import Strategy
from spreadlab.strategy.convergence import SpreadConvergence

__all__ = ["Backtest", "BacktestConfig"]

_KINDS = ("quotes", "book_deltas", "book_snapshots", "trades", "mark", "funding", "bars")


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestConfig:
    """Engine settings plus how bars become quotes.

    ``close_at_end``: close every open position at the end at the book's
    executable prices with fees (the headline PnL is then realisable); when
    False they stay open, valued at mid, and ``positions`` shows them.
    """

    engine: EngineConfig = field(default_factory=EngineConfig)
    bar_half_spread_bp: float = 1.0
    close_at_end: bool = True

    def __post_init__(self) -> None:
        if self.bar_half_spread_bp < 0:
            raise ValidationError(f"bar_half_spread_bp={self.bar_half_spread_bp} must be >= 0")


class Backtest:
    """Run spread strategies (compiled) and optionally one Python strategy on the engine."""

    def __init__(
        self,
        strategies: Sequence[SpreadConvergence] = (),
        *,
        config: BacktestConfig | None = None,
        python_strategy: Strategy | None = None,
        extra_instruments: Sequence[Instrument] = (),
    ) -> None:
        self.strategies = tuple(strategies)
        self.config = config or BacktestConfig()
        self.python_strategy = python_strategy
        insts: dict[str, Instrument] = {}
        for s in self.strategies:
            for leg in s.spread.legs:
                insts.setdefault(str(leg.instrument.id), leg.instrument)
        for inst in extra_instruments:
            insts.setdefault(str(inst.id), inst)
        if not insts:
            raise ValidationError("a backtest needs at least one strategy or instrument")
        self.instruments = tuple(insts.values())

    def run(
        self,
        tables: Mapping[str, pl.DataFrame],
        *,
        progress: Callable[[int, int], None] | None = None,
        latency_from_capture: Sequence[str] = (),
    ) -> BacktestResult:
        """Run on canonical tables keyed by kind (``quotes``, ``book_deltas``, ``trades``, ``mark``, ...).

        ``latency_from_capture`` names venues whose order-entry and response
        latencies are drawn from the ``ts_recv - ts_event`` of their own data.
        """
        ids = [str(i.id) for i in self.instruments]
        tape = build_tape(tables, ids, bar_half_spread_bp=self.config.bar_half_spread_bp)
        feed = self.config.engine.feed_latency_ns
        programs = [s.program(tape, ids, feed_latency_ns=feed) for s in self.strategies]
        engine_cfg = self._with_capture_latency(tables, latency_from_capture)
        engine = Engine(
            self.instruments, tape, config=engine_cfg, programs=programs, strategy=self.python_strategy
        )
        state = engine.run(progress=progress, close_at_end=self.config.close_at_end)
        return result_from_state(state)

    def _with_capture_latency(
        self, tables: Mapping[str, pl.DataFrame], venues: Sequence[str]
    ) -> EngineConfig:
        cfg = self.config.engine
        if not venues:
            return cfg
        given = {v.venue: v for v in cfg.venues}
        out = dict(given)
        for name in venues:
            ids = [str(i.id) for i in self.instruments if i.id.venue == name]
            parts = [
                df.filter(pl.col("instrument_id").cast(pl.String).is_in(ids)).select("ts_event", "ts_recv")
                for k in ("book_deltas", "quotes", "trades")
                if (df := tables.get(k)) is not None and not df.is_empty()
            ]
            rows = pl.concat(parts) if parts else pl.DataFrame()
            if rows.is_empty():
                raise ValidationError(
                    f"venue {name}: latency_from = 'capture' but it has no data with ts_recv"
                )
            base = given.get(name, SimulatedVenue(venue=name))
            lat = LatencyModel.from_capture(
                rows["ts_event"].to_numpy(), rows["ts_recv"].to_numpy(), floor_ns=base.latency.entry_ns
            )
            out[name] = replace(base, latency=lat)
        return replace(cfg, venues=tuple(out.values()))

    def run_catalog(
        self,
        catalog: Catalog,
        *,
        start: str | int | None = None,
        end: str | int | None = None,
        progress: Callable[[int, int], None] | None = None,
        latency_from_capture: Sequence[str] = (),
    ) -> BacktestResult:
        """Run on the data of ``catalog`` in ``[start, end)``."""
        ids = [str(i.id) for i in self.instruments]
        tables = {k: catalog.query(k, ids, start, end) for k in _KINDS}
        if all(df.is_empty() for df in tables.values()):
            raise ValidationError(f"the catalog has no data for {ids} in [{start}, {end})")
        return self.run(tables, progress=progress, latency_from_capture=latency_from_capture)
