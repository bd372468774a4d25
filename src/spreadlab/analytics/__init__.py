"""Performance metrics, reports and the statistics that expose overfitting."""

from spreadlab.analytics.bootstrap import BootstrapCI, Interval, bootstrap_ci
from spreadlab.analytics.metrics import Metrics, PnLBreakdown, compute_metrics, max_drawdown, periods_per_year
from spreadlab.analytics.pbo import PBOResult, pbo
from spreadlab.analytics.sharpe_stats import (
    deflated_sharpe,
    expected_max_sharpe,
    min_backtest_length,
    probabilistic_sharpe,
    sharpe_moments,
)

__all__ = [
    "BootstrapCI",
    "Interval",
    "Metrics",
    "PBOResult",
    "PnLBreakdown",
    "bootstrap_ci",
    "compute_metrics",
    "deflated_sharpe",
    "expected_max_sharpe",
    "max_drawdown",
    "min_backtest_length",
    "pbo",
    "periods_per_year",
    "probabilistic_sharpe",
    "sharpe_moments",
]
