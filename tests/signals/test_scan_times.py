"""The scan's default time on a catalog whose venues end on different dates (issue 10 item 19).

Real 5-minute bars: Binance USDT-M BTC/ETH/WIF end 2025-02-20 10:20 (bar
open), Bybit linear 2025-03-31 23:55. At the newest data Binance is stale,
so the cross-venue spreads used to be left out without a word; each spread
is now evaluated at the latest time all its legs have fresh data, and a kind
with no row says why.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import need_shared
from typer.testing import CliRunner

from spreadlab.cli.app import app
from spreadlab.core.time import ns_to_iso
from spreadlab.data.catalog import Catalog
from spreadlab.signals.scan import scan_report

BINANCE_LAST_CLOSE = "2025-02-20T10:25:00"
BYBIT_LAST_CLOSE = "2025-04-01T00:00:00"


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("perps")
    cat = Catalog(path)
    d = "binance_bybit_perps/"
    cat.import_("ohlcv", [need_shared(d + "binance_usdm_perp_5m.csv.gz")], venue="BINANCE_USDM")
    cat.import_("ohlcv", [need_shared(d + "bybit_linear_perp_5m.csv.gz")], venue="BYBIT_LINEAR")
    return path


def test_each_spread_at_the_latest_time_its_legs_are_fresh(catalog: Path) -> None:
    res = scan_report(catalog, kinds="xvenue,pairs,basis")
    assert res.default_time
    assert [ns_to_iso(t)[:19] for t in res.times_ns] == [BYBIT_LAST_CLOSE, BINANCE_LAST_CLOSE]
    x = res.rows.filter(res.rows["kind"] == "xvenue")
    # BTC, ETH and WIF on both venues, each at Binance's last bar close (Bybit's bar of that time)
    assert x.height == 3
    assert set(x["time"].str.slice(0, 19)) == {BINANCE_LAST_CLOSE}
    assert (x["deviation_bp"].abs() < 50).all()
    # ranks follow net edge over the merged rows
    assert res.rows["rank"].to_list() == list(range(1, res.rows.height + 1))
    assert (res.rows["net_edge_usd"].diff().drop_nulls() <= 0).all()
    # kinds without a row say why, at the newest time
    assert "xvenue" not in res.empty
    assert "none with a fresh index" in res.empty["basis"]
    if "pairs" in res.empty:
        assert "BYBIT_LINEAR" in res.empty["pairs"]


def test_an_explicit_time_scans_there_only_and_says_why_xvenue_is_empty(catalog: Path) -> None:
    res = scan_report(catalog, at="2025-03-31T12:00Z", kinds="xvenue")
    assert not res.default_time and len(res.times_ns) == 1
    assert res.rows.height == 0
    assert res.empty["xvenue"] == (
        "no coin has a perpetual with a fresh price on two venues (perpetuals priced on: BYBIT_LINEAR)"
    )


def test_cli_prints_the_time_used_and_the_reasons(catalog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from spreadlab.cli._common import console

    monkeypatch.setattr(console, "_width", 200)
    out = CliRunner().invoke(app, ["scan", "--catalog", str(catalog), "--kinds", "xvenue,basis"])
    assert out.exit_code == 0, out.output
    text = " ".join(out.stdout.split())
    assert f"3 spreads at the newest data, {BYBIT_LAST_CLOSE}Z" in text
    assert f"latest fresh time: {BINANCE_LAST_CLOSE}Z" in text
    assert "basis: no spread: 3 perpetual(s)/future(s) priced, none with a fresh index" in text
    js = CliRunner().invoke(app, ["scan", "--catalog", str(catalog), "--kinds", "xvenue", "--json"])
    data = json.loads(js.stdout)
    assert data["at"] == BYBIT_LAST_CLOSE + "Z" and data["default_time"] is True
    assert data["times"] == [BYBIT_LAST_CLOSE + "Z", BINANCE_LAST_CLOSE + "Z"]
    assert data["count"] == 3 and data["empty"] == {}
