"""Pair selection says when late-listed symbols shorten the window, and can drop them instead (issue 10 item 21).

The real Hyperliquid 4h universe: 39 of its 60 perpetuals have bars from
2023-09-01; the other 21 were listed later, the last (RENDER) on 2024-07-26.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from tests.conftest import need_shared
from typer.testing import CliRunner

from spreadlab.cli.app import app
from spreadlab.data.catalog import Catalog
from spreadlab.errors import InsufficientDataError
from spreadlab.signals.pairs import PairCriteria, select_pairs_long


@pytest.fixture(scope="module")
def hl_4h() -> pl.DataFrame:
    return pl.read_csv(
        need_shared("hyperliquid_perps/perp_ohlcv_4h.csv.gz"), columns=["date", "symbol", "close"]
    )


def _firsts(df: pl.DataFrame) -> dict[str, str]:
    g = df.group_by("symbol").agg(pl.col("date").min())
    return dict(zip(g["symbol"].to_list(), g["date"].to_list(), strict=True))


def test_shorten_says_which_symbols_cut_the_window(hl_4h: pl.DataFrame) -> None:
    res = select_pairs_long(hl_4h, ts="date", criteria=PairCriteria(prefilter="none"))
    w = res.window
    assert w is not None and w.mode == "shorten" and w.shortened
    firsts = _firsts(hl_4h)
    full_start = min(firsts.values())
    late = sorted(s for s, f in firsts.items() if f > full_start)
    assert len(res.names) == 60 and len(late) == 21
    assert [s for s, _, _ in w.short] == late
    assert w.full_start_ts == full_start == "2023-09-01 00:00:00+00:00"
    assert w.start_ts == max(firsts.values()) == "2024-07-26 08:00:00+00:00"  # RENDER's first bar
    assert "window shortened to 2024-07-26 08:00:00+00:00" in res.summary()
    assert "history='drop'" in w.note()


def test_drop_keeps_the_full_window_without_the_late_symbols(hl_4h: pl.DataFrame) -> None:
    res = select_pairs_long(hl_4h, ts="date", history="drop", criteria=PairCriteria(prefilter="none"))
    w = res.window
    assert w is not None and not w.shortened and len(w.dropped) == 21
    assert len(res.names) == 39 and not set(w.dropped) & set(res.names)
    full = hl_4h.filter(~pl.col("symbol").is_in(list(w.dropped)))["date"].n_unique()
    assert res.nobs == full and res.counts.candidates == 39 * 38 // 2
    assert res.to_dict()["window"]["dropped"] == list(w.dropped)


def test_a_delisted_symbol_is_not_carried_past_its_last_bar() -> None:
    rng = np.random.default_rng(5)
    n = 600
    walk = np.exp(np.cumsum(rng.normal(0, 0.01, (n, 3)), axis=0))
    rows = [
        {"ts": t, "symbol": s, "close": float(walk[t, i])}
        for t in range(n)
        for i, s in enumerate(("AAA", "BBB", "CCC"))
        if not (s == "CCC" and t >= 400)  # CCC delisted after bar 399
    ]
    frame = pl.DataFrame(rows)
    res = select_pairs_long(frame, criteria=PairCriteria(prefilter="none"))
    assert res.nobs == 400 and res.window is not None and res.window.end_ts == 399  # before: 600, CCC flat
    drop = select_pairs_long(frame, history="drop", criteria=PairCriteria(prefilter="none"))
    assert drop.nobs == 600 and drop.window is not None and drop.window.dropped == ("CCC",)
    with pytest.raises(InsufficientDataError, match="would leave 1 symbol"):
        select_pairs_long(frame.filter(pl.col("symbol") != "AAA"), history="drop")


def test_cli_prints_the_note_and_takes_the_choice(tmp_path: Path) -> None:
    full = pl.read_csv(need_shared("hyperliquid_perps/perp_ohlcv_4h.csv.gz"))
    sub = full.filter(pl.col("symbol").is_in(["BTC", "ETH", "SOL", "RENDER"]))
    csv = tmp_path / "hl4h.csv"
    sub.write_csv(csv)
    cat = tmp_path / "cat"
    Catalog(cat).import_("ohlcv", [csv], venue="HYPERLIQUID")
    base = ["pairs", "-c", str(cat), "--start", "2023-09-01", "--end", "2025-04-01", "--prefilter", "none"]
    out = CliRunner().invoke(app, base)
    assert out.exit_code == 0, out.output
    text = " ".join(out.stdout.split())
    assert "window shortened to 2024-07-26 08:00:00+00:00" in text and "(RENDER)" in text
    js = CliRunner().invoke(app, [*base, "--history", "drop", "--json"])
    data = json.loads(js.stdout)
    assert data["window"]["dropped"] == ["RENDER"] and data["series"] == ["BTC", "ETH", "SOL"]
    assert data["window"]["start"].startswith("2023-09-01")
    bad = CliRunner().invoke(app, [*base, "--history", "cut"])
    assert bad.exit_code == 2 and "--history 'cut' must be 'shorten' or 'drop'" in bad.stderr
