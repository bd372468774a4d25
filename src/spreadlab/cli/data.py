"""``spreadlab data``: import market data files into a catalog, list it, show an instrument.

Errors print one line on stderr and exit with code 2 (no traceback).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import polars as pl
import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from spreadlab.cli._common import fail, print_json, run_or_exit
from spreadlab.cli.data_view import collapse_options, filter_instruments, iso, json_rows, show_table
from spreadlab.core.time import ns_to_iso
from spreadlab.data.catalog import Catalog, ImportFailedError, ImportReport
from spreadlab.data.importers.base import DEFAULT_CHUNK_ROWS, ImportFormat
from spreadlab.data.schema import EventKind

__all__ = ["app"]

app = typer.Typer(
    name="data",
    help="Import market data (Tardis, Binance, Deribit, Bybit, freqtrade, OHLCV) into a catalog; list, show, "
    "delete; imports and quarantined rows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_PATHS = typer.Argument(..., metavar="PATH...", help="Files to import; a folder means every file under it.")
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
    venue: str | None = typer.Option(
        None, "--venue", help="Venue, for files that do not name it (one `spreadlab instrument` knows)."
    ),
    symbol: str | None = typer.Option(
        None, "--symbol", help="Symbol, for files without a symbol column (must parse on the venue)."
    ),
    any_venue: bool = typer.Option(
        False, "--any-venue", help="Accept a --venue with no symbol grammar (e.g. FTX); ids stored unchecked."
    ),
    replace: bool = typer.Option(
        False, "--replace", help="Re-import, deleting earlier imports of the same file in the same commit."
    ),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Quarantine malformed rows instead of stopping (see `data quarantine`)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the import report as JSON."),
    chunk_rows: int = typer.Option(
        DEFAULT_CHUNK_ROWS, "--chunk-rows", min=1, help="Rows per chunk (memory is bounded by it)."
    ),
    wait: float = _WAIT,
) -> None:
    """Import FILES of FORMAT into the catalog (idempotent, one atomic import per file).

    A file counts as imported when the same bytes were imported in the same format with the
    same --venue/--symbol (where the format uses them). If a file fails, the files stored
    before it are printed, then the error (exit 2).
    """
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
        failed: list[ImportFailedError] = []

        def run() -> ImportReport | None:
            try:
                return cat.import_(
                    fmt_enum, paths, skip_bad=skip_bad, venue=venue, symbol=symbol, any_venue=any_venue,
                    replace=replace, chunk_rows=chunk_rows, progress=tick,
                )  # fmt: skip
            except ImportFailedError as exc:
                failed.append(exc)
                return None

        report = run_or_exit(run)
    _say_recovered(cat, seen)
    if report is None:  # earlier files were stored: say which, then the error
        stored = failed[0].stored
        if as_json:
            print_json({**stored.to_dict(), "error": str(failed[0])})
        else:
            Console().print(f"stored before the failure ({len(stored.files)} file(s)):")
            _print_report(stored)
        raise fail(str(failed[0]))
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
    venue: list[str] = typer.Option([], "--venue", help="Only this venue (repeatable)."),
    kind: list[str] = typer.Option([], "--kind", help="Only this kind (repeatable)."),
    like: str | None = typer.Option(
        None, "--like", help="Only ids matching: a substring, a glob (BTC-*-C) or SQL LIKE (%27JUN25%)."
    ),
    each_option: bool = typer.Option(
        False, "--each-option", help="One row per option (default: one row per option expiry)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (one entry per instrument and kind)."),
) -> None:
    """List the instruments in the catalog with their kinds, row counts and time ranges (UTC)."""
    _need_catalog(catalog)
    for k in kind:
        _kind(k)
    df = run_or_exit(_open(catalog).instruments)
    df = filter_instruments(df, venues=venue, kinds=kind, like=like)
    if as_json:
        print_json(
            [
                {**r, "first": ns_to_iso(r["first_ts"]), "last": ns_to_iso(r["last_ts"])}
                for r in df.iter_rows(named=True)
            ]
        )
        return
    shown = df.with_columns(pl.lit(None, pl.Int64).alias("options")) if each_option else collapse_options(df)
    table = _table("instrument:id", "kind:id", "rows:num", "first (UTC):id", "last (UTC):id")
    for r in shown.iter_rows(named=True):
        name = r["instrument_id"] + (f" ({r['options']})" if r["options"] else "")
        table.add_row(name, r["kind"], f"{r['rows']:,}", iso(r["first_ts"]), iso(r["last_ts"]))
    Console().print(table)
    if df.height == 0:
        Console().print("no instruments match")


@app.command("show")
def show_cmd(
    instrument: str = typer.Argument(..., metavar="INSTRUMENT", help="VENUE:SYMBOL"),
    catalog: Path = _CATALOG,
    start: str | None = typer.Option(None, "--start", help="ISO 8601 or ns; inclusive."),
    end: str | None = typer.Option(None, "--end", help="ISO 8601 or ns; exclusive."),
    kind: str | None = typer.Option(None, "--kind", help="Only this kind (default: every kind held)."),
    limit: int = typer.Option(20, "--limit", min=0, help="Rows shown per kind (0: all)."),
    as_json: bool = typer.Option(
        False, "--json", help="Print JSON: every column, times in ns with an _iso twin."
    ),
) -> None:
    """Show the stored rows of INSTRUMENT (first rows of each kind in the time range).

    Times are UTC; "recv ms" is the receive time's delay after the venue time. Option rows:
    "iv" is the mark IV, "undl" the underlying price the venue quoted with it.
    """
    _need_catalog(catalog)
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
    out = Console()
    for k in kinds:
        df = run_or_exit(lambda k=k: cat.query(k, [instrument], t0, t1))  # type: ignore[misc]
        shown = df if limit == 0 else df.head(limit)
        if as_json:
            result[k] = {"rows": df.height, "data": json_rows(shown)}
            continue
        more = f", first {shown.height:,} shown" if shown.height < df.height else ""
        out.print(f"[bold]{instrument}[/bold] {k}: {df.height:,} rows{more}")
        headers, rows = show_table(shown, k)
        table = _table(*(h if h == "trade id" else f"{h}:id" if h[0].isalpha() and h in _TEXT else f"{h}:num"
                         for h in headers))  # fmt: skip
        for row in rows:
            table.add_row(*row)
        out.print(table)
    if as_json:
        print_json(result)


_TEXT = frozenset(
    {"time (UTC)", "expiry", "C/P", "side", "aggressor", "snap", "funding time", "interval", "levels"}
)


def _table(*columns: str) -> Table:
    """A table for 100 columns: no side borders; ``name:id`` columns never wrap or truncate,
    ``name:num`` are right-aligned, others fold."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True)
    for col in columns:
        name, _, how = col.partition(":")
        if how == "id":
            table.add_column(name, no_wrap=True, overflow="fold")
        elif how == "num":
            table.add_column(name, justify="right", no_wrap=True)
        else:
            table.add_column(name, overflow="fold")
    return table


