"""The flat public API, checked against a list written here (not derived from ``_EXPORTS``).

Adding or removing a public name means editing ``EXPECTED`` below as well as
``spreadlab._EXPORTS``: the test fails otherwise. Keep ``EXPECTED`` sorted, one
name per line, so concurrent additions merge cleanly.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import spreadlab

EXPECTED = [
    "Backtest",
    "BacktestConfig",
    "BacktestResult",
    "BandObjective",
    "BandStrategy",
    "Bands",
    "BertramSignal",
    "BookDelta",
    "BookSnapshot",
    "BootstrapCI",
    "CPCVSplits",
    "Catalog",
    "Choice",
    "Clock",
    "CombinatorialPurgedKFold",
    "ConfigError",
    "ContractKind",
    "ConvergenceError",
    "DataError",
    "Direction",
    "DislocationKind",
    "Engine",
    "EngineConfig",
    "EventKind",
    "FeeModel",
    "FeeRate",
    "FeeTier",
    "FittedSignal",
    "FloatRange",
    "FundingRate",
    "Future",
    "GridSampler",
    "HedgeKind",
    "IVStatus",
    "ImportFormat",
    "Instrument",
    "InstrumentId",
    "InstrumentRegistry",
    "InsufficientDataError",
    "IntRange",
    "KalmanHedge",
    "LatencyModel",
    "Leg",
    "LegMarket",
    "LegQuotes",
    "Legging",
    "LightGBMSignal",
    "Liquidity",
    "LocalExecutor",
    "MarkPrice",
    "MarketConfig",
    "Metrics",
    "OUFit",
    "Objective",
    "Option",
    "OptionChain",
    "OptionKind",
    "OptionQuote",
    "OrderBook",
    "OrderType",
    "Outcome",
    "PBOResult",
    "PairCriteria",
    "Perpetual",
    "PortfolioSnapshot",
    "PurgedKFold",
    "PurgedWalkForward",
    "QueueKind",
    "QueueModel",
    "Quote",
    "RayExecutor",
    "Refittable",
    "RegimeMonitor",
    "Report",
    "ReportKind",
    "RetryPolicy",
    "RiskLimits",
    "RoundTripCost",
    "SVI",
    "ScanConfig",
    "ScanKind",
    "SearchResult",
    "Settlement",
    "Side",
    "SignalFrame",
    "SignalKind",
    "SignalModel",
    "SimClock",
    "SimulatedMarket",
    "SimulatedVenue",
    "Spot",
    "Spread",
    "SpreadConvergence",
    "SpreadData",
    "SpreadQuote",
    "SpreadlabError",
    "Strategy",
    "TPESampler",
    "ThresholdRule",
    "TimeInForce",
    "Trade",
    "Trial",
    "TrialLog",
    "UnknownSymbolError",
    "ValidationError",
    "ValidationResult",
    "VectorizedBacktest",
    "VectorizedResult",
    "Venue",
    "WalkForward",
    "WallClock",
    "ZScoreBands",
    "adf",
    "align_asof",
    "bertram_bands",
    "black76",
    "black76_greeks",
    "bootstrap_ci",
    "build_market",
    "compute_metrics",
    "datetime_to_ns",
    "deflated_sharpe",
    "engle_granger",
    "engle_granger_pairs",
    "ewma_zscore",
    "fit_ou",
    "format_symbol",
    "half_life",
    "hurst",
    "implied_vol",
    "johansen",
    "kpss",
    "leung_li_bands",
    "mean_crossings",
    "min_backtest_length",
    "min_half_life_hedge",
    "ns_to_datetime",
    "ols_hedge",
    "option_chain",
    "parity_forward",
    "parity_forward_band",
    "parse_symbol",
    "parse_time",
    "pbo",
    "periods_per_year",
    "probabilistic_sharpe",
    "read_market",
    "robust_zscore",
    "rolling_ols_hedge",
    "rolling_zscore",
    "scan",
    "scan_frames",
    "search",
    "select_pairs",
    "tls_hedge",
    "variance_ratio",
    "walk_forward",
    "walk_forward_search",
]


def test_expected_list_is_sorted_and_unique() -> None:
    assert sorted(set(EXPECTED)) == EXPECTED


def test_all_is_exactly_the_expected_list() -> None:
    names = [n for n in spreadlab.__all__ if n != "__version__"]
    missing = sorted(set(EXPECTED) - set(names))
    extra = sorted(set(names) - set(EXPECTED))
    assert not missing, f"public names missing from spreadlab.__all__: {missing}"
    assert not extra, f"names in spreadlab.__all__ not in tests/test_public_api.py EXPECTED: {extra}"
    assert names == EXPECTED
    assert "__version__" in spreadlab.__all__
    assert isinstance(spreadlab.__version__, str) and spreadlab.__version__


@pytest.mark.parametrize("name", EXPECTED)
def test_each_name_resolves_to_a_real_object(name: str) -> None:
    value = getattr(spreadlab, name)
    assert value is not None
    # the flat name is the very object its defining module exposes
    module = importlib.import_module(spreadlab._EXPORTS[name])
    assert getattr(module, name) is value
    # classes and functions are defined in spreadlab itself, not re-exported from a dependency
    owner = getattr(value, "__module__", None)
    if owner is not None and (isinstance(value, type) or callable(value)):
        assert owner.startswith("spreadlab"), f"{name} comes from {owner}"


def test_from_import_works_in_a_fresh_interpreter() -> None:
    code = f"from spreadlab import {', '.join(EXPECTED)}; import spreadlab; print(len(spreadlab.__all__))"
    env = {**os.environ, "PYTHONPATH": str(Path(spreadlab.__file__).resolve().parents[1])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert int(out.stdout) == len(EXPECTED) + 1


def test_dir_lists_the_public_names() -> None:
    assert set(EXPECTED) <= set(dir(spreadlab))


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        spreadlab.NoSuchThing
