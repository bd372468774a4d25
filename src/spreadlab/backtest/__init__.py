"""Backtests: the vectorised research backtest (and, later, the event-driven runner)."""

from spreadlab.backtest.vectorized import LegQuotes, VectorizedBacktest, VectorizedResult

__all__ = ["LegQuotes", "VectorizedBacktest", "VectorizedResult"]
