"""Performance metrics of a PnL stream, annualised from the data's own sampling.

Markets run 24/7, so ``periods_per_year = NS_PER_YEAR / median(diff(ts))``
(365.25-day year), never 252. With capital C and per-bar PnL p_t (fixed
capital, no compounding), r_t = p_t / C and

- total return          = sum(p) / C
- annualised return     = mean(r) * periods_per_year
- Sharpe                = mean(r) / std(r, ddof=1) * sqrt(periods_per_year)
- Sortino               = mean(r) / sqrt(mean(min(r, 0)^2)) * sqrt(periods_per_year)
- max drawdown          = max_t (peak_t - E_t) / peak_t with E_t = C + cumsum(p) and
                          peak_t = max(C, E_0..E_t): the starting capital is the first peak
- turnover (annualised) = sum(traded notional) / C * periods_per_year / n
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from spreadlab._typing import FloatArray, IntArray
from spreadlab.core.time import NS_PER_YEAR
from spreadlab.core.validate import require_positive
from spreadlab.errors import InsufficientDataError, ValidationError

__all__ = ["Metrics", "PnLBreakdown", "compute_metrics", "max_drawdown", "periods_per_year"]


def periods_per_year(ts_ns: IntArray) -> float:
    """Bars per 365.25-day year implied by the median spacing of ``ts_ns``.

    Examples
    --------
    >>> periods_per_year(np.arange(0, 10 * 3_600_000_000_000, 3_600_000_000_000))
    8766.0
    """
    ts = np.asarray(ts_ns, dtype=np.int64)
    if ts.size < 2:
        raise InsufficientDataError(f"ts_ns has {ts.size} timestamp(s); at least 2 are needed")
    step = np.diff(ts)
    if np.any(step <= 0):
        i = int(np.argmax(step <= 0))
        raise ValidationError(f"ts_ns must be strictly increasing; index {i + 1} is not after index {i}")
    return float(NS_PER_YEAR / np.median(step))


def max_drawdown(equity: FloatArray, *, start: float | None = None) -> float:
    """Largest peak-to-trough fall of ``equity`` as a fraction of the peak (>= 0).

    ``start`` is the equity before the first value (the starting capital); it
    is the first peak, so a loss on the first bar counts.

    Examples
    --------
    >>> max_drawdown(np.array([90.0, 95.0]), start=100.0)
    0.1
    """
    eq = np.asarray(equity, dtype=np.float64)
    if start is not None:
        eq = np.concatenate(([require_positive("start", start)], eq))
    peak = np.maximum.accumulate(eq)
    if np.any(peak <= 0):
        raise ValidationError("equity must stay positive to measure drawdown as a fraction")
    return float(np.max((peak - eq) / peak))


@dataclass(frozen=True, slots=True, kw_only=True)
class PnLBreakdown:
    """Where the PnL came from, in the reporting currency; the parts sum to ``total``."""

    convergence: float
    crossing: float
    fees: float
    funding: float

    @property
    def total(self) -> float:
        """Sum of the parts."""
        return self.convergence + self.crossing + self.fees + self.funding


@dataclass(frozen=True, slots=True, kw_only=True)
class Metrics:
    """Summary statistics of a backtest."""

    periods_per_year: float
    bars: int
    total_return: float
    annualised_return: float
    sharpe: float
    sortino: float
    max_drawdown: float
    turnover: float
    n_trades: int
    pnl: PnLBreakdown

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready; the PnL split nested under ``pnl``)."""
        d = asdict(self)
        d["pnl"]["total"] = self.pnl.total
        return d


def compute_metrics(
    *,
    ts_ns: IntArray,
    capital: float,
    convergence: FloatArray,
    crossing: FloatArray,
    fees: FloatArray,
    funding: FloatArray,
    traded_notional: FloatArray,
    n_trades: int,
) -> Metrics:
    """Compute :class:`Metrics` from per-bar PnL components.

    Parameters
    ----------
    ts_ns
        Bar times, strictly increasing int64 ns.
    capital
        Capital the returns are measured on (> 0).
    convergence, crossing, fees, funding
        Per-bar PnL components in the reporting currency.
    traded_notional
        Per-bar traded notional (absolute) in the reporting currency.
    n_trades
        Number of round trips (entries).
    """
    require_positive("capital", capital)
    ppy = periods_per_year(ts_ns)
    parts = [np.asarray(x, dtype=np.float64) for x in (convergence, crossing, fees, funding, traded_notional)]
    n = len(ts_ns)
    for name, arr in zip(
        ("convergence", "crossing", "fees", "funding", "traded_notional"), parts, strict=True
    ):
        if arr.shape != (n,):
            raise ValidationError(f"{name} has shape {arr.shape}; expected ({n},) like ts_ns")
        if not np.all(np.isfinite(arr)):
            raise ValidationError(f"{name} contains NaN or inf at index {int(np.argmin(np.isfinite(arr)))}")
    pnl = parts[0] + parts[1] + parts[2] + parts[3]
    r = pnl / capital
    sd = float(np.std(r, ddof=1)) if n > 1 else 0.0
    downside = float(np.sqrt(np.mean(np.minimum(r, 0.0) ** 2)))
    mean = float(np.mean(r))
    return Metrics(
        periods_per_year=ppy,
        bars=n,
        total_return=float(np.sum(pnl) / capital),
        annualised_return=mean * ppy,
        sharpe=mean / sd * math.sqrt(ppy) if sd > 0 else 0.0,
        sortino=mean / downside * math.sqrt(ppy) if downside > 0 else 0.0,
        max_drawdown=max_drawdown(capital + np.cumsum(pnl), start=capital),
        turnover=float(np.sum(parts[4]) / capital * ppy / n),
        n_trades=int(n_trades),
        pnl=PnLBreakdown(
            convergence=float(parts[0].sum()),
            crossing=float(parts[1].sum()),
            fees=float(parts[2].sum()),
            funding=float(parts[3].sum()),
        ),
    )
