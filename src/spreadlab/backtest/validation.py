"""What a validation run reports: per-window choices, out-of-sample returns, deflation and a verdict.

Walk-forward (:func:`spreadlab.backtest.walkforward.walk_forward_search`) and
CPCV (:func:`spreadlab.backtest.cpcv.cpcv_search`) both return a
:class:`ValidationResult`. Its statistics:

- **PSR** of the out-of-sample returns against a Sharpe ratio of zero
  (Bailey & López de Prado, 2012), per-period moments of those returns;
- **DSR**: the PSR against the best Sharpe ratio that ``n_trials``
  skill-less configurations reach by luck (Bailey & López de Prado, 2014),
  ``n_trials`` being every distinct configuration the searches evaluated on
  this data (earlier runs in the trial log included) and ``sharpe_variance``
  the variance of their per-period Sharpe ratios;
- **PBO** by CSCV (Bailey, Borwein, López de Prado & Zhu, 2017) of the
  candidate configurations' out-of-sample returns.

The verdict passes when the DSR reaches ``confidence`` (default 0.95): the
out-of-sample Sharpe ratio is unlikely to be the luck of the number of
configurations tried. Without a single trade out of sample it fails.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from spreadlab._typing import FloatArray, IntArray
from spreadlab.analytics.pbo import PBOResult, pbo
from spreadlab.analytics.sharpe_stats import deflated_sharpe, probabilistic_sharpe, sharpe_moments
from spreadlab.backtest.search import SearchResult
from spreadlab.core.time import ns_to_iso
from spreadlab.data.trials import TrialLog
from spreadlab.errors import InsufficientDataError, ValidationError

__all__ = [
    "ValidationResult",
    "Verdict",
    "WindowResult",
    "candidate_pbo",
    "deflation_inputs",
    "oos_statistics",
    "record_trials",
]

Method = Literal["walk-forward", "cpcv"]


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowResult:
    """One walk-forward window (or CPCV split): where it trained and tested, what it chose, how it did."""

    index: int
    train: tuple[int, int]
    test: tuple[int, int]
    train_ns: tuple[int, int]
    test_ns: tuple[int, int]
    params: dict[str, Any]
    fitted: dict[str, float]
    is_metrics: dict[str, float]
    oos_metrics: dict[str, float]
    n_candidates: int
    run_id: str
    trials: tuple[tuple[dict[str, Any], float], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: bar spans, ISO times, parameters, fitted values, IS and OOS metrics."""
        return {
            "window": self.index,
            "train_bars": list(self.train),
            "test_bars": list(self.test),
            "train": [ns_to_iso(self.train_ns[0]), ns_to_iso(self.train_ns[1])],
            "test": [ns_to_iso(self.test_ns[0]), ns_to_iso(self.test_ns[1])],
            "params": self.params,
            "fitted": self.fitted,
            "in_sample": _finite(self.is_metrics),
            "out_of_sample": _finite(self.oos_metrics),
            "n_candidates": self.n_candidates,
            "run_id": self.run_id,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """Pass or fail, and the one line that says why."""

    passed: bool
    line: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OOSStatistics:
    """PSR, DSR and the moments behind them (NaN where there was no trade)."""

    sharpe_per_period: float
    sharpe_annualised: float
    skew: float
    kurtosis: float
    n_obs: int
    psr: float
    dsr: float
    traded: bool


def oos_statistics(
    returns: FloatArray, *, periods_per_year: float, n_trials: int, sharpe_variance: float
) -> OOSStatistics:
    """PSR (vs 0) and DSR (vs the expected best of ``n_trials``) of out-of-sample returns."""
    r = np.asarray(returns, dtype=np.float64)
    try:
        sr, g3, g4, n = sharpe_moments(r)
    except (ValidationError, InsufficientDataError):  # constant (no trade) or too short: no edge shown
        return OOSStatistics(
            sharpe_per_period=0.0, sharpe_annualised=0.0, skew=math.nan, kurtosis=math.nan,
            n_obs=int(r.size), psr=0.0, dsr=0.0, traded=bool(np.any(r != 0.0)),
        )  # fmt: skip
    psr = probabilistic_sharpe(sr, n_obs=n, skew=g3, kurtosis=g4)
    dsr = deflated_sharpe(
        sr, n_obs=n, n_trials=max(1, n_trials), sharpe_variance=sharpe_variance, skew=g3, kurtosis=g4
    )
    return OOSStatistics(
        sharpe_per_period=sr, sharpe_annualised=sr * math.sqrt(periods_per_year), skew=g3, kurtosis=g4,
        n_obs=n, psr=psr, dsr=dsr, traded=True,
    )  # fmt: skip


def record_trials(seen: dict[str, float], res: SearchResult) -> None:
    """Note every configuration of a search with its per-period Sharpe (the latest wins)."""
    for p, m in zip(res.params, res.metrics, strict=True):
        seen[repr(sorted(p.items()))] = float(m.get("sharpe_per_period", math.nan))


def deflation_inputs(
    log: TrialLog | None, data_key: str, seen: dict[str, float], start_ns: int, end_ns: int
) -> tuple[int, float]:
    """Distinct configurations tried and the variance of their per-period Sharpe ratios.

    From the trial log when there is one (every run on overlapping data of
    ``data_key``), else from the configurations ``seen`` in this run.
    """
    if log is not None:
        return log.deflation(data_key, start_ns=start_ns, end_ns=end_ns)
    vals = np.array([v for v in seen.values() if math.isfinite(v)])
    return len(seen), float(np.var(vals, ddof=1)) if vals.size > 1 else 0.0


def candidate_pbo(returns: FloatArray, *, n_splits: int = 16) -> PBOResult | None:
    """CSCV PBO of a ``(bars x candidates)`` matrix, with fewer blocks on short data; None if impossible."""
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 2 or r.shape[1] < 2:
        return None
    s = n_splits
    while s >= 4 and r.shape[0] < 8 * s:
        s -= 2
    try:
        return pbo(r, n_splits=s)
    except (InsufficientDataError, ValidationError):
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationResult:
    """A walk-forward or CPCV validation of one strategy on one history.

    ``oos_ts`` / ``oos_returns`` are the stitched out-of-sample bars and
    returns (PnL / capital per bar). For CPCV, ``paths`` holds every
    out-of-sample path (``n_paths x bars``) and ``oos_returns`` is the path
    with the median Sharpe ratio, whose statistics decide the verdict.
    """

    method: Method
    objective: str
    data_key: str
    score: str
    windows: tuple[WindowResult, ...]
    oos_ts: IntArray
    oos_returns: FloatArray
    paths: FloatArray | None
    periods_per_year: float
    n_trials: int
    sharpe_variance: float
    stats: OOSStatistics
    pbo: PBOResult | None
    confidence: float
    settings: dict[str, Any]

    @property
    def verdict(self) -> Verdict:
        """PASS when the DSR of the out-of-sample returns reaches ``confidence``."""
        s = self.stats
        tail = f"{self.n_trials} configurations tried on this data"
        if self.pbo is not None:
            tail += f"; PBO {self.pbo.pbo:.2f}"
        if not s.traded:
            return Verdict(passed=False, line=f"FAIL: no trade out of sample, no edge shown ({tail})")
        ok = s.dsr >= self.confidence
        word = "PASS" if ok else "FAIL"
        what = "an edge survives deflation" if ok else "no edge after deflation"
        return Verdict(
            passed=ok,
            line=(
                f"{word}: {what}: out-of-sample Sharpe {s.sharpe_annualised:.2f} (annualised) over "
                f"{s.n_obs} bars, PSR {s.psr:.3f}, DSR {s.dsr:.3f} {'>=' if ok else '<'} "
                f"{self.confidence:g} ({tail})"
            ),
        )

    @property
    def oos_equity(self) -> FloatArray:
        """Cumulative out-of-sample return (1 + sum of returns)."""
        return 1.0 + np.cumsum(self.oos_returns)

    def path_sharpes(self) -> FloatArray:
        """Annualised Sharpe ratio of every CPCV path (the one walk-forward path otherwise)."""
        rows = self.paths if self.paths is not None else self.oos_returns[None, :]
        sd = rows.std(axis=1, ddof=1)
        mean = rows.mean(axis=1)
        out = np.where(sd > 0, mean / np.where(sd > 0, sd, 1.0), 0.0) * math.sqrt(self.periods_per_year)
        return np.asarray(out, dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: verdict, statistics, per-window results."""
        s = self.stats
        return {
            "method": self.method,
            "objective": self.objective,
            "data_key": self.data_key,
            "score": self.score,
            "verdict": {"passed": self.verdict.passed, "line": self.verdict.line},
            "out_of_sample": {
                "start": ns_to_iso(int(self.oos_ts[0])),
                "end": ns_to_iso(int(self.oos_ts[-1])),
                "bars": int(self.oos_ts.size),
                "total_return": float(np.sum(self.oos_returns)),
                "sharpe_annualised": s.sharpe_annualised,
                "sharpe_per_period": s.sharpe_per_period,
                "skew": _nan_none(s.skew),
                "kurtosis": _nan_none(s.kurtosis),
                "psr": s.psr,
                "dsr": s.dsr,
                "traded": s.traded,
            },
            "n_trials": self.n_trials,
            "sharpe_variance": self.sharpe_variance,
            "pbo": None if self.pbo is None else _finite(self.pbo.to_dict()),
            "paths": None if self.paths is None else [float(v) for v in self.path_sharpes()],
            "confidence": self.confidence,
            "periods_per_year": self.periods_per_year,
            "settings": self.settings,
            "windows": [w.to_dict() for w in self.windows],
        }


def _nan_none(v: float) -> float | None:
    return None if not math.isfinite(v) else float(v)


def _finite(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (_nan_none(v) if isinstance(v, float) else v) for k, v in d.items()}
