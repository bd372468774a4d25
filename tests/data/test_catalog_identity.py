"""Imports that say what they did (issue 10 items 14-16): options checked with the instrument parsers,
import identity = bytes + format + the options the format uses, atomic delete and --replace,
quarantine listing, what a failed batch stored, no empty partition folders."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from tests.conftest import need_shared
from typer.testing import CliRunner

from spreadlab.cli.data import app
from spreadlab.data import catalog_delete
from spreadlab.data.catalog import Catalog
from spreadlab.data.importers.tardis import read_tardis
from spreadlab.errors import DataError, SpreadlabError
from spreadlab.instruments import parse_instrument_id

runner = CliRunner()
SPOT = "binance_spot_perp_daily/spot_BTCUSDT_1d_2021-01_2023-06.csv.gz"
HEADER = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n"
DAY_US = 86_400_000_000


def _l2(
    path: Path, *, rows: int, t0_us: int, symbols: tuple[str, ...] = ("BTCUSDT",), step_us: int = 1000
) -> Path:
    lines = [HEADER]
    for i in range(rows):
        sym = symbols[i % len(symbols)]
        side = "bid" if (i // len(symbols)) % 2 == 0 else "ask"
        px = 50000.0 - (i % 50) * 0.5 if side == "bid" else 50001.0 + (i % 50) * 0.5
        ts = t0_us + i * step_us
        lines.append(f"binance-futures,{sym},{ts},{ts + 150},false,{side},{px},{(i % 7) * 0.25 + 0.25}\n")
    path.write_text("".join(lines))
    return path


# ---------------------------------------------------------------- item 14: options checked first


@pytest.mark.parametrize(
    ("venue", "symbol", "bad"),
    [("FOOEX", None, "FOOEX"), ("BINANCE_USDM", "NOTACOIN", "NOTACOIN"), ("DERIBIT", "BTCUSDT", "BTCUSDT")],
)
def test_bad_venue_or_symbol_is_refused_before_anything_is_written(tmp_path, venue, symbol, bad):
    f = need_shared(SPOT)
    with pytest.raises(SpreadlabError):  # the outside truth: `spreadlab instrument` rejects the id too
        parse_instrument_id(f"{venue}:{symbol or 'BTCUSDT'}")
    cat_dir = tmp_path / "cat"
    with pytest.raises(DataError) as exc:
        Catalog(cat_dir).import_("ohlcv", [f], venue=venue, symbol=symbol)
    msg = str(exc.value)
    assert f.name in msg and repr(bad) in msg
    assert not cat_dir.exists()  # not even the folder: nothing was written
    res = runner.invoke(app, ["import", "ohlcv", str(f), "--catalog", str(cat_dir), "--venue", venue,
                              *(["--symbol", symbol] if symbol else [])])  # fmt: skip
    assert res.exit_code == 2
    err = res.stderr.strip()
    assert "\n" not in err and f.name in err and bad in err


def test_every_stored_id_parses_and_any_venue_is_explicit(tmp_path):
    f = need_shared(SPOT)
    cat = Catalog(tmp_path / "cat")
    cat.import_("ohlcv", [f], venue="BINANCE")
    for iid in cat.instruments()["instrument_id"].to_list():
        parse_instrument_id(iid)  # `spreadlab instrument` accepts every stored id
    ftx = need_shared("nautilus_fixtures/ftx_perp_1m/btc-perp-20211231-20220201_1m.csv.gz")
    with pytest.raises(DataError, match="--any-venue"):
        cat.import_("ohlcv", [ftx], venue="FTX", symbol="BTC-PERP")
    rep = cat.import_("ohlcv", [ftx], venue="FTX", symbol="BTC-PERP", any_venue=True)
    assert rep.files[0].instruments == ("FTX:BTC-PERP",)


# ---------------------------------------------------------------- item 15: identity, delete, replace


def test_identity_is_bytes_format_and_the_options_the_format_uses(tmp_path):
    f = need_shared(SPOT)
    cat = Catalog(tmp_path / "cat")
    first = cat.import_("ohlcv", [f], venue="BINANCE").files[0]
    again = cat.import_("auto", [f], venue="BINANCE").files[0]  # auto resolves to the same format
    assert again.status == "already_imported" and again.import_id == first.import_id
    other = cat.import_("ohlcv", [f], venue="BINANCE_USDM").files[0]  # before: "already_imported"
    assert other.status == "imported" and other.import_id != first.import_id
    assert dict(other.options) == {"symbol": None, "venue": "BINANCE_USDM"}
    ids = sorted(cat.instruments()["instrument_id"].to_list())
    assert ids == ["BINANCE:BTCUSDT", "BINANCE_USDM:BTCUSDT"]
    # a Tardis file names its exchange: --venue does not change what is stored, so not a new import
    t = need_shared("nautilus_fixtures/tardis_format/bitmex_trades_XBTUSD.csv")
    a = cat.import_("tardis", [t]).files[0]
    b = cat.import_("tardis", [t], venue="BINANCE").files[0]
    assert a.status == "imported" and b.status == "already_imported"


def test_delete_an_import_and_import_again(tmp_path):
    f = need_shared(SPOT)
    cat = Catalog(tmp_path / "cat")
    keep = cat.import_("tardis", [need_shared("nautilus_fixtures/tardis_format/bitmex_trades_XBTUSD.csv")])
    before = cat.query("trades")
    wrong = cat.import_("ohlcv", [f], venue="BINANCE_USDM").files[0]
    parts = cat.sql(f"SELECT path FROM files WHERE import_id = '{wrong.import_id}'")["path"].to_list()
    assert parts
    rep = cat.delete(import_ids=[wrong.import_id])
    assert rep.imports == (wrong.import_id,) and rep.rows_deleted == wrong.rows_stored == 911
    assert rep.files_removed == len(parts)
    assert not any((tmp_path / "cat" / p).exists() for p in parts)
    assert not list((tmp_path / "cat" / "data").glob("venue=BINANCE_USDM"))  # no empty folders left
    assert cat.instruments()["instrument_id"].to_list() == ["BITMEX:XBTUSD"]
    assert cat.query("trades").equals(before) and keep.files[0].status == "imported"
    assert cat.import_("ohlcv", [f], venue="BINANCE_USDM").files[0].status == "imported"
    with pytest.raises(DataError, match="no import with id 'nope'"):
        cat.delete(import_ids=["nope"])


def test_replace_swaps_a_wrong_import_in_one_commit(tmp_path):
    f = need_shared(SPOT)
    cat = Catalog(tmp_path / "cat")
    wrong = cat.import_("ohlcv", [f], venue="BINANCE_USDM").files[0]
    right = cat.import_("ohlcv", [f], venue="BINANCE", replace=True).files[0]
    assert right.status == "imported" and right.replaced == (wrong.import_id,)
    assert cat.instruments()["instrument_id"].to_list() == ["BINANCE:BTCUSDT"]
    assert cat.imports()["import_id"].to_list() == [right.import_id]
    assert cat.query("bars").height == 911
    assert (
        len(list((tmp_path / "cat" / "data").rglob("*.parquet")))
        == cat.sql("SELECT count(*) n FROM files")["n"][0]
    )


def test_delete_an_instrument_in_a_time_range(tmp_path):
    t0 = 1_704_067_200_000_000
    src = _l2(tmp_path / "l2.csv", rows=6000, t0_us=t0, symbols=("BTCUSDT", "ETHUSDT"), step_us=60_000_000)
    cat = Catalog(tmp_path / "cat")
    cat.import_("tardis", [src], chunk_rows=1000)
    truth = pl.concat([b.frame for b in read_tardis(src)])  # the file's own rows, read apart
    lo, hi = (t0 + DAY_US) * 1000, (t0 + 2 * DAY_US) * 1000  # day 2, BTC only
    rep = cat.delete(instruments=["BINANCE_USDM:BTCUSDT"], start=lo, end=hi)
    gone = (pl.col("instrument_id") == "BINANCE_USDM:BTCUSDT") & pl.col("ts_event").is_between(
        lo, hi, closed="left"
    )
    expect = truth.filter(~gone).sort("ts_event", maintain_order=True)
    assert rep.rows_deleted == truth.filter(gone).height == 720 and rep.files_rewritten == 0
    assert cat.query("book_deltas").equals(expect)
    eth = cat.query("book_deltas", "BINANCE_USDM:ETHUSDT")
    assert eth.height == 3000
    # a range that cuts a part: the part is rewritten without the rows, the rest of it kept
    cut0, cut1 = (t0 + 3 * DAY_US + 3_600_000_000) * 1000, (t0 + 3 * DAY_US + 7_200_000_000) * 1000
    rep2 = cat.delete(instruments=["BINANCE_USDM:ETHUSDT"], kinds=["book_deltas"], start=cut0, end=cut1)
    gone2 = (pl.col("instrument_id") == "BINANCE_USDM:ETHUSDT") & pl.col("ts_event").is_between(
        cut0, cut1, closed="left"
    )
    assert rep2.rows_deleted == 30 and rep2.files_rewritten >= 1
    assert cat.query("book_deltas").equals(expect.filter(~gone2))
    inst = cat.instruments().filter(pl.col("instrument_id") == "BINANCE_USDM:ETHUSDT")
    assert inst["rows"][0] == 2970


def test_delete_is_atomic_when_interrupted(tmp_path, monkeypatch):
    t0 = 1_704_067_200_000_000
    src = _l2(tmp_path / "l2.csv", rows=2000, t0_us=t0, symbols=("BTCUSDT", "ETHUSDT"), step_us=1_000_000)
    cat_dir = tmp_path / "cat"
    Catalog(cat_dir).import_("tardis", [src], chunk_rows=500)
    before = Catalog(cat_dir).query("book_deltas")
    files_before = sorted(p.name for p in cat_dir.rglob("*.parquet"))
    lo, hi = (t0 + 100_000_000) * 1000, (t0 + 900_000_000) * 1000
    # a failure before the commit: nothing changes, the new parts are gone
    real_write = catalog_delete._write_part
    calls = []

    def failing_write(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(catalog_delete, "_write_part", failing_write)
    with pytest.raises(OSError, match="disk full"):
        Catalog(cat_dir).delete(instruments=["BINANCE_USDM:BTCUSDT"], start=lo, end=hi)
    monkeypatch.undo()
    assert Catalog(cat_dir).query("book_deltas").equals(before)
    assert sorted(p.name for p in cat_dir.rglob("*.parquet")) == files_before
    # a crash after the commit, before the old parts are unlinked: the next open removes them
    monkeypatch.setattr(
        catalog_delete, "remove_files", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt)
    )
    with pytest.raises(KeyboardInterrupt):
        Catalog(cat_dir).delete(instruments=["BINANCE_USDM:BTCUSDT"], start=lo, end=hi)
    monkeypatch.undo()
    reopened = Catalog(cat_dir)
    assert reopened.recovered and reopened.recovered[0].files_removed >= 1
    gone = (pl.col("instrument_id") == "BINANCE_USDM:BTCUSDT") & pl.col("ts_event").is_between(
        lo, hi, closed="left"
    )
    assert reopened.query("book_deltas").equals(before.filter(~gone))
    on_disk = {p.relative_to(cat_dir).as_posix() for p in cat_dir.rglob("*.parquet")}
    assert on_disk == set(reopened.sql("SELECT path FROM files")["path"].to_list())


def test_catalog_of_the_older_schema_is_migrated(tmp_path):
    f = need_shared(SPOT)
    cat_dir = tmp_path / "cat"
    first = Catalog(cat_dir).import_("ohlcv", [f], venue="BINANCE").files[0]
    con = duckdb.connect(str(cat_dir / "catalog.duckdb"))  # make it look like a catalog from before
    con.execute("CREATE TABLE old AS SELECT * EXCLUDE (identity, options) FROM imports")
    con.execute("DROP TABLE imports")
    con.execute(
        "CREATE TABLE imports (import_id VARCHAR PRIMARY KEY, sha256 VARCHAR UNIQUE, path VARCHAR, fmt VARCHAR, "
        "venue VARCHAR, imported_at_ns BIGINT, rows_read BIGINT, rows_stored BIGINT, rows_quarantined BIGINT, "
        "report VARCHAR)"
    )
    con.execute("INSERT INTO imports SELECT * FROM old")
    con.execute("DROP TABLE old")
    con.close()
    cat = Catalog(cat_dir)
    assert cat.imports()["options"].to_list() == [None]  # readable before the migration
    again = cat.import_("ohlcv", [f], venue="BINANCE").files[0]
    assert again.status == "already_imported" and again.import_id == first.import_id
    assert cat.import_("ohlcv", [f], venue="BINANCE_USDM").files[0].status == "imported"


def test_cli_delete_and_replace(tmp_path):
    f = need_shared(SPOT)
    cat = str(tmp_path / "cat")
    res = runner.invoke(
        app, ["import", "ohlcv", str(f), "--catalog", cat, "--venue", "BINANCE_USDM", "--json"]
    )
    wrong = json.loads(res.stdout)["files"][0]["import_id"]
    listed = runner.invoke(app, ["imports", "--catalog", cat, "--json"])
    assert [r["import_id"] for r in json.loads(listed.stdout)] == [wrong]
    table = runner.invoke(app, ["imports", "--catalog", cat], env={"COLUMNS": "100"})
    assert wrong in table.stdout and "BINANCE_USDM" in table.stdout  # whole, at 100 columns
    assert all(len(line) <= 100 for line in table.stdout.splitlines())
    res = runner.invoke(
        app, ["import", "ohlcv", str(f), "--catalog", cat, "--venue", "BINANCE", "--replace", "--json"]
    )
    assert json.loads(res.stdout)["files"][0]["replaced"] == [wrong]
    res = runner.invoke(app, ["delete", "--catalog", cat, "--instrument", "BINANCE:BTCUSDT", "--start",
                              "2023-01-01", "--json"])  # fmt: skip
    assert res.exit_code == 0 and json.loads(res.stdout)["rows_deleted"] == 181  # 2023-01-01 .. 2023-06-30
    res = runner.invoke(app, ["delete", "--catalog", cat, "--import", "x", "--start", "2023-01-01"])
    assert res.exit_code == 2 and "--instrument" in res.stderr
    res = runner.invoke(app, ["delete", "--catalog", cat])
    assert res.exit_code == 2


# ---------------------------------------------------------------- item 16: quarantine, failed batches


def test_quarantine_command_shows_the_rows(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
        "bitmex,XBTUSD,1583020803145000,1583020803307160,a,sell,8500.5,2152\n"
        "bitmex,XBTUSD,1583020803146000,1583020803307170,b,sell,85x1.5,2152\n"
    )
    cat = str(tmp_path / "cat")
    res = runner.invoke(app, ["import", "tardis", str(bad), "--catalog", cat, "--skip-bad", "--json"])
    assert json.loads(res.stdout)["files"][0]["rows_quarantined"] == 1
    q = runner.invoke(app, ["quarantine", "--catalog", cat, "--json"])
    (row,) = json.loads(q.stdout)
    assert (
        row["line"] == 3
        and row["field"] == "price"
        and "85x1.5" in row["raw"]
        and row["file"].endswith("bad.csv")
    )
    shown = runner.invoke(app, ["quarantine", "--catalog", cat], env={"COLUMNS": "100"})
    assert shown.exit_code == 0 and "1 quarantined row" in shown.stdout and "price" in shown.stdout
    assert all(len(line) <= 100 for line in shown.stdout.splitlines())


def test_failed_batch_says_what_it_stored_and_leaves_no_empty_folders(tmp_path):
    good = _l2(tmp_path / "good.csv", rows=100, t0_us=1_704_067_200_000_000)
    bad = _l2(tmp_path / "bad.csv", rows=3000, t0_us=1_704_153_600_000_000, symbols=("ETHUSDT",))
    text = bad.read_text().splitlines()
    text[2500] = text[2500].replace(",false,", ",maybe,")
    bad.write_text("\n".join(text) + "\n")
    cat = tmp_path / "cat"
    res = runner.invoke(
        app, ["import", "tardis", str(good), str(bad), "--catalog", str(cat), "--chunk-rows", "500"]
    )
    assert res.exit_code == 2
    assert "stored before the failure (1 file(s))" in res.stdout and "good.csv" in res.stdout
    err = res.stderr.strip()
    assert "\n" not in err and "bad.csv" in err and "row 2501" in err
    assert not list((cat / "data").rglob("*ETHUSDT*"))  # no parts, no empty partition folders
    res = runner.invoke(app, ["import", "tardis", str(bad), "--catalog", str(cat), "--json"])
    assert res.exit_code == 2 and res.stdout == ""  # nothing was stored before this failure
    res = runner.invoke(app, ["import", "tardis", str(_l2(tmp_path / "g2.csv", rows=5, t0_us=1_704_240_000_000_000)),
                              str(bad), "--catalog", str(cat), "--json"])  # fmt: skip
    out = json.loads(res.stdout)
    assert (
        res.exit_code == 2
        and [Path(f["path"]).name for f in out["files"]] == ["g2.csv"]
        and "row 2501" in out["error"]
    )
