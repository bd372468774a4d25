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
from rich import box
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

    from spreadlab.pricing.chain import ForwardSource, forward_source

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
    # what each row's forward is: listed future, synthetic forward or the spot index (never guessed)
    sources = {u: forward_source(u).value for u in snap["underlying_id"].drop_nulls().unique().to_list()}
    source = pl.col("underlying_id").replace_strict(sources, default=ForwardSource.UNKNOWN.value)
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
        source.alias("forward_source"),
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


def _num(v: object, fmt: str, scale: float = 1.0) -> str:
    if v is None or not isinstance(v, int | float) or not math.isfinite(v):
        return "-"
    return format(float(v) * scale, fmt)


def _price(v: object) -> str:
    """Prices: thousands separators, 2 decimals below 10,000, none above."""
    if v is None or not isinstance(v, int | float) or not math.isfinite(v):
        return "-"
    return f"{v:,.0f}" if abs(v) >= 10_000 else f"{v:,.2f}"


def _table(title: str, heads: tuple[str, ...], right: int = 1) -> Table:
    t = Table(title=title, box=box.SIMPLE_HEAD, padding=(0, 0, 0, 1), pad_edge=False, title_justify="left")
    for i, h in enumerate(heads):
        t.add_column(h, justify="left" if i < right else "right", no_wrap=True)
    return t


def _print(chain: OptionChain, title: str) -> None:
    """Three tables, each readable at 100 columns: forwards, smiles, options (IVs in vol points)."""
    exp = chain.expiries
    fwd = _table(f"{title}: forwards per expiry", ("expiry", "forward of", "days", "forward", "future",
                 "parity bid", "parity ask", "basis %/y"), right=2)  # fmt: skip
    smile = _table(f"{title}: SVI smile per expiry (vol points)", ("expiry", "options", "fit pts",
                   "ATM IV", "RR25", "BF25", "RMSE", "no-arb"), right=1)  # fmt: skip
    for r in exp.iter_rows(named=True):
        fwd.add_row(
            str(r["group"])[:10], str(r["forward_source"] or "-"), _num(r["expiry_years"], ".1f", 365.0),
            _price(r["forward"]), _price(r["future"]), _price(r["parity_forward_bid"]),
            _price(r["parity_forward_ask"]), _num(r["basis_annualised"], "+.2f", 100.0),
        )  # fmt: skip
        ok = r["svi_butterfly_free"]
        smile.add_row(
            str(r["group"])[:10], str(r["n_options"]), str(r["svi_n"]), _num(r["atm_vol"], ".1f", 100.0),
            _num(r["rr25"], "+.2f", 100.0), _num(r["bf25"], "+.2f", 100.0),
            _num(r["svi_rmse_vol_points"], ".2f"), "-" if ok is None else ("yes" if ok else "NO"),
        )  # fmt: skip
    console.print(fwd)
    console.print(
        "forward of: future = the listed future of the expiry (parity compared with it); synthetic / "
        "index = Deribit's synthetic forward or the spot index (no future listed: no parity "
        "comparison); parity = the chain's own parity forward."
    )
    console.print(smile)
    heads = ("option", "bid IV", "ask IV", "mark IV", "delta", "gamma", "vega", "theta", "resid")
    o = _table(f"{title}: options (IVs, residual to SVI: vol points; greeks: premium currency)", heads)
    for r in chain.options.sort("expiry_years", "strike", "kind").iter_rows(named=True):
        o.add_row(
            str(r.get("instrument") or f"{r['group']} {r['strike']:g} {r['kind']}"),
            *(_num(r[c], ".1f", 100.0) for c in ("bid_iv", "ask_iv", "mark_iv")),
            _num(r["delta_linear"], "+.3f"), *(_num(r[c], ".2e") for c in ("gamma", "vega", "theta")),
            _num(r["residual"], "+.2f", 100.0),
        )  # fmt: skip
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
    _print(ch, f"{underlying.upper()} {ns_to_iso(ts)[:19]}Z")
