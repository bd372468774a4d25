"""The CLI as a user runs it: a real subprocess, real exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl

import spreadlab


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spreadlab", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        check=False,
    )


def test_version_and_help() -> None:
    out = _run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"spreadlab {spreadlab.__version__}"
    helptext = _run("--help")
    assert helptext.returncode == 0 and "demo" in helptext.stdout


def test_demo_json_writes_report_and_trades(tmp_path: Path) -> None:
    cfg = tmp_path / "small.toml"
    cfg.write_text("[demo]\nwindow_bars = 90\n[demo.market]\ndays = 1.0\n")
    out = _run("demo", "--out", str(tmp_path / "out"), "--seed", "3", "--config", str(cfg), "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert Path(summary["report"]).exists()
    trades = pl.read_parquet(summary["trades"])
    # each round trip trades both legs in and out; a position still open at the end lacks its exit
    assert trades.height in (4 * summary["metrics"]["n_trades"], 4 * summary["metrics"]["n_trades"] - 2)
    pnl = summary["metrics"]["pnl"]
    assert abs(pnl["total"] - (pnl["convergence"] + pnl["crossing"] + pnl["fees"] + pnl["funding"])) < 1e-6


def test_bad_config_is_one_line_exit_2_no_traceback(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[demo]\nentry_z = -1.0\n")
    out = _run("demo", "--config", str(cfg), "--out", str(tmp_path / "o"))
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "entry_z=-1.0 must be > 0" in lines[0]


def test_instrument_spec_and_bad_symbols() -> None:
    out = _run("instrument", "DERIBIT:BTC-27JUN25-100000-C", "--json")
    assert out.returncode == 0, out.stderr
    spec = json.loads(out.stdout)
    assert spec["type"] == "Option" and spec["strike"] == 100000.0 and spec["settlement"] == "inverse"
    assert spec["expiry_ns"].startswith("2025-06-27T08:00:00") and spec["formatted"] == "BTC-27JUN25-100000-C"
    for bad, message in (
        ("DERIBIT:BTC-27JUN25-100000-X", "option type 'X' must be 'C' or 'P'"),
        ("NOWHERE:BTCUSDT", "venue='NOWHERE' has no symbol parser"),
        ("BTCUSDT", "expected 'VENUE:SYMBOL'"),
    ):
        res = _run("instrument", bad)
        assert res.returncode == 2 and "Traceback" not in res.stderr
        lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and message in lines[0], res.stderr


def test_market_build_writes_reproducible_tables(tmp_path: Path) -> None:
    a = _run("market", "build", "--out", str(tmp_path / "a"), "--days", "0.5", "--seed", "4", "--json")
    b = _run("market", "build", "--out", str(tmp_path / "b"), "--days", "0.5", "--seed", "4", "--json")
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    ra, rb = json.loads(a.stdout), json.loads(b.stdout)
    assert ra["rows"] == rb["rows"] and ra["rows"]["quotes"] > 0
    for name, path in ra["files"].items():
        assert Path(path).read_bytes() == Path(rb["files"][name]).read_bytes(), name
    bad = _run("market", "build", "--out", str(tmp_path / "c"), "--days", "-1")
    assert bad.returncode == 2 and "days=-1.0" in bad.stderr and "Traceback" not in bad.stderr
