"""``spreadlab scan`` and ``spreadlab options chain`` on a catalog built from the real Deribit chains."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from tests.conftest import need_shared
from typer.testing import CliRunner

from spreadlab.cli.options import app as options_app
from spreadlab.cli.scan import scan
from spreadlab.data.catalog import Catalog

SNAPS = (
    "deribit_options/snapshots/deribit_options_snapshot_20251230T173115Z.csv.gz",
    "deribit_options/snapshots/deribit_options_snapshot_20251230T211751Z.csv.gz",
)


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command("scan")(scan)
    app.add_typer(options_app, name="options")
    return app


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cat")
    files = [need_shared(s) for s in SNAPS]
    Catalog(path).import_("deribit-chain", files)
    return path


def test_scan_real_chain_json_is_reproducible(catalog: Path) -> None:
    runner = CliRunner()
    args = ["scan", "--catalog", str(catalog), "--kinds", "parity,box", "--size", "50000", "--json"]
    first = runner.invoke(_app(), args)
    assert first.exit_code == 0, first.output
    again = runner.invoke(_app(), args)
    assert first.stdout == again.stdout
    rows = json.loads(first.stdout)["rows"]
    assert {r["kind"] for r in rows} == {"parity", "box"}
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    nets = [r["net_edge_usd"] for r in rows]
    assert nets == sorted(nets, reverse=True)
    # parity: a listed future priced against its synthetic forward; Deribit's real quotes are arbitrage-free
    # after fees (the finding), so no parity row has a positive net edge at 50k USD
    par = [r for r in rows if r["kind"] == "parity"]
    assert par and all(r["net_edge_usd"] < 0 for r in par)
    devs = sorted(abs(r["deviation_bp"]) for r in par)
    assert devs[len(devs) // 2] < 30.0  # the median strike's synthetic is within 30 bp of the future
    # wide (deep ITM/OTM) strikes deviate more, but their executable band contains the future
    assert all(
        r["bid"] <= r["fair"] + (r["value"] - r["fair"]) <= r["ask"]
        for r in par
        if abs(r["deviation_bp"]) > 100
    )
    table = runner.invoke(_app(), ["scan", "--catalog", str(catalog), "--kinds", "box", "--top", "5"])
    assert table.exit_code == 0 and "box" in table.stdout


def test_scan_bad_input_is_one_line_exit_2(catalog: Path) -> None:
    runner = CliRunner()
    for args, needle in (
        (["--kinds", "basis,foo"], "kinds: 'foo'"),
        (["--size", "-1"], "size_usd=-1"),
        (["--at", "2020-01-01"], "outside the data"),
    ):
        out = runner.invoke(_app(), ["scan", "--catalog", str(catalog), *args])
        assert out.exit_code == 2, out.output
        assert needle in out.output and "Traceback" not in out.output
    missing = runner.invoke(_app(), ["scan", "--catalog", str(catalog / "nope")])
    assert missing.exit_code == 2 and "not a folder" in missing.output


@pytest.mark.slow
def test_options_chain_json(catalog: Path) -> None:
    out = CliRunner().invoke(
        _app(), ["options", "chain", "--catalog", str(catalog), "--underlying", "BTC", "--json"]
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["snapshot"].startswith("2025-12-30T21:17") and data["settlement"] == "inverse"
    assert len(data["options"]) == 630 and data["expiries"]
    bad = CliRunner().invoke(_app(), ["options", "chain", "--catalog", str(catalog), "--underlying", "DOGE"])
    assert bad.exit_code == 2 and "no option quotes" in bad.output


@pytest.mark.slow
def test_scan_real_perps_xvenue_and_pairs(tmp_path: Path) -> None:
    from spreadlab.signals.scan import scan as scan_api

    cat = Catalog(tmp_path / "perps")
    d = "binance_bybit_perps/"
    cat.import_("ohlcv", [need_shared(d + "binance_usdm_perp_5m.csv.gz")], venue="BINANCE_USDM")
    cat.import_("ohlcv", [need_shared(d + "bybit_linear_perp_5m.csv.gz")], venue="BYBIT_LINEAR")
    a = scan_api(cat, at="2025-02-10T12:00Z", kinds="xvenue,pairs", size_usd=10_000)
    assert a.equals(scan_api(cat, at="2025-02-10T12:00Z", kinds="xvenue,pairs", size_usd=10_000))
    x = a.filter(a["kind"] == "xvenue")
    assert x.height == 3  # BTC, ETH, WIF on Binance vs Bybit
    # bar closes 5 minutes apart on two liquid venues agree to a few bp; taker fees make every row negative
    assert (x["deviation_bp"].abs() < 50).all() and (x["net_edge_usd"] < 0).all()
    assert set(x["price_source"]) == {"bar"}
