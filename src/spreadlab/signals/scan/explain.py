"""Why a spread kind produced no rows at a scan time: one sentence per kind, from the market view.

A kind builds nothing when the data at ``at`` lacks what it needs (a fresh
price for each leg, an index, a listed future, a quoted chain) or when what
it found did not pass its own test (a pair's cointegration p-value). The
sentence names the missing piece and the freshness rule that applies, so a
user can tell "no data of that kind" from "data too old at this time" from
"nothing passed". Candidates that were built but could not be priced at the
size are counted apart.
"""

from __future__ import annotations

from collections import defaultdict

import polars as pl

from spreadlab.core.time import NS_PER_HOUR, NS_PER_MINUTE, ns_to_iso
from spreadlab.instruments.base import Future, Instrument, Perpetual
from spreadlab.signals.scan.config import ScanKind
from spreadlab.signals.scan.view import MarketView

__all__ = ["empty_reason"]


def _age(ns: int) -> str:
    if ns % NS_PER_HOUR == 0:
        return f"{ns // NS_PER_HOUR} h"
    return f"{ns / NS_PER_MINUTE:g} min"


def _fresh_rule(view: MarketView) -> str:
    c = view.config
    return (
        f"quotes/books within {_age(c.quote_max_age_ns)}, marks within {_age(c.mark_max_age_ns)}, "
        "bars within two intervals"
    )


def _options(view: MarketView) -> str | None:
    """Why no option kind can be built at all, or None when a fresh snapshot exists."""
    df = view.options
    if df.height == 0:
        return "no option quotes in the lookback window"
    newest = int(df["ts_event"].max())  # type: ignore[arg-type]
    if view.at - newest > view.config.option_max_age_ns:
        return (
            f"the newest option snapshot ({ns_to_iso(newest)[:19]}Z) is older than "
            f"{_age(view.config.option_max_age_ns)}"
        )
    return None


def _listed_futures(view: MarketView) -> set[tuple[str, str, int]]:
    return {(f.id.venue, f.base, f.expiry_ns) for f in view.instruments() if isinstance(f, Future)}


def _basis_hedge(view: MarketView, inst: Instrument, perps: list[Perpetual]) -> bool:
    if view.spot_for(inst) is not None:
        return True
    return isinstance(inst, Future) and any(
        p.base == inst.base and p.id.venue == inst.id.venue for p in perps
    )


def empty_reason(view: MarketView, kind: ScanKind, *, candidates: int, size_usd: float) -> str:
    """Return why ``kind`` has no row at ``view.at`` (``candidates`` were built before pricing)."""
    if candidates > 0:
        return f"{candidates} candidate(s) built, none could be priced at {size_usd:,.0f} USD"
    insts = view.instruments()
    perps = [i for i in insts if isinstance(i, Perpetual)]
    futs = [i for i in insts if isinstance(i, Future)]
    n_hist = view.config.min_history
    if kind is ScanKind.BASIS:
        legs = perps + futs
        if not legs:
            return f"no perpetual or dated future has a fresh price ({_fresh_rule(view)})"
        with_index = [i for i in legs if view.index_series(i) is not None]
        if not with_index:
            return (
                f"{len(legs)} perpetual(s)/future(s) priced, none with a fresh index (its mark rows' "
                "index) or a spot of its coin"
            )
        if not any(_basis_hedge(view, i, perps) for i in with_index):
            return (
                f"{len(with_index)} perpetual(s)/future(s) priced with an index, none with a hedge leg "
                "(a spot of the coin, or the venue's perpetual for a future)"
            )
        return (
            f"{len(with_index)} perpetual(s)/future(s) priced with an index and a hedge, none with "
            f"{n_hist} history points or a funding rate for its fair value"
        )
    if kind is ScanKind.CALENDAR:
        chains: dict[tuple[str, str], int] = defaultdict(int)
        for f in futs:
            if f.expiry_ns > view.at:
                chains[(f.id.venue, f.base)] += 1
        n_pairs = sum(max(0, n - 1) for n in chains.values())
        if n_pairs == 0:
            return f"no coin has two dated futures with fresh prices on one venue ({len(futs)} priced)"
        return (
            f"{n_pairs} pair(s) of consecutive expiries priced, none with {n_hist} history points "
            "more than a day before the near expiry"
        )
    if kind is ScanKind.XVENUE:
        seen = sorted({p.id.venue for p in perps})
        return (
            "no coin has a perpetual with a fresh price on two venues "
            f"(perpetuals priced on: {', '.join(seen) or 'none'})"
        )
    if kind is ScanKind.PAIRS:
        count: dict[str, int] = defaultdict(int)
        for p in perps:
            count[p.id.venue] += 1
        if not count or max(count.values()) < 2:
            return f"fewer than two perpetuals with fresh prices on any one venue ({_fresh_rule(view)})"
        venue = max(sorted(count), key=lambda v: count[v])
        c = view.config
        return (
            f"{count[venue]} perpetuals on {venue}, but no pair has {2 * n_hist} aligned history points, "
            f"return correlation >= {c.pairs_min_correlation:g} and an Engle-Granger p-value <= "
            f"{c.pairs_max_pvalue:g} over the lookback"
        )
    why = _options(view)
    if why is not None:
        return why
    if kind is ScanKind.PARITY:
        roots = view.options.select(
            pl.col("instrument_id").str.split(":").list.first().alias("venue"),
            pl.col("instrument_id").str.split(":").list.last().str.split("-").list.first().alias("base"),
            "expiry_ns",
        ).unique()
        listed = _listed_futures(view)
        if not any((r[0], r[1], r[2]) in listed for r in roots.iter_rows()):
            return (
                "no option expiry has a listed future with a fresh price (forwards there are synthetic "
                "or the index, which parity is never compared with)"
            )
        return "no expiry with a listed future has a strike quoted on all four sides"
    if kind is ScanKind.BOX:
        return "no expiry has two neighbouring strikes quoted on all four sides"
    return (
        "no expiry has 5 strikes with two-sided implied vols and a future, perpetual or spot of the "
        "coin to hedge with"
    )
