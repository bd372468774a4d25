"""Backtests: the vectorised research backtest (and, later, the event-driven runner)."""

from spreadlab.backtest.vectorized import FeeSchedule, LegQuotes, VectorizedBacktest, VectorizedResult

__all__ = ["FeeSchedule", "LegQuotes", "VectorizedBacktest", "VectorizedResult"]
