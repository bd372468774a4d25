"""Candidates on an option chain snapshot: put-call parity, boxes and vol residuals.

The newest fresh snapshot of each chain (``VENUE:ROOT``, e.g. ``DERIBIT:BTC``)
is used; prices are in the premium currency (coin for coin-settled options,
converted to USD at the row's index price). ``F`` is the expiry's forward
(the rows' ``underlying_price``, else the median parity forward), ``T`` years
to expiry.

- **parity**: per strike with call and put bid/ask, the synthetic forward
  ``F_syn`` (:func:`spreadlab.pricing.forwards.parity_forward`) at mids is the
  fair value of the listed future of the expiry: ``v = F_fut`` (USD), fair
  ``F_syn``; the legs are future, call and put (a conversion or reversal).
- **box**: strikes ``K1 < K2`` (adjacent, or up to ``box_max_width_steps``
  apart) with all four quotes: ``v = (C1 - C2 - P1 + P2) * F`` USD for
  coin premiums (the box's USD value discounted at the implied carry),
  fair ``K2 - K1``.
- **vol**: raw SVI (the parametrisation of :mod:`spreadlab.pricing.svi`,
  here an unconstrained weighted least-squares fit by the compiled
  box-bounded Levenberg-Marquardt of :func:`spreadlab.kernels.svi.svi_fit_lm`
  from three starts: residuals need the best smile, not an arbitrage-free
  one, and the constrained fit costs seconds on 1-day expiries) fitted to
  the mid implied vols of each expiry with at least 5 strikes (every option
  whose bid and ask IVs solve, weighted by the inverse IV spread), refitted
  once without points whose residual exceeds
  ``max(3 * 1.4826 * MAD, 1 vol point)`` so one mispriced quote does not
  bend the smile; ``v`` = the option's mid IV, fair = the fitted IV (vol
  points); its z-score uses the residuals of the ``vol_history_snapshots``
  previous snapshots (at least 3). A deviation of ``d`` vol is worth
  ``|d| * vega`` USD per coin (Black vega at the fitted vol), hedged with
  ``-delta`` of the expiry's future (else a perpetual or spot of the coin).
"""

from __future__ import annotations

import math
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from spreadlab._typing import FloatArray
from spreadlab.core.enums import OptionKind, Settlement
from spreadlab.errors import ValidationError
from spreadlab.instruments.base import Future, Instrument, Option, Perpetual
from spreadlab.kernels.iv import implied_vol as _iv_kernel
from spreadlab.kernels.svi import svi_fit_lm, svi_total_variance
from spreadlab.pricing.black76 import black76_greeks
from spreadlab.pricing.forwards import parity_forward
from spreadlab.pricing.iv import implied_vol
from spreadlab.signals.scan.candidate import Candidate
from spreadlab.signals.scan.config import ScanKind
from spreadlab.signals.scan.view import MarketView
from spreadlab.signals.spread import Leg, LegMarket, PriceSource, Spread, SpreadQuote

__all__ = ["SurfaceCache", "option_candidates"]

SurfaceCache = MutableMapping[tuple[str, int, int], pl.DataFrame]
"""Residual tables keyed by (chain root, expiry ns, snapshot ns), shared by scans of one call."""

_COLS = (
    "instrument_id",
    "bid",
    "ask",
    "strike",
    "expiry_ns",
    "option_kind",
    "underlying_price",
    "index_price",
    "bid_size",
    "ask_size",
    "ts_event",
)


def _root(iid: str) -> str:
    venue, _, sym = iid.partition(":")
    return f"{venue}:{sym.split('-')[0]}"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Slice:
    root: str
    expiry_ns: int
    ts_ns: int
    years: float
    forward: float
    index: float
    settlement: Settlement
    rows: pl.DataFrame  # one row per option with the _COLS, mid, resolved


def _snapshots(view: MarketView) -> dict[str, pl.DataFrame]:
    df = view.options
    if df.height == 0:
        return {}
    df = df.select(_COLS).with_columns(
        pl.col("instrument_id").map_elements(_root, return_dtype=pl.String).alias("root")
    )
    return {str(k[0]): g for k, g in df.partition_by("root", as_dict=True, maintain_order=True).items()}


