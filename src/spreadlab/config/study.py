"""Read a validation study (``spreadlab validate`` / ``spreadlab optimize``) from TOML.

The file's tables (every key optional unless marked; unknown keys are errors)::

    [strategy]                    # required
    kind = "basis"                # required: "basis" (leg1/leg2 - 1) or "pair" (leg1 - beta leg2, OLS)
    legs = ["SIM:BTC-PERP", "SIM:BTCUSDT"]   # required: two instrument ids in the catalog
    start = "2024-03-01"          # ISO 8601, UTC; end exclusive
    end = "2024-04-01"
    source = "quotes"             # "quotes" (top of book) or "bars" (closes + half_spread_bp)
    bar_interval = "5m"           # the bar grid (quotes) or the bar interval to read (bars)
    half_spread_bp = 1.0          # bars only: assumed half-spread
    funding = true                # charge funding of perpetual legs from the catalog
    capital = 100000.0
    units = 1.0                   # leg-1 units per spread unit ...
    notional_usd = 10000.0        # ... or refit units to this USD notional per training window
    delay_bars = 1
    instruments_file = "market/instruments.parquet"   # specs for ids no symbol parser knows (SIM)
    [strategy.taker_fees]         # overrides of the default fee model, per instrument id
    "SIM:BTC-PERP" = 0.0002
    [strategy.defaults]           # band parameters that are not searched
    exit_z = 0.0

    [search]                      # required
    sampler = "grid"              # or "tpe"
    n_trials = 64                 # tpe
    seed = 0
    batch_size = 8
    score = "sharpe"
    [search.space]                # required: name = {low, high[, step][, log]} or [choices]
    window = { low = 60, high = 480, step = 60 }   # all ints: IntRange
    entry_z = { low = 1.5, high = 3.0, step = 0.5 }  # FloatRange
    min_edge_multiple = [1.0, 1.5, 2.0]              # Choice

    [walk_forward]                # scheme, n_windows, initial, train_bars, test_bars, gap_bars
    [cpcv]                        # n_groups, n_test_groups, embargo, label_bars
    [report]                      # out (HTML path), confidence (DSR the verdict needs)
    [market]                      # ignored here: what `spreadlab market build --config` reads

Every error is a :class:`~spreadlab.errors.ConfigError` naming the file and the dotted key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spreadlab.backtest.search import Choice, FloatRange, IntRange
from spreadlab.backtest.study import CPCVSpec, SearchSpec, StrategySpec, StudyConfig
from spreadlab.backtest.walkforward import WalkForward
from spreadlab.config.loader import build_config, load_toml
from spreadlab.errors import ConfigError, SpreadlabError

__all__ = ["load_study", "study_from_dict"]

_TOP = ("strategy", "search", "walk_forward", "cpcv", "report", "market")


def _range(where: str, value: Any) -> IntRange | FloatRange | Choice:
    try:
        if isinstance(value, list):
            return Choice(options=tuple(value))
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected {{low, high[, step][, log]}} or a list of choices")
        unknown = sorted(set(value) - {"low", "high", "step", "log"})
        if unknown or "low" not in value or "high" not in value:
            raise ConfigError(f"{where}: needs low and high (and optionally step, log); got {sorted(value)}")
        nums = [value[k] for k in ("low", "high", "step") if k in value]
        if all(isinstance(v, int) and not isinstance(v, bool) for v in nums) and not value.get("log"):
            return IntRange(low=value["low"], high=value["high"], step=value.get("step", 1))
        return FloatRange(
            low=float(value["low"]), high=float(value["high"]),
            step=None if "step" not in value else float(value["step"]), log=bool(value.get("log", False)),
        )  # fmt: skip
    except ConfigError:
        raise
    except (SpreadlabError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def study_from_dict(data: dict[str, Any], *, where: str = "config") -> StudyConfig:
    """Build a :class:`StudyConfig` from parsed TOML (see the module docstring)."""
    unknown = sorted(set(data) - set(_TOP))
    if unknown:
        raise ConfigError(f"{where}: unknown table(s) {', '.join(unknown)}; known: {', '.join(_TOP)}")
    for req in ("strategy", "search"):
        if req not in data:
            raise ConfigError(f"{where}: the [{req}] table is required")
    strategy = build_config(StrategySpec, data["strategy"], where=f"{where}: strategy")
    search = dict(data["search"])
    space = search.pop("space", None)
    if not isinstance(space, dict) or not space:
        raise ConfigError(
            f"{where}: search.space: give at least one parameter, e.g. window = {{low, high, step}}"
        )
    ranges = {k: _range(f"{where}: search.space.{k}", v) for k, v in space.items()}
    try:
        search_spec = SearchSpec(space=ranges, **search)
    except TypeError as exc:
        raise ConfigError(f"{where}: search: {exc}") from exc
    except SpreadlabError as exc:
        raise ConfigError(f"{where}: search: {exc}") from exc
    walk = build_config(WalkForward, data.get("walk_forward", {}), where=f"{where}: walk_forward")
    cpcv = build_config(CPCVSpec, data.get("cpcv", {}), where=f"{where}: cpcv")
    report = dict(data.get("report", {}))
    bad = sorted(set(report) - {"out", "confidence"})
    if bad:
        raise ConfigError(f"{where}: report: unknown key(s) {', '.join(bad)}; known: confidence, out")
    try:
        return StudyConfig(
            strategy=strategy, search=search_spec, walk_forward=walk, cpcv=cpcv,
            confidence=float(report.get("confidence", 0.95)),
            report=str(report.get("out", "validation-report.html")),
        )  # fmt: skip
    except SpreadlabError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def load_study(path: str | Path) -> StudyConfig:
    """Load a :class:`StudyConfig` from a TOML file."""
    return study_from_dict(load_toml(path), where=str(path))
