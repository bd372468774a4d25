"""``spreadlab backtest`` configs: TOML -> a :class:`~spreadlab.backtest.engine_run.Backtest`.

Tables (every key optional unless said; unknown keys are errors; a ``[market]`` table is
left to ``spreadlab market build --config``)::

    [backtest]      instruments_file (the built-in market's instruments.parquet: SIM symbols have no
                    venue parser), capital_usd, sample ("1m"), feed_latency ("0ms"), close_at_end (true),
                    queue ("conservative" | "probabilistic"), queue_power (2.0),
                    bar_half_spread_bp (1.0), liquidate (true), liquidation_fee (0.0), seed (0)
    [[venue]]       venue (required), balances ({USDT = 50000}), entry_latency, response_latency,
                    latency_from ("capture": the jitter of ts_recv - ts_event of the venue's data in
                    the window, above entry_latency),
                    initial_margin, maintenance_margin, option_margin, spot_margin, impact_bp
    [risk]          max_leg_notional_usd, max_venue_notional_usd, max_gross_notional_usd,
                    max_open_orders, daily_loss_usd, max_drawdown (see spreadlab.risk.RiskLimits)
    [[strategy]]    kind = "spread_convergence" (default) with
                        legs = [{instrument = "VENUE:SYMBOL", ratio = 1.0}, ...] (required),
                        quote ("difference" | "log_ratio" | "basis"), name, hedge, signal, fair_value,
                        window, bar, entry, exit, stop, notional_usd, market, slippage_bp,
                        legging_timeout, passive_leg (leg index entered post-only), max_hold,
                        cooldown, direction
                    or kind = "python", path = "package.module:Class" (required),
                        instruments = ["VENUE:SYMBOL", ...] (required), params = {...}

Durations are strings with a unit (``"500ms"``, ``"1s"``, ``"5m"``, ``"1h"``, ``"1d"``) or
integer nanoseconds.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spreadlab.backtest.engine_run import Backtest, BacktestConfig
from spreadlab.config.loader import load_toml
from spreadlab.engine.core import EngineConfig
from spreadlab.errors import ConfigError, SpreadlabError
from spreadlab.execution.venue import LatencyModel, QueueKind, QueueModel, SimulatedVenue
from spreadlab.instruments import parse_symbol
from spreadlab.instruments.base import Instrument
from spreadlab.risk.limits import RiskLimits
from spreadlab.signals.spread import Leg, Spread, SpreadQuote
from spreadlab.strategy.convergence import (
    Bands,
    Direction,
    HedgeKind,
    Legging,
    SignalKind,
    SpreadConvergence,
)

__all__ = ["BacktestSpec", "backtest_from_dict", "load_backtest", "parse_duration"]

_UNITS = {
    "ns": 1,
    "us": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
    "d": 86_400_000_000_000,
}
_BACKTEST_KEYS = {
    "instruments_file",
    "capital_usd",
    "sample",
    "feed_latency",
    "close_at_end",
    "queue",
    "queue_power",
    "bar_half_spread_bp",
    "liquidate",
    "liquidation_fee",
    "seed",
}
_VENUE_KEYS = {
    "venue",
    "balances",
    "entry_latency",
    "response_latency",
    "latency_from",
    "initial_margin",
    "maintenance_margin",
    "option_margin",
    "spot_margin",
    "impact_bp",
}
_SC_KEYS = {
    "kind",
    "legs",
    "quote",
    "name",
    "hedge",
    "signal",
    "fair_value",
    "window",
    "bar",
    "entry",
    "exit",
    "stop",
    "notional_usd",
    "market",
    "slippage_bp",
    "legging_timeout",
    "passive_leg",
    "max_hold",
    "cooldown",
    "direction",
}
_PY_KEYS = {"kind", "path", "instruments", "params"}


def parse_duration(value: object, *, where: str) -> int:
    """Return a duration in ns from ``"500ms"``/``"1s"``/``"5m"``/``"1h"``/``"1d"`` or an int of ns.

    Examples
    --------
    >>> parse_duration("250ms", where="x")
    250000000
    """
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ns|us|ms|s|m|h|d)\s*", value)
        if m:
            return round(float(m.group(1)) * _UNITS[m.group(2)])
    raise ConfigError(f"{where}: {value!r} is not a duration; use e.g. '500ms', '1s', '5m', '1h', '1d' or ns")


def _check_keys(table: Mapping[str, Any], known: set[str], where: str) -> None:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: expected a table, got {type(table).__name__}")
    bad = sorted(set(table) - known)
    if bad:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(bad)}; known: {', '.join(sorted(known))}")


def _enum(cls: Any, value: object, where: str) -> Any:
    try:
        return cls(value)
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is not one of {[e.value for e in cls]}") from None


def _instrument(text: object, where: str, known: Mapping[str, Instrument] | None = None) -> Instrument:
    if not isinstance(text, str) or ":" not in text:
        raise ConfigError(f"{where}: {text!r} must be an instrument id VENUE:SYMBOL")
    if known and text in known:
        return known[text]
    venue, symbol = text.split(":", 1)
    try:
        return parse_symbol(venue, symbol)
    except SpreadlabError as exc:
        if known:
            raise ConfigError(
                f"{where}: {text} is not in the instruments_file ({len(known)} instruments) and {exc}"
            ) from exc
        hint = "for the built-in market set [backtest] instruments_file"
        raise ConfigError(f"{where}: {exc} ({hint})") from exc


def _instruments_file(path: object, where: str) -> dict[str, Instrument]:
    from spreadlab.data.market.io import instruments_from_frame

    if path is None:
        return {}
    p = Path(str(path))
    if not p.is_file():
        raise ConfigError(f"{where}: instruments_file {str(p)!r} does not exist")
    import polars as pl

    return {str(i.id): i for i in instruments_from_frame(pl.read_parquet(p))}


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestSpec:
    """A parsed backtest config: the backtest and which venues take their latency from the data."""

    backtest: Backtest
    latency_from_capture: tuple[str, ...]
    instruments: tuple[Instrument, ...]


def _convergence(t: Mapping[str, Any], where: str, known: Mapping[str, Instrument]) -> SpreadConvergence:
    _check_keys(t, _SC_KEYS, where)
    legs_t = t.get("legs")
    if not isinstance(legs_t, list) or len(legs_t) < 2:
        raise ConfigError(f"{where}: legs must list at least 2 {{instrument, ratio}} tables")
    legs = []
    for k, leg in enumerate(legs_t):
        _check_keys(leg, {"instrument", "ratio"}, f"{where}.legs[{k}]")
        legs.append(
            Leg(
                instrument=_instrument(leg.get("instrument"), f"{where}.legs[{k}].instrument", known),
                ratio=float(leg.get("ratio", 1.0 if k == 0 else -1.0)),
            )
        )
    spread = Spread(
        legs=tuple(legs),
        quote=_enum(SpreadQuote, t.get("quote", "difference"), f"{where}.quote"),
        name=str(t.get("name", "")),
    )
    return SpreadConvergence(
        spread=spread,
        hedge=_enum(HedgeKind, t.get("hedge", "fixed"), f"{where}.hedge"),
        signal=_enum(SignalKind, t.get("signal", "zscore"), f"{where}.signal"),
        fair_value=float(t.get("fair_value", 0.0)),
        window=t.get("window", 120),
        bar_ns=parse_duration(t.get("bar", "1m"), where=f"{where}.bar"),
        bands=Bands(
            entry=float(t.get("entry", 2.0)), exit=float(t.get("exit", 0.0)), stop=float(t.get("stop", 4.0))
        ),
        legging=Legging(
            market=bool(t.get("market", False)),
            slippage_bp=float(t.get("slippage_bp", 5.0)),
            timeout_ns=parse_duration(t.get("legging_timeout", "1s"), where=f"{where}.legging_timeout"),
            passive_leg=t.get("passive_leg"),
        ),
        notional_usd=float(t.get("notional_usd", 10_000.0)),
        max_hold_ns=parse_duration(t.get("max_hold", 0), where=f"{where}.max_hold"),
        cooldown_ns=parse_duration(t.get("cooldown", 0), where=f"{where}.cooldown"),
        direction=_enum(Direction, t.get("direction", "both"), f"{where}.direction"),
    )


def _python_strategy(
    t: Mapping[str, Any], where: str, known: Mapping[str, Instrument]
) -> tuple[Any, list[Instrument]]:
    _check_keys(t, _PY_KEYS, where)
    path = t.get("path")
    if not isinstance(path, str) or ":" not in path:
        raise ConfigError(f"{where}.path: {path!r} must be 'package.module:Class'")
    mod_name, attr = path.split(":", 1)
    try:
        obj = getattr(importlib.import_module(mod_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{where}.path: cannot import {path}: {exc}") from exc
    params = t.get("params", {})
    if not isinstance(params, Mapping):
        raise ConfigError(f"{where}.params: expected a table")
    insts_t = t.get("instruments")
    if not isinstance(insts_t, list) or not insts_t:
        raise ConfigError(f"{where}.instruments: list the instruments the strategy trades")
    insts = [_instrument(s, f"{where}.instruments[{k}]", known) for k, s in enumerate(insts_t)]
    try:
        strat = obj(**params)
    except TypeError as exc:
        raise ConfigError(f"{where}: {path}(**params) failed: {exc}") from exc
    for method in ("subscriptions", "on_start", "on_market", "on_report", "on_timer"):
        if not callable(getattr(strat, method, None)):
            raise ConfigError(f"{where}: {path} has no method {method}() of the Strategy interface")
    return strat, insts


def backtest_from_dict(data: Mapping[str, Any], *, where: str = "config") -> BacktestSpec:
    """Build a :class:`BacktestSpec` from parsed TOML (see the module doc)."""
    _check_keys(data, {"backtest", "venue", "strategy", "market", "risk"}, where)  # [market]: `market build`
    try:
        bt = data.get("backtest", {})
        _check_keys(bt, _BACKTEST_KEYS, f"{where}: backtest")
        known = _instruments_file(bt.get("instruments_file"), f"{where}: backtest")
        venues = []
        capture: list[str] = []
        for k, v in enumerate(data.get("venue", [])):
            w = f"{where}: venue[{k}]"
            _check_keys(v, _VENUE_KEYS, w)
            if "venue" not in v:
                raise ConfigError(f"{w}: venue is required")
            if v.get("latency_from") not in (None, "capture"):
                raise ConfigError(f"{w}.latency_from: {v['latency_from']!r} must be 'capture'")
            if v.get("latency_from") == "capture":
                capture.append(str(v["venue"]))
            lat = LatencyModel.constant(
                entry_ns=parse_duration(v.get("entry_latency", 0), where=f"{w}.entry_latency"),
                response_ns=parse_duration(v.get("response_latency", 0), where=f"{w}.response_latency"),
            )
            extra = {
                key: v[key]
                for key in (
                    "initial_margin",
                    "maintenance_margin",
                    "option_margin",
                    "spot_margin",
                    "impact_bp",
                )
                if key in v
            }
            venues.append(
                SimulatedVenue(
                    venue=str(v["venue"]), balances=dict(v.get("balances", {})), latency=lat, **extra
                )
            )
        strategies = []
        py = None
        extra_insts: list[Instrument] = []
        items = data.get("strategy", [])
        if not isinstance(items, list) or not items:
            raise ConfigError(f"{where}: at least one [[strategy]] table is required")
        for k, s in enumerate(items):
            w = f"{where}: strategy[{k}]"
            kind = s.get("kind", "spread_convergence") if isinstance(s, Mapping) else None
            if kind == "spread_convergence":
                strategies.append(_convergence(s, w, known))
            elif kind == "python":
                if py is not None:
                    raise ConfigError(f"{w}: only one Python strategy per backtest")
                py, extra_insts = _python_strategy(s, w, known)
            else:
                raise ConfigError(f"{w}.kind: {kind!r} must be 'spread_convergence' or 'python'")
        queue = QueueModel(
            kind=_enum(QueueKind, bt.get("queue", "conservative"), f"{where}: backtest.queue"),
            power=float(bt.get("queue_power", 2.0)),
        )
        rt = data.get("risk", {})
        _check_keys(rt, {f.name for f in dataclasses.fields(RiskLimits)}, f"{where}: risk")
        risk = RiskLimits(**{k: float(v) for k, v in rt.items()})
        engine = EngineConfig(
            risk=risk,
            venues=tuple(venues),
            queue=queue,
            feed_latency_ns=parse_duration(
                bt.get("feed_latency", 0), where=f"{where}: backtest.feed_latency"
            ),
            sample_ns=parse_duration(bt.get("sample", "1m"), where=f"{where}: backtest.sample"),
            liquidate=bool(bt.get("liquidate", True)),
            liquidation_fee=float(bt.get("liquidation_fee", 0.0)),
            capital_usd=float(bt.get("capital_usd", 100_000.0)),
            seed=int(bt.get("seed", 0)),
        )
        cfg = BacktestConfig(
            engine=engine,
            bar_half_spread_bp=float(bt.get("bar_half_spread_bp", 1.0)),
            close_at_end=bool(bt.get("close_at_end", True)),
        )
        backtest = Backtest(strategies, config=cfg, python_strategy=py, extra_instruments=extra_insts)
    except ConfigError:
        raise
    except SpreadlabError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    return BacktestSpec(
        backtest=backtest, latency_from_capture=tuple(capture), instruments=backtest.instruments
    )


def load_backtest(path: str | Path) -> BacktestSpec:
    """Load a :class:`BacktestSpec` from a TOML file."""
    return backtest_from_dict(load_toml(path), where=str(path))
