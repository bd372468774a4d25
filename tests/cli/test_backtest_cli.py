"""``spreadlab backtest`` on the built-in market: a run whose fills are checked against the quotes, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from spreadlab.cli.app import app
from spreadlab.data.catalog import Catalog
from spreadlab.data.market import MarketConfig, PerpConfig, build_market

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bt")
    cfg = MarketConfig(
        days=6.0,
        seed=1,
        step_seconds=60.0,
        universe=None,
        venue2=None,
        options=None,
        perp=PerpConfig(burst_rate_per_day=6.0),
    )
    paths = build_market(cfg).write_parquet(root / "market")
    Catalog(root / "cat").import_("parquet", [paths["quotes"], paths["funding"]])
    return root


def _config(root: Path, extra: str = "", **replace: str) -> Path:
    text = (EXAMPLES / "backtest_basis.toml").read_text()
    text = text.replace(
        '"market/instruments.parquet"', json.dumps(str(root / "market" / "instruments.parquet"))
    )
    for a, b in replace.items():
        text = text.replace(a, b)
    p = root / f"bt_{abs(hash((extra, tuple(replace.items()))))}.toml"
    p.write_text(text + extra)
    return p


def test_backtest_runs_the_example_and_every_fill_is_the_touch_plus_the_impact(sim: Path) -> None:
    out = sim / "out"
    res = CliRunner().invoke(
        app, ["backtest", str(_config(sim)), "-c", str(sim / "cat"), "--out", str(out), "--json"]
    )
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["metrics"]["events"] > 10_000 and d["n_fills"] >= 4
    fills = pl.read_parquet(out / "fills.parquet")
    quotes = Catalog(sim / "cat").query("quotes", ["SIM:BTC-PERP", "SIM:BTCUSDT"]).sort("ts_event")
    for f in fills.filter(pl.col("liquidity") == "taker").to_dicts():
        q = quotes.filter(
            (pl.col("instrument_id") == f["instrument_id"]) & (pl.col("ts_event") <= f["ts"])
        ).tail(1)
        touch = q["ask"][0] if f["side"] > 0 else q["bid"][0]
        assert f["price"] == pytest.approx(touch * (1 + f["side"] * 1e-4), rel=1e-12)
    trades = pl.read_parquet(out / "trades.parquet").filter(pl.col("closed"))
    assert (trades["direction"] == -1).all()  # direction = "short"
    parts = trades["convergence_usd"] + trades["slippage_usd"] + trades["fees_usd"] + trades["funding_usd"]
    assert np.allclose(parts.to_numpy(), trades["pnl_usd"].to_numpy(), atol=1e-6)
    html = (out / "report.html").read_text()
    assert "Round trips" in html and "SIM:BTC-PERP" in html


@pytest.mark.parametrize(
    ("extra", "replace", "needle"),
    [
        ("\n[backtest2]\nx = 1\n", {}, "unknown key(s) backtest2"),
        ("", {"capital_usd = 100000.0": "capital_usd = 100000.0\ncapitl = 1"}, "unknown key(s) capitl"),
        ("", {'"SIM:BTCUSDT"': '"SIM:ETHUSDT"'}, "SIM:ETHUSDT is not in the instruments_file"),
        ("", {'"SIM:BTCUSDT"': '"BINANCE:BTCUSDT"'}, "['BINANCE:BTCUSDT'] are not in the catalog"),
        ("", {"entry = 3.0": "entry = 0.1"}, "bands must satisfy"),
        ("", {'bar = "1m"': 'bar = "1 minute"'}, "is not a duration"),
    ],
)
def test_bad_config_is_one_line_and_exit_2(
    sim: Path, extra: str, replace: dict[str, str], needle: str
) -> None:
    res = CliRunner().invoke(app, ["backtest", str(_config(sim, extra, **replace)), "-c", str(sim / "cat")])
    assert res.exit_code == 2, res.output
    line = res.stderr.strip()
    assert needle in line and "\n" not in line


def test_no_data_in_the_window_is_one_line_and_exit_2(sim: Path) -> None:
    res = CliRunner().invoke(
        app, ["backtest", str(_config(sim)), "-c", str(sim / "cat"), "--start", "2030-01-01"]
    )
    assert res.exit_code == 2 and "no data" in res.stderr
