"""``spreadlab scan``: rank the catalog's candidate spreads by net edge after costs.

Thin: parse the options, call :func:`spreadlab.signals.scan.scan`, print a rich
table (or JSON with ``--json``). Errors print one line and exit with code 2.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from spreadlab.cli._common import console, print_json, run_or_exit
from spreadlab.core.time import ns_to_iso
from spreadlab.errors import ValidationError
from spreadlab.signals.scan.config import ScanKind

if TYPE_CHECKING:
    import polars as pl

__all__ = ["scan"]

_COLUMNS = (
    ("rank", "#"),
    ("kind", "kind"),
    ("spread", "spread"),
    ("unit", "unit"),
    ("value", "value"),
    ("fair", "fair"),
    ("deviation_bp", "dev bp"),
    ("zscore", "z"),
    ("half_life_hours", "half-life h"),
    ("cost_usd", "cost $"),
    ("net_edge_usd", "net edge $"),
    ("net_edge_bp", "net bp"),
    ("capacity_usd", "capacity $"),
    ("price_source", "prices"),
)


_KIND_NAMES = ",".join(k.value for k in ScanKind)


def _fmt(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if math.isinf(v):
            return "inf"
        return f"{v:,.2f}" if abs(v) >= 100 else f"{v:.4g}"
    return str(v)


def _records(df: pl.DataFrame) -> list[dict[str, object]]:
    rows = df.to_dicts()
    for r in rows:
        for k, v in r.items():
            if isinstance(v, float) and not math.isfinite(v):
                r[k] = None if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return rows


def scan(
    catalog: Path = typer.Option(..., "--catalog", "-c", help="Catalog folder."),
    at: str | None = typer.Option(
        None,
        "--at",
        help="Scan time (ISO 8601, UTC). Default: each spread at the latest time all its legs have "
        "fresh data (the newest data, or earlier where a venue's data ends earlier).",
    ),
    kinds: str | None = typer.Option(
        None,
        "--kinds",
        help="Comma-separated kinds: " + _KIND_NAMES + " (default all).",
    ),
    size: float = typer.Option(10_000.0, "--size", help="Notional per leg in USD."),
    top: int = typer.Option(30, "--top", min=0, help="Rows to show in the table (0 = all)."),
    as_json: bool = typer.Option(False, "--json", help="Print every row as JSON."),
) -> None:
    """Rank every candidate spread at a time by net edge after costs (fees, half-spreads, impact)."""
    from spreadlab.signals.scan import scan_report  # heavy: import on use

    run_or_exit(lambda: _check_dir(catalog))
    res = run_or_exit(lambda: scan_report(str(catalog), at=at, kinds=kinds, size_usd=size))
    df = res.rows
    times = [ns_to_iso(t)[:19] + "Z" for t in res.times_ns]
    if as_json:
        print_json(
            {
                "at": times[0],
                "default_time": res.default_time,
                "times": times,
                "empty": res.empty,
                "rows": _records(df),
                "count": df.height,
            }
        )
        return
    if res.default_time:
        when = f"the newest data, {times[0]}"
        if len(times) > 1:
            when += f" (a spread whose legs end earlier at its latest fresh time: {', '.join(times[1:])})"
    else:
        when = times[0]
    shown = df if top == 0 else df.head(top)
    table = Table(title=f"{df.height} spreads at {when}, size {size:,.0f} USD")
    for _, header in _COLUMNS:
        table.add_column(header, overflow="fold")
    for row in shown.iter_rows(named=True):
        table.add_row(*(_fmt(row[c]) for c, _ in _COLUMNS))
    console.print(table)
    for kind, why in res.empty.items():
        console.print(f"{kind}: no spread: {why}", highlight=False, markup=False)


def _check_dir(path: Path) -> None:
    if not path.is_dir():
        raise ValidationError(f"--catalog {str(path)!r} is not a folder")