def _slices(view: MarketView, root: str, snap: pl.DataFrame, ts: int) -> list[_Slice]:
    rows = snap.filter(pl.col("ts_event") == ts)
    out = []
    for (exp,), g in sorted(rows.partition_by("expiry_ns", as_dict=True).items(), key=lambda kv: kv[0]):
        if exp is None or int(exp) <= ts:
            continue
        first = view.resolve(str(g["instrument_id"][0]))
        if not isinstance(first, Option):
            continue
        fwd = g["underlying_price"].drop_nulls()
        idx = g["index_price"].drop_nulls()
        if fwd.len() == 0 or idx.len() == 0:
            continue
        g = g.filter(pl.col("strike").is_not_null() & pl.col("option_kind").is_in(["call", "put"]))
        out.append(
            _Slice(
                root=root,
                expiry_ns=int(exp),
                ts_ns=ts,
                years=first.time_to_expiry(ts),
                forward=float(fwd.median()),  # type: ignore[arg-type]
                index=float(idx.median()),  # type: ignore[arg-type]
                settlement=first.settlement,
                rows=g.sort("strike", "option_kind"),
            )
        )
    return out


def _ivs(sl: _Slice) -> pl.DataFrame:
    """Options of a slice with a two-sided quote, their bid/mid/ask IV and log-moneyness."""
    g = sl.rows.filter((pl.col("bid") > 0) & (pl.col("ask") > 0) & (pl.col("ask") >= pl.col("bid")))
    strikes = g["strike"].to_numpy()
    is_call = (g["option_kind"] == "call").to_numpy()
    cols = {}
    for name, price in (("bid_iv", g["bid"]), ("ask_iv", g["ask"]), ("mid_iv", (g["bid"] + g["ask"]) / 2)):
        iv = implied_vol(
            price.to_numpy(),
            forward=sl.forward,
            strike=strikes,
            expiry_years=sl.years,
            kind=is_call,
            settlement=sl.settlement,
        )
        cols[name] = pl.Series(name, np.asarray(iv.vol)).fill_nan(None)
    return g.with_columns(*cols.values(), pl.Series("k", np.log(strikes / sl.forward)))


class _Smile:
    """Raw SVI parameters from an unconstrained weighted least-squares fit (for residuals only)."""

    __slots__ = ("p", "t")

    def __init__(self, p: FloatArray, t: float) -> None:
        self.p, self.t = p, t

    def implied_vol(self, k: FloatArray) -> FloatArray:
        w = svi_total_variance(np.ascontiguousarray(k, dtype=np.float64), *(float(x) for x in self.p))
        return np.asarray(np.sqrt(np.maximum(w, 1e-16) / self.t), dtype=np.float64)


def _lsq(k: FloatArray, v: FloatArray, w: FloatArray, t: float) -> _Smile | None:
    """Best of three box-bounded Levenberg-Marquardt fits (the compiled ``svi_fit_lm``)."""
    sw = np.ascontiguousarray(np.sqrt(w / w.mean()), dtype=np.float64)
    k = np.ascontiguousarray(k, dtype=np.float64)
    v = np.ascontiguousarray(v, dtype=np.float64)
    wm = v * v * t
    span = float(k.max() - k.min())
    lb = np.array([-float(wm.max()), 0.0, -0.999, k.min() - span - 0.5, 1e-4])
    ub = np.array([float(wm.max()), 4.0, 0.999, k.max() + span + 0.5, max(2.0, 2 * span)])
    i0 = int(np.argmin(wm))
    best, cost = None, math.inf
    for rho0 in (-0.5, 0.0, 0.5):
        sig0 = 0.25 * max(span, 0.05)
        b0 = min(0.5, max(1e-3, 2.0 * float(np.std(wm)) / max(span, 1e-3)))
        x0 = np.clip(
            [float(wm[i0]) - b0 * sig0 * math.sqrt(1 - rho0 * rho0), b0, rho0, float(k[i0]), sig0],
            lb + 1e-9,
            ub - 1e-9,
        )
        # a run out of iterations still returns its best point so far, which is all a residual needs
        p, c, _iters = svi_fit_lm(k, v, sw, t, np.asarray(x0, dtype=np.float64), lb, ub, 200)
        if math.isfinite(c) and c < cost:
            best, cost = p, float(c)
    return None if best is None else _Smile(np.asarray(best, dtype=np.float64), t)


