"""``spreadlab trials``: list the trial log of a catalog (every parameter set any search evaluated).

Thin: read :class:`spreadlab.data.trials.TrialLog`, print a table (or JSON
with ``--json``). Errors print one line and exit with code 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import typer
from rich.table import Table

from spreadlab.cli._common import console, print_json, run_or_exit
from spreadlab.core.time import ns_to_datetime
from spreadlab.data.trials import TrialLog
from spreadlab.errors import ValidationError

__all__ = ["trials"]


def trials(
    catalog: Path = typer.Option(..., "--catalog", "-c", help="Catalog folder."),
    data_key: str | None = typer.Option(None, "--data", help="Only trials on this data key."),
    run_id: str | None = typer.Option(None, "--run", help="Only trials of this run id."),
    top: int = typer.Option(50, "--top", min=0, help="Rows to show in the table (0 = all)."),
    as_json: bool = typer.Option(False, "--json", help="Print every trial as JSON."),
) -> None:
    """List the logged trials: config hash, parameters, data range, metrics, time, run id."""

    def _read() -> pl.DataFrame:
        if not catalog.is_dir():
            raise ValidationError(f"--catalog {str(catalog)!r} is not a folder")
        return TrialLog(catalog).read(data_key=data_key, run_id=run_id)

    df = run_or_exit(_read)
    if as_json:
        rows = []
        for r in df.iter_rows(named=True):
            r["params"] = json.loads(r["params"])
            r["metrics"] = json.loads(r["metrics"])
            rows.append(r)
        print_json({"catalog": str(catalog), "n_trials": df.height, "trials": rows})
        return
    n_configs = df["config_hash"].n_unique() if df.height else 0
    n_runs = df["run_id"].n_unique() if df.height else 0
    table = Table(title=f"{df.height} trials, {n_configs} distinct configurations, {n_runs} runs")
    for c in ("recorded", "run", "config", "data", "params", "sharpe", "n_obs"):
        table.add_column(c, justify="right" if c in ("sharpe", "n_obs") else "left")
    shown = df if top == 0 else df.tail(top)
    for r in shown.iter_rows(named=True):
        sharpe = "" if r["sharpe"] is None else f"{r['sharpe']:.4f}"
        table.add_row(
            ns_to_datetime(r["recorded_at_ns"]).strftime("%Y-%m-%d %H:%M:%S"),
            r["run_id"][:8],
            r["config_hash"][:10],
            r["data_key"],
            r["params"],
            sharpe,
            str(r["n_obs"]),
        )
    console.print(table)
