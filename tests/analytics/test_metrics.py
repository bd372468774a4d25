"""Metrics against hand-worked values and pandas' own statistics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from spreadlab.analytics.metrics import compute_metrics, max_drawdown, periods_per_year
from spreadlab.core.time import NS_PER_HOUR, NS_PER_MINUTE
from spreadlab.errors import InsufficientDataError, ValidationError


def test_periods_per_year_comes_from_the_data() -> None:
    assert periods_per_year(np.arange(10) * NS_PER_MINUTE) == pytest.approx(365.25 * 24 * 60)
    assert periods_per_year(np.arange(10) * 8 * NS_PER_HOUR) == pytest.approx(365.25 * 3)
    with pytest.raises(InsufficientDataError, match="at least 2"):
        periods_per_year(np.array([1]))
    with pytest.raises(ValidationError, match="strictly increasing"):
        periods_per_year(np.array([1, 2, 2]))


def test_drawdown_hand_worked() -> None:
    assert max_drawdown(np.array([100.0, 120.0, 90.0, 130.0, 117.0])) == pytest.approx(0.25)


def test_metrics_match_pandas_and_the_parts_add_up() -> None:
    rng = np.random.default_rng(0)
    n = 1000
    ts = np.arange(n, dtype=np.int64) * NS_PER_HOUR
    conv = rng.normal(5, 50, n)
    cross = -np.abs(rng.normal(0, 1, n))
    fees = -np.abs(rng.normal(0, 1, n))
    fund = rng.normal(0.1, 0.5, n)
    traded = np.abs(rng.normal(0, 1000, n))
    m = compute_metrics(
        ts_ns=ts,
        capital=10_000.0,
        convergence=conv,
        crossing=cross,
        fees=fees,
        funding=fund,
        traded_notional=traded,
        n_trades=7,
    )
    r = pd.Series((conv + cross + fees + fund) / 10_000.0)
    ppy = 365.25 * 24
    assert m.periods_per_year == pytest.approx(ppy)
    assert m.sharpe == pytest.approx(r.mean() / r.std() * math.sqrt(ppy), rel=1e-12)
    assert m.sortino == pytest.approx(r.mean() / math.sqrt((r.clip(upper=0) ** 2).mean()) * math.sqrt(ppy))
    eq = 10_000.0 + r.cumsum() * 10_000.0
    assert m.max_drawdown == pytest.approx(float(((eq.cummax() - eq) / eq.cummax()).max()))
    assert m.pnl.total == pytest.approx(float((r * 10_000.0).sum()))
    assert m.total_return == pytest.approx(float(r.sum()))
    assert m.turnover == pytest.approx(traded.sum() / 10_000.0 * ppy / n)
    assert m.n_trades == 7 and m.to_dict()["pnl"]["total"] == pytest.approx(m.pnl.total)


def test_metrics_reject_nan() -> None:
    ts = np.arange(3, dtype=np.int64)
    z = np.zeros(3)
    with pytest.raises(ValidationError, match="fees contains NaN"):
        compute_metrics(
            ts_ns=ts,
            capital=1.0,
            convergence=z,
            crossing=z,
            fees=np.array([0, np.nan, 0]),
            funding=z,
            traded_notional=z,
            n_trades=0,
        )


def test_drawdown_counts_the_starting_capital_as_the_first_peak() -> None:
    # capital 1,000; the first bar loses 100, the second recovers 50: equity 900, 950.
    # Peak is the capital itself: drawdown 100 / 1,000 = 10% (was 0: the first bar was its own peak)
    ts = np.arange(2, dtype=np.int64) * NS_PER_HOUR
    zero = np.zeros(2)
    m = compute_metrics(
        ts_ns=ts, capital=1_000.0, convergence=np.array([-100.0, 50.0]), crossing=zero, fees=zero,
        funding=zero, traded_notional=zero, n_trades=0,
    )  # fmt: skip
    assert m.max_drawdown == pytest.approx(0.1)
    assert max_drawdown(np.array([900.0, 950.0]), start=1_000.0) == pytest.approx(0.1)
    assert max_drawdown(np.array([1_100.0, 990.0]), start=1_000.0) == pytest.approx(0.1)
