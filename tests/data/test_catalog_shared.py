"""Every file under ../shared/data whose format spreadlab imports goes into one catalog without error.

Row counts are checked against PROVENANCE.md (the source's own counts) and
against the importer's record count; the slow test covers all 604 Deribit
snapshots and the raw Binance captures too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from spreadlab.data.catalog import Catalog


def _provenance(shared: Path) -> dict[str, int]:
    rows: dict[str, int] = {}
    for line in (shared / "PROVENANCE.md").read_text().splitlines():
        m = re.match(r"^\| `([^`]+)` \| (?:`[^`]+` \| ){3}[^|]+\| [^|]+\| (\d+) \|", line)
        if m:
            rows[m.group(1)] = int(m.group(2))
    return rows


def _plan(shared: Path, *, all_snapshots: bool) -> list[tuple[Path, str, str | None, str | None]]:
    """(file, format, venue, symbol) for every importable shared file."""
    plan: list[tuple[Path, str, str | None, str | None]] = []
    for f in sorted((shared / "hyperliquid_perps").glob("*.csv.gz")):
        plan.append((f, "ohlcv", "HYPERLIQUID", None))
    for f in sorted((shared / "binance_bybit_perps").glob("*.csv.gz")):
        plan.append((f, "ohlcv", "BINANCE_USDM" if f.name.startswith("binance") else "BYBIT_LINEAR", None))
    for f in sorted((shared / "binance_spot_perp_daily").glob("*.csv.gz")):
        plan.append((f, "ohlcv", "BINANCE" if f.name.startswith("spot") else "BINANCE_USDM", None))
    for f in sorted((shared / "freqtrade_testdata").glob("*.feather")):
        plan.append((f, "freqtrade", "BINANCE_USDM", None))
    for f in sorted((shared / "nautilus_fixtures" / "tardis_format").glob("*.csv")):
        plan.append((f, "tardis", None, None))
    for f in sorted((shared / "nautilus_fixtures" / "binance_depth").glob("*.csv")):
        plan.append((f, "binance-archive", "BINANCE_USDM", None))
    plan.append((shared / "nautilus_fixtures/bybit_ob500/xrpusdt-ob500.data.zip", "bybit-ob", None, None))
    plan.append((shared / "nautilus_fixtures/ftx_perp_1m/btc-perp-20211231-20220201_1m.csv.gz", "ohlcv", "FTX",
                 "BTC-PERP"))  # fmt: skip
    for name in ("term_futures_marks.csv.gz", "perpetual_futures_prices.csv.gz"):
        plan.append((shared / "deribit_options" / name, "deribit-chain", None, None))
    snaps = sorted((shared / "deribit_options" / "snapshots").glob("*.csv.gz"))
    for f in snaps if all_snapshots else snaps[:: max(1, len(snaps) // 8)]:
        plan.append((f, "deribit-chain", None, None))
    return plan


def _run(shared: Path, tmp: Path, *, all_snapshots: bool, max_bytes: int | None = None) -> Catalog:
    cat = Catalog(tmp / "cat")
    prov = _provenance(shared)
    for path, fmt, venue, symbol in _plan(shared, all_snapshots=all_snapshots):
        if max_bytes is not None and path.stat().st_size > max_bytes:
            continue  # the big long files are covered by the slow test and the importer row-count tests
        rep = cat.import_(
            fmt, [path], venue=venue, symbol=symbol, any_venue=venue == "FTX"
        )  # FTX: no grammar
        (f,) = rep.files
        assert f.status == "imported", path
        assert f.rows_quarantined == 0, (path, f.findings)
        rel = str(path.relative_to(shared))
        key = rel if rel in prov else path.name
        if key in prov and fmt != "bybit-ob":
            assert f.rows_read == prov[key], (rel, f.rows_read, prov[key])
        primary = {"ohlcv": None, "freqtrade": None}.get(fmt, "x")
        if primary is None:  # long files: one canonical row per source row
            assert f.rows_stored == f.rows_read, rel
    return cat


def test_shared_files_sample_import(shared_data, tmp_path):
    cat = _run(shared_data, tmp_path, all_snapshots=False, max_bytes=1_000_000)
    inst = cat.instruments()
    assert inst.filter(inst["instrument_id"] == "BINANCE_USDM:WIFUSDT")["kind"].to_list() == [
        "bars",
        "funding",
    ]
    marks_8h = cat.sql("SELECT count(*) AS n FROM bars WHERE interval_ns = 28800000000000 "
                       "AND price_type = 'mark' AND instrument_id LIKE 'BINANCE_USDM:%'")  # fmt: skip
    assert marks_8h["n"][0] == 1281 + 91  # binance_usdm_mark_8h + freqtrade XRP 8h mark


@pytest.mark.slow
def test_all_shared_files_import(shared_data, tmp_path):
    cat = _run(shared_data, tmp_path, all_snapshots=True)
    oq = cat.sql("SELECT count(*) AS n FROM option_quotes WHERE ts_event >= 1735689600000000000")
    assert oq["n"][0] == 973412  # all 604 snapshots (2025-26; the Tardis options_chain fixture is from 2020)
    hl_4h = cat.sql("SELECT count(*) AS n FROM bars WHERE interval_ns = 14400000000000 "
                    "AND instrument_id LIKE 'HYPERLIQUID:%'")  # fmt: skip
    assert hl_4h["n"][0] == 189803


@pytest.mark.slow
def test_binance_ws_captures_import(shared_data, tmp_path):
    ws = sorted((shared_data / "binance_l2_hftbacktest").rglob("*.gz"))
    rep = Catalog(tmp_path / "ws").import_("binance-ws", ws)
    for f in rep.files:
        assert f.status == "imported" and f.rows_read > 0, f.path
