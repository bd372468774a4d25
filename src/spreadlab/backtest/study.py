"""A validation study read from a catalog: which spread, which search, which windows; run it.

:class:`StudyConfig` is what ``spreadlab validate`` and ``spreadlab optimize``
read from TOML (:func:`spreadlab.config.load_study`). The spread's bars come
from the catalog (:func:`spread_data_from_catalog`):

- ``source = "quotes"``: each leg's last top-of-book quote at or before
  every bar time of a ``bar_interval`` grid (a bar is dropped when a leg has
  no quote younger than one interval);
- ``source = "bars"``: each leg's bar closes of that interval, at the bar's
  close time, with bid/ask ``close (1 -/+ half_spread_bp / 1e4)`` (an
  assumed half-spread; bars carry no quotes).

Funding events of perpetual legs are read from the catalog too. ``kind =
"basis"`` trades ``leg1 / leg2 - 1`` with fixed ratios; ``kind = "pair"``
trades ``leg1 - beta leg2`` in prices with ``beta`` refitted by OLS on each
training window.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from spreadlab.backtest.cpcv import cpcv_search
from spreadlab.backtest.executors import Executor
from spreadlab.backtest.objective import SpreadData
from spreadlab.backtest.refit import BandStrategy
from spreadlab.backtest.search import (
    Choice,
    FloatRange,
    GridSampler,
    IntRange,
    SearchResult,
    Space,
    TPESampler,
    search,
)
from spreadlab.backtest.validation import ValidationResult
from spreadlab.backtest.vectorized import LegQuotes
from spreadlab.backtest.walkforward import WalkForward, walk_forward_search
from spreadlab.core.time import parse_time
from spreadlab.core.validate import require_in_range, require_non_negative, require_positive
from spreadlab.data.trials import TrialLog
from spreadlab.errors import DataError, InsufficientDataError, ValidationError
from spreadlab.instruments.base import Instrument, Perpetual
from spreadlab.instruments.fees import FeeModel, FeeRate
from spreadlab.signals.cv import CombinatorialPurgedKFold
from spreadlab.signals.pairs import parse_interval
from spreadlab.signals.spread import Leg, Spread, SpreadQuote

__all__ = [
    "CPCVSpec",
    "SearchSpec",
    "StrategySpec",
    "StudyConfig",
    "run_optimize",
    "run_validation",
    "spread_data_from_catalog",
    "strategy_from_catalog",
]

Kind = Literal["basis", "pair"]
Source = Literal["quotes", "bars"]


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategySpec:
    """The spread, its data and the band rule's fixed settings (see the module docstring)."""

    kind: Kind
    legs: tuple[str, str]
    start: str | None = None
    end: str | None = None
    source: Source = "quotes"
    bar_interval: str = "1m"
    half_spread_bp: float = 1.0
    funding: bool = True
    capital: float = 100_000.0
    units: float = 1.0
    notional_usd: float | None = None
    delay_bars: int = 1
    taker_fees: Mapping[str, float] = field(default_factory=dict)
    defaults: Mapping[str, float] = field(default_factory=dict)
    instruments_file: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("basis", "pair"):
            raise ValidationError(f"kind={self.kind!r} must be 'basis' or 'pair'")
        if len(self.legs) != 2 or len(set(self.legs)) != 2:
            raise ValidationError(f"legs={list(self.legs)!r} must name two different instruments")
        if self.source not in ("quotes", "bars"):
            raise ValidationError(f"source={self.source!r} must be 'quotes' or 'bars'")
        parse_interval(self.bar_interval)
        require_non_negative("half_spread_bp", self.half_spread_bp)
        require_positive("capital", self.capital)
        require_positive("units", self.units)
        if self.notional_usd is not None:
            require_positive("notional_usd", self.notional_usd)
        for k, v in self.taker_fees.items():
            require_in_range(f"taker_fees[{k!r}]", v, 0.0, 0.1)
        for t in (self.start, self.end):
            if t is not None:
                parse_time(t)


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchSpec:
    """The parameter space and how it is searched."""

    space: Mapping[str, IntRange | FloatRange | Choice]
    sampler: Literal["grid", "tpe"] = "grid"
    n_trials: int = 64
    seed: int = 0
    batch_size: int = 8
    score: str = "sharpe"

    def __post_init__(self) -> None:
        if not self.space:
            raise ValidationError("space is empty: give at least one parameter to search")
        if self.sampler not in ("grid", "tpe"):
            raise ValidationError(f"sampler={self.sampler!r} must be 'grid' or 'tpe'")
        for name in ("n_trials", "batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValidationError(f"{name}={v!r} must be an int >= 1")


@dataclass(frozen=True, slots=True, kw_only=True)
class CPCVSpec:
    """The combinatorial purged cross-validation."""

    n_groups: int = 6
    n_test_groups: int = 2
    embargo: float = 0.01
    label_bars: int = 1

    def splitter(self) -> CombinatorialPurgedKFold:
        """The splitter (validates the settings)."""
        return CombinatorialPurgedKFold(
            n_groups=self.n_groups, n_test_groups=self.n_test_groups, embargo=self.embargo, min_train=10
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StudyConfig:
    """Everything ``spreadlab validate`` / ``optimize`` need besides the catalog."""

    strategy: StrategySpec
    search: SearchSpec
    walk_forward: WalkForward = field(default_factory=WalkForward)
    cpcv: CPCVSpec = field(default_factory=CPCVSpec)
    confidence: float = 0.95
    report: str = "validation-report.html"

    def __post_init__(self) -> None:
        require_in_range("confidence", self.confidence, 0.0, 1.0, inclusive=False)
        self.cpcv.splitter()

    def space(self) -> Space:
        """The search space."""
        return self.search.space


def _resolve(iid: str, instruments_file: str | None) -> Instrument:
    from spreadlab.core.ids import InstrumentId
    from spreadlab.instruments.symbols import parse_instrument_id

    try:
        return parse_instrument_id(InstrumentId.parse(iid))
    except (ValidationError, DataError) as exc:
        if instruments_file is None:
            raise ValidationError(
                f"legs: cannot resolve {iid!r} ({exc}); for the built-in market give "
                "instruments_file = '<market dir>/instruments.parquet'"
            ) from None
    from spreadlab.data.market.io import instruments_from_frame

    path = Path(instruments_file)
    if not path.is_file():
        raise ValidationError(f"instruments_file={instruments_file!r} does not exist")
    known = {str(i.id): i for i in instruments_from_frame(pl.read_parquet(path))}
    if iid not in known:
        raise ValidationError(f"legs: {iid!r} is not in {instruments_file} ({len(known)} instruments)")
    return known[iid]


def _quotes_grid(cat: Any, ids: list[str], iv: int, t0: int | None, t1: int | None) -> tuple[Any, ...]:
    q = cat.query("quotes", ids, start=t0, end=t1)
    per = {i: q.filter(pl.col("instrument_id") == i) for i in ids}
    for i, f in per.items():
        if f.height < 3:
            raise InsufficientDataError(f"the catalog holds {f.height} quote(s) of {i} in the range")
    lo = max(int(f["ts_event"][0]) for f in per.values())
    hi = min(int(f["ts_event"][-1]) for f in per.values())
    grid = np.arange((lo // iv + 1) * iv, hi + 1, iv, dtype=np.int64)
    keep = np.ones(grid.size, dtype=bool)
    sides = []
    for i in ids:
        ts = per[i]["ts_event"].to_numpy()
        k = np.searchsorted(ts, grid, side="right") - 1
        keep &= (k >= 0) & (grid - ts[np.maximum(k, 0)] < iv)
        sides.append((per[i]["bid"].to_numpy()[np.maximum(k, 0)], per[i]["ask"].to_numpy()[np.maximum(k, 0)]))
    return grid[keep], [(b[keep], a[keep]) for b, a in sides]


def _bars_grid(
    cat: Any, ids: list[str], iv: int, half: float, t0: int | None, t1: int | None
) -> tuple[Any, ...]:
    bars = cat.query("bars", ids, start=t0, end=t1).filter(pl.col("interval_ns") == iv)
    if "price_type" in bars.columns and bars.height:
        bars = bars.filter(pl.col("price_type") == "trade")
    frames = []
    for j, i in enumerate(ids):
        f = bars.filter(pl.col("instrument_id") == i)
        if f.height < 3:
            raise InsufficientDataError(
                f"the catalog holds {f.height} trade bar(s) of {i} at interval {iv // 10**9} s in the range"
            )
        f = f.unique("ts_event", keep="last", maintain_order=True)
        frames.append(f.select((pl.col("ts_event") + iv).alias("ts"), pl.col("close").alias(f"c{j}")))
    grid = frames[0].join(frames[1], on="ts", how="inner").sort("ts")
    ts = grid["ts"].to_numpy()
    sides = []
    for j in range(2):
        c = grid[f"c{j}"].to_numpy()
        sides.append((c * (1 - half / 1e4), c * (1 + half / 1e4)))
    return ts, sides


def spread_data_from_catalog(spec: StrategySpec, catalog: str | Path) -> SpreadData:
    """The spread's aligned bars (and funding) from a catalog, per ``spec``."""
    from spreadlab.data.catalog import Catalog

    cat = Catalog(catalog)
    insts = [_resolve(i, spec.instruments_file) for i in spec.legs]
    ids = [str(i.id) for i in insts]
    iv = parse_interval(spec.bar_interval)
    t0 = parse_time(spec.start) if spec.start else None
    t1 = parse_time(spec.end) if spec.end else None
    if spec.source == "quotes":
        ts, sides = _quotes_grid(cat, ids, iv, t0, t1)
    else:
        ts, sides = _bars_grid(cat, ids, iv, spec.half_spread_bp, t0, t1)
    if ts.size < 3:
        raise InsufficientDataError(f"legs {ids} share {ts.size} bar(s) in the range; need more")
    legs: dict[Any, LegQuotes] = {}
    for inst, (bid, ask) in zip(insts, sides, strict=True):
        ft, fr = np.zeros(0, dtype=np.int64), np.zeros(0)
        if spec.funding and isinstance(inst, Perpetual):
            f = (
                cat.query("funding", [str(inst.id)])
                .unique("funding_time_ns", keep="last")
                .sort("funding_time_ns")
            )
            inside = f.filter(
                (pl.col("funding_time_ns") > int(ts[0])) & (pl.col("funding_time_ns") <= int(ts[-1]))
            )
            ft, fr = inside["funding_time_ns"].to_numpy(), inside["rate"].to_numpy()
        legs[inst.id] = LegQuotes(bid=bid, ask=ask, funding_times_ns=ft, funding_rates=fr)
    a, b = insts
    if spec.kind == "basis":
        spread = Spread(
            legs=(Leg(instrument=a, ratio=1.0), Leg(instrument=b, ratio=-1.0)), quote=SpreadQuote.BASIS,
            name=f"basis {a.id} / {b.id}",
        )  # fmt: skip
    else:
        spread = Spread(
            legs=(Leg(instrument=a, ratio=1.0), Leg(instrument=b, ratio=-1.0)), quote=SpreadQuote.DIFFERENCE,
            name=f"pair {a.id} - beta {b.id}",
        )  # fmt: skip
    key = f"catalog:{'/'.join(ids)}:{spec.source}:{spec.bar_interval}"
    return SpreadData(spread=spread, ts_ns=ts, legs=legs, data_key=key)


def strategy_from_catalog(spec: StrategySpec, catalog: str | Path) -> BandStrategy:
    """The :class:`BandStrategy` of ``spec`` on the catalog's data."""
    data = spread_data_from_catalog(spec, catalog)
    overrides = {k: FeeRate(maker=0.0, taker=float(v)) for k, v in spec.taker_fees.items()}
    return BandStrategy(
        data=data, hedge="ols" if spec.kind == "pair" else "fixed", notional_usd=spec.notional_usd,
        defaults={"window": 240, "entry_z": 2.0, "exit_z": 0.0, "min_edge_multiple": 1.0, **spec.defaults},
        fees=FeeModel.default(overrides=overrides), units=spec.units, capital=spec.capital,
        delay_bars=spec.delay_bars,
    )  # fmt: skip


Method = Literal["walk-forward", "cpcv"]


def _sampler(spec: SearchSpec, n_trials: int | None, sampler: str | None) -> GridSampler | TPESampler:
    kind = sampler or spec.sampler
    if kind == "grid":
        return GridSampler()
    if kind == "tpe":
        return TPESampler(n_trials=n_trials or spec.n_trials, seed=spec.seed, batch_size=spec.batch_size)
    raise ValidationError(f"sampler={kind!r} must be 'grid' or 'tpe'")


def run_validation(
    config: StudyConfig,
    catalog: str | Path,
    *,
    method: Method,
    executor: Executor | None = None,
) -> ValidationResult:
    """Validate the study's strategy on the catalog's data by walk-forward or CPCV; trials are logged."""
    if method not in ("walk-forward", "cpcv"):
        raise ValidationError(f"method={method!r} must be 'walk-forward' or 'cpcv'")
    strategy = strategy_from_catalog(config.strategy, catalog)
    log = TrialLog(catalog)
    if method == "walk-forward":
        return walk_forward_search(
            strategy, config.space(), sampler=_sampler(config.search, None, None), walk=config.walk_forward,
            executor=executor, log=log, score=config.search.score, confidence=config.confidence,
        )  # fmt: skip
    return cpcv_search(
        strategy, config.space(), cv=config.cpcv.splitter(), label_bars=config.cpcv.label_bars,
        executor=executor, log=log, confidence=config.confidence,
    )  # fmt: skip


def run_optimize(
    config: StudyConfig,
    catalog: str | Path,
    *,
    n_trials: int | None = None,
    sampler: str | None = None,
    executor: Executor | None = None,
) -> SearchResult:
    """Search the study's space on the whole history (hedge fitted on all of it); trials are logged."""
    strategy = strategy_from_catalog(config.strategy, catalog)
    n = len(strategy)
    objective = strategy.fit(np.arange(n)).window(0, n)
    return search(
        objective, config.space(), sampler=_sampler(config.search, n_trials, sampler), executor=executor,
        log=TrialLog(catalog), score=config.search.score,
    )  # fmt: skip
