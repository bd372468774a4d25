"""Which injected episodes are worth trading: the ground truth's ``tradable`` column.

An episode of size ``s`` is worth trading at a size when ``|s|`` exceeds the
round trip the scanner would pay to capture it: entering and leaving every
leg of the spread it would build, at the taker (or maker) fee of each leg's
venue and class (:class:`~spreadlab.instruments.fees.FeeModel`) plus half the
quoted spread at the episode's start. In basis points of notional:

    cost = 2 * sum over legs |ratio| * (fee_bp + half_spread_bp)

with the legs the scanner uses (:mod:`spreadlab.signals.scan.linear`,
:mod:`~spreadlab.signals.scan.options`):

- ``premium_burst`` (perpetual vs index) and ``basis_dislocation`` (future vs
  its carry fair): the instrument and a spot of its coin, its own venue family
  first (for a future without one, the venue's perpetual);
- ``venue_dislocation``: the two perpetuals;
- ``pair_spread``: the follower (ratio 1) and the leader (ratio ``|hedge
  ratio|`` from the market's ``pairs`` table), known from bars only, so each
  at the scanner's assumed half-spread ``half_spread_bp``;
- ``iv_mispricing`` (size in vol points): the option's half IV spread
  (``(ask_iv - bid_iv) / 2``) plus its fee and the fee and half-spread of
  the delta hedge (the expiry's future, else a perpetual, else a spot),
  each converted to vol points by the option's ``vega`` column (USD per vol
  point per unit of underlying, as the market and Deribit give it).

A leg without a quote at the start takes ``half_spread_bp``. The scanner is
not consulted, so a spread it fails to build still counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import polars as pl

from spreadlab.core.enums import Liquidity
from spreadlab.errors import ValidationError
from spreadlab.instruments.base import Future, Instrument, Option, Perpetual, Spot
from spreadlab.instruments.fees import FeeModel

__all__ = ["label_tradable"]


def _last_before(df: pl.DataFrame | None, iid: str, t: int) -> dict | None:
    if df is None or df.height == 0:
        return None
    g = df.filter((pl.col("instrument_id") == iid) & (pl.col("ts_event") <= t))
    return None if g.height == 0 else g.row(g.height - 1, named=True)


def _half_spread_bp(quotes: pl.DataFrame | None, iid: str, t: int, default: float) -> float:
    q = _last_before(quotes, iid, t)
    if q is None or not (q["bid"] and q["ask"]) or q["ask"] < q["bid"]:
        return default
    mid = (q["bid"] + q["ask"]) / 2
    return float((q["ask"] - q["bid"]) / 2 / mid * 1e4)


def _option_hedge(opt: Option, insts: Iterable[Instrument]) -> Instrument | None:
    """The scanner's delta hedge: the expiry's future, else a perpetual, else a spot of the coin."""
    pool = [i for i in insts if i.base == opt.base and i.id.venue == opt.id.venue]
    fut = next((i for i in pool if isinstance(i, Future) and i.expiry_ns == opt.expiry_ns), None)
    perp = next((i for i in pool if isinstance(i, Perpetual)), None)
    spot = next((i for i in pool if isinstance(i, Spot)), None)
    return fut or perp or spot


def _hedge(inst: Instrument, insts: Iterable[Instrument]) -> Instrument | None:
    pool = list(insts)
    family = inst.id.venue.split("_")[0]
    spots = sorted(
        (
            i
            for i in pool
            if isinstance(i, Spot) and i.base == inst.base and i.quote in ("USD", "USDT", "USDC")
        ),
        key=lambda i: (i.id.venue.split("_")[0] != family, str(i.id)),
    )  # the scanner's choice (MarketView.spot_for): same venue family first
    if spots:
        return spots[0]
    if isinstance(inst, Future | Option):
        return next(
            (
                i
                for i in pool
                if isinstance(i, Perpetual) and i.base == inst.base and i.id.venue == inst.id.venue
            ),
            None,
        )
    return None


def label_tradable(
    truth: pl.DataFrame,
    tables: Mapping[str, pl.DataFrame],
    *,
    instruments: Iterable[Instrument],
    fees: FeeModel | None = None,
    liquidity: Liquidity = Liquidity.TAKER,
    half_spread_bp: float = 1.0,
) -> pl.DataFrame:
    """Return ``truth`` with ``cost`` (round trip, in its unit) and ``tradable`` (``|size| > cost``).

    ``tables`` are the market's canonical tables (``quotes``, ``option_quotes``
    and, for pair spreads, ``pairs``); ``instruments`` its instruments.
    """
    fm = fees if fees is not None else FeeModel.default()
    by_id = {str(i.id): i for i in instruments}
    quotes = tables.get("quotes")
    options = tables.get("option_quotes")
    pairs = tables.get("pairs")
    betas: dict[tuple[str, str], float] = {}
    if pairs is not None and pairs.height:
        betas = {
            (r["follower_id"], r["leader_id"]): abs(float(r["hedge_ratio"]))
            for r in pairs.iter_rows(named=True)
        }

    def leg_bp(inst: Instrument, t: int, *, quoted: bool = True) -> float:
        hs = _half_spread_bp(quotes, str(inst.id), t, half_spread_bp) if quoted else half_spread_bp
        return fm.fee_bp(inst, liquidity=liquidity) + hs

    costs: list[float | None] = []
    for row in truth.iter_rows(named=True):
        iid, ref, kind, t = row["instrument_id"], row["reference_id"], row["kind"], int(row["start_ns"])
        inst = by_id.get(iid)
        if inst is None:
            raise ValidationError(f"ground truth names {iid!r}, which is not one of the instruments")
        if kind in ("premium_burst", "basis_dislocation"):
            hedge = _hedge(inst, by_id.values())
            legs = [leg_bp(inst, t)] + ([leg_bp(hedge, t)] if hedge is not None else [])
            costs.append(2.0 * sum(legs))
        elif kind == "venue_dislocation":
            costs.append(2.0 * (leg_bp(inst, t) + leg_bp(by_id[ref], t)))
        elif kind == "pair_spread":
            beta = betas.get((iid, ref), 1.0)
            costs.append(2.0 * (leg_bp(inst, t, quoted=False) + beta * leg_bp(by_id[ref], t, quoted=False)))
        elif kind == "iv_mispricing":
            costs.append(_iv_cost(inst, t, options, fm, liquidity, by_id.values(), leg_bp))
        else:
            raise ValidationError(f"ground truth kind {kind!r} is not known")
    out = truth.with_columns(pl.Series("cost", costs, dtype=pl.Float64))
    return out.with_columns((pl.col("size").abs() > pl.col("cost")).fill_null(False).alias("tradable"))


def _iv_cost(inst: Instrument, t: int, options: pl.DataFrame | None, fm: FeeModel, liquidity: Liquidity,
             insts: Iterable[Instrument], leg_bp: object) -> float | None:  # fmt: skip
    """Round trip of a delta-hedged option position in vol points (see the module docstring)."""
    q = _last_before(options, str(inst.id), t)
    if q is None or not isinstance(inst, Option):
        return None
    vega = q.get("vega")
    index = q.get("index_price") or q.get("underlying_price")
    if not vega or not index or not q.get("bid_iv") or not q.get("ask_iv"):
        return None
    # the option_quotes convention (the built-in market, Deribit): vega in USD per vol point per unit
    usd_per_vp = float(vega)
    if usd_per_vp <= 0:
        return None
    half_iv = (float(q["ask_iv"]) - float(q["bid_iv"])) / 2.0 * 100.0
    mid_usd = (float(q["bid"]) + float(q["ask"])) / 2.0 * (float(index) if inst.is_inverse else 1.0)
    fee = fm.fee_usd(inst, quantity=1.0, price_usd=max(mid_usd, 0.0), underlying_usd=float(index),
                     liquidity=liquidity)  # fmt: skip
    hedge = _option_hedge(inst, insts)
    delta = abs(float(q.get("delta") or 0.0))
    hedge_usd = 0.0 if hedge is None else delta * float(index) * leg_bp(hedge, t) / 1e4  # type: ignore[operator]
    return 2.0 * (half_iv + (fee + hedge_usd) / usd_per_vp)
