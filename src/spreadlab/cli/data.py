"""``spreadlab data``: import market data files into a catalog, list it, show an instrument.

Errors print one line on stderr and exit with code 2 (no traceback).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import polars as pl
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from spreadlab.cli._common import fail, print_json, run_or_exit
from spreadlab.core.time import ns_to_iso
from spreadlab.data.catalog import Catalog, ImportReport
from spreadlab.data.importers.base import ImportFormat

__all__ = ["app"]

app = typer.Typer(
    name="data",
    help="Import market data (Tardis, Binance, Deribit, Bybit, freqtrade, OHLCV) into a catalog; list; show.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_PATHS = typer.Argument(..., metavar="PATH...", help="Files to import.")
_CATALOG = typer.Option(..., "--catalog", "-c", help="Catalog folder (created on first import).")
_WAIT = typer.Option(
    600.0,
    "--wait",
    min=0.0,
    help="Seconds to wait while another import holds the catalog, then fail naming it.",
)


def _open(catalog: Path, *, wait: float = 600.0) -> Catalog:
    """Open the catalog; say on stderr what cleaning up after an interrupted import did."""
    cat = run_or_exit(lambda: Catalog(catalog, lock_timeout=wait))
    _say_recovered(cat, 0)
    return cat


def _say_recovered(cat: Catalog, already: int) -> None:
    for rec in cat.recovered[already:]:
        sys.stderr.write(f"note: {rec.message()}\n")


@app.command("import")
def import_cmd(
    fmt: str = typer.Argument(
        ..., metavar="FORMAT", help="One of: " + ", ".join(f.value for f in ImportFormat) + "."
    ),
    paths: list[Path] = _PATHS,
    catalog: Path = _CATALOG,
    venue: str | None = typer.Option(None, "--venue", help="Venue, for files that do not name it."),
    symbol: str | None = typer.Option(None, "--symbol", help="Symbol, for files without a symbol column."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Quarantine malformed rows instead of stopping."),
    as_json: bool = typer.Option(False, "--json", help="Print the import report as JSON."),
    chunk_rows: int = typer.Option(500_000, "--chunk-rows", min=1, help="Rows per chunk."),
    wait: float = _WAIT,
) -> None:
    """Import FILES of FORMAT into the catalog (idempotent, one atomic import per file)."""
    try:
        fmt_enum = ImportFormat(fmt)
    except ValueError:
        raise fail(
            f"FORMAT={fmt!r} is unknown; valid formats: {', '.join(f.value for f in ImportFormat)}"
        ) from None
    show = sys.stderr.isatty()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f} rows"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not show,
    ) as progress:
        tasks: dict[Path, Any] = {}

        def tick(path: Path, rows: int) -> None:
            if path not in tasks:
                tasks[path] = progress.add_task(path.name, total=None, rate="")
            task = tasks[path]
            progress.advance(task, rows)
            speed = progress.tasks[task].speed if task < len(progress.tasks) else None
            progress.update(task, rate=f"{speed:,.0f} rows/s" if speed else "")

        cat = _open(catalog, wait=wait)
        seen = len(cat.recovered)
        report = run_or_exit(
            lambda: cat.import_(
                fmt_enum, paths, skip_bad=skip_bad, venue=venue, symbol=symbol, chunk_rows=chunk_rows,
                progress=tick,
            )
        )  # fmt: skip
    _say_recovered(cat, seen)
    if as_json:
        print_json(report.to_dict())
    else:
        _print_report(report)


def _print_report(report: ImportReport) -> None:
    out = Console()
    table = Table("file", "status", "read", "stored", "quarantined", "instruments", "findings")
    for f in report.files:
        findings = "; ".join(f"{x.check.value}: {x.count}" for x in f.findings) or "-"
        insts = ", ".join(f.instruments[:3]) + (
            f" (+{len(f.instruments) - 3})" if len(f.instruments) > 3 else ""
        )
        table.add_row(
            Path(f.path).name, f.status, f"{f.rows_read:,}", f"{f.rows_stored:,}", f"{f.rows_quarantined:,}",
            insts, findings,
        )  # fmt: skip
    out.print(table)


@app.command("list")
def list_cmd(
    catalog: Path = _CATALOG,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the instruments in the catalog with their kinds, row counts and time ranges."""
    if not (catalog / "catalog.duckdb").is_file():
        raise fail(f"{catalog}: no catalog here (catalog.duckdb not found)")
    df = run_or_exit(_open(catalog).instruments)
    if as_json:
        print_json(
            [
                {**r, "first": ns_to_iso(r["first_ts"]), "last": ns_to_iso(r["last_ts"])}
                for r in df.iter_rows(named=True)
            ]
        )
        return
    table = Table("instrument", "kind", "rows", "first", "last")
    for r in df.iter_rows(named=True):
        table.add_row(
            r["instrument_id"], r["kind"], f"{r['rows']:,}", ns_to_iso(r["first_ts"]), ns_to_iso(r["last_ts"])
        )
    Console().print(table)


@app.command("show")
def show_cmd(
    instrument: str = typer.Argument(..., metavar="INSTRUMENT", help="VENUE:SYMBOL"),
    catalog: Path = _CATALOG,
    start: str | None = typer.Option(None, "--start", help="ISO 8601 or ns; inclusive."),
    end: str | None = typer.Option(None, "--end", help="ISO 8601 or ns; exclusive."),
    kind: str | None = typer.Option(None, "--kind", help="Only this kind (default: every kind held)."),
    limit: int = typer.Option(20, "--limit", min=0, help="Rows shown per kind (0: all)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show the stored rows of INSTRUMENT (first rows of each kind in the time range)."""
    if not (catalog / "catalog.duckdb").is_file():
        raise fail(f"{catalog}: no catalog here (catalog.duckdb not found)")
    cat = _open(catalog)
    held = run_or_exit(cat.instruments)
    kinds = held.filter(pl.col("instrument_id") == instrument)["kind"].to_list()
    if kind is not None:
        kinds = [k for k in kinds if k == kind]
    if not kinds:
        raise fail(f"instrument {instrument!r} has no {kind or 'data'} in {catalog}")
    t0: str | int | None = int(start) if start and start.isdigit() else start
    t1: str | int | None = int(end) if end and end.isdigit() else end
    result: dict[str, Any] = {}
    for k in kinds:
        df = run_or_exit(lambda k=k: cat.query(k, [instrument], t0, t1))  # type: ignore[misc]
        shown = df if limit == 0 else df.head(limit)
        if as_json:
            result[k] = {"rows": df.height, "data": shown.to_dicts()}
        else:
            Console().print(f"[bold]{instrument}[/bold] {k}: {df.height:,} rows")
            with pl.Config(tbl_rows=max(limit, 1) if limit else -1, tbl_cols=-1, tbl_width_chars=200):
                Console().print(str(shown))
    if as_json:
        print_json(result)