def _need_catalog(catalog: Path) -> None:
    if not (catalog / "catalog.duckdb").is_file():
        raise fail(f"{catalog}: no catalog here (catalog.duckdb not found)")


@app.command("imports")
def imports_cmd(
    catalog: Path = _CATALOG,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the imports: id (for `data delete --import`), file, format, options, rows, time."""
    _need_catalog(catalog)
    df = run_or_exit(_open(catalog).imports)
    if as_json:
        print_json([{**r, "imported_at": ns_to_iso(r["imported_at_ns"])} for r in df.iter_rows(named=True)])
        return
    table = _table(
        "import:id", "file", "format", "venue/symbol", "stored:num", "quar.:num", "imported (UTC):id"
    )
    for r in df.iter_rows(named=True):
        opts = json.loads(r["options"]) if r["options"] else {}
        shown = " ".join(str(v) for v in opts.values() if v is not None) or "-"
        when = iso(r["imported_at_ns"])
        table.add_row(
            r["import_id"], Path(r["path"]).name, r["fmt"], shown, f"{r['rows_stored']:,}",
            f"{r['rows_quarantined']:,}", when[:16].replace("T", " ") if when != "-" else when,
        )  # fmt: skip
    Console().print(table)


@app.command("delete")
def delete_cmd(
    catalog: Path = _CATALOG,
    import_ids: list[str] = typer.Option(
        [], "--import", help="Delete this import whole (repeatable; ids from `data imports`)."
    ),
    instruments: list[str] = typer.Option(
        [], "--instrument", help="Delete this instrument's rows (repeatable), in --start/--end."
    ),
    kind: list[str] = typer.Option([], "--kind", help="Only these kinds (repeatable; default every kind)."),
    start: str | None = typer.Option(None, "--start", help="ISO 8601 or ns; inclusive."),
    end: str | None = typer.Option(None, "--end", help="ISO 8601 or ns; exclusive."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    wait: float = _WAIT,
) -> None:
    """Delete stored data atomically: whole imports (--import), or instruments' rows in a time range.

    Readers see the catalog before or after the delete, never in between; a deleted import's
    file can be imported again.
    """
    _need_catalog(catalog)
    if bool(import_ids) == bool(instruments):
        raise fail("pass either --import ID... or --instrument ID... (with --kind/--start/--end)")
    if import_ids and (kind or start or end):
        raise fail("--kind, --start and --end narrow an --instrument delete, not --import")
    cat = _open(catalog, wait=wait)
    t0: str | int | None = int(start) if start and start.isdigit() else start
    t1: str | int | None = int(end) if end and end.isdigit() else end
    if import_ids:
        rep = run_or_exit(lambda: cat.delete(import_ids=import_ids))
    else:
        kinds = [_kind(k) for k in kind] or None
        rep = run_or_exit(lambda: cat.delete(instruments=instruments, kinds=kinds, start=t0, end=t1))
    if as_json:
        print_json(rep.to_dict())
        return
    what = f"{len(rep.imports)} import(s), " if rep.imports else ""
    Console().print(
        f"deleted {what}{rep.rows_deleted:,} rows: {rep.files_removed} part file(s) removed, "
        f"{rep.files_rewritten} rewritten"
    )


@app.command("quarantine")
def quarantine_cmd(
    catalog: Path = _CATALOG,
    import_id: str | None = typer.Option(None, "--import", help="Only the rows of this import."),
    limit: int = typer.Option(50, "--limit", min=0, help="Rows shown (0: all); --json prints all."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (every row, raw text in full)."),
) -> None:
    """Show the rows imports left out with --skip-bad: file, line, field, reason and the raw text."""
    _need_catalog(catalog)
    df = run_or_exit(_open(catalog).quarantine)
    if import_id is not None:
        df = df.filter(pl.col("import_id") == import_id)
    if as_json:
        print_json(df.to_dicts())
        return
    out = Console()
    out.print(f"{df.height:,} quarantined row(s)")
    table = _table("import:id", "file", "line:num", "field", "reason", "raw")
    for r in df.head(limit if limit else df.height).iter_rows(named=True):
        raw = str(r["raw"] or "")
        table.add_row(
            str(r["import_id"]), Path(str(r["file"])).name, str(r["line"] if r["line"] is not None else "-"),
            str(r["field"]), str(r["reason"]), raw if len(raw) <= 60 else raw[:57] + "...",
        )  # fmt: skip
    out.print(table)


def _kind(text: str) -> EventKind:
    try:
        return EventKind(text)
    except ValueError:
        raise fail(
            f"--kind {text!r} is unknown; valid kinds: {', '.join(k.value for k in EventKind)}"
        ) from None
