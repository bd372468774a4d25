"""``spreadlab validate`` / ``optimize`` on catalogs built from the built-in market and from real Binance bars."""

from __future__ import annotations

import json
import re
from html import escape as html_escape
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from tests.conftest import need_shared
from typer.testing import CliRunner

from spreadlab.cli.app import app
from spreadlab.data.catalog import Catalog
from spreadlab.data.market import MarketConfig, build_market
from spreadlab.data.market.config import PerpConfig

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def sim_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's market (universe, options and venue 2 left out to keep it quick) in a catalog."""
    root = tmp_path_factory.mktemp("sim")
    cfg = MarketConfig(
        days=40.0, seed=1, step_seconds=300.0, universe=None, venue2=None, options=None,
        perp=PerpConfig(burst_rate_per_day=6.0),
    )  # fmt: skip
    market = build_market(cfg)
    paths = market.write_parquet(root / "market")
    cat = Catalog(root / "cat")
    rep = cat.import_("parquet", [paths["quotes"], paths["funding"]])
    assert [f.status for f in rep.files] == ["imported", "imported"]
    # the canonical importer stores the market's rows unchanged
    back = cat.query("quotes", ["SIM:BTC-PERP"])
    want = market.quotes.filter(pl.col("instrument_id") == "SIM:BTC-PERP").sort(
        "ts_event", maintain_order=True
    )
    assert back.height == want.height and np.array_equal(back["bid"].to_numpy(), want["bid"].to_numpy())
    return root


def _config(root: Path, **replace: str) -> Path:
    text = (EXAMPLES / "validate_basis.toml").read_text()
    text = text.replace(
        '"market/instruments.parquet"', json.dumps(str(root / "market" / "instruments.parquet"))
    )
    text = text.replace('out = "validation-report.html"', f"out = {json.dumps(str(root / 'report.html'))}")
    for old, new in replace.items():
        text = text.replace(old, new)
    path = root / f"study-{abs(hash(tuple(replace.items()))) % 10**8}.toml"
    path.write_text(text)
    return path


def test_validate_walk_forward_on_the_built_in_market_passes_and_writes_a_report(sim_catalog: Path) -> None:
    cfg = _config(sim_catalog)
    cat = str(sim_catalog / "cat")
    out = CliRunner().invoke(
        app, ["validate", str(cfg), "--catalog", cat, "--method", "walk-forward", "--json"]
    )
    assert out.exit_code == 0, out.output
    d = json.loads(out.stdout)
    assert d["verdict"]["passed"] and d["verdict"]["line"].startswith("PASS")
    assert d["n_trials"] == 48 and len(d["windows"]) == 4
    assert all(w["out_of_sample"]["sharpe"] > 0 for w in d["windows"])
    html = Path(d["report"]).read_text()
    # self-contained (plotly.js inlined, no script from a CDN), every section, the verdict last
    assert "<script src=" not in html and "plotly" in html.lower()
    for heading in ("Statistics", "In sample vs out of sample", "Parameter stability", "Windows", "Verdict"):
        assert f"<h2>{heading}</h2>" in html
    text = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    assert text.rstrip().endswith("</p></body></html>")
    assert text.rfind(d["verdict"]["line"][:40]) > text.find("<h2>Windows</h2>")
    assert "configurations tried on this data (trial log)" in text and ">48<" in text
    # the trials are in the catalog's log
    trials = CliRunner().invoke(app, ["trials", "--catalog", cat, "--json"])
    assert trials.exit_code == 0 and json.loads(trials.stdout)["n_trials"] >= 48 * 4


def test_validate_cpcv_and_optimize_on_the_built_in_market(sim_catalog: Path) -> None:
    cfg = _config(sim_catalog)
    cat = str(sim_catalog / "cat")
    report = sim_catalog / "cpcv.html"
    runner = CliRunner()
    out = runner.invoke(
        app, ["validate", str(cfg), "-c", cat, "--method", "cpcv", "--out", str(report), "--json"]
    )
    assert out.exit_code == 0, out.output
    d = json.loads(out.stdout)
    assert d["method"] == "cpcv" and len(d["paths"]) == 5 and len(d["windows"]) == 15
    assert d["verdict"]["passed"]
    assert "out-of-sample path Sharpe ratios" in report.read_text()
    opt = runner.invoke(
        app, ["optimize", str(cfg), "-c", cat, "--trials", "12", "--sampler", "tpe", "--json"]
    )
    assert opt.exit_code == 0, opt.output
    o = json.loads(opt.stdout)
    assert o["n_evaluated"] == 12 and len(o["trials"]) == 12
    assert o["best"]["metrics"]["sharpe"] == max(t["sharpe"] for t in o["trials"])
    assert 0.0 <= o["deflated_sharpe"] <= 1.0


