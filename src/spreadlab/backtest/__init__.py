"""Backtests: the vectorised research backtest and the event-driven runner."""
