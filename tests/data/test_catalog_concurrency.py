"""Concurrent writers and readers of one catalog, and cleaning up after a killed import (issue 10 items 12-13).

Each test runs a real second process (``sys.executable``) importing into the same catalog folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from spreadlab.data.catalog import Catalog
from spreadlab.data.catalog_lock import CatalogBusyError

_ROOT = Path(__file__).resolve().parents[2]

# Import ``file`` in chunks of 1000 rows, sleeping ``pause`` s after each chunk; print each step.
_SLOW_IMPORT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from spreadlab.data.catalog import Catalog

    pause = float(sys.argv[3])

    def progress(path, rows):
        print("CHUNK", rows, flush=True)
        time.sleep(pause)

    print("START", flush=True)
    rep = Catalog(sys.argv[1]).import_("tardis", [Path(sys.argv[2])], chunk_rows=1000, progress=progress)
    print("DONE", rep.files[0].rows_stored, flush=True)
    """
)


def _l2_file(path: Path, *, rows: int, t0_us: int, symbol: str) -> Path:
    lines = ["exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount"]
    for i in range(rows):
        t = t0_us + i * 1000
        lines.append(
            f"binance-futures,{symbol},{t},{t + 50},false,{'bid' if i % 2 else 'ask'},{100 + i % 7},1.5"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def _start(tmp_path: Path, cat: Path, file: Path, pause: float) -> subprocess.Popen[str]:
    script = tmp_path / "slow_import.py"
    script.write_text(_SLOW_IMPORT)
    env = {**os.environ, "PYTHONPATH": str(_ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(cat), str(file), str(pause)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith("START")
    assert proc.stdout.readline().startswith("CHUNK")  # it holds the writer lock and has parts on disk
    return proc


def _finish(proc: subprocess.Popen[str]) -> list[str]:
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    return out.splitlines()


def test_second_import_waits_for_the_first(tmp_path):
    cat = tmp_path / "cat"
    a = _l2_file(tmp_path / "a.csv", rows=5000, t0_us=1_704_067_200_000_000, symbol="BTCUSDT")
    b = _l2_file(tmp_path / "b.csv", rows=300, t0_us=1_704_153_600_000_000, symbol="ETHUSDT")
    proc = _start(tmp_path, cat, a, pause=0.3)
    try:
        # before: this failed at once with DuckDB's "Could not set lock on file"
        rep = Catalog(cat, lock_timeout=120).import_("tardis", [b])
    finally:
        out = _finish(proc)
    assert out[-1] == "DONE 5000"
    assert rep.files[0].rows_stored == 300
    both = Catalog(cat).instruments()
    assert dict(zip(both["instrument_id"], both["rows"], strict=True)) == {
        "BINANCE_USDM:BTCUSDT": 5000,
        "BINANCE_USDM:ETHUSDT": 300,
    }


def test_busy_catalog_names_the_holder_after_the_timeout(tmp_path):
    cat = tmp_path / "cat"
    a = _l2_file(tmp_path / "a.csv", rows=5000, t0_us=1_704_067_200_000_000, symbol="BTCUSDT")
    b = _l2_file(tmp_path / "b.csv", rows=10, t0_us=1_704_153_600_000_000, symbol="ETHUSDT")
    proc = _start(tmp_path, cat, a, pause=1.0)
    try:
        with pytest.raises(CatalogBusyError) as exc:
            Catalog(cat, lock_timeout=0.2).import_("tardis", [b])
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    msg = str(exc.value)
    assert f"pid {proc.pid}" in msg and "import" in msg and "--wait" in msg and "\n" not in msg
    assert str(cat) in msg


def test_reader_waits_for_the_writer_instead_of_failing(tmp_path):
    cat = tmp_path / "cat"
    early = _l2_file(tmp_path / "early.csv", rows=100, t0_us=1_704_000_000_000_000, symbol="SOLUSDT")
    Catalog(cat).import_("tardis", [early])
    a = _l2_file(tmp_path / "a.csv", rows=8000, t0_us=1_704_067_200_000_000, symbol="BTCUSDT")
    proc = _start(tmp_path, cat, a, pause=0.25)
    try:
        during = Catalog(cat, lock_timeout=60).instruments()  # while the import runs
        rows = Catalog(cat, lock_timeout=60).query("book_deltas").height
    finally:
        _finish(proc)
    # nothing uncommitted is visible: the reader sees the catalog before the import or after its
    # commit (when it had to wait out a checkpoint the writer held), never part of it
    seen = dict(zip(during["instrument_id"], during["rows"], strict=True))
    assert seen in (
        {"BINANCE_USDM:SOLUSDT": 100},
        {"BINANCE_USDM:SOLUSDT": 100, "BINANCE_USDM:BTCUSDT": 8000},
    )
    assert rows in (100, 8100)


_KILLED_IMPORT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from spreadlab.data.catalog import Catalog

    def progress(path, rows):
        print("CHUNK", rows, flush=True)
        time.sleep(60)

    Catalog(sys.argv[1]).import_("tardis", [Path(sys.argv[2])], chunk_rows=2000, progress=progress)
    """
)


def _kill_midway(tmp_path: Path, cat: Path, file: Path) -> None:
    script = tmp_path / "killed.py"
    script.write_text(_KILLED_IMPORT)
    env = {**os.environ, "PYTHONPATH": str(_ROOT / "src")}
    proc = subprocess.Popen([sys.executable, str(script), str(cat), str(file)], stdout=subprocess.PIPE,
                            text=True, env=env)  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().startswith("CHUNK")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)


def test_open_cleans_up_a_killed_import_and_says_so(tmp_path):
    cat = tmp_path / "cat"
    early = _l2_file(tmp_path / "early.csv", rows=100, t0_us=1_704_067_200_000_000, symbol="BTCUSDT")
    Catalog(cat).import_("tardis", [early])
    before = sorted(p.relative_to(cat) for p in (cat / "data").rglob("*"))
    big = _l2_file(tmp_path / "big.csv", rows=20_000, t0_us=1_704_153_600_000_000, symbol="ETHUSDT")
    _kill_midway(tmp_path, cat, big)
    left = list((cat / "data").rglob("*ETHUSDT*/**/*.parquet*"))
    assert left and list((cat / "pending").glob("*.txt"))  # what the kill left behind
    opened = Catalog(cat)  # opening alone cleans up: no import needed
    (rec,) = opened.recovered
    assert rec.files_removed == len(left) and rec.folders_removed >= 1
    assert "interrupted import" in rec.message() and rec.writes[0] in rec.message()
    assert not list((cat / "pending").glob("*.txt"))
    assert sorted(p.relative_to(cat) for p in (cat / "data").rglob("*")) == before  # no empty folders either
    assert opened.query("book_deltas").height == 100
    assert Catalog(cat).recovered == ()


def test_open_leaves_a_running_import_alone(tmp_path):
    cat = tmp_path / "cat"
    a = _l2_file(tmp_path / "a.csv", rows=4000, t0_us=1_704_067_200_000_000, symbol="BTCUSDT")
    proc = _start(tmp_path, cat, a, pause=0.3)
    try:
        assert Catalog(cat).recovered == ()
        assert list((cat / "pending").glob("*.txt"))  # still the running import's
    finally:
        out = _finish(proc)
    assert out[-1] == "DONE 4000"
    assert Catalog(cat).query("book_deltas").height == 4000


def test_cli_says_what_was_cleaned(tmp_path):
    from typer.testing import CliRunner

    from spreadlab.cli.data import app

    cat = tmp_path / "cat"
    early = _l2_file(tmp_path / "early.csv", rows=10, t0_us=1_704_067_200_000_000, symbol="BTCUSDT")
    Catalog(cat).import_("tardis", [early])
    _kill_midway(tmp_path, cat, _l2_file(tmp_path / "big.csv", rows=20_000, t0_us=1_704_153_600_000_000,
                                         symbol="ETHUSDT"))  # fmt: skip
    res = CliRunner().invoke(app, ["list", "--catalog", str(cat), "--json"])
    assert res.exit_code == 0
    assert "cleaned up 1 interrupted import" in res.stderr and "uncommitted part file" in res.stderr
    assert [r["instrument_id"] for r in __import__("json").loads(res.stdout)] == ["BINANCE_USDM:BTCUSDT"]