def _fit(k: FloatArray, v: FloatArray, w: FloatArray, t: float) -> _Smile | None:
    """Fit the smile, then refit once without outliers (robust to a single mispriced quote)."""
    fit = _lsq(k, v, w, t)
    if fit is None:
        return None
    r = v - fit.implied_vol(k)
    scale = 1.4826 * float(np.median(np.abs(r - np.median(r))))
    keep = np.abs(r) <= max(3.0 * scale, 0.01)
    if (~keep).any() and np.unique(k[keep]).size >= 5:
        fit = _lsq(k[keep], v[keep], w[keep], t)
    return fit


def _residuals(sl: _Slice, cache: SurfaceCache) -> pl.DataFrame:
    """Options of a slice with mid IV, fitted IV and residual (vol points); cached per snapshot.

    The fit uses every option whose bid and ask IVs solve, weighted by the
    inverse of its IV spread (``1 / max(ask_iv - bid_iv, 0.1 vol point)``), so
    wide in-the-money quotes count little.
    """
    key = (sl.root, sl.expiry_ns, sl.ts_ns)
    if key in cache:
        return cache[key]
    g = _ivs(sl).filter(
        pl.col("mid_iv").is_not_null() & pl.col("bid_iv").is_not_null() & pl.col("ask_iv").is_not_null()
    )
    res = g.head(0).with_columns(
        pl.lit(None, pl.Float64).alias("fit_iv"), pl.lit(None, pl.Float64).alias("resid")
    )
    if g["strike"].n_unique() >= 5:
        k, v = g["k"].to_numpy(), g["mid_iv"].to_numpy()
        w = 1.0 / np.maximum((g["ask_iv"] - g["bid_iv"]).to_numpy(), 0.001)
        fit = _fit(k, v, w, sl.years)
        if fit is not None:
            fv = fit.implied_vol(k)
            res = g.with_columns(pl.Series("fit_iv", fv), pl.Series("resid", (v - fv) * 100.0))
    cache[key] = res
    return res


def _hedge(view: MarketView, opt: Instrument, expiry_ns: int) -> Instrument | None:
    insts = view.instruments()
    for cls in (Future, Perpetual):
        for inst in insts:
            if isinstance(inst, cls) and inst.base == opt.base and inst.id.venue == opt.id.venue:
                if cls is Future and getattr(inst, "expiry_ns", None) != expiry_ns:
                    continue
                return inst
    return view.spot_for(opt)


def _size(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) and x >= 0 else None


def _opt_leg(view: MarketView, row: dict, sl: _Slice) -> LegMarket | None:
    inst = view.resolve(str(row["instrument_id"]))
    if not isinstance(inst, Option) or not (row["bid"] or 0) > 0 or not (row["ask"] or 0) > 0:
        return None
    usd = sl.index if sl.settlement is Settlement.INVERSE else 1.0
    return LegMarket(
        instrument=inst,
        bid=float(row["bid"]),
        ask=float(row["ask"]),
        bid_size=_size(row["bid_size"]),
        ask_size=_size(row["ask_size"]),
        usd_per_price=usd,
        underlying_usd=sl.index,
        source=PriceSource.QUOTE,
        ts_ns=sl.ts_ns,
    )


def _units(m: LegMarket, coins: float) -> float:
    """Units of a non-option leg holding ``coins`` of exposure."""
    return coins / (m.unit_usd(m.mid) / m.mid)


