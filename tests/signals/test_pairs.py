"""Pair selection on the 60-perp Hyperliquid universe and on synthetic universes with known answers."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from statsmodels.stats.multitest import multipletests
from tests.conftest import need_shared

from spreadlab.errors import InsufficientDataError, ValidationError
from spreadlab.signals.pairs import PairCriteria, benjamini_hochberg, select_pairs, select_pairs_long
from spreadlab.signals.stationarity import engle_granger, half_life, hurst, mean_crossings


@pytest.fixture(scope="module")
def hl_1h() -> pl.DataFrame:
    return pl.read_csv(
        need_shared("hyperliquid_perps/perp_ohlcv_1h.csv.gz"), columns=["date", "symbol", "close"]
    )


@pytest.fixture(scope="module")
def hl_runs(hl_1h):
    crit = PairCriteria(min_correlation=0.8)
    first = select_pairs_long(hl_1h, ts="date", criteria=crit)
    # rerun on the same rows in another order (symbols shuffled): output must be identical
    shuffled = hl_1h.sample(fraction=1.0, shuffle=True, seed=3)
    second = select_pairs_long(shuffled, ts="date", criteria=crit)
    return first, second


def test_hyperliquid_universe_counts_and_reproducibility(hl_runs) -> None:
    first, second = hl_runs
    c = first.counts
    assert len(first.names) == 60 and c.candidates == 1770
    assert first.candidates.height == 1770
    assert c.candidates >= c.prefilter >= c.cointegrated >= c.half_life >= c.hurst >= c.crossings
    assert c.selected == first.pairs.height
    assert first.pairs.equals(second.pairs)
    assert first.candidates.equals(second.candidates)
    assert first.counts == second.counts
    assert first.to_json() == second.to_json()
    # every stage count agrees with the per-pair record of the first failed stage
    fails = first.candidates["failed"].value_counts()
    lost = dict(zip(fails["failed"].to_list(), fails["count"].to_list(), strict=True))
    assert c.candidates - c.prefilter == lost.get("prefilter", 0)
    assert c.selected == lost.get("", 0)
    assert "candidate pairs          1770" in first.summary()


def test_hyperliquid_statistics_agree_with_the_single_pair_tests(hl_runs, hl_1h) -> None:
    res, _ = hl_runs
    wide = hl_1h.pivot(on="symbol", index="date", values="close").sort("date")
    wide = wide.with_columns(pl.exclude("date").forward_fill()).drop_nulls()
    assert wide.height == res.nobs
    tested = res.candidates.filter(pl.col("pvalue").is_not_null())
    # Benjamini-Hochberg q-values equal statsmodels' fdr_bh over all pairs tested
    _, q, _, _ = multipletests(tested["pvalue"].to_numpy(), method="fdr_bh")
    np.testing.assert_allclose(tested["qvalue"].to_numpy(), q, rtol=1e-12)
    sample = tested.sort("pvalue").head(6)
    for row in sample.iter_rows(named=True):
        y, x = np.log(wide[row["y"]].to_numpy()), np.log(wide[row["x"]].to_numpy())
        eg = engle_granger(y, x)
        assert row["eg_stat"] == pytest.approx(eg.statistic, abs=1e-8)
        assert row["pvalue"] == pytest.approx(eg.pvalue, abs=1e-10)
        assert row["hedge_ratio"] == pytest.approx(eg.hedge_ratio, rel=1e-9)
        assert row["lags"] == eg.lags
        assert engle_granger(x, y).statistic >= eg.statistic - 1e-9  # "best" kept the stronger direction
        if row["half_life"] is not None:
            spread = y - row["intercept"] - row["hedge_ratio"] * x
            assert row["half_life"] == pytest.approx(half_life(spread).half_life, rel=1e-9)
            if row["hurst"] is not None:
                assert row["hurst"] == pytest.approx(hurst(spread).exponent, rel=1e-9)
            if row["crossings"] is not None:
                assert row["crossings"] == mean_crossings(spread)


def _universe(seed: int = 0, n: int = 3000) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    common = np.cumsum(rng.normal(0, 0.01, n))
    ou = np.zeros(n)
    for t in range(1, n):
        ou[t] = 0.9 * ou[t - 1] + rng.normal(0, 0.004)
    cols = {
        "AAA": np.exp(common + 1.0),
        "BBB": np.exp(0.8 * common + ou + 2.0),  # cointegrated with AAA, half-life ~6.6 bars
        "CCC": np.exp(0.7 * common + np.cumsum(rng.normal(0, 0.006, n))),  # correlated, not cointegrated
        "DDD": np.exp(np.cumsum(rng.normal(0, 0.01, n))),
        "EEE": np.exp(np.cumsum(rng.normal(0, 0.01, n))),
    }
    return np.column_stack(list(cols.values())), list(cols)


def test_synthetic_universe_selects_the_cointegrated_pair_only() -> None:
    P, names = _universe()
    res = select_pairs(P, names=names, criteria=PairCriteria(min_correlation=0.3))
    assert res.counts.candidates == 10
    assert res.pairs.height == 1
    row = res.pairs.row(0, named=True)
    assert {row["y"], row["x"]} == {"AAA", "BBB"} and row["rank"] == 1
    beta = row["hedge_ratio"] if row["y"] == "BBB" else 1 / row["hedge_ratio"]
    assert beta == pytest.approx(0.8, rel=0.05)
    assert row["half_life"] == pytest.approx(math.log(2) / -math.log(0.9), rel=0.3)
    assert row["hurst"] < 0.5 and row["crossings"] >= 12
    # the same universe as a polars frame, columns in another order
    frame = pl.DataFrame({n: P[:, i] for i, n in enumerate(names)}).select(
        ["EEE", "CCC", "AAA", "DDD", "BBB"]
    )
    again = select_pairs(frame, criteria=PairCriteria(min_correlation=0.3))
    assert again.pairs.equals(res.pairs)


def test_prefilter_modes_and_thresholds() -> None:
    P, names = _universe(1)
    none = select_pairs(P, names=names, criteria=PairCriteria(prefilter="none"))
    assert none.counts.prefilter == 10
    strict = select_pairs(P, names=names, criteria=PairCriteria(min_correlation=0.99))
    assert strict.counts.prefilter == 0 and strict.pairs.height == 0
    cluster = select_pairs(P, names=names, criteria=PairCriteria(prefilter="cluster", cluster_distance=0.3))
    tested = cluster.candidates.filter(pl.col("failed") != "prefilter")
    assert {frozenset(r) for r in tested.select("y", "x").iter_rows()} >= {frozenset({"AAA", "BBB"})}
    assert cluster.counts.prefilter < 10
    hl = select_pairs(P, names=names, criteria=PairCriteria(prefilter="none", max_half_life=2.0))
    assert hl.counts.half_life == 0 and hl.counts.cointegrated >= 1
    fwd = select_pairs(P, names=names, criteria=PairCriteria(prefilter="none", direction="forward"))
    assert all(
        r["y"] < r["x"] for r in fwd.candidates.filter(pl.col("eg_stat").is_not_null()).iter_rows(named=True)
    )


def test_benjamini_hochberg_matches_statsmodels() -> None:
    rng = np.random.default_rng(5)
    p = np.concatenate([rng.uniform(size=200), rng.uniform(0, 1e-3, size=20)])
    rng.shuffle(p)
    _, q, _, _ = multipletests(p, method="fdr_bh")
    np.testing.assert_allclose(benjamini_hochberg(p), q, rtol=1e-13)


def test_long_frame_forward_fills_thin_bars() -> None:
    P, names = _universe(2, n=800)
    rows = [
        {"ts": t, "symbol": s, "close": float(P[t, i])}
        for t in range(800)
        for i, s in enumerate(names)
        if not (s == "CCC" and t % 50 == 7)  # CCC misses a bar now and then
    ]
    res = select_pairs_long(pl.DataFrame(rows), criteria=PairCriteria(prefilter="none"))
    assert res.nobs == 800 and res.counts.candidates == 10


def test_bad_input_is_refused() -> None:
    P, names = _universe(3, n=300)
    bad = P.copy()
    bad[17, 2] = np.nan
    with pytest.raises(ValidationError, match="column 'CCC' row 17 is nan"):
        select_pairs(bad, names=names)
    bad = P.copy()
    bad[5, 0] = -1.0
    with pytest.raises(ValidationError, match="column 'AAA' row 5 is -1.0; prices must be > 0"):
        select_pairs(bad, names=names)
    bad = P.copy()
    bad[:, 3] = 7.0
    with pytest.raises(ValidationError, match="column 'DDD' is constant"):
        select_pairs(bad, names=names)
    with pytest.raises(InsufficientDataError, match="prices has 10 observations"):
        select_pairs(P[:10], names=names)
    with pytest.raises(ValidationError, match="names has 4 entries but prices has 5"):
        select_pairs(P, names=names[:4])
    with pytest.raises(ValidationError, match="'AAA' appears more than once"):
        select_pairs(P, names=["AAA", "AAA", "B", "C", "D"])
    frame = pl.DataFrame({"ts": [1, 1], "symbol": ["A", "A"], "close": [1.0, 2.0]})
    with pytest.raises(ValidationError, match="more than one 'close' for symbol='A' at ts=1"):
        select_pairs_long(frame)
    with pytest.raises(ValidationError, match="no column 'date'"):
        select_pairs_long(frame, ts="date")
    with pytest.raises(ValidationError, match="fdr=1.5"):
        PairCriteria(fdr=1.5)
    with pytest.raises(ValidationError, match="max_half_life=1.0 must exceed min_half_life=2.0"):
        PairCriteria(min_half_life=2.0, max_half_life=1.0)
    with pytest.raises(ValidationError, match="prefilter='kmeans'"):
        PairCriteria(prefilter="kmeans")  # type: ignore[arg-type]


@pytest.mark.slow
@pytest.mark.parametrize("freq", ["1h", "4h"])
def test_hyperliquid_default_criteria_full_universe(freq: str) -> None:
    df = pl.read_csv(
        need_shared(f"hyperliquid_perps/perp_ohlcv_{freq}.csv.gz"), columns=["date", "symbol", "close"]
    )
    res = select_pairs_long(df, ts="date")
    again = select_pairs_long(df, ts="date")
    c = res.counts
    assert c.candidates == 1770
    assert c.candidates >= c.prefilter >= c.cointegrated >= c.half_life >= c.hurst >= c.crossings
    assert res.candidates.equals(again.candidates) and res.counts == again.counts
