"""Startup cost: which heavy libraries a command's process imports (not a timing test).

``spreadlab --help``, ``spreadlab instrument`` and every command's own
``--help`` must not import numba, scipy, polars, pyarrow or duckdb: together
they cost about a second and 300 MB before anything useful happens.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("numba", "scipy", "polars", "pyarrow", "duckdb", "sklearn", "statsmodels")

_PROBE = """
import json, sys
heavy_names = set(json.loads(sys.argv[2]))
sys.argv = ["spreadlab", *json.loads(sys.argv[1])]
from spreadlab.cli.main import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = sorted({m.split(".")[0] for m in sys.modules} & heavy_names)
sys.stderr.write("\\nLOADED " + json.dumps({"code": code, "heavy": heavy}) + "\\n")
"""


def _loaded(*args: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(list(args)), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    line = [ln for ln in out.stderr.splitlines() if ln.startswith("LOADED ")]
    assert line, out.stderr
    return json.loads(line[-1][len("LOADED ") :])  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("instrument", "DERIBIT:BTC-27JUN25-100000-C"),
        ("instrument", "BINANCE_USDM:BTCUSDT", "--json"),
        ("scan", "--help"),
        ("pairs", "--help"),
        ("options", "chain", "--help"),
        ("demo", "--help"),
        ("market", "build", "--help"),
    ],
)
def test_light_commands_import_no_heavy_library(args: tuple[str, ...]) -> None:
    res = _loaded(*args)
    assert res["code"] in (0, None), res
    assert res["heavy"] == [], f"spreadlab {' '.join(args)} imported {res['heavy']}"


def test_probe_sees_heavy_imports_of_a_real_command() -> None:
    # the probe is not blind: a command that reads a catalog does load polars
    res = _loaded("data", "list", "--catalog", "/nonexistent-catalog")
    assert res["code"] == 2 and "polars" in res["heavy"]  # type: ignore[operator]


_CACHE_PROBE = """
import json, sys
from numba.core.registry import CPUDispatcher
sys.argv = ["spreadlab", *json.loads(sys.argv[1])]
from spreadlab.cli.main import main
try:
    main()
except SystemExit as exc:
    if exc.code not in (0, None):
        raise
stats = {}
for name, mod in list(sys.modules.items()):
    if name.startswith("spreadlab."):
        for attr, obj in vars(mod).items():
            if isinstance(obj, CPUDispatcher) and obj.signatures:
                s = obj.stats
                stats[f"{name}.{attr}"] = [sum(s.cache_hits.values()), sum(s.cache_misses.values())]
sys.stderr.write("\\nNUMBA " + json.dumps(stats) + "\\n")
"""


def _numba_stats(args: list[str], cache_dir: Path, cwd: Path) -> dict[str, list[int]]:
    out = subprocess.run(
        [sys.executable, "-c", _CACHE_PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=cwd,
        env={**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)},
    )
    line = [ln for ln in out.stderr.splitlines() if ln.startswith("NUMBA ")]
    assert out.returncode == 0 and line, out.stderr[-3000:]
    return json.loads(line[-1][len("NUMBA ") :])  # type: ignore[no-any-return]


@pytest.mark.slow
def test_second_process_compiles_no_kernel(tmp_path: Path) -> None:
    # the demo runs the market simulator, Black-76, IVs, SVI, rolling windows, thresholds and the backtest
    cfg = tmp_path / "small.toml"
    cfg.write_text("[demo]\nwindow_bars = 90\n[demo.market]\ndays = 0.5\n")
    cache = tmp_path / "numba-cache"
    args = ["demo", "--config", str(cfg), "--json"]
    first = _numba_stats([*args, "--out", str(tmp_path / "a")], cache, tmp_path)
    assert sum(miss for _hit, miss in first.values()) > 0  # the first process compiled and stored
    second = _numba_stats([*args, "--out", str(tmp_path / "b")], cache, tmp_path)
    compiled = sorted(name for name, (_hit, miss) in second.items() if miss)
    assert second and compiled == [], f"compiled again in a second process: {compiled}"
    assert all(hit > 0 for hit, _miss in second.values())
