"""The demo report opens in a real browser (headless Chromium) and draws its three charts."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest

from spreadlab.backtest.demo import BasisDemoConfig, demo_market, run_basis_demo

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium on this machine (.ci/run installs Debian's chromium)"
)
def test_report_renders_three_plots_in_chromium(tmp_path: Path) -> None:
    res = run_basis_demo(
        BasisDemoConfig(market=dataclasses.replace(demo_market(), days=1.0, seed=5), window_bars=60),
        out_dir=tmp_path,
    )
    assert CHROMIUM is not None
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=20000",
        "--dump-dom",
        res.report_path.resolve().as_uri(),
    ]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True).stdout
    # plotly replaced the empty div by a rendered figure: one cartesian subplot per chart,
    # and each chart's title drawn as SVG annotation text (not just present in the script source)
    for subplot in ("xy", "x2y2", "x3y3"):
        assert f'class="subplot {subplot}"' in dom
    for title in ("Spread: basis", "Position, entries and exits", "Equity (USD) and PnL split"):
        assert f'data-unformatted="{title}' in dom
