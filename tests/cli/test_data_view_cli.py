"""``data list`` and ``data show`` read at 100 columns (issue 10 item 20): ISO times, option expiry dates,
whole ids, --venue/--kind/--like filters; --json keeps every column."""

from __future__ import annotations

import json
import re

import pytest
from tests.conftest import need_shared
from typer.testing import CliRunner

from spreadlab.cli.data import app

runner = CliRunner()
SNAP = (
    "deribit_options/snapshots/deribit_options_snapshot_20251230T173115Z.csv.gz"  # 2025-12-30T17:31:15.944Z
)
TRADES = "nautilus_fixtures/tardis_format/bitmex_trades_XBTUSD.csv"
NS = re.compile(r"\b\d{19}\b")  # a raw nanosecond time


@pytest.fixture(scope="module")
def cat(tmp_path_factory):
    path = tmp_path_factory.mktemp("view") / "cat"
    res = runner.invoke(
        app, ["import", "auto", str(need_shared(SNAP)), str(need_shared(TRADES)), "--catalog", str(path)]
    )
    assert res.exit_code == 0, res.output
    return str(path)


def _run(*args: str) -> str:
    res = runner.invoke(app, list(args), env={"COLUMNS": "100"})
    assert res.exit_code == 0, res.output
    assert all(len(line) <= 100 for line in res.stdout.splitlines()), res.stdout
    return res.stdout


def test_show_option_rows(cat):
    out = _run("show", "DERIBIT:BTC-16JAN26-90000-C", "--catalog", cat)
    assert not NS.search(out)
    row = next(line for line in out.splitlines() if line.startswith("2025"))
    assert row.split()[:4] == [
        "2025-12-30T17:31:15Z",
        "2026-01-16",
        "90,000",
        "C",
    ]  # snapshot time, expiry date
    data = json.loads(_run("show", "DERIBIT:BTC-16JAN26-90000-C", "--catalog", cat, "--json"))
    (r,) = data["option_quotes"]["data"]
    assert r["ts_event"] == 1767115875944181000 and r["ts_event_iso"] == "2025-12-30T17:31:15.944181000Z"
    assert (
        r["expiry_iso"].startswith("2026-01-16T08:00:00") and r["strike"] == 90000.0
    )  # Deribit expires 08:00 UTC
    assert len(r) > 25  # every column is kept


def test_show_trades_with_receive_delay(cat):
    out = _run("show", "BITMEX:XBTUSD", "--catalog", cat, "--kind", "trades", "--limit", "2")
    assert not NS.search(out) and "10 rows, first 2 shown" in out
    first = next(line for line in out.splitlines() if line.startswith("2020"))
    # timestamp 1583020803145000 us, local_timestamp 1583020803307160 us: 162.16 ms later
    assert first.split()[:5] == ["2020-03-01T00:00:03.145Z", "162.16", "8,531.5", "2,152", "sell"]
    assert "ccc3c1fa-212c-e8b0-1706-9b9c4f3d5ecf" in first  # the whole trade id


def test_list_whole_ids_filters_and_option_series(cat):
    every = json.loads(_run("list", "--catalog", cat, "--json"))
    text = _run("list", "--catalog", cat, "--each-option")
    assert not NS.search(text)
    for r in every:
        assert r["instrument_id"] in text  # no id truncated
    series = [
        r
        for r in every
        if r["instrument_id"].startswith("DERIBIT:BTC-16JAN26-") and r["kind"] == "option_quotes"
    ]
    collapsed = _run("list", "--catalog", cat)
    assert f"DERIBIT:BTC-16JAN26-* ({len(series)})" in collapsed
    assert len(collapsed.splitlines()) < len(text.splitlines()) / 5
    bitmex = _run("list", "--catalog", cat, "--venue", "BITMEX")
    assert "BITMEX:XBTUSD" in bitmex and "DERIBIT" not in bitmex
    marks = json.loads(_run("list", "--catalog", cat, "--kind", "mark", "--json"))
    assert {r["kind"] for r in marks} == {"mark"} and marks
    calls = json.loads(_run("list", "--catalog", cat, "--like", "btc-16jan26-*-c", "--json"))
    assert calls and all(re.fullmatch(r"DERIBIT:BTC-16JAN26-\d+-C", r["instrument_id"]) for r in calls)
    assert len(calls) == len(series) // 2
    sql = json.loads(_run("list", "--catalog", cat, "--like", "%27MAR26%", "--json"))
    assert sql and all("27MAR26" in r["instrument_id"] for r in sql)
    res = runner.invoke(app, ["list", "--catalog", cat, "--kind", "nope"])
    assert res.exit_code == 2 and "--kind 'nope'" in res.stderr
