"""``spreadlab data`` CLI: import (JSON report), idempotent re-import, list, show, one-line errors (exit 2)."""

from __future__ import annotations

import json

from tests.conftest import need_shared
from typer.testing import CliRunner

from spreadlab.cli.data import app

runner = CliRunner()


def test_import_json_list_show(tmp_path):
    cat = str(tmp_path / "cat")
    f1 = need_shared("nautilus_fixtures/tardis_format/bitmex_trades_XBTUSD.csv")
    f2 = need_shared("binance_bybit_perps/bybit_linear_funding.csv.gz")
    res = runner.invoke(
        app, ["import", "auto", str(f1), str(f2), "--catalog", cat, "--venue", "BYBIT_LINEAR", "--json"]
    )
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    files = rep["files"]
    assert [f["rows_read"] for f in files] == [10, 200]
    assert [f["rows_stored"] for f in files] == [10, 200]
    assert files[0]["instruments"] == ["BITMEX:XBTUSD"]
    assert files[1]["instruments"] == ["BYBIT_LINEAR:WIFUSDT"]  # the file holds WIF funding only
    again = runner.invoke(app, ["import", "auto", str(f1), "--catalog", cat, "--json"])
    assert json.loads(again.stdout)["files"][0]["status"] == "already_imported"
    listed = runner.invoke(app, ["list", "--catalog", cat, "--json"])
    rows = {r["instrument_id"]: r["rows"] for r in json.loads(listed.stdout)}
    assert rows["BITMEX:XBTUSD"] == 10
    shown = runner.invoke(app, ["show", "BITMEX:XBTUSD", "--catalog", cat, "--json", "--limit", "3"])
    data = json.loads(shown.stdout)
    assert data["trades"]["rows"] == 10 and len(data["trades"]["data"]) == 3
    ranged = runner.invoke(
        app, ["show", "BITMEX:XBTUSD", "--catalog", cat, "--json", "--start", "2020-03-01T00:00:03.2Z"]
    )
    assert json.loads(ranged.stdout)["trades"]["rows"] == 9


def test_errors_are_one_line_exit_2(tmp_path):
    cat = str(tmp_path / "cat")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
        "bitmex,XBTUSD,1583020803145000,1583020803307160,a,sell,85x1.5,2152\n"
    )
    res = runner.invoke(app, ["import", "tardis", str(bad), "--catalog", cat])
    assert res.exit_code == 2
    err = res.stderr.strip()
    assert "\n" not in err and "Traceback" not in err
    assert "bad.csv" in err and "row 2" in err and "'price'" in err
    res = runner.invoke(app, ["import", "nope", str(bad), "--catalog", cat])
    assert res.exit_code == 2 and "FORMAT='nope'" in res.stderr
    res = runner.invoke(
        app, ["import", "ohlcv", str(need_shared("hyperliquid_perps/funding_1h.csv.gz")), "--catalog", cat]
    )
    assert res.exit_code == 2 and "--venue" in res.stderr
    res = runner.invoke(app, ["list", "--catalog", str(tmp_path / "none")])
    assert res.exit_code == 2
    skip = runner.invoke(app, ["import", "tardis", str(bad), "--catalog", cat, "--skip-bad", "--json"])
    assert skip.exit_code == 0 and json.loads(skip.stdout)["files"][0]["rows_quarantined"] == 1