def _vol(view: MarketView, sl: _Slice, cache: SurfaceCache, history: list[_Slice]) -> list[Candidate]:
    res = _residuals(sl, cache)
    if res.height == 0:
        return []
    past = [dict(zip(p["instrument_id"].to_list(), p["resid"].to_list(), strict=True)) for p in
            (_residuals(h, cache) for h in history)]  # fmt: skip
    step = float(np.median(np.diff([h.ts_ns for h in history] + [sl.ts_ns]))) if history else None
    out = []
    for row in res.iter_rows(named=True):
        leg = _opt_leg(view, row, sl)
        if leg is None:
            continue
        opt = leg.instrument
        if not isinstance(opt, Option):  # pragma: no cover - _opt_leg returns option legs only
            continue
        hedge = _hedge(view, opt, sl.expiry_ns)
        hleg = None if hedge is None else view.leg(str(hedge.id))
        if hedge is None or hleg is None:
            continue
        g = black76_greeks(sl.forward, opt.strike, sl.years, row["fit_iv"], kind=opt.kind)
        vega, delta = float(g.vega), float(g.delta)
        if not vega > 0 or abs(delta) < 1e-6:
            continue
        resid = float(row["resid"])
        # the band solves one IV per side: the kernel on prepared one-element arrays (no re-validation)
        fixed = (
            np.array([sl.forward]),
            np.array([opt.strike]),
            np.array([sl.years]),
            np.array([opt.kind is OptionKind.CALL]),
            np.ones(1),
            sl.settlement is Settlement.INVERSE,
        )

        def fn(p: Sequence[float], _fixed: tuple = fixed) -> float:
            if not (math.isfinite(p[0]) and p[0] >= 0):  # as implied_vol's validation: leave it out
                raise ValidationError(f"price={p[0]!r} must be finite and >= 0")
            return float(_iv_kernel(np.array([float(p[0])]), *_fixed)[0][0]) * 100

        hist = np.array([float(p[row["instrument_id"]]) for p in past if row["instrument_id"] in p])
        coins_per_usd = 1.0 / sl.forward
        spread = Spread(
            legs=(Leg(instrument=opt, ratio=1.0), Leg(instrument=hedge, ratio=-delta)),
            quote=SpreadQuote.IV_RESIDUAL,
            name=f"vol {opt.id} vs SVI",
        )
        out.append(
            Candidate(
                kind=ScanKind.VOL,
                spread=spread,
                markets={opt.id: leg, hedge.id: hleg},
                instrument_id=str(opt.id),
                reference_id=f"SVI:{sl.root}-{sl.expiry_ns}",
                ts_ns=view.at,
                value=float(row["mid_iv"]) * 100,
                fair=float(row["fit_iv"]) * 100,
                unit="vol_points",
                deviation_sign=math.copysign(1.0, resid),
                edge_per_usd=abs(resid) / 100 * vega / sl.forward,
                units_per_usd=(coins_per_usd / opt.multiplier, _units(hleg, abs(delta) * coins_per_usd)),
                fair_source="svi",
                value_fn=fn,
                increasing=(True, False),
                history=hist if hist.size else None,
                history_step_ns=step,
                min_history=min(view.config.min_history, max(3, view.config.vol_history_snapshots)),
            )
        )
    return out


def _quad(sl: _Slice) -> pl.DataFrame:
    g = sl.rows.filter((pl.col("bid") > 0) & (pl.col("ask") > 0))
    calls = g.filter(pl.col("option_kind") == "call").select(
        "strike", pl.all().exclude("strike").name.prefix("c_")
    )
    puts = g.filter(pl.col("option_kind") == "put").select(
        "strike", pl.all().exclude("strike").name.prefix("p_")
    )
    return calls.join(puts, on="strike").sort("strike")


