"""``data import auto`` on a folder mixing spot, perpetual and funding files (issue 10 item 17).

The truth is the provenance of the real files (../shared/data/PROVENANCE.md): in
``binance_spot_perp_daily/`` the ``spot_*`` files are Binance spot klines, ``perp_*`` USDT-M
perpetual klines and ``funding_*`` the USDT-M funding history; in ``binance_bybit_perps/`` the
file names say the venue (``binance_usdm_*``, ``bybit_linear_*``).
"""

from __future__ import annotations

import json
import shutil

import polars as pl
from tests.conftest import need_shared
from typer.testing import CliRunner

from spreadlab.cli.data import app
from spreadlab.data.catalog import Catalog
from spreadlab.data.importers.ohlcv import read_ohlcv

runner = CliRunner()
DAILY = "binance_spot_perp_daily"


def _mixed(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in ("spot_BTCUSDT_1d", "perp_BTCUSDT_1d", "funding_BTCUSDT", "spot_ETHUSDT_1d"):
        src = need_shared(f"{DAILY}/{name}_2021-01_2023-06.csv.gz")
        shutil.copy(src, folder / src.name)
    tardis = need_shared("nautilus_fixtures/tardis_format/bitmex_trades_XBTUSD.csv")  # names its exchange
    shutil.copy(tardis, folder / tardis.name)
    return folder


def test_one_call_imports_spot_perp_and_funding_of_one_venue(tmp_path):
    folder = _mixed(tmp_path)
    cat = tmp_path / "cat"
    res = runner.invoke(
        app, ["import", "auto", str(folder), "--catalog", str(cat), "--venue", "BINANCE", "--json"]
    )
    assert res.exit_code == 0, res.output
    files = {f["path"].rsplit("/", 1)[-1].split("_2021")[0]: f for f in json.loads(res.stdout)["files"]}
    assert files["spot_BTCUSDT_1d"]["instruments"] == ["BINANCE:BTCUSDT"]
    assert files["spot_ETHUSDT_1d"]["instruments"] == ["BINANCE:ETHUSDT"]
    assert files["perp_BTCUSDT_1d"]["instruments"] == ["BINANCE_USDM:BTCUSDT"]
    assert files["funding_BTCUSDT"]["instruments"] == ["BINANCE_USDM:BTCUSDT"]
    assert files["funding_BTCUSDT"]["rows_by_kind"] == {"funding": 2733}  # PROVENANCE: 2733 rows
    assert files["bitmex_trades_XBTUSD.csv"]["instruments"] == ["BITMEX:XBTUSD"]
    c = Catalog(cat)
    spot = c.query("bars", "BINANCE:BTCUSDT")
    perp = c.query("bars", "BINANCE_USDM:BTCUSDT")
    assert spot.height == perp.height == 911
    src = next(folder.glob("spot_BTCUSDT_*"))
    truth = pl.concat([b.frame for b in read_ohlcv(src, venue="BINANCE")])
    assert spot.equals(truth)  # the spot file's own bars, labelled spot
    assert (spot["close"] != perp["close"]).any()  # and the perpetual's bars are not the spot ones
    again = runner.invoke(
        app, ["import", "auto", str(folder), "--catalog", str(cat), "--venue", "BINANCE", "--json"]
    )
    assert {f["status"] for f in json.loads(again.stdout)["files"]} == {"already_imported"}


def test_names_that_say_the_venue_need_no_option(tmp_path):
    folder = tmp_path / "binance_bybit_perps"
    folder.mkdir()
    for name in ("binance_usdm_funding.csv.gz", "binance_usdm_mark_8h.csv.gz", "bybit_linear_funding.csv.gz"):
        shutil.copy(need_shared(f"binance_bybit_perps/{name}"), folder / name)
    rep = Catalog(tmp_path / "cat").import_("auto", [folder])
    venues = {f.path.rsplit("/", 1)[-1]: {i.split(":")[0] for i in f.instruments} for f in rep.files}
    assert venues == {
        "binance_usdm_funding.csv.gz": {"BINANCE_USDM"},
        "binance_usdm_mark_8h.csv.gz": {"BINANCE_USDM"},
        "bybit_linear_funding.csv.gz": {"BYBIT_LINEAR"},
    }


def test_a_file_that_says_nothing_is_named_with_the_option_to_pass(tmp_path):
    folder = _mixed(tmp_path)
    shutil.copy(next(folder.glob("spot_BTCUSDT_*")), folder / "BTCUSDT_1d.csv.gz")  # no product in the name
    cat = tmp_path / "cat"
    res = runner.invoke(app, ["import", "auto", str(folder), "--catalog", str(cat)])
    assert res.exit_code == 2
    err = res.stderr.strip()
    assert "\n" not in err and "BTCUSDT_1d.csv.gz" in err and "--venue" in err
    assert not cat.exists()  # refused before anything was written
    ok = runner.invoke(app, ["import", "auto", str(folder), "--catalog", str(cat), "--venue", "BINANCE"])
    assert ok.exit_code == 0  # with the exchange named, the name-less file is taken as that venue
