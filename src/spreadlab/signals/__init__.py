"""Spreads,
hedge ratios, stationarity and cointegration tests, mean-reversion models and machine-learning signals.
"""