def test_bad_config_and_options_are_one_line_exit_2(sim_catalog: Path) -> None:
    cat = str(sim_catalog / "cat")
    runner = CliRunner()
    cases = [
        (
            _config(sim_catalog, **{'kind = "basis"': 'kind = "basis"\ncolour = "red"'}),
            [],
            "strategy: unknown key(s) colour",
        ),
        (_config(sim_catalog, **{"[search.space]": "[search.space]\nbogus = 3"}), [], "search.space.bogus"),
        (_config(sim_catalog, **{'sampler = "grid"': 'sampler = "random"'}), [], "sampler='random'"),
        (_config(sim_catalog, **{"n_windows = 4": "n_windows = 0"}), [], "n_windows=0"),
        (_config(sim_catalog, **{'"SIM:BTCUSDT"]': '"SIM:NOPE"]'}), [], "'SIM:NOPE' is not in"),
        (_config(sim_catalog), ["--method", "kfold"], "--method 'kfold'"),
        (_config(sim_catalog), ["--executor", "spark"], "--executor 'spark'"),
        (sim_catalog / "missing.toml", [], "config file not found"),
    ]
    for cfg, extra, needle in cases:
        out = runner.invoke(app, ["validate", str(cfg), "--catalog", cat, *extra])
        assert out.exit_code == 2, (needle, out.output)
        assert needle in out.output and "Traceback" not in out.output, out.output
        assert len(out.output.strip().splitlines()) == 1, out.output
    out = runner.invoke(app, ["optimize", str(_config(sim_catalog)), "--catalog", str(sim_catalog / "nope")])
    assert out.exit_code == 2 and "not a folder" in out.output


def test_walk_forward_of_the_real_binance_basis_runs_and_its_report_reads(tmp_path: Path) -> None:
    d = "binance_spot_perp_daily/"
    spot = need_shared(d + "spot_BTCUSDT_1d_2021-01_2023-06.csv.gz")
    perp = need_shared(d + "perp_BTCUSDT_1d_2021-01_2023-06.csv.gz")
    funding = need_shared(d + "funding_BTCUSDT_2021-01_2023-06.csv.gz")
    cat = Catalog(tmp_path / "cat")
    cat.import_("ohlcv", [spot], venue="BINANCE")
    cat.import_("ohlcv", [perp, funding], venue="BINANCE_USDM")
    text = (EXAMPLES / "validate_real_basis.toml").read_text()
    cfg = tmp_path / "real.toml"
    cfg.write_text(
        text.replace('out = "validation-real-basis.html"', f"out = {json.dumps(str(tmp_path / 'r.html'))}")
    )
    out = CliRunner().invoke(app, ["validate", str(cfg), "--catalog", str(tmp_path / "cat"), "--json"])
    assert out.exit_code == 0, out.output
    res = json.loads(out.stdout)
    oos = res["out_of_sample"]
    # 911 daily bars, anchored: the first 30 % train only; the out-of-sample record is the remaining 637 days
    assert oos["bars"] == 911 - 274 and oos["start"].startswith("2021-10-03")
    assert res["n_trials"] == 48 and len(res["windows"]) == 5
    assert all(w["fitted"]["units"] * 20_000 < 50_000 < w["fitted"]["units"] * 70_000 for w in res["windows"])
    assert res["verdict"]["line"].split(":")[0] in ("PASS", "FAIL")
    html = (tmp_path / "r.html").read_text()
    body = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    assert "BINANCE_USDM:BTCUSDT" in body and html_escape(res["verdict"]["line"]) in body
    assert body.count("<tr>") >= 5 + 1 + 10  # window rows, header, statistics rows


@pytest.mark.slow  # a local Ray instance starts (about 30 s on a quiet machine)
def test_optimize_on_ray_gives_the_local_executors_trials(sim_catalog: Path) -> None:
    pytest.importorskip("ray", reason="the Ray executor needs the 'opt' extra")
    cfg = _config(sim_catalog)
    cat = str(sim_catalog / "cat")
    runner = CliRunner()
    local = runner.invoke(app, ["optimize", str(cfg), "-c", cat, "--sampler", "grid", "--json"])
    ray = runner.invoke(
        app,
        [
            "optimize",
            str(cfg),
            "-c",
            cat,
            "--sampler",
            "grid",
            "--executor",
            "ray",
            "--workers",
            "2",
            "--json",
        ],
    )
    assert local.exit_code == 0 and ray.exit_code == 0, ray.output
    a, b = json.loads(local.stdout), json.loads(ray.stdout)
    assert a["trials"] == b["trials"] and a["best"] == b["best"] and len(a["trials"]) == 48