def _parity_and_box(view: MarketView, sl: _Slice, kinds: tuple[ScanKind, ...]) -> list[Candidate]:
    q = _quad(sl)
    if q.height == 0:
        return []
    coin = sl.settlement is Settlement.INVERSE
    cm = ((q["c_bid"] + q["c_ask"]) / 2).to_numpy()
    pm = ((q["p_bid"] + q["p_ask"]) / 2).to_numpy()
    strikes = q["strike"].to_numpy()
    syn = parity_forward(cm, pm, strike=strikes, expiry_years=sl.years, settlement=sl.settlement)
    fin = np.isfinite(syn)
    if not fin.any():
        return []
    f_ref = float(np.median(syn[fin]))
    out: list[Candidate] = []
    rows = list(q.iter_rows(named=True))
    legs = [
        (
            _opt_leg(view, {k[2:]: v for k, v in r.items() if k.startswith("c_")}, sl),
            _opt_leg(view, {k[2:]: v for k, v in r.items() if k.startswith("p_")}, sl),
        )
        for r in rows
    ]
    first = legs[0][0]
    fut = None
    if first is not None:
        fut = next(
            (
                f
                for f in view.instruments()
                if isinstance(f, Future)
                and f.expiry_ns == sl.expiry_ns
                and f.base == first.instrument.base
                and f.id.venue == first.instrument.id.venue
            ),
            None,
        )
    fleg = None if fut is None else view.leg(str(fut.id))
    if ScanKind.PARITY in kinds and fut is not None and fleg is not None:
        for i, (cl, pl_) in enumerate(legs):
            if cl is None or pl_ is None or not fin[i]:
                continue
            k, t, st = float(strikes[i]), sl.years, sl.settlement

            def fn(
                p: Sequence[float],
                _k: float = k,
                _t: float = t,
                _s: Settlement = st,
                _m: float = float(syn[i]),
            ) -> float:
                f = float(parity_forward(p[1], p[2], strike=_k, expiry_years=_t, settlement=_s))
                return p[0] - (f - _m) if math.isfinite(f) else math.nan

            dev = fleg.mid - float(syn[i])
            cpu = 1.0 / float(syn[i])
            spread = Spread(
                legs=(
                    Leg(instrument=fut, ratio=1.0),
                    Leg(instrument=cl.instrument, ratio=-1.0),
                    Leg(instrument=pl_.instrument, ratio=1.0),
                ),
                name=f"parity {fut.id} vs synthetic K={k:g}",
            )
            out.append(
                Candidate(
                    kind=ScanKind.PARITY,
                    spread=spread,
                    markets={fut.id: fleg, cl.instrument.id: cl, pl_.instrument.id: pl_},
                    instrument_id=str(fut.id),
                    reference_id=f"SYN:{sl.root}-{sl.expiry_ns}-K{k:g}",
                    ts_ns=view.at,
                    value=fleg.mid,
                    fair=float(syn[i]),
                    unit="usd",
                    deviation_sign=math.copysign(1.0, dev),
                    edge_per_usd=abs(dev) * cpu,
                    units_per_usd=(_units(fleg, cpu), cpu, cpu),
                    fair_source="parity",
                    value_fn=fn,
                    increasing=(True, False, True),
                )
            )
    if ScanKind.BOX in kinds:
        w_max = view.config.box_max_width_steps
        usd = f_ref if coin else 1.0
        for i in range(len(rows)):
            for j in range(i + 1, min(i + w_max, len(rows) - 1) + 1):
                c1, p1 = legs[i]
                c2, p2 = legs[j]
                if c1 is None or p1 is None or c2 is None or p2 is None:
                    continue
                width = float(strikes[j] - strikes[i])
                box = (cm[i] - cm[j] - pm[i] + pm[j]) * usd

                def bfn(p: Sequence[float], _u: float = usd) -> float:
                    return (p[0] - p[1] - p[2] + p[3]) * _u

                dev = box - width
                per = 1.0 / width
                spread = Spread(
                    legs=(
                        Leg(instrument=c1.instrument, ratio=1.0),
                        Leg(instrument=c2.instrument, ratio=-1.0),
                        Leg(instrument=p1.instrument, ratio=-1.0),
                        Leg(instrument=p2.instrument, ratio=1.0),
                    ),
                    name=f"box {sl.root} {strikes[i]:g}/{strikes[j]:g} exp {sl.expiry_ns}",
                )
                out.append(
                    Candidate(
                        kind=ScanKind.BOX,
                        spread=spread,
                        markets={m.instrument.id: m for m in (c1, c2, p1, p2)},
                        instrument_id=str(c1.instrument.id),
                        reference_id=str(p2.instrument.id),
                        ts_ns=view.at,
                        value=box,
                        fair=width,
                        unit="usd",
                        deviation_sign=math.copysign(1.0, dev),
                        edge_per_usd=abs(dev) * per,
                        units_per_usd=(per, per, per, per),
                        fair_source="no_arbitrage",
                        value_fn=bfn,
                        increasing=(True, False, False, True),
                    )
                )
    return out


def option_candidates(view: MarketView, kinds: tuple[ScanKind, ...], cache: SurfaceCache) -> list[Candidate]:
    """Parity, box and vol candidates of every fresh chain snapshot (see the module docstring)."""
    out: list[Candidate] = []
    for root, snap in sorted(_snapshots(view).items()):
        times = sorted(set(snap["ts_event"].to_list()))
        now = times[-1]
        if view.at - now > view.config.option_max_age_ns:
            continue
        slices = _slices(view, root, snap, now)
        hist_times = times[-1 - view.config.vol_history_snapshots : -1] if ScanKind.VOL in kinds else []
        hist_slices = {t: {s.expiry_ns: s for s in _slices(view, root, snap, t)} for t in hist_times}
        for sl in slices:
            if ScanKind.PARITY in kinds or ScanKind.BOX in kinds:
                out.extend(_parity_and_box(view, sl, kinds))
            if ScanKind.VOL in kinds:
                history = [hist_slices[t][sl.expiry_ns] for t in hist_times if sl.expiry_ns in hist_slices[t]]
                out.extend(_vol(view, sl, cache, history))
    return out
