"""spreadlab: spread-convergence trading for crypto derivatives.

The public API is flat: ``from spreadlab import Spread, Perpetual, parse_symbol``.
Names are loaded on first use so that ``import spreadlab`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # errors
    "SpreadlabError": "spreadlab.errors",
    "ValidationError": "spreadlab.errors",
    "DataError": "spreadlab.errors",
    "UnknownSymbolError": "spreadlab.errors",
    "InsufficientDataError": "spreadlab.errors",
    "ConfigError": "spreadlab.errors",
    "ConvergenceError": "spreadlab.errors",
    # core
    "Clock": "spreadlab.core",
    "SimClock": "spreadlab.core",
    "WallClock": "spreadlab.core",
    "InstrumentId": "spreadlab.core",
    "Side": "spreadlab.core",
    "OptionKind": "spreadlab.core",
    "Settlement": "spreadlab.core",
    "ContractKind": "spreadlab.core.enums",
    "OrderType": "spreadlab.core",
    "TimeInForce": "spreadlab.core",
    "Venue": "spreadlab.core",
    "parse_time": "spreadlab.core",
    "ns_to_datetime": "spreadlab.core",
    "datetime_to_ns": "spreadlab.core",
    # instruments
    "Instrument": "spreadlab.instruments",
    "Spot": "spreadlab.instruments",
    "Perpetual": "spreadlab.instruments",
    "Future": "spreadlab.instruments",
    "Option": "spreadlab.instruments",
    "InstrumentRegistry": "spreadlab.instruments",
    "parse_symbol": "spreadlab.instruments",
    "format_symbol": "spreadlab.instruments",
    # events
    "Quote": "spreadlab.events",
    "Trade": "spreadlab.events",
    "BookDelta": "spreadlab.events",
    "BookSnapshot": "spreadlab.events",
    "FundingRate": "spreadlab.events",
    "MarkPrice": "spreadlab.events",
    "OptionQuote": "spreadlab.events",
    "EventKind": "spreadlab.events",
    # pricing
    "black76": "spreadlab.pricing",
    "black76_greeks": "spreadlab.pricing",
    "implied_vol": "spreadlab.pricing",
    "IVStatus": "spreadlab.pricing",
    "option_chain": "spreadlab.pricing",
    "OptionChain": "spreadlab.pricing",
    "parity_forward": "spreadlab.pricing",
    "parity_forward_band": "spreadlab.pricing",
    # data
    "Catalog": "spreadlab.data.catalog",
    "OrderBook": "spreadlab.data.orderbook",
    "RetryPolicy": "spreadlab.data.download.retry",
    "align_asof": "spreadlab.data.align",
    "MarketConfig": "spreadlab.data.market",
    "SimulatedMarket": "spreadlab.data.market",
    "build_market": "spreadlab.data.market",
    "Trial": "spreadlab.data.trials",
    "TrialLog": "spreadlab.data.trials",
    # signals: spreads, rules, models
    "Leg": "spreadlab.signals.spread",
    "Spread": "spreadlab.signals.spread",
    "SpreadQuote": "spreadlab.signals.spread",
    "ThresholdRule": "spreadlab.signals.rules",
    "ZScoreBands": "spreadlab.signals.rules",
    "SignalModel": "spreadlab.signals.base",
    "FittedSignal": "spreadlab.signals.base",
    "SignalFrame": "spreadlab.signals.base",
    "rolling_zscore": "spreadlab.signals.zscore",
    "ewma_zscore": "spreadlab.signals.zscore",
    "robust_zscore": "spreadlab.signals.zscore",
    "fit_ou": "spreadlab.signals.ou",
    "OUFit": "spreadlab.signals.ou",
    "bertram_bands": "spreadlab.signals.bands",
    "leung_li_bands": "spreadlab.signals.bands",
    "BertramSignal": "spreadlab.signals.bands",
    "KalmanHedge": "spreadlab.signals.kalman",
    "ols_hedge": "spreadlab.signals.hedge",
    "tls_hedge": "spreadlab.signals.hedge",
    "rolling_ols_hedge": "spreadlab.signals.hedge",
    "min_half_life_hedge": "spreadlab.signals.hedge",
    "RegimeMonitor": "spreadlab.signals.regime",
    "adf": "spreadlab.signals.stationarity",
    "kpss": "spreadlab.signals.stationarity",
    "engle_granger": "spreadlab.signals.stationarity",
    "johansen": "spreadlab.signals.stationarity",
    "hurst": "spreadlab.signals.stationarity",
    "half_life": "spreadlab.signals.stationarity",
    "variance_ratio": "spreadlab.signals.stationarity",
    "LightGBMSignal": "spreadlab.signals.ml",
    "engle_granger_pairs": "spreadlab.signals.stationarity",
    "mean_crossings": "spreadlab.signals.stationarity",
    "select_pairs": "spreadlab.signals.pairs",
    "PairCriteria": "spreadlab.signals.pairs",
    "scan": "spreadlab.signals.scan",
    "scan_frames": "spreadlab.signals.scan",
    "ScanConfig": "spreadlab.signals.scan",
    "ScanKind": "spreadlab.signals.scan",
    "FeeModel": "spreadlab.instruments.fees",
    "FeeRate": "spreadlab.instruments.fees",
    "FeeTier": "spreadlab.instruments.fees",
    "Liquidity": "spreadlab.core.enums",
    "LegMarket": "spreadlab.signals.spread",
    "RoundTripCost": "spreadlab.signals.spread",
    "walk_forward": "spreadlab.signals.cv",
    "ImportFormat": "spreadlab.data.importers.base",
    "read_market": "spreadlab.data.market",
    "DislocationKind": "spreadlab.data.market",
    "SVI": "spreadlab.pricing",
    "PurgedKFold": "spreadlab.signals.cv",
    "PurgedWalkForward": "spreadlab.signals.cv",
    "CombinatorialPurgedKFold": "spreadlab.signals.cv",
    "CPCVSplits": "spreadlab.signals.cv",
    # backtest and analytics
    # engine, execution, strategy
    "Backtest": "spreadlab.backtest.engine_run",
    "BacktestConfig": "spreadlab.backtest.engine_run",
    "BacktestResult": "spreadlab.backtest.result",
    "Engine": "spreadlab.engine.core",
    "EngineConfig": "spreadlab.engine.core",
    "SimulatedVenue": "spreadlab.execution.venue",
    "LatencyModel": "spreadlab.execution.venue",
    "QueueModel": "spreadlab.execution.venue",
    "QueueKind": "spreadlab.execution.venue",
    "SpreadConvergence": "spreadlab.strategy.convergence",
    "Bands": "spreadlab.strategy.convergence",
    "Legging": "spreadlab.strategy.convergence",
    "HedgeKind": "spreadlab.strategy.convergence",
    "SignalKind": "spreadlab.strategy.convergence",
    "Direction": "spreadlab.strategy.convergence",
    "Strategy": "spreadlab.strategy.base",
    "Report": "spreadlab.strategy.base",
    "ReportKind": "spreadlab.strategy.base",
    "RiskLimits": "spreadlab.risk.limits",
    "PortfolioSnapshot": "spreadlab.portfolio.snapshot",
    "VectorizedBacktest": "spreadlab.backtest",
    "VectorizedResult": "spreadlab.backtest",
    "LegQuotes": "spreadlab.backtest",
    "BandObjective": "spreadlab.backtest.objective",
    "SpreadData": "spreadlab.backtest.objective",
    "Objective": "spreadlab.backtest.objective",
    "Outcome": "spreadlab.backtest.objective",
    "search": "spreadlab.backtest.search",
    "SearchResult": "spreadlab.backtest.search",
    "GridSampler": "spreadlab.backtest.search",
    "TPESampler": "spreadlab.backtest.search",
    "IntRange": "spreadlab.backtest.search",
    "FloatRange": "spreadlab.backtest.search",
    "Choice": "spreadlab.backtest.search",
    "LocalExecutor": "spreadlab.backtest.executors",
    "BandStrategy": "spreadlab.backtest.refit",
    "Refittable": "spreadlab.backtest.refit",
    "WalkForward": "spreadlab.backtest.walkforward",
    "walk_forward_search": "spreadlab.backtest.walkforward",
    "ValidationResult": "spreadlab.backtest.validation",
    "RayExecutor": "spreadlab.backtest.executors",
    "Metrics": "spreadlab.analytics",
    "compute_metrics": "spreadlab.analytics",
    "periods_per_year": "spreadlab.analytics",
    "probabilistic_sharpe": "spreadlab.analytics",
    "deflated_sharpe": "spreadlab.analytics",
    "min_backtest_length": "spreadlab.analytics",
    "pbo": "spreadlab.analytics",
    "PBOResult": "spreadlab.analytics",
    "bootstrap_ci": "spreadlab.analytics",
    "BootstrapCI": "spreadlab.analytics",
}

__all__ = [*sorted(_EXPORTS), "__version__"]  # noqa: PLE0604


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'spreadlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
