"""Regime and breakdown detection for a pair: is the spread still worth trading?

At evaluation points ``t = window - 1, window - 1 + step, ...`` (and always the
last point) the trailing window ``[t - window + 1, t]`` — no look-ahead — gives:

1. **Cointegration p-value** — Engle–Granger (constant, AIC lag selection,
   MacKinnon p-value; :func:`spreadlab.signals.stationarity.engle_granger`).
   Broken when ``p > max_pvalue``.
2. **Half-life drift** — the window's spread ``y - beta_t x`` (``beta_t`` from
   step 1) is regressed on its lag, ``s_i = a + b s_{i-1} + e``; the half-life
   is ``-ln 2 / ln b`` steps (``inf`` unless ``0 < b < 1``). Broken when it
   exceeds ``max_half_life`` steps or ``drift_factor`` times the baseline
   half-life of the FIRST window (the period the pair was selected on).
3. **Volatility regime** — ratio of the standard deviation of spread changes
   over the last ``vol_window`` points to that over the whole window. Flagged
   when it exceeds ``vol_ratio`` (a volatility burst: a shock that can break
   the relationship; bands fitted on calm data are too tight).

Between evaluation points the last values are carried forward. ``tradable[t]``
is True when the window is warm and no flag is raised. A window whose test
cannot be computed (e.g. stale, constant prices) counts as broken and is
tallied in ``n_failed_windows``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spreadlab._typing import BoolArray, FloatArray, IntArray
from spreadlab.errors import ConvergenceError, ValidationError
from spreadlab.signals.base import as_float_series, require_min_length, require_same_length
from spreadlab.signals.stationarity import engle_granger

__all__ = ["RegimeMonitor", "RegimeReport"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RegimeReport:
    """Per-observation regime flags of :class:`RegimeMonitor` (arrays of the input length).

    Attributes
    ----------
    eval_index
        Observation indices where the window was evaluated.
    pvalue, half_life, vol_ratio
        Rolling Engle–Granger p-value, spread half-life (steps) and
        short/long volatility ratio, carried forward (NaN before warm-up).
    coint_broken, half_life_broken, vol_regime
        The three flags (False before warm-up).
    tradable
        Warm and no flag raised.
    baseline_half_life
        Half-life (steps) of the first window.
    n_failed_windows
        Windows whose statistics could not be computed (treated as broken).
    """

    eval_index: IntArray
    pvalue: FloatArray
    half_life: FloatArray
    vol_ratio: FloatArray
    coint_broken: BoolArray
    half_life_broken: BoolArray
    vol_regime: BoolArray
    tradable: BoolArray
    baseline_half_life: float
    n_failed_windows: int

    def summary(self) -> str:
        """Return the share of time each flag was raised."""
        warm = ~np.isnan(self.pvalue)
        w = max(int(warm.sum()), 1)
        return (
            f"regime monitor over {self.pvalue.size} obs ({int(warm.sum())} warm, "
            f"{self.eval_index.size} evaluations, {self.n_failed_windows} failed)\n"
            f"  cointegration broken {self.coint_broken[warm].sum() / w:.1%}, "
            f"half-life drift {self.half_life_broken[warm].sum() / w:.1%}, "
            f"volatility regime {self.vol_regime[warm].sum() / w:.1%}, "
            f"tradable {self.tradable[warm].sum() / w:.1%}\n"
            f"  baseline half-life {self.baseline_half_life:.4g} steps, last p-value {self.pvalue[-1]:.4g}"
        )


def _half_life_steps(s: FloatArray) -> float:
    s0 = s[:-1] - s[:-1].mean()
    s1 = s[1:] - s[1:].mean()
    den = float(s0 @ s0)
    if den == 0.0:
        return math.inf
    b = float(s0 @ s1) / den
    return -math.log(2.0) / math.log(b) if 0.0 < b < 1.0 else math.inf


@dataclass(frozen=True, slots=True, kw_only=True)
class RegimeMonitor:
    """Specify rolling breakdown tests for a pair; :meth:`fit` returns a :class:`RegimeReport`.

    Parameters
    ----------
    window
        Observations per rolling window (>= 30).
    step
        Evaluate every ``step`` observations (>= 1); flags are carried forward.
    max_pvalue
        Engle–Granger p-value above which cointegration counts as broken.
    max_half_life
        Absolute half-life limit in steps (None: ``window / 2``).
    drift_factor
        Half-life limit relative to the first window's (> 1).
    vol_window
        Short window for the volatility ratio (2 <= vol_window < window).
    vol_ratio
        Volatility-burst threshold (> 1).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = 100 + rng.normal(size=1500).cumsum()
    >>> s = np.zeros(1500)
    >>> for i in range(1, 1500):
    ...     s[i] = (0.8 if i < 1000 else 1.0) * s[i - 1] + rng.normal()
    >>> rep = RegimeMonitor(window=300, step=25, vol_window=30).fit(1.5 * x + s, x)
    >>> bool(rep.tradable[900]), bool(rep.tradable[-1])
    (True, False)
    """

    window: int
    step: int = 1
    max_pvalue: float = 0.05
    max_half_life: float | None = None
    drift_factor: float = 3.0
    vol_window: int = 20
    vol_ratio: float = 2.5

    def __post_init__(self) -> None:
        if isinstance(self.window, bool) or not isinstance(self.window, int) or self.window < 30:
            raise ValidationError(f"window={self.window!r} must be an int >= 30")
        if isinstance(self.step, bool) or not isinstance(self.step, int) or self.step < 1:
            raise ValidationError(f"step={self.step!r} must be an int >= 1")
        if not 0.0 < self.max_pvalue < 1.0:
            raise ValidationError(f"max_pvalue={self.max_pvalue!r} must lie in (0, 1)")
        if self.max_half_life is not None and not self.max_half_life > 0:
            raise ValidationError(f"max_half_life={self.max_half_life!r} must be > 0 steps")
        if not self.drift_factor > 1.0:
            raise ValidationError(f"drift_factor={self.drift_factor!r} must be > 1")
        if not isinstance(self.vol_window, int) or not 2 <= self.vol_window < self.window:
            raise ValidationError(
                f"vol_window={self.vol_window!r} must be an int in [2, window={self.window})"
            )
        if not self.vol_ratio > 1.0:
            raise ValidationError(f"vol_ratio={self.vol_ratio!r} must be > 1")

    def fit(self, y: FloatArray, x: FloatArray) -> RegimeReport:
        """Run the rolling tests over the pair ``(y, x)`` (equal length, finite, >= ``window`` points)."""
        ya = as_float_series("y", y)
        xa = as_float_series("x", x)
        n = require_same_length(y=ya, x=xa)
        w = self.window
        require_min_length("y and x", n, w, why=f"for one regime window (window={w})")
        points = list(range(w - 1, n, self.step))
        if points[-1] != n - 1:
            points.append(n - 1)
        k = len(points)
        pv = np.empty(k)
        hl = np.empty(k)
        vr = np.empty(k)
        failed = 0
        for j, t in enumerate(points):
            yw, xw = ya[t - w + 1 : t + 1], xa[t - w + 1 : t + 1]
            try:
                eg = engle_granger(yw, xw)
            except (ValidationError, ConvergenceError):
                failed += 1
                pv[j], hl[j], vr[j] = 1.0, math.inf, math.inf
                continue
            pv[j] = eg.pvalue
            spread = yw - eg.hedge_ratio * xw
            hl[j] = _half_life_steps(spread)
            d = np.diff(spread)
            long_sd = float(d.std())
            short_sd = float(d[-self.vol_window :].std())
            vr[j] = short_sd / long_sd if long_sd > 0 else math.inf
        baseline = float(hl[0])
        limit = self.max_half_life if self.max_half_life is not None else w / 2.0
        if math.isfinite(baseline):
            limit = min(limit, self.drift_factor * baseline)
        # carry evaluation values forward to every observation
        pos = np.searchsorted(np.asarray(points), np.arange(n), side="right") - 1
        warm = pos >= 0
        idx = np.clip(pos, 0, None)

        def spread_out(v: FloatArray) -> FloatArray:
            out = np.where(warm, v[idx], np.nan)
            out.setflags(write=False)
            return out

        pvalue, half, ratio = spread_out(pv), spread_out(hl), spread_out(vr)
        coint_broken = warm & (np.nan_to_num(pvalue, nan=0.0) > self.max_pvalue)
        hl_broken = warm & (np.nan_to_num(half, nan=0.0) > limit)
        vol_flag = warm & (np.nan_to_num(ratio, nan=0.0) > self.vol_ratio)
        tradable = warm & ~coint_broken & ~hl_broken & ~vol_flag
        for arr in (coint_broken, hl_broken, vol_flag, tradable):
            arr.setflags(write=False)
        ev = np.asarray(points, dtype=np.int64)
        ev.setflags(write=False)
        return RegimeReport(
            eval_index=ev,
            pvalue=pvalue,
            half_life=half,
            vol_ratio=ratio,
            coint_broken=coint_broken,
            half_life_broken=hl_broken,
            vol_regime=vol_flag,
            tradable=tradable,
            baseline_half_life=baseline,
            n_failed_windows=failed,
        )
