"""``spreadlab options chain`` labels each expiry's forward honestly, on a real Deribit chain.

The snapshot of 2026-04-02 16:06 UTC prices the 4, 5 and 6 April expiries off
the spot index (``underlying_name`` = ``index_price``: no future is listed),
the next weeklies off Deribit's synthetic forwards (``SYN.*``) and the rest
off listed futures. Only listed futures may be compared with parity.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import typer
from tests.conftest import need_shared
from typer.testing import CliRunner

from spreadlab.cli.options import app as options_app
from spreadlab.data.catalog import Catalog

SNAP = "deribit_options/snapshots/deribit_options_snapshot_20260402T160623Z.csv.gz"


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.add_typer(options_app, name="options")
    return app


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cat")
    Catalog(path).import_("deribit-chain", [need_shared(SNAP)])
    return path


def _truth(coin: str) -> dict[str, tuple[str, float | None]]:
    """Per expiry date: the source named by the raw file and its listed future's mean price."""
    raw = pl.read_csv(need_shared(SNAP), infer_schema_length=0).filter(pl.col("currency") == coin)
    out = {}
    by_expiry = raw.group_by("expiry_datetime").agg(
        pl.col("underlying_name").first(), pl.col("futures_price").cast(pl.Float64).mean()
    )
    for row in by_expiry.iter_rows():
        exp, name, fut = row
        src = "index" if name == "index_price" else "synthetic" if name.startswith("SYN.") else "future"
        out[exp[:10]] = (src, float(fut) if src == "future" else None)
    return out


@pytest.mark.parametrize("coin", ["BTC", "ETH"])
def test_forward_source_is_labelled_and_parity_only_against_listed_futures(catalog: Path, coin: str) -> None:
    out = CliRunner().invoke(_app(), ["options", "chain", "--catalog", str(catalog), "-u", coin, "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    truth = _truth(coin)
    got = {e["group"]: e for e in data["expiries"]}
    assert set(got) == set(truth)
    assert {s for s, _ in truth.values()} == {"index", "synthetic", "future"}  # all three in this file
    for exp, (src, fut) in truth.items():
        assert got[exp]["forward_source"] == src, exp
        if src == "future":
            assert got[exp]["future"] == pytest.approx(fut)
        else:  # before: the index (and only it) was reported as a listed future
            assert got[exp]["future"] is None, exp
            assert got[exp]["future_inside_share"] is None
    for row in data["parity"]:
        listed = truth[row["group"]][0] == "future"
        assert row["forward_source"] == truth[row["group"]][0]
        assert (row["conversion"] is not None) == listed and (row["inside"] is not None) == listed
    srcs = {o["forward_source"] for o in data["options"]}
    assert srcs == {"index", "synthetic", "future"}


def test_chain_table_reads_at_100_columns(catalog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from spreadlab.cli._common import console

    monkeypatch.setattr(console, "_width", 100)  # a 100-column terminal (rich reads COLUMNS at import)
    out = CliRunner().invoke(_app(), ["options", "chain", "--catalog", str(catalog), "-u", "BTC"])
    assert out.exit_code == 0, out.output
    lines = out.stdout.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert not any("…" in line for line in lines)  # nothing cut off
    assert "BTC 2026-04-02T16:06:23Z" in lines[0]  # ISO time, not nanoseconds
    # one line per expiry in each per-expiry table, with its date and forward source
    truth = _truth("BTC")
    for exp, (src, _) in truth.items():
        rows = [line.split() for line in lines if line.split()[:1] == [exp]]
        assert len(rows) == 2 and rows[0][1] == src, exp
    # one line per option, its name whole
    raw = pl.read_csv(need_shared(SNAP), columns=["instrument_name", "currency"])
    names = raw.filter(pl.col("currency") == "BTC")["instrument_name"].to_list()
    firsts = [line.split()[0] for line in lines if line.startswith(" BTC-")]
    assert sorted(firsts) == sorted(names)
