"""``spreadlab demo``: the perp–spot basis on the built-in market, end to end."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import typer
from rich.table import Table

from spreadlab.cli._common import check_out_dir, console, print_json, progress_bar, run_or_exit
from spreadlab.errors import SpreadlabError, ValidationError

__all__ = ["demo"]


def demo(
    out: Path = typer.Option(
        Path("spreadlab-demo"), "--out", help="Folder for report.html and trades.parquet."
    ),
    seed: int | None = typer.Option(
        None, "--seed", help="Seed of the simulated market, an integer >= 0 (default 7)."
    ),
    config: Path | None = typer.Option(
        None, "--config", help="TOML file with a [demo] table (see examples/)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics and file paths as JSON."),
) -> None:
    """Build the built-in market, trade the perpetual-spot basis, write a report.

    Writes report.html (spread and bands, entries and exits, equity curve) and
    trades.parquet into --out, and prints the metrics.
    """
    from spreadlab.backtest.demo import BasisDemoConfig, run_basis_demo  # heavy: import on use
    from spreadlab.config import load_basis_demo

    def make_config() -> BasisDemoConfig:
        check_out_dir(out)
        cfg = load_basis_demo(config) if config else BasisDemoConfig()
        if seed is not None:
            try:
                cfg = dataclasses.replace(cfg, market=dataclasses.replace(cfg.market, seed=seed))
            except SpreadlabError as exc:
                raise ValidationError(f"--seed {seed}: {exc}") from None
        return cfg

    cfg = run_or_exit(make_config)
    with progress_bar("spreadlab demo", enabled=not as_json) as update:
        result = run_or_exit(lambda: run_basis_demo(cfg, out_dir=out, progress=lambda _s, f: update(f)))
    summary = result.summary()
    if as_json:
        print_json(summary)
        return
    m = result.backtest.metrics
    table = Table(title=f"spreadlab demo — {summary['spread']}", show_header=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = [
        ("period", f"{str(summary['start'])[:16]} .. {str(summary['end'])[:16]} UTC, {summary['bars']} bars"),
        ("periods per year (from data)", f"{m.periods_per_year:,.0f}"),
        ("total return", f"{m.total_return:.4%}"),
        ("Sharpe / Sortino", f"{m.sharpe:.2f} / {m.sortino:.2f}"),
        ("max drawdown", f"{m.max_drawdown:.3%}"),
        ("trades (round trips)", str(m.n_trades)),
        ("turnover (x capital / year)", f"{m.turnover:.1f}"),
        ("PnL convergence / crossing (USD)", f"{m.pnl.convergence:,.2f} / {m.pnl.crossing:,.2f}"),
        ("PnL fees / funding (USD)", f"{m.pnl.fees:,.2f} / {m.pnl.funding:,.2f}"),
        ("PnL total (USD)", f"{m.pnl.total:,.2f}"),
        (
            "premium bursts traded / injected",
            f"{summary['premium_bursts_traded']} / {summary['premium_bursts_injected']}",
        ),
        ("report", str(result.report_path)),
        ("trades", str(result.trades_path)),
    ]
    for k, v in rows:
        table.add_row(k, v)
    console.print(table)
