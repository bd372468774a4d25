"""Unit-root pre-test and per-symbol cap of pair selection (issue 10 item 2).

The real case: Hyperliquid 4h bars 2024-03-01 .. 2024-09-01 with the late
listings dropped (53 perpetuals x 1,104 bars). At default thresholds one
symbol, kSHIB, joins 13 of the selected pairs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from statsmodels.tsa.stattools import adfuller
from tests.conftest import need_shared
from typer.testing import CliRunner

from spreadlab.cli.app import app
from spreadlab.data.catalog import Catalog
from spreadlab.errors import ValidationError
from spreadlab.signals.pairs import PairCriteria, select_pairs, select_pairs_long
from spreadlab.signals.pairs_screen import cap_per_symbol, unit_root_screen

START, END = "2024-03-01", "2024-09-01"


@pytest.fixture(scope="module")
def window() -> pl.DataFrame:
    df = pl.read_csv(
        need_shared("hyperliquid_perps/perp_ohlcv_4h.csv.gz"), columns=["date", "symbol", "close"]
    )
    return df.filter((pl.col("date") >= START) & (pl.col("date") < END))


@pytest.fixture(scope="module")
def runs(window: pl.DataFrame) -> dict[str, object]:
    def run(**kw: object) -> object:
        return select_pairs_long(window, ts="date", history="drop", criteria=PairCriteria(**kw))  # type: ignore[arg-type]

    return {"off": run(unit_root="off"), "default": run(), "cap3": run(max_pairs_per_symbol=3)}


def test_unit_root_screen_matches_statsmodels_on_the_real_series(runs: dict, window: pl.DataFrame) -> None:
    res = runs["default"]
    roots = res.unit_roots
    assert roots is not None and roots.height == len(res.names) == 53
    wide = window.pivot(on="symbol", index="date", values="close").sort("date")
    wide = wide.select(res.names).with_columns(pl.all().forward_fill()).drop_nulls()
    assert wide.height == res.nobs
    # statsmodels on the five not-I(1) series and three others (statsmodels' autolag is slow)
    check = roots.filter(pl.col("order") != "I(1)").vstack(roots.filter(pl.col("order") == "I(1)").head(3))
    for row in check.iter_rows(named=True):
        x = np.log(wide[row["symbol"]].to_numpy())
        lv = adfuller(x, regression="c", autolag="AIC", result_object=False)
        df = adfuller(np.diff(x), regression="c", autolag="AIC", result_object=False)
        assert row["adf_level_pvalue"] == pytest.approx(lv[1], rel=1e-6, abs=1e-9), row["symbol"]
        assert row["adf_diff_pvalue"] == pytest.approx(df[1], rel=1e-6, abs=1e-9), row["symbol"]
        want = "I(0)" if lv[1] <= 0.05 else "I(2+)" if df[1] > 0.05 else "I(1)"
        assert row["order"] == want, row["symbol"]
    bad = set(res.not_i1()["symbol"])
    assert bad == {"BNB", "BTC", "TON", "kFLOKI", "kPEPE"}  # stationary in level over this window
    # their pairs are not tested, and the report names them
    cand = res.candidates
    touched = cand.filter(pl.col("y").is_in(list(bad)) | pl.col("x").is_in(list(bad)))
    assert (
        set(touched["failed"]) <= {"prefilter", "unit_root"}
        and touched["pvalue"].null_count() == touched.height
    )
    assert "not I(1) (5, unit_root=exclude): BNB I(0), BTC I(0)" in res.summary()
    assert res.counts.integrated is not None and res.counts.integrated < runs["off"].counts.prefilter


def test_one_symbol_dominates_uncapped_and_not_when_capped(runs: dict) -> None:
    uncapped, capped = runs["default"], runs["cap3"]
    top = uncapped.symbols.row(0, named=True)
    assert top["symbol"] == "kSHIB" and top["pairs_uncapped"] == 13
    assert uncapped.counts.selected == 29  # kSHIB joins 45% of them
    counts = capped.symbols
    assert counts["pairs"].max() <= 3 and capped.counts.selected == 19
    # the uncapped counts of the capped run are the uncapped run's counts
    assert dict(counts.select("symbol", "pairs_uncapped").rows()) == dict(
        uncapped.symbols.select("symbol", "pairs").rows()
    )
    share = counts["pairs"].max() / capped.counts.selected
    assert share <= 3 / 19 + 1e-12  # no symbol in more than 16% of the pairs (was 45%)
    # the cap keeps the best-ranked pairs: a kept pair is never ranked below a pair dropped for a symbol it spares
    kept = capped.pairs.select("y", "x").rows()
    ranked = uncapped.pairs.select("y", "x").rows()
    assert kept == [
        p for p, k in zip(ranked, cap_per_symbol(*zip(*ranked, strict=True), 3), strict=True) if k
    ]
    dropped = capped.candidates.filter(pl.col("failed") == "symbol_cap")
    assert dropped.height == 29 - 19
    assert (capped.symbols.filter(pl.col("symbol") == "kSHIB")["pairs_uncapped"] == 13).all()


def test_synthetic_i0_and_i2_series_are_reported_and_not_tested() -> None:
    rng = np.random.default_rng(12)  # (a random walk's level test rejects 5% of the time: seed 11 does)
    n = 1500
    common = np.cumsum(rng.normal(0, 0.01, n))
    a = np.exp(common + rng.normal(0, 0.002, n))
    b = np.exp(common + rng.normal(0, 0.002, n))
    i0 = np.exp(rng.normal(0, 0.01, n) + 1.0)  # stationary level
    i2 = np.exp(np.cumsum(np.cumsum(rng.normal(0, 1e-4, n))) + 1.0)  # integrated twice
    res = select_pairs(np.column_stack([a, b, i0, i2]), names=["A", "B", "I0", "I2"],
                       criteria=PairCriteria(prefilter="none", min_half_life=0.0))  # fmt: skip
    orders = dict(res.unit_roots.select("symbol", "order").rows())
    assert orders == {"A": "I(1)", "B": "I(1)", "I0": "I(0)", "I2": "I(2+)"}
    assert res.pairs.select("y", "x").rows() in ([("A", "B")], [("B", "A")])
    failed = dict(((r["y"], r["x"]), r["failed"]) for r in res.candidates.iter_rows(named=True))
    assert sum(f == "unit_root" for f in failed.values()) == 5
    rep = select_pairs(np.column_stack([a, b, i0, i2]), names=["A", "B", "I0", "I2"],
                       criteria=PairCriteria(prefilter="none", min_half_life=0.0, unit_root="report"))  # fmt: skip
    # without the exclusion every pair with a stationary or twice-integrated leg "cointegrates" here
    assert rep.counts.integrated == 6 and rep.candidates["pvalue"].null_count() == 0
    assert rep.counts.selected == 6 and res.counts.selected == 1 and rep.not_i1().height == 2
    assert unit_root_screen(np.log(np.column_stack([a, i0])), ["A", "I0"], level=0.05)["order"].to_list() == [
        "I(1)", "I(0)"]  # fmt: skip
    with pytest.raises(ValidationError, match="max_pairs_per_symbol=0"):
        PairCriteria(max_pairs_per_symbol=0)
    with pytest.raises(ValidationError, match="unit_root='kpss'"):
        PairCriteria(unit_root="kpss")  # type: ignore[arg-type]


def test_cli_reports_pairs_per_symbol_and_caps(tmp_path: Path) -> None:
    full = pl.read_csv(need_shared("hyperliquid_perps/perp_ohlcv_4h.csv.gz"))
    csv = tmp_path / "hl4h.csv"
    full.filter((pl.col("date") >= START) & (pl.col("date") < END)).write_csv(csv)
    cat = tmp_path / "cat"
    Catalog(cat).import_("ohlcv", [csv], venue="HYPERLIQUID")
    base = ["pairs", "-c", str(cat), "--start", START, "--end", END, "--history", "drop"]
    out = CliRunner().invoke(app, base)
    assert out.exit_code == 0, out.output
    text = " ".join(out.stdout.split())
    assert "pairs per symbol: kSHIB 13" in text and "not I(1) (5, unit_root=exclude)" in text
    js = CliRunner().invoke(app, [*base, "--max-pairs-per-symbol", "3", "--json"])
    data = json.loads(js.stdout)
    assert data["counts"]["selected"] == 19 and max(s["pairs"] for s in data["symbols"]) == 3
    assert {r["symbol"] for r in data["not_i1"]} == {"BNB", "BTC", "TON", "kFLOKI", "kPEPE"}
