"""``spreadlab pairs``: select cointegrated, mean-reverting pairs from a catalog's bar closes.

Thin: parse the options, call :func:`spreadlab.signals.pairs.select_pairs_catalog`,
print the per-stage counts and a table (or JSON with ``--json``). Errors print
one line and exit with code 2.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from spreadlab.cli._common import console, print_json, run_or_exit
from spreadlab.errors import ValidationError

__all__ = ["pairs"]


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}


def pairs(
    catalog: Path = typer.Option(..., "--catalog", "-c", help="Catalog folder."),
    start: str = typer.Option(..., "--start", help="First bar time (ISO 8601, UTC), inclusive."),
    end: str = typer.Option(..., "--end", help="End time (ISO 8601, UTC), exclusive."),
    venue: str | None = typer.Option(
        None, "--venue", help="Keep one venue's instruments (e.g. HYPERLIQUID)."
    ),
    kind: str = typer.Option("bars", "--kind", help="Data kind to read closes from (only 'bars')."),
    interval: str | None = typer.Option(
        None, "--interval", help="Bar interval (1h, 4h, 1d) if several are stored."
    ),
    prefilter: str = typer.Option("correlation", "--prefilter", help="correlation, cluster or none."),
    min_correlation: float = typer.Option(0.5, "--min-correlation", help="Log-return correlation floor."),
    cluster_distance: float = typer.Option(0.5, "--cluster-distance", help="Cut height on 1 - correlation."),
    direction: str = typer.Option(
        "best", "--direction", help="Engle-Granger direction: best, both, forward."
    ),
    fdr: float = typer.Option(0.05, "--fdr", help="Benjamini-Hochberg false-discovery rate."),
    min_half_life: float = typer.Option(1.0, "--min-half-life", help="Shortest half-life (bars)."),
    max_half_life: float = typer.Option(500.0, "--max-half-life", help="Longest half-life (bars)."),
    max_hurst: float = typer.Option(0.5, "--max-hurst", help="Hurst exponent must be below this."),
    min_crossings: int = typer.Option(12, "--min-crossings", help="Fewest crossings of the spread's mean."),
    history: str = typer.Option(
        "shorten",
        "--history",
        help="Symbols listed late (or delisted early): 'shorten' tests every symbol on the window where "
        "all have bars; 'drop' drops them and keeps the full window. Either way the output says which.",
    ),
    unit_root: str = typer.Option(
        "exclude",
        "--unit-root",
        help="ADF pre-test of each series (unit root in the level, none in the difference): 'exclude' "
        "leaves series that are not I(1) untested, 'report' only lists them, 'off' skips the tests.",
    ),
    max_per_symbol: int | None = typer.Option(
        None,
        "--max-pairs-per-symbol",
        min=1,
        help="Keep at most this many selected pairs per symbol (best-ranked first); default no cap.",
    ),
    top: int = typer.Option(30, "--top", min=0, help="Rows to show in the table (0 = all)."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts and every passing pair as JSON."),
) -> None:
    """Select cointegrated pairs (unit-root pre-test, Engle-Granger + Benjamini-Hochberg, half-life,
    Hurst, mean crossings, optional cap per symbol); prints how many pairs each symbol joins."""
    from spreadlab.signals.pairs import PairCriteria, select_pairs_catalog  # heavy: import on use

    def _criteria() -> PairCriteria:
        if kind != "bars":
            raise ValidationError(f"--kind {kind!r}: pair selection reads closes from 'bars' only")
        if not catalog.is_dir():
            raise ValidationError(f"--catalog {str(catalog)!r} is not a folder")
        if history not in ("shorten", "drop"):
            raise ValidationError(f"--history {history!r} must be 'shorten' or 'drop'")
        return PairCriteria(
            prefilter=prefilter,  # type: ignore[arg-type]
            min_correlation=min_correlation,
            cluster_distance=cluster_distance,
            direction=direction,  # type: ignore[arg-type]
            fdr=fdr,
            min_half_life=min_half_life,
            max_half_life=max_half_life,
            max_hurst=max_hurst,
            min_crossings=min_crossings,
            unit_root=unit_root,  # type: ignore[arg-type]
            max_pairs_per_symbol=max_per_symbol,
        )

    criteria = run_or_exit(_criteria)
    res = run_or_exit(
        lambda: select_pairs_catalog(
            str(catalog),
            start=start,
            end=end,
            venue=venue,
            interval=interval,
            history=history,  # type: ignore[arg-type]
            criteria=criteria,
        )
    )
    if as_json:
        out = res.to_dict()
        out["pairs"] = [_clean(r) for r in out["pairs"]]
        print_json({"start": start, "end": end, "venue": venue, **out})
        return
    console.print(res.summary().split("\n  #")[0], highlight=False)
    table = Table(title=f"{res.counts.selected} pairs selected")
    cols = ("rank", "y", "x", "eg_stat", "pvalue", "qvalue", "hedge_ratio", "half_life", "hurst", "crossings")
    for c in cols:
        table.add_column(c, justify="right" if c not in ("y", "x") else "left")
    shown = res.pairs if top == 0 else res.pairs.head(top)
    for row in shown.iter_rows(named=True):
        table.add_row(*(f"{row[c]:.4g}" if isinstance(row[c], float) else str(row[c]) for c in cols))
    console.print(table)
