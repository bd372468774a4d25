"""Pair selection over a universe of price series.

For ``N`` series there are ``N(N-1)/2`` candidate pairs; each filter below
keeps a subset of the previous one, and the result reports how many pass
each stage:

1. **Pre-filter** on the correlation ``ρ`` of one-period log returns:
   ``"correlation"`` keeps ``ρ >= min_correlation``; ``"cluster"`` keeps pairs
   in the same cluster of an average-linkage hierarchical clustering on the
   distance ``1 - ρ`` cut at ``cluster_distance``; ``"none"`` keeps all.
2. **Unit roots** (``unit_root="exclude"``, the default): each series is
   tested for a unit root in its log level and none in its difference
   (:mod:`spreadlab.signals.pairs_screen`); pairs with a leg that is not I(1)
   are not tested (``"report"`` only reports such series, ``"off"`` skips
   the tests).
3. **Cointegration**: Engle–Granger (constant in the cointegrating
   regression, ADF lags by AIC; the ``O(n p)`` kernel of
   :mod:`spreadlab.kernels.stats`) on log prices, in the direction(s) set by
   ``direction``: ``"best"`` keeps the direction with the more negative
   statistic (slightly anti-conservative: the minimum of two p-values),
   ``"both"`` requires both (uses the larger p-value), ``"forward"`` regresses
   the alphabetically first name on the second. The p-values of all pairs
   tested are then controlled with Benjamini–Hochberg at false-discovery rate
   ``fdr``: with sorted p-values ``p_(1) <= ... <= p_(m)``,
   ``q_(i) = min_{k>=i} m p_(k) / k`` and a pair passes when ``q <= fdr``.
4. **Half-life** of the spread ``y - α - βx`` (AR(1) regression, in bars)
   within ``[min_half_life, max_half_life]``.
5. **Hurst exponent** of the spread (variance of lagged differences) below
   ``max_hurst``.
6. **Mean crossings** of the spread at least ``min_crossings``.
7. **Symbol cap** (``max_pairs_per_symbol``, default none): best-ranked
   pairs first, a pair is kept while both symbols are in fewer than the cap.

The result counts the selected pairs each symbol joins (``symbols``).
Survivors are ranked by p-value, then statistic, then names; series are
sorted by name first, so the output does not depend on column order and a
rerun gives identical output.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import polars as pl

from spreadlab._typing import FloatArray, IntArray
from spreadlab.core.validate import require_in_range, require_non_negative, require_positive
from spreadlab.errors import InsufficientDataError, ValidationError
from spreadlab.kernels.stats import (
    IC_AIC,
    STATUS_OK,
    eg_pairs,
    lagged_diff_std,
    mean_crossings,
    pair_indices,
)
from spreadlab.signals.pairs_screen import (
    UNIT_ROOT_SCHEMA,
    HistoryWindow,
    ShortHistory,
    cap_per_symbol,
    history_window,
    symbol_counts,
    unit_root_screen,
    window_dict,
)
from spreadlab.signals.stationarity._common import default_maxlag
from spreadlab.signals.stationarity.coint import eg_pvalues

__all__ = [
    "FilterCounts",
    "HistoryWindow",
    "PairCriteria",
    "PairSelectionResult",
    "benjamini_hochberg",
    "catalog_closes",
    "parse_interval",
    "select_pairs",
    "select_pairs_catalog",
    "select_pairs_long",
]

Prefilter = Literal["correlation", "cluster", "none"]
UnitRoot = Literal["exclude", "report", "off"]
Direction = Literal["best", "both", "forward"]

_PAIR_COLUMNS = [
    "rank", "y", "x", "eg_stat", "pvalue", "qvalue", "hedge_ratio", "intercept", "half_life",
    "hurst", "crossings", "correlation", "lags",
]  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class PairCriteria:
    """Thresholds of :func:`select_pairs` (see the module docstring for each stage)."""

    prefilter: Prefilter = "correlation"
    min_correlation: float = 0.5
    cluster_distance: float = 0.5
    direction: Direction = "best"
    fdr: float = 0.05
    min_half_life: float = 1.0
    max_half_life: float = 500.0
    max_hurst: float = 0.5
    min_crossings: int = 12
    hurst_max_lag: int = 100
    maxlag: int | None = None
    unit_root: UnitRoot = "exclude"
    unit_root_level: float = 0.05
    max_pairs_per_symbol: int | None = None

    def __post_init__(self) -> None:
        if self.unit_root not in ("exclude", "report", "off"):
            raise ValidationError(f"unit_root={self.unit_root!r} must be 'exclude', 'report' or 'off'")
        require_in_range("unit_root_level", self.unit_root_level, 0.0, 1.0, inclusive=False)
        cap = self.max_pairs_per_symbol
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
            raise ValidationError(f"max_pairs_per_symbol={cap!r} must be an integer >= 1 or None")
        if self.prefilter not in ("correlation", "cluster", "none"):
            raise ValidationError(f"prefilter={self.prefilter!r} must be 'correlation', 'cluster' or 'none'")
        if self.direction not in ("best", "both", "forward"):
            raise ValidationError(f"direction={self.direction!r} must be 'best', 'both' or 'forward'")
        require_in_range("min_correlation", self.min_correlation, -1.0, 1.0)
        require_in_range("cluster_distance", self.cluster_distance, 0.0, 2.0)
        require_in_range("fdr", self.fdr, 0.0, 1.0, inclusive=False)
        require_non_negative("min_half_life", self.min_half_life)
        require_positive("max_half_life", self.max_half_life)
        if self.max_half_life <= self.min_half_life:
            raise ValidationError(
                f"max_half_life={self.max_half_life!r} must exceed min_half_life={self.min_half_life!r}"
            )
        require_in_range("max_hurst", self.max_hurst, 0.0, 1.0)
        if isinstance(self.min_crossings, bool) or not isinstance(self.min_crossings, int):
            raise ValidationError(f"min_crossings={self.min_crossings!r} must be a non-negative integer")
        require_non_negative("min_crossings", self.min_crossings)
        if isinstance(self.hurst_max_lag, bool) or not isinstance(self.hurst_max_lag, int):
            raise ValidationError(f"hurst_max_lag={self.hurst_max_lag!r} must be an integer >= 3")
        if self.hurst_max_lag < 3:
            raise ValidationError(f"hurst_max_lag={self.hurst_max_lag!r} must be an integer >= 3")
        if self.maxlag is not None and (isinstance(self.maxlag, bool) or self.maxlag < 0):
            raise ValidationError(f"maxlag={self.maxlag!r} must be a non-negative integer or None")


@dataclass(frozen=True, slots=True, kw_only=True)
class FilterCounts:
    """How many pairs survive each stage (each count is a subset of the previous)."""

    candidates: int
    prefilter: int
    cointegrated: int
    half_life: int
    hurst: int
    crossings: int
    degenerate: int = 0
    integrated: int | None = None
    capped: int | None = None

    @property
    def selected(self) -> int:
        """Pairs that passed every filter (and the symbol cap, when set)."""
        return self.crossings if self.capped is None else self.capped


@dataclass(frozen=True, slots=True, kw_only=True)
class PairSelectionResult:
    """Outcome of :func:`select_pairs`.

    Attributes
    ----------
    pairs
        Ranked passing pairs: rank, y, x, eg_stat, pvalue, qvalue (BH),
        hedge_ratio, intercept, half_life (bars), hurst, crossings,
        correlation, lags. The spread is ``log y - intercept - hedge_ratio log x``.
    candidates
        Every candidate pair with whatever was computed for it and
        ``failed``: the first stage it failed (``""`` when selected).
    counts
        Survivors per stage.
    criteria
        The thresholds used.
    nobs
        Observations per series.
    names
        The series, sorted.
    unit_roots
        Per series the ADF tests of the level and the difference and its
        ``order`` (:func:`~spreadlab.signals.pairs_screen.unit_root_screen`);
        None with ``unit_root="off"``.
    symbols
        Per series the selected pairs it joins, before and after the cap.
    window
        From a long frame (:func:`select_pairs_long`): the window tested and
        the symbols whose history was shorter (:class:`HistoryWindow`).
    """

    pairs: pl.DataFrame
    candidates: pl.DataFrame
    counts: FilterCounts
    criteria: PairCriteria
    nobs: int
    names: tuple[str, ...] = field(default_factory=tuple)
    window: HistoryWindow | None = None
    unit_roots: pl.DataFrame | None = None
    symbols: pl.DataFrame | None = None

    def not_i1(self) -> pl.DataFrame:
        """The series whose unit-root tests say they are not I(1) (empty when the tests were off)."""
        if self.unit_roots is None:
            return pl.DataFrame(schema=UNIT_ROOT_SCHEMA)
        return self.unit_roots.filter(pl.col("order") != "I(1)")

    def summary(self) -> str:
        """Return a short report: counts per stage and the top pairs."""
        c = self.counts
        lines = [
            f"Pair selection: {len(self.names)} series x {self.nobs} observations",
            *([f"  note: {self.window.note()}"] if self.window is not None and self.window.short else []),
            f"  candidate pairs          {c.candidates}",
            f"  pass pre-filter ({self.criteria.prefilter}) {c.prefilter}",
            *([f"  both legs I(1)           {c.integrated}"] if c.integrated is not None else []),
            f"  cointegrated (BH {self.criteria.fdr:g})  {c.cointegrated}",
            f"  half-life in range       {c.half_life}",
            f"  Hurst < {self.criteria.max_hurst:g}             {c.hurst}",
            f"  mean crossings >= {self.criteria.min_crossings:<4d}  {c.crossings}",
        ]
        if c.capped is not None:
            lines.append(f"  <= {self.criteria.max_pairs_per_symbol} pairs per symbol    {c.capped}")
        bad = self.not_i1()
        if bad.height:
            shown = ", ".join(f"{r['symbol']} {r['order']}" for r in bad.head(12).iter_rows(named=True))
            more = " ..." if bad.height > 12 else ""
            lines.append(f"  not I(1) ({bad.height}, unit_root={self.criteria.unit_root}): {shown}{more}")
        if self.symbols is not None and c.selected:
            top = self.symbols.filter(pl.col("pairs_uncapped") > 0).head(5)
            lines.append(
                "  pairs per symbol: "
                + ", ".join(f"{r['symbol']} {r['pairs']}" + (f" (uncapped {r['pairs_uncapped']})"
                            if r["pairs"] != r["pairs_uncapped"] else "") for r in top.iter_rows(named=True))
            )  # fmt: skip
        for row in self.pairs.head(10).iter_rows(named=True):
            lines.append(
                f"  #{row['rank']:<3d} {row['y']}~{row['x']}: EG {row['eg_stat']:.3f} p {row['pvalue']:.2e} "
                f"beta {row['hedge_ratio']:.4g} half-life {row['half_life']:.1f} H {row['hurst']:.3f}"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict: counts, criteria and every selected pair."""
        return {
            "nobs": self.nobs,
            "series": list(self.names),
            "counts": {**asdict(self.counts), "selected": self.counts.selected},
            "criteria": asdict(self.criteria),
            "window": None if self.window is None else window_dict(self.window),
            "not_i1": self.not_i1().to_dicts(),
            "symbols": []
            if self.symbols is None
            else self.symbols.filter(pl.col("pairs_uncapped") > 0).to_dicts(),
            "pairs": self.pairs.to_dicts(),
        }

    def to_json(self) -> str:
        """Return :meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=2)


# ---------------------------------------------------------------- input


def _as_universe(prices: Any, names: Any) -> tuple[FloatArray, list[str]]:
    if isinstance(prices, pl.DataFrame):
        keep = [c for c, t in prices.schema.items() if not t.is_temporal()]
        bad = [c for c in keep if not prices.schema[c].is_numeric()]
        if bad:
            raise ValidationError(f"prices column {bad[0]!r} is not numeric ({prices.schema[bad[0]]})")
        if names is not None:
            raise ValidationError("names must be None when prices is a DataFrame (its columns are the names)")
        cols = list(keep)
        mat = prices.select(keep).cast(pl.Float64).to_numpy()
        null = prices.select(keep).null_count().row(0)
        for c, k in zip(cols, null, strict=True):
            if k:
                raise ValidationError(
                    f"prices column {c!r} has {k} missing value(s); fill or drop them first"
                )
    else:
        mat = np.asarray(prices, dtype=np.float64)
        if mat.ndim != 2:
            raise ValidationError(f"prices must be 2-D (observations x series), got shape {mat.shape}")
        if names is None:
            raise ValidationError("names are required when prices is an array")
        cols = [str(n) for n in names]
        if len(cols) != mat.shape[1]:
            raise ValidationError(f"names has {len(cols)} entries but prices has {mat.shape[1]} columns")
    if len(set(cols)) != len(cols):
        dup = next(c for c in cols if cols.count(c) > 1)
        raise ValidationError(f"series name {dup!r} appears more than once")
    if len(cols) < 2:
        raise ValidationError(f"prices has {len(cols)} series; pair selection needs at least 2")
    return mat, cols


def _check_prices(mat: FloatArray, cols: list[str]) -> None:
    bad = ~np.isfinite(mat)
    if bad.any():
        r, c = (int(v) for v in np.argwhere(bad)[0])
        raise ValidationError(
            f"prices column {cols[c]!r} row {r} is {float(mat[r, c])!r}; prices must be finite"
        )
    nonpos = mat <= 0.0
    if nonpos.any():
        r, c = (int(v) for v in np.argwhere(nonpos)[0])
        raise ValidationError(
            f"prices column {cols[c]!r} row {r} is {float(mat[r, c])!r}; "
            "prices must be > 0 (log prices are tested)"
        )
    const = np.flatnonzero(mat.max(axis=0) == mat.min(axis=0))
    if const.size:
        raise ValidationError(f"prices column {cols[int(const[0])]!r} is constant")


# ---------------------------------------------------------------- stages


def _prefilter(corr: FloatArray, left: IntArray, right: IntArray, criteria: PairCriteria) -> np.ndarray:
    if criteria.prefilter == "none":
        return np.ones(left.shape[0], dtype=bool)
    if criteria.prefilter == "correlation":
        return np.asarray(corr[left, right] >= criteria.min_correlation)
    from scipy.cluster.hierarchy import fcluster, linkage  # deferred: only the cluster pre-filter
    from scipy.spatial.distance import squareform

    dist = np.clip(1.0 - corr, 0.0, 2.0)
    np.fill_diagonal(dist, 0.0)
    labels = fcluster(
        linkage(squareform(dist, checks=False), method="average"),
        t=criteria.cluster_distance,
        criterion="distance",
    )
    return np.asarray(labels[left] == labels[right])


def benjamini_hochberg(pvalues: FloatArray) -> FloatArray:
    """Return Benjamini–Hochberg adjusted p-values (q-values), in the input order."""
    m = pvalues.shape[0]
    if m == 0:
        return pvalues.copy()
    order = np.argsort(pvalues, kind="stable")
    ranked = pvalues[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return out


def _hurst_exponent(spread: FloatArray, max_lag: int) -> float:
    top = min(max_lag, spread.shape[0] // 4)
    lags = np.arange(2, top + 1, dtype=np.int64)
    sd = lagged_diff_std(spread, lags)
    if lags.shape[0] < 2 or np.any(sd <= 0.0):
        return math.nan
    lx = np.log(lags.astype(np.float64))
    lxm = lx - lx.mean()
    return float(lxm @ np.log(sd) / (lxm @ lxm))


def _half_life(spread: FloatArray) -> float:
    lev = spread[:-1]
    dy = np.diff(spread)
    lm = lev - lev.mean()
    b = float(lm @ (dy - dy.mean()) / (lm @ lm))
    phi = 1.0 + b
    if not abs(phi) < 1.0:
        return math.inf
    if phi == 0.0:
        return 0.0
    return -math.log(2.0) / math.log(abs(phi))


def select_pairs(
    prices: Any,
    *,
    names: Any = None,
    criteria: PairCriteria | None = None,
) -> PairSelectionResult:
    """Select cointegrated, mean-reverting pairs from a universe of price series.

    Parameters
    ----------
    prices
        A wide polars DataFrame (one numeric column per series; temporal
        columns are ignored) or a 2-D array (observations x series) with
        ``names``. Rows must be aligned in time, finite and > 0.
    names
        Series names when ``prices`` is an array.
    criteria
        Thresholds; the defaults are :class:`PairCriteria()`.

    Returns
    -------
    PairSelectionResult

    Examples
    --------
    >>> import numpy as np
    >>> from spreadlab.signals.pairs import PairCriteria, select_pairs
    >>> rng = np.random.default_rng(0)
    >>> common = np.cumsum(rng.normal(0, 0.01, 3000))
    >>> a = np.exp(common + rng.normal(0, 0.002, 3000))
    >>> b = np.exp(common + rng.normal(0, 0.002, 3000))
    >>> c = np.exp(np.cumsum(rng.normal(0, 0.01, 3000)))
    >>> crit = PairCriteria(min_half_life=0.0)   # the A-B spread is white noise: half-life < 1 bar
    >>> res = select_pairs(np.column_stack([a, b, c]), names=["A", "B", "C"], criteria=crit)
    >>> res.counts.candidates, res.pairs["y"].to_list(), res.pairs["x"].to_list()
    (3, ['A'], ['B'])
    """
    crit = criteria if criteria is not None else PairCriteria()
    mat, cols = _as_universe(prices, names)
    order = sorted(range(len(cols)), key=lambda i: cols[i])
    cols = [cols[i] for i in order]
    mat = np.ascontiguousarray(mat[:, order])
    _check_prices(mat, cols)
    n, N = mat.shape
    maxlag = crit.maxlag if crit.maxlag is not None else default_maxlag(n, 0)
    need = max(2 * (maxlag + 1) + 1, 4 * 3, 20)
    if n < need:
        raise InsufficientDataError(
            f"prices has {n} observations; pair selection with maxlag={maxlag} needs at least {need}"
        )
    logp = np.log(mat)
    rets = np.diff(logp, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(rets, rowvar=False)
    if not np.all(np.isfinite(corr)):
        bad = int(np.flatnonzero(~np.isfinite(corr).all(axis=0))[0])
        raise ValidationError(f"prices column {cols[bad]!r} has constant returns; correlation is undefined")
    left, right = pair_indices(N)
    npairs = left.shape[0]
    pre = _prefilter(corr, left, right, crit)
    roots = None if crit.unit_root == "off" else unit_root_screen(logp, cols, level=crit.unit_root_level)
    i1 = np.ones(N, dtype=bool) if roots is None else (roots["order"] == "I(1)").to_numpy()
    both_i1 = i1[left] & i1[right]
    testable = pre & both_i1 if crit.unit_root == "exclude" else pre
    tested = np.flatnonzero(testable)
    both = crit.direction != "forward"
    stat, lag, hedge, icpt, status = eg_pairs(logp, left[tested], right[tested], 1, maxlag, IC_AIC, both)

    rows: list[dict[str, Any]] = []
    for q in range(npairs):
        i, j = int(left[q]), int(right[q])
        rows.append({"y": cols[i], "x": cols[j], "correlation": float(corr[i, j]), "failed": ""})
        if not pre[q]:
            rows[-1]["failed"] = "prefilter"
        elif not testable[q]:
            rows[-1]["failed"] = "unit_root"
    pvals = np.ones(tested.shape[0])
    pick = np.zeros(tested.shape[0], dtype=np.int64)
    degenerate = 0
    good = status == STATUS_OK
    pv = eg_pvalues(np.where(good, stat, 0.0), regression="c", nvars=2)
    for t, qq in enumerate(tested.tolist()):
        ok = [d for d in range(2 if both else 1) if good[d, t]]
        if len(ok) < (2 if crit.direction == "both" else 1):
            degenerate += 1
            rows[qq]["failed"] = "degenerate"
            continue
        d = min(ok, key=lambda d: (stat[d, t], d))
        pick[t] = d
        pvals[t] = max(pv[e, t] for e in ok) if crit.direction == "both" else pv[d, t]
    qvals = benjamini_hochberg(pvals)
    for t, qq in enumerate(tested.tolist()):
        row = rows[qq]
        if row["failed"]:
            continue
        d = int(pick[t])
        a, b = (int(left[qq]), int(right[qq])) if d == 0 else (int(right[qq]), int(left[qq]))
        row.update(
            y=cols[a], x=cols[b], eg_stat=float(stat[d, t]), pvalue=float(pvals[t]), qvalue=float(qvals[t]),
            hedge_ratio=float(hedge[d, t]), intercept=float(icpt[d, t]), lags=int(lag[d, t]),
        )  # fmt: skip
        if qvals[t] > crit.fdr:
            row["failed"] = "cointegration"
            continue
        spread = logp[:, a] - row["intercept"] - row["hedge_ratio"] * logp[:, b]
        row["half_life"] = _half_life(spread)
        if not crit.min_half_life <= row["half_life"] <= crit.max_half_life:
            row["failed"] = "half_life"
            continue
        h = _hurst_exponent(spread, crit.hurst_max_lag)
        row["hurst"] = None if math.isnan(h) else h
        if math.isnan(h) or h >= crit.max_hurst:
            row["failed"] = "hurst"
            continue
        row["crossings"] = int(mean_crossings(spread))
        if row["crossings"] < crit.min_crossings:
            row["failed"] = "crossings"
    if any(r.get("half_life") == math.inf for r in rows):
        for r in rows:
            if r.get("half_life") == math.inf:
                r["half_life"] = None  # infinite half-life: stored as null (failed the half-life stage)
    schema = {
        "y": pl.String, "x": pl.String, "correlation": pl.Float64, "eg_stat": pl.Float64,
        "pvalue": pl.Float64, "qvalue": pl.Float64, "hedge_ratio": pl.Float64, "intercept": pl.Float64,
        "lags": pl.Int64,
        "half_life": pl.Float64, "hurst": pl.Float64, "crossings": pl.Int64, "failed": pl.String,
    }  # fmt: skip
    cand = pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)
    uncapped = cand.filter(pl.col("failed") == "").sort(["pvalue", "eg_stat", "y", "x"])
    if crit.max_pairs_per_symbol is not None and uncapped.height:
        keep = cap_per_symbol(uncapped["y"].to_list(), uncapped["x"].to_list(), crit.max_pairs_per_symbol)
        drop = uncapped.filter(~pl.Series(keep)).select("y", "x").with_columns(pl.lit(True).alias("_cap"))
        cand = (
            cand.join(drop, on=["y", "x"], how="left")
            .with_columns(
                pl.when(pl.col("_cap")).then(pl.lit("symbol_cap")).otherwise("failed").alias("failed")
            )
            .drop("_cap")
        )
    fails = cand["failed"].to_list()

    def survivors(after: str) -> int:
        stages = ["prefilter", "unit_root", "degenerate", "cointegration", "half_life", "hurst", "crossings",
                  "symbol_cap"]  # fmt: skip
        dropped = set(stages[: stages.index(after) + 1])
        return sum(1 for f in fails if f not in dropped)

    counts = FilterCounts(
        candidates=npairs,
        prefilter=survivors("prefilter"),
        cointegrated=survivors("cointegration"),
        half_life=survivors("half_life"),
        hurst=survivors("hurst"),
        crossings=survivors("crossings"),
        degenerate=degenerate,
        integrated=None if roots is None else survivors("unit_root"),
        capped=None if crit.max_pairs_per_symbol is None else survivors("symbol_cap"),
    )
    passing = (
        cand.filter(pl.col("failed") == "")
        .sort(["pvalue", "eg_stat", "y", "x"])
        .with_row_index("rank", offset=1)
        .with_columns(pl.col("rank").cast(pl.Int64))
        .select(_PAIR_COLUMNS)
    )
    return PairSelectionResult(
        pairs=passing, candidates=cand, counts=counts, criteria=crit, nobs=n, names=tuple(cols),
        unit_roots=roots, symbols=symbol_counts(uncapped, passing, cols),
    )  # fmt: skip


def select_pairs_long(
    frame: pl.DataFrame,
    *,
    ts: str = "ts",
    symbol: str = "symbol",
    value: str = "close",
    fill: Literal["ffill", "none"] = "ffill",
    history: ShortHistory = "shorten",
    criteria: PairCriteria | None = None,
) -> PairSelectionResult:
    """Run :func:`select_pairs` on a long frame (one row per timestamp and symbol).

    The frame is pivoted to one column per symbol on the union of
    timestamps. ``fill="ffill"`` carries the last price over missing bars
    (a thin hour without trades, never past a symbol's last bar).
    ``fill="none"`` keeps only timestamps where every symbol has a bar.

    Symbols listed late (or delisted early) shorten the common window; the
    result's ``window`` (:class:`HistoryWindow`) says which and what was
    done: ``history="shorten"`` tests every symbol on the window where all
    have bars, ``history="drop"`` drops the short symbols and keeps the full
    window.

    Examples
    --------
    >>> import polars as pl
    >>> from spreadlab.signals.pairs import select_pairs_long
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> walk = np.exp(np.cumsum(rng.normal(0, 0.01, 500)))
    >>> df = pl.DataFrame({
    ...     "ts": np.repeat(np.arange(500), 2),
    ...     "symbol": ["A", "B"] * 500,
    ...     "close": np.column_stack([walk, walk * np.exp(rng.normal(0, 0.001, 500))]).ravel(),
    ... })
    >>> res = select_pairs_long(df)
    >>> res.counts.candidates, res.nobs
    (1, 500)
    """
    for col in (ts, symbol, value):
        if col not in frame.columns:
            raise ValidationError(f"frame has no column {col!r} (columns: {frame.columns})")
    dup = frame.select(ts, symbol).is_duplicated()
    if dup.any():
        r = frame.filter(dup).row(0, named=True)
        raise ValidationError(
            f"frame has more than one {value!r} for {symbol}={r[symbol]!r} at {ts}={r[ts]!r}"
        )
    if fill not in ("ffill", "none"):
        raise ValidationError(f"fill={fill!r} must be 'ffill' or 'none'")
    if history not in ("shorten", "drop"):
        raise ValidationError(f"history={history!r} must be 'shorten' or 'drop'")
    window = history_window(frame, ts, symbol, value, history)
    if window.dropped:
        frame = frame.filter(~pl.col(symbol).is_in(list(window.dropped)))
    wide = frame.pivot(on=symbol, index=ts, values=value).sort(ts)
    series = [c for c in wide.columns if c != ts]
    if fill == "ffill":
        # carry a price over a missing bar, never past the symbol's last bar
        last = frame.group_by(symbol).agg(pl.col(ts).max())
        ends = dict(zip(last[symbol].cast(pl.String).to_list(), last[ts].to_list(), strict=True))
        wide = wide.with_columns(
            pl.when(pl.col(ts) <= ends[c]).then(pl.col(c).forward_fill()).alias(c) for c in series
        )
    wide = wide.drop_nulls()
    if wide.height:
        window = dataclasses.replace(window, start_ts=wide[ts][0], end_ts=wide[ts][-1])
    res = select_pairs(wide.select(series), criteria=criteria)
    return dataclasses.replace(res, window=window)


_UNITS_NS = {"s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000, "d": 86_400_000_000_000}


def parse_interval(text: str) -> int:
    """Return a bar interval such as ``"1h"``, ``"15m"``, ``"4h"``, ``"1d"`` in nanoseconds.

    Examples
    --------
    >>> parse_interval("4h")
    14400000000000
    """
    t = text.strip().lower()
    unit = t[-1:]
    if unit not in _UNITS_NS or not t[:-1].isdigit() or int(t[:-1]) <= 0:
        raise ValidationError(f"interval={text!r} must be a positive integer and a unit s/m/h/d, e.g. '1h'")
    return int(t[:-1]) * _UNITS_NS[unit]


def catalog_closes(
    catalog: Any,
    *,
    start: str | int | None,
    end: str | int | None,
    venue: str | None = None,
    interval: str | None = None,
) -> pl.DataFrame:
    """Load bar closes from a :class:`~spreadlab.data.catalog.Catalog` as a long frame (ts, symbol, close).

    ``symbol`` is the venue symbol when one venue is selected, else the
    instrument id. With several bar intervals (or price types) stored,
    ``interval`` (or the ``trade`` price type) picks one.
    """
    from spreadlab.data.catalog import Catalog

    cat = catalog if isinstance(catalog, Catalog) else Catalog(catalog)
    bars = cat.query("bars", start=start, end=end)
    if venue is not None:
        bars = bars.filter(pl.col("instrument_id").str.starts_with(f"{venue.upper()}:"))
    if bars.height == 0:
        where = f" for venue {venue!r}" if venue else ""
        raise InsufficientDataError(f"the catalog holds no bars{where} between {start!r} and {end!r}")
    intervals = sorted(bars["interval_ns"].unique().to_list())
    if interval is not None:
        want = parse_interval(interval)
        bars = bars.filter(pl.col("interval_ns") == want)
        if bars.height == 0:
            raise InsufficientDataError(
                f"no {interval} bars in the window; stored intervals (s): {[i // 10**9 for i in intervals]}"
            )
    elif len(intervals) > 1:
        raise ValidationError(
            f"the catalog holds bars of several intervals (s): {[i // 10**9 for i in intervals]}; choose one"
        )
    types = bars["price_type"].unique().to_list()
    if len(types) > 1:
        if "trade" not in types:
            raise ValidationError(f"bars of several price types {sorted(types)} and none is 'trade'")
        bars = bars.filter(pl.col("price_type") == "trade")
    venues = bars["instrument_id"].str.split(":").list.first().unique()
    name = (
        pl.col("instrument_id").str.split(":").list.last() if venues.len() == 1 else pl.col("instrument_id")
    )
    return bars.select(pl.col("ts_event").alias("ts"), name.alias("symbol"), pl.col("close"))


def select_pairs_catalog(
    catalog: Any,
    *,
    start: str | int | None,
    end: str | int | None,
    venue: str | None = None,
    interval: str | None = None,
    history: ShortHistory = "shorten",
    criteria: PairCriteria | None = None,
) -> PairSelectionResult:
    """Run :func:`select_pairs_long` on the bar closes of a catalog (see :func:`catalog_closes`).

    ``history`` chooses between shortening the window to the symbols' common
    history and dropping the late-listed symbols (see :class:`HistoryWindow`).
    """
    closes = catalog_closes(catalog, start=start, end=end, venue=venue, interval=interval)
    closes = closes.with_columns(pl.from_epoch("ts", time_unit="ns").dt.replace_time_zone("UTC"))
    return select_pairs_long(
        closes, ts="ts", symbol="symbol", value="close", history=history, criteria=criteria
    )
