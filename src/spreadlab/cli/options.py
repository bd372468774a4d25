"""``spreadlab options chain``: the option chain view of one snapshot from a catalog.

Thin: read the newest ``option_quotes`` snapshot of the underlying at or
before ``--at`` from the catalog, hand it to
:func:`spreadlab.pricing.chain.option_chain` (IVs solved by spreadlab, greeks,
SVI fit and residuals, put-call-parity forward band per expiry), print rich
tables or JSON. Errors print one line and exit with code 2.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from spreadlab.cli._common import console, print_json, run_or_exit
from spreadlab.core.enums import Settlement
from spreadlab.core.time import NS_PER_DAY, VENUE_DAY_COUNT, ns_to_iso, parse_time
from spreadlab.errors import DataError, ValidationError

if TYPE_CHECKING:
    import polars as pl

    from spreadlab.data.catalog import Catalog
    from spreadlab.pricing.chain import OptionChain

__all__ = ["app", "chain_snapshot"]

app = typer.Typer(
    name="options",
    help="Option chains: IVs, greeks, SVI surface, residuals, parity forwards.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def chain_snapshot(catalog: Catalog, underlying: str, at: str | None) -> tuple[int, pl.DataFrame, Settlement]:
    """Return (snapshot ns, the quotes in :func:`option_chain`'s columns, settlement) of the newest snapshot.

    ``underlying`` is the option root (``BTC``); the snapshot is the newest
    ``option_quotes`` time at or before ``at`` (default: the newest) of the
    options whose symbol starts with ``<underlying>-``.
    """
    import polars as pl

    root = underlying.strip().upper()
    if not root.isalnum():
        raise ValidationError(f"--underlying={underlying!r} must be a coin such as BTC")
    t = parse_time(at) if at is not None else None
    inv = catalog.instruments().filter(pl.col("kind") == "option_quotes")
    ids = [i for i in inv["instrument_id"].to_list() if i.split(":", 1)[1].startswith(root + "-")]
    if not ids:
        raise DataError(f"the catalog has no option quotes for underlying {root!r}", path=str(catalog.path))
    last = int(inv.filter(pl.col("instrument_id").is_in(ids))["last_ts"].max())  # type: ignore[arg-type]
    first = int(inv.filter(pl.col("instrument_id").is_in(ids))["first_ts"].min())  # type: ignore[arg-type]
    end = last if t is None else t
    if end < first:
        raise ValidationError(f"--at {at} is before the first {root} option snapshot ({ns_to_iso(first)})")
    df = catalog.query("option_quotes", ids, start=end - 40 * NS_PER_DAY, end=end + 1)
    if df.height == 0:
        raise DataError(f"no {root} option snapshot in the 40 days before {ns_to_iso(end)}")
    snap_ts = int(df["ts_event"].max())  # type: ignore[arg-type]
    snap = df.filter(pl.col("ts_event") == snap_ts)
    inverse = bool(snap["instrument_id"].str.contains(r"^DERIBIT:[A-Z0-9]+-").all()) and not bool(
        snap["instrument_id"].str.contains("_USD").any()
    )
    # years to expiry in each row's venue day count (Deribit: ACT/365)
    days_per_year = {v.value: dc.days_per_year for v, dc in VENUE_DAY_COUNT.items()}
    venue = pl.col("instrument_id").str.split(":").list.first()
    ns_per_year = venue.replace_strict(days_per_year, default=365.0) * NS_PER_DAY
    listed = ~pl.col("underlying_id").fill_null("").str.contains("SYN.", literal=True)
    quotes = snap.select(
        ((pl.col("expiry_ns") - pl.col("ts_event")) / ns_per_year).alias("expiry_years"),
        "strike",
        pl.col("option_kind").alias("kind"),
        "bid",
        "ask",
        "mark",
        pl.col("instrument_id").str.split(":").list.last().alias("instrument"),
        pl.lit(root).alias("underlying"),
        pl.col("expiry_ns").map_elements(lambda x: ns_to_iso(x)[:10], return_dtype=pl.String).alias("expiry"),
        pl.col("underlying_price").alias("forward"),
        pl.when(listed).then(pl.col("underlying_price")).otherwise(None).alias("future"),
        pl.col("index_price").alias("index"),
    ).filter(pl.col("expiry_years") > 0)
    return snap_ts, quotes, Settlement.INVERSE if inverse else Settlement.LINEAR


def _clean(df: pl.DataFrame) -> list[dict[str, object]]:
    rows = df.to_dicts()
    for r in rows:
        for k, v in r.items():
            if isinstance(v, float) and not math.isfinite(v):
                r[k] = None
    return rows


def _fmt(v: object, scale: float = 1.0) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if isinstance(v, float):
        x = v * scale
        return f"{x:,.2f}" if abs(x) >= 100 else f"{x:.4g}"
    return str(v)


_OPT_COLS = (
    ("instrument", "option", 1.0),
    ("bid_iv", "bid IV", 100.0),
    ("ask_iv", "ask IV", 100.0),
    ("mark_iv", "mark IV", 100.0),
    ("delta_linear", "delta", 1.0),
    ("gamma", "gamma", 1.0),
    ("vega", "vega", 1.0),
    ("theta", "theta", 1.0),
    ("residual", "resid vp", 100.0),
)


def _print(chain: OptionChain, title: str) -> None:
    exp = chain.expiries
    t = Table(title=f"{title}: expiries")
    cols = [c for c in exp.columns if c not in ("underlying", "group")]
    for c in cols:
        t.add_column(c, overflow="fold")
    for row in exp.iter_rows(named=True):
        t.add_row(*(_fmt(row[c]) for c in cols))
    console.print(t)
    o = Table(title=f"{title}: options (IV and residual in vol points)")
    for _, h, _ in _OPT_COLS:
        o.add_column(h, overflow="fold")
    for row in chain.options.sort("expiry_years", "strike", "kind").iter_rows(named=True):
        o.add_row(*(_fmt(row.get(c), s) for c, _, s in _OPT_COLS))
    console.print(o)


@app.command("chain")
def chain(
    catalog: Path = typer.Option(..., "--catalog", "-c", help="Catalog folder."),
    underlying: str = typer.Option(..., "--underlying", "-u", help="Option root, e.g. BTC."),
    at: str | None = typer.Option(
        None, "--at", help="Snapshot at or before this time (ISO 8601); default newest."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print options, expiries and parity as JSON."),
) -> None:
    """Show a chain: bid/ask/mark IV, greeks, SVI residuals; per expiry parity band, future, SVI fit."""

    from spreadlab.data.catalog import Catalog  # heavy: import on use
    from spreadlab.pricing.chain import option_chain

    def build() -> tuple[int, OptionChain]:
        if not catalog.is_dir():
            raise ValidationError(f"--catalog {str(catalog)!r} is not a folder")
        ts, quotes, st = chain_snapshot(Catalog(catalog), underlying, at)
        return ts, option_chain(quotes, settlement=st)

    ts, ch = run_or_exit(build)
    if as_json:
        print_json(
            {
                "snapshot": ns_to_iso(ts),
                "underlying": underlying.upper(),
                "settlement": ch.settlement.value,
                "expiries": _clean(ch.expiries),
                "options": _clean(ch.options),
                "parity": _clean(ch.parity),
            }
        )
        return
    _print(ch, f"{underlying.upper()} at {ns_to_iso(ts)}")
