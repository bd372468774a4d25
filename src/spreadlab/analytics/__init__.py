"""Performance metrics and reports."""

from spreadlab.analytics.metrics import Metrics, PnLBreakdown, compute_metrics, max_drawdown, periods_per_year

__all__ = ["Metrics", "PnLBreakdown", "compute_metrics", "max_drawdown", "periods_per_year"]
