"""Seeded corruption campaign over real files of every format (issue 10, items 8-11).

Each mutant of a real file is imported through the CLI into a catalog that
already holds another real file. Every outcome must be one of:

- exit 0, and every stored row of every kind inside its field's domain
  (:func:`spreadlab.data.domains.field_rules`) with a valid instrument id;
- exit 2 with exactly one ``error:`` line on stderr that names the file.

In both cases the catalog's earlier data must be byte-identical (its part
files hashed before and after) and still query to the same rows.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest
from tests.conftest import need_shared
from typer.testing import CliRunner

from spreadlab.cli.data import app
from spreadlab.data.catalog import Catalog
from spreadlab.data.domains import field_rules
from spreadlab.data.schema import EventKind
from spreadlab.data.validation import _parse_id
from spreadlab.testing.corrupt import MUTATIONS, mutants

runner = CliRunner()

# (file under ../shared/data, format, --venue)
FILES = [
    ("binance_bybit_perps/binance_usdm_funding.csv.gz", "ohlcv", "BINANCE_USDM"),
    ("binance_spot_perp_daily/spot_BTCUSDT_1d_2021-01_2023-06.csv.gz", "ohlcv", "BINANCE"),
    ("binance_bybit_perps/bybit_linear_mark_4h.csv.gz", "ohlcv", "BYBIT_LINEAR"),
    ("nautilus_fixtures/tardis_format/bitmex_trades_XBTUSD.csv", "tardis", None),
    ("nautilus_fixtures/tardis_format/derivative_ticker_1.csv", "tardis", None),
    ("nautilus_fixtures/tardis_format/binance-futures_book_snapshot_5_BTCUSDT.csv", "tardis", None),
    ("nautilus_fixtures/tardis_format/options_chain.csv", "tardis", None),
    ("nautilus_fixtures/binance_depth/btcusdt-depth-snap.csv", "binance-archive", "BINANCE_USDM"),
    ("deribit_options/snapshots/deribit_options_snapshot_20260107T153452Z.csv.gz", "deribit-chain", None),
    ("deribit_options/term_futures_marks.csv.gz", "deribit-chain", None),
    ("cryptofeed_raw_ws/BINANCE_FUTURES.ws.1.0.gz", "binance-ws", None),
    ("cryptofeed_raw_ws/DERIBIT.ws.1.0.gz", "deribit-ticker", None),
    ("freqtrade_testdata/XRP_USDT_USDT-8h-funding_rate.feather", "freqtrade", "BINANCE_USDM"),
]
BASELINE = ("binance_bybit_perps/bybit_linear_funding.csv.gz", "ohlcv", "BYBIT_LINEAR")


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((root / "data").rglob("*.parquet"))
    }


def _stored_rows_valid(cat: Catalog) -> list[str]:
    problems: list[str] = []
    for kind in EventKind:
        df = cat.query(kind)
        if not df.height:
            continue
        for rule in field_rules(kind, df.columns):
            n = int(df.select(rule.bad.fill_null(False).sum()).item())
            if n:
                problems.append(f"{kind.value}.{rule.column}: {n} rows break '{rule.reason}'")
        for iid in df["instrument_id"].unique().to_list():
            if isinstance(_parse_id(iid), str):
                problems.append(f"{kind.value}: bad instrument id {iid!r}")
    return problems


def _campaign(tmp_path: Path, files: list[tuple[str, str, str | None]], seeds: list[int]) -> list[str]:
    base_path, base_fmt, base_venue = BASELINE
    base = need_shared(base_path)
    failures: list[str] = []
    n = 0
    for rel, fmt, venue in files:
        src = need_shared(rel)
        for seed in seeds:
            for mutation, tag, data in mutants(src, seed=seed):
                n += 1
                work = tmp_path / f"m{n}"
                cat_dir = work / "cat"
                res = runner.invoke(app, ["import", base_fmt, str(base), "--catalog", str(cat_dir), "--venue",
                                          base_venue])  # fmt: skip
                assert res.exit_code == 0, res.output
                before = _hashes(cat_dir)
                base_rows = Catalog(cat_dir).query("funding")
                mut = work / "in" / src.name
                mut.parent.mkdir(parents=True)
                mut.write_bytes(data)
                args = ["import", fmt, str(mut), "--catalog", str(cat_dir)]
                if venue:
                    args += ["--venue", venue]
                res = runner.invoke(app, args)
                label = f"{rel} {mutation}#{tag} seed {seed}"
                if res.exit_code == 2:
                    lines = res.stderr.strip().splitlines()
                    if len(lines) != 1 or not lines[0].startswith("error:") or str(mut) not in lines[0]:
                        failures.append(f"{label}: exit 2 but stderr {res.stderr[:300]!r}")
                elif res.exit_code == 0:
                    failures.extend(f"{label}: {p}" for p in _stored_rows_valid(Catalog(cat_dir)))
                else:
                    failures.append(f"{label}: exit {res.exit_code} {res.output[-300:]!r} {res.exception!r}")
                after = _hashes(cat_dir)
                if any(after.get(k) != v for k, v in before.items()):
                    failures.append(f"{label}: earlier part files changed")
                if not Catalog(cat_dir).query("funding", ["BYBIT_LINEAR:WIFUSDT"]).equals(base_rows):
                    failures.append(f"{label}: earlier rows changed")
    return failures


def test_every_mutation_is_covered():
    assert len(MUTATIONS) == 20


@pytest.mark.parametrize("entry", [FILES[0], FILES[3], FILES[7]], ids=lambda e: Path(e[0]).name)
def test_corruption_campaign_one_seed(tmp_path, entry):
    failures = _campaign(tmp_path, [entry], seeds=[1])
    assert not failures, "\n".join(failures)


@pytest.mark.slow
def test_corruption_campaign_all_formats(tmp_path):
    failures = _campaign(tmp_path, FILES, seeds=[2, 3, 4])
    assert not failures, "\n".join(failures)


def test_stored_rows_check_detects_bad_rows():
    """The campaign's own check fails on a bad stored row (it cannot pass vacuously)."""
    df = pl.DataFrame({"ts_event": [-1], "rate": [float("nan")]})
    bad = [r.column for r in field_rules(EventKind.FUNDING, df.columns) if df.select(r.bad).item()]
    assert bad == ["ts_event", "rate"]
