"""Backtests: the vectorised research backtest (and, later, the event-driven runner)."""

from spreadlab.backtest.ending import EndOfRun
from spreadlab.backtest.vectorized import LegQuotes, VectorizedBacktest, VectorizedResult

__all__ = ["EndOfRun", "LegQuotes", "VectorizedBacktest", "VectorizedResult"]
