"""``spreadlab market build``: write the built-in simulated market to Parquet."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import typer
from rich.table import Table

from spreadlab.cli._common import check_out_dir, console, print_json, progress_bar, run_or_exit
from spreadlab.errors import SpreadlabError, ValidationError

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, help="The built-in simulated market.")


@app.command("build")
def build(
    out: Path = typer.Option(
        ..., "--out", help="Folder for the Parquet tables, instruments and config.json."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Seed, an integer >= 0 (default: the config's, 7)."),
    days: float | None = typer.Option(None, "--days", help="Length of the run in days (default 3)."),
    config: Path | None = typer.Option(None, "--config", help="TOML file with a [market] table."),
    as_json: bool = typer.Option(False, "--json", help="Print the written files and row counts as JSON."),
) -> None:
    """Build the seeded market (quotes, books, funding, options, bars, ground truth) and write it."""
    from spreadlab.config import load_market_config
    from spreadlab.data.market import MarketConfig, build_market

    def make_config() -> MarketConfig:
        check_out_dir(out)
        cfg = MarketConfig() if config is None else load_market_config(config)
        for option, field, value in (("--seed", "seed", seed), ("--days", "days", days)):
            if value is not None:
                try:
                    cfg = dataclasses.replace(cfg, **{field: value})  # type: ignore[arg-type]
                except SpreadlabError as exc:
                    raise ValidationError(f"{option} {value}: {exc}") from None
        return cfg

    cfg = run_or_exit(make_config)
    with progress_bar("building the market", enabled=not as_json) as update:
        market = run_or_exit(lambda: build_market(cfg, progress=lambda _stage, f: update(f)))
    paths = run_or_exit(lambda: market.write_parquet(out))
    rows = {name: frame.height for name, frame in market.tables.items()}
    if as_json:
        print_json(
            {"out": str(out), "seed": cfg.seed, "files": {k: str(v) for k, v in paths.items()}, "rows": rows}
        )
        return
    table = Table(title=f"built-in market, seed {cfg.seed}, {cfg.days:g} days -> {out}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, n in rows.items():
        table.add_row(name, f"{n:,}")
    console.print(table)
