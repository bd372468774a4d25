"""``spreadlab backtest CONFIG.toml --catalog DIR``: the event-driven engine on a catalog's data.

Thin: load the config (:func:`spreadlab.config.backtest.load_backtest`),
check the catalog holds data for every instrument in the window, run
:meth:`~spreadlab.backtest.engine_run.Backtest.run_catalog` with a progress
bar in events/s, print the metrics and round trips (or JSON), and write the
tables and the HTML report under ``--out``. Errors print one line and exit 2.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from spreadlab.cli._common import console, err_console, print_json, run_or_exit
from spreadlab.errors import ValidationError

__all__ = ["backtest"]


def _clean(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def backtest(
    config: Path = typer.Argument(..., help="Backtest TOML ([backtest], [[venue]], [[strategy]])."),
    catalog: Path = typer.Option(..., "--catalog", "-c", help="Catalog folder with the imported data."),
    start: str | None = typer.Option(None, "--start", help="First time (ISO 8601 or ns), inclusive."),
    end: str | None = typer.Option(None, "--end", help="Last time (ISO 8601 or ns), exclusive."),
    out: Path | None = typer.Option(None, "--out", help="Folder for the tables (Parquet) and report.html."),
    as_json: bool = typer.Option(False, "--json", help="Print metrics and round trips as JSON."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Run the built-in strategies (or a Python strategy by import path) on a catalog's data."""
    from spreadlab.backtest.engine_report import write_engine_report
    from spreadlab.config.backtest import load_backtest
    from spreadlab.data.catalog import Catalog

    def _prepare() -> tuple[Any, Any]:
        if not catalog.is_dir():
            raise ValidationError(f"--catalog {str(catalog)!r} is not a folder")
        if out is not None and out.exists() and not out.is_dir():
            raise ValidationError(f"--out {str(out)!r} exists and is not a folder")
        spec = load_backtest(config)
        cat = Catalog(catalog)
        known = set(cat.instruments()["instrument_id"].to_list()) if cat.instruments().height else set()
        missing = [str(i.id) for i in spec.instruments if str(i.id) not in known]
        if missing:
            raise ValidationError(f"{config}: instruments {missing} are not in the catalog {catalog}")
        return spec, cat

    spec, cat = run_or_exit(_prepare)
    t0 = time.perf_counter()
    state = {"last": 0.0}

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if quiet or as_json or now - state["last"] < 0.5:
            return
        state["last"] = now
        rate = done / max(now - t0, 1e-9)
        err_console.print(f"\r{done:,}/{total:,} events  {rate:,.0f} events/s", end="")

    result = run_or_exit(
        lambda: spec.backtest.run_catalog(
            cat, start=start, end=end, progress=progress, latency_from_capture=spec.latency_from_capture
        )
    )
    wall = time.perf_counter() - t0
    if not quiet and not as_json:
        err_console.print("")
    if out is not None:
        run_or_exit(lambda: _write(result, out, write_engine_report, config, spec))
    m = result.metrics
    if as_json:
        d = result.to_dict()
        d["wall_seconds"] = wall
        d["events_per_second"] = m.events / wall if wall > 0 else None
        print_json(_clean(d))
        return
    t = Table(title=f"backtest {config.name}: {m.events:,} events in {wall:.1f} s ({m.events / wall:,.0f}/s)")
    t.add_column("metric")
    t.add_column("value", justify="right")
    for k, v in m.to_dict().items():
        t.add_row(k, f"{v:,.4f}" if isinstance(v, float) else f"{v:,}")
    console.print(t)
    if result.trades.height:
        tt = Table(title="round trips (USD)")
        for c in (
            "spread",
            "direction",
            "exit_reason",
            "pnl_usd",
            "convergence_usd",
            "slippage_usd",
            "fees_usd",
            "funding_usd",
        ):
            tt.add_column(c, justify="right")
        for r in result.trades.head(20).to_dicts():
            tt.add_row(
                str(r["spread"])[:28],
                str(r["direction"]),
                str(r["exit_reason"]),
                *(
                    f"{r[c]:,.2f}"
                    for c in ("pnl_usd", "convergence_usd", "slippage_usd", "fees_usd", "funding_usd")
                ),
            )
        console.print(tt)
    for iid, note in sorted(result.book_checks.items()):
        console.print(f"{iid}: {note}")
    srcs = ", ".join(f"{k}: {v}" for k, v in sorted(result.sources.items()))
    console.print(f"prices from {srcs} (quotes/bars: fills at the touch plus the venue's impact model)")
    if out is not None:
        console.print(f"wrote {out}/report.html and the tables")


def _write(result: Any, out: Path, write_report: Any, config: Path, spec: Any) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in ("orders", "fills", "funding", "equity", "decisions", "trades", "positions", "balances"):
        getattr(result, name).write_parquet(out / f"{name}.parquet")
    bt = spec.backtest
    eng = bt.config.engine
    assumptions: dict[str, Any] = {
        "capital (USD)": eng.capital_usd,
        "feed latency (ns)": eng.feed_latency_ns,
        "queue model": f"{eng.queue.kind.value} (power {eng.queue.power})",
        "equity sample (ns)": eng.sample_ns,
        "close open positions at the end": bt.config.close_at_end,
        "bar half spread (bp)": bt.config.bar_half_spread_bp,
    }
    for v in eng.venues:
        assumptions[f"venue {v.venue}"] = (
            f"entry {v.latency.entry_ns} ns, response {v.latency.response_ns} ns, IM {v.initial_margin}, "
            f"MM {v.maintenance_margin}, impact {v.impact_bp} bp, balances {v.balances or 'from capital'}"
        )
    for s in bt.strategies:
        assumptions[f"strategy {s.name}"] = (
            f"hedge {s.hedge.value}, signal {s.signal.value}, window {s.window} x {s.bar_ns} ns, entry "
            f"{s.bands.entry}, exit {s.bands.exit}, stop {s.bands.stop}, notional {s.notional_usd} USD, "
            f"{'market' if s.legging.market else f'IOC +{s.legging.slippage_bp} bp'} legs"
        )
    bands = {s.name: s.bands.entry for s in bt.strategies}
    write_report(
        out / "report.html",
        result,
        title=f"spreadlab backtest: {config.name}",
        assumptions=assumptions,
        bands=bands,
    )
