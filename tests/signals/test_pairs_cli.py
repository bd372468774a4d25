"""``spreadlab pairs`` on a catalog built from real Hyperliquid hourly bars."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import typer
from tests.conftest import need_shared
from typer.testing import CliRunner

from spreadlab.cli.pairs import pairs
from spreadlab.data.catalog import Catalog
from spreadlab.signals.pairs import PairCriteria, parse_interval, select_pairs_long

SYMBOLS = ["AVAX", "BTC", "DOGE", "ETH", "LINK", "SOL", "AAVE", "ARB"]


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command("pairs")(pairs)
    app.command("noop")(lambda: None)  # keep "pairs" a named sub-command
    return app


@pytest.fixture(scope="module")
def hourly(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pl.DataFrame]:
    df = pl.read_csv(need_shared("hyperliquid_perps/perp_ohlcv_1h.csv.gz"))
    sub = df.filter(pl.col("symbol").is_in(SYMBOLS) & (pl.col("date") >= "2024-12-01"))
    folder = tmp_path_factory.mktemp("pairs")
    csv = folder / "hl_1h.csv"
    sub.write_csv(csv)
    Catalog(folder / "cat").import_("ohlcv", [csv], venue="HYPERLIQUID")
    return folder / "cat", sub


def test_pairs_json_lists_passing_pairs_and_is_reproducible(hourly) -> None:
    cat, sub = hourly
    args = ["pairs", "--catalog", str(cat), "--start", "2024-12-01", "--end", "2025-04-01"]
    args += [
        "--venue",
        "HYPERLIQUID",
        "--prefilter",
        "none",
        "--fdr",
        "0.5",
        "--min-crossings",
        "5",
        "--json",
    ]
    first = CliRunner().invoke(_app(), args)
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(_app(), args)
    assert first.stdout == again.stdout
    out = json.loads(first.stdout)
    assert out["counts"]["candidates"] == len(SYMBOLS) * (len(SYMBOLS) - 1) // 2
    assert out["series"] == sorted(SYMBOLS)
    # the catalog route gives exactly what the plain function gives on the same CSV rows
    crit = PairCriteria(prefilter="none", fdr=0.5, min_crossings=5)
    direct = select_pairs_long(sub.filter(pl.col("date") < "2025-04-01"), ts="date", criteria=crit)
    assert out["counts"]["selected"] == direct.counts.selected == len(out["pairs"])
    assert out["nobs"] == direct.nobs
    for got, want in zip(out["pairs"], direct.pairs.to_dicts(), strict=True):
        assert (got["y"], got["x"]) == (want["y"], want["x"])
        for key in ("eg_stat", "pvalue", "hedge_ratio", "half_life", "hurst"):
            assert got[key] == pytest.approx(want[key], rel=1e-12), key


def test_pairs_table_and_errors(hourly) -> None:
    cat, _ = hourly
    runner = CliRunner()
    res = runner.invoke(_app(), ["pairs", "-c", str(cat), "--start", "2025-01-01", "--end", "2025-04-01"])
    assert res.exit_code == 0, res.output
    assert "candidate pairs          28" in res.stdout
    bad = runner.invoke(
        _app(), ["pairs", "-c", str(cat / "nope"), "--start", "2025-01-01", "--end", "2025-02-01"]
    )
    assert bad.exit_code == 2 and "is not a folder" in bad.output
    wrong = runner.invoke(
        _app(), ["pairs", "-c", str(cat), "--start", "2025-01-01", "--end", "2025-04-01", "--interval", "4h"]
    )
    assert wrong.exit_code == 2 and "no 4h bars" in wrong.output
    empty = runner.invoke(_app(), ["pairs", "-c", str(cat), "--start", "2020-01-01", "--end", "2020-02-01"])
    assert empty.exit_code == 2 and "no bars" in empty.output
    kind = runner.invoke(
        _app(), ["pairs", "-c", str(cat), "--start", "2025-01-01", "--end", "2025-04-01", "--kind", "trades"]
    )
    assert kind.exit_code == 2 and "'bars' only" in kind.output
    assert parse_interval("15m") == 900 * 10**9
