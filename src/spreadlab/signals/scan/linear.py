"""Candidates on linear instruments: basis, calendar, cross-venue and pairs.

Values are in basis points; ``I`` is the coin's index (a mark row's
``index``, else a spot of the coin), ``T`` years to expiry.

- **basis (perpetual)**: ``v = (P / I - 1) 1e4``; fair = the median premium
  over the lookback (``history``), else the newest funding rate per
  interval (``funding``: funding is the average premium the venue charges).
- **basis (future)**: ``v = (F / I - 1) 1e4``; fair ``(exp(c T) - 1) 1e4`` with
  the carry ``c`` the median of ``ln(F / I) / T`` over the lookback (points
  with ``T`` > 1 day; ``history``), else the annualised funding of a
  perpetual of the coin (``funding``, :func:`spreadlab.pricing.carry.funding_implied_basis`).
  The tradable hedge is a spot of the coin, else the venue's perpetual.
- **calendar**: consecutive expiries ``F1, F2`` of one venue:
  ``v = (F2 / F1 - 1) 1e4``; fair ``(exp(c (T2 - T1)) - 1) 1e4`` with ``c`` the
  median forward-forward rate ``ln(F2 / F1) / (T2 - T1)`` over the lookback.
- **xvenue**: one coin's perpetuals on two venues: ``v = (P_a / P_b - 1) 1e4``,
  fair 0 (the other venue's price).
- **pairs**: perpetuals of one venue whose log returns correlate at least
  ``pairs_min_correlation``; Engle-Granger on log prices over the lookback
  (both orders, the lower p-value kept), a candidate when ``p <=
  pairs_max_pvalue``; OLS ``ln y = alpha + beta ln x + s`` fitted on the
  history (the current point excluded), ``v = s_now 1e4``, fair 0.
  ``beta`` is the USD-notional hedge ratio.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations, pairwise

import numpy as np

from spreadlab._typing import FloatArray, IntArray
from spreadlab.core.time import NS_PER_DAY
from spreadlab.errors import SpreadlabError
from spreadlab.instruments.base import Future, Instrument, Perpetual
from spreadlab.pricing.carry import funding_implied_basis
from spreadlab.signals.hedge import ols_hedge
from spreadlab.signals.scan.candidate import Candidate
from spreadlab.signals.scan.config import ScanKind
from spreadlab.signals.scan.view import MarketView
from spreadlab.signals.spread import Leg, LegMarket, Spread, SpreadQuote
from spreadlab.signals.stationarity import engle_granger

__all__ = ["basis_candidates", "calendar_candidates", "pairs_candidates", "xvenue_candidates"]

_USD = ("USD", "USDT", "USDC")


def units_per_usd(m: LegMarket) -> float:
    """Units of a non-option leg per USD of notional."""
    return 1.0 / m.unit_usd(m.mid)


def _step(ts: IntArray) -> float | None:
    return float(np.median(np.diff(ts))) if ts.shape[0] > 2 else None


def _history(ts: IntArray, values: FloatArray) -> tuple[FloatArray, IntArray]:
    """Drop the current point (at the newest time) from a history."""
    keep = ts < ts.max() if ts.shape[0] else np.zeros(0, np.bool_)
    return values[keep], ts[keep]


def _two_leg(a: Instrument, b: Instrument, name: str, quote: SpreadQuote = SpreadQuote.BASIS) -> Spread:
    return Spread(legs=(Leg(instrument=a, ratio=1.0), Leg(instrument=b, ratio=-1.0)), quote=quote, name=name)


def basis_candidates(view: MarketView) -> list[Candidate]:
    """Perpetual premium and future basis against the index (see the module docstring)."""
    out: list[Candidate] = []
    for inst in view.instruments():
        if not isinstance(inst, Perpetual | Future):
            continue
        leg = view.leg(str(inst.id))
        idx = view.index_series(inst)
        if leg is None or idx is None:
            continue
        index, ref = idx
        hedge = view.spot_for(inst)
        if hedge is None and isinstance(inst, Future):
            hedge = next(
                (
                    p
                    for p in view.instruments()
                    if isinstance(p, Perpetual) and p.base == inst.base and p.id.venue == inst.id.venue
                ),
                None,
            )
        if hedge is None or hedge.id == inst.id:
            continue
        hleg = view.leg(str(hedge.id))
        if hleg is None:
            continue
        i_now = float(index.value[-1])
        p_now = leg.mid
        series = view.price_series(str(inst.id))
        grid = series.ts
        hist_basis = series.value / index.asof(grid) - 1.0
        hist, hts = _history(grid, hist_basis)
        hist_ok = np.isfinite(hist)
        value = (p_now / i_now - 1.0) * 1e4
        if isinstance(inst, Perpetual):
            if hist_ok.sum() >= view.config.min_history:
                fair_frac, source = float(np.median(hist[hist_ok])), "history"
            else:
                f = view.funding_rate(str(inst.id))
                if f is None:
                    continue
                fair_frac, source = f[0], "funding"
            dev_hist = (hist - fair_frac) * 1e4
        else:
            t_now = inst.time_to_expiry(view.at)
            if t_now <= 0:
                continue
            t_hist = inst.years_to_expiry(hts)
            use = hist_ok & ((inst.expiry_ns - hts) > NS_PER_DAY)
            if use.sum() >= view.config.min_history:
                carry, source = float(np.median(np.log1p(hist[use]) / t_hist[use])), "history"
            else:
                perp = next(
                    (p for p in view.instruments() if isinstance(p, Perpetual) and p.base == inst.base), None
                )
                f = None if perp is None else view.funding_rate(str(perp.id))
                if f is None:
                    continue
                carry, source = float(funding_implied_basis(f[0], interval_hours=f[1])), "funding"
            fair_frac = math.expm1(carry * t_now)
            dev_hist = (hist - np.expm1(carry * np.maximum(t_hist, 0.0))) * 1e4
        fair = fair_frac * 1e4
        h_mid = hleg.mid
        ratio_i = h_mid / i_now

        def fn(p: Sequence[float], _r: float = ratio_i) -> float:
            return (p[0] / (p[1] / _r) - 1.0) * 1e4

        dev_frac = (p_now / i_now) / (1.0 + fair_frac) - 1.0
        out.append(
            Candidate(
                kind=ScanKind.BASIS,
                spread=_two_leg(inst, hedge, f"basis {inst.id} vs {ref}"),
                markets={inst.id: leg, hedge.id: hleg},
                instrument_id=str(inst.id),
                reference_id=ref,
                ts_ns=view.at,
                value=value,
                fair=fair,
                unit="bp",
                deviation_sign=math.copysign(1.0, dev_frac),
                edge_per_usd=abs(dev_frac),
                units_per_usd=(units_per_usd(leg), units_per_usd(hleg)),
                fair_source=source,
                value_fn=fn,
                increasing=(True, False),
                history=dev_hist[hist_ok],
                history_step_ns=_step(hts),
            )
        )
    return out


def calendar_candidates(view: MarketView) -> list[Candidate]:
    """Consecutive dated futures of one coin and venue (see the module docstring)."""
    out: list[Candidate] = []
    futs: dict[tuple[str, str], list[Future]] = {}
    for inst in view.instruments():
        if isinstance(inst, Future) and inst.expiry_ns > view.at:
            futs.setdefault((inst.id.venue, inst.base), []).append(inst)
    for key in sorted(futs):
        chain = sorted(futs[key], key=lambda f: f.expiry_ns)
        for near, far in pairwise(chain):
            ln, lf = view.leg(str(near.id)), view.leg(str(far.id))
            if ln is None or lf is None:
                continue
            sn, sf = view.price_series(str(near.id)), view.price_series(str(far.id))
            grid = sf.ts
            dt = far.time_to_expiry(near.expiry_ns)
            ratio = sf.value / sn.asof(grid)
            hist, hts = _history(grid, ratio)
            ok = np.isfinite(hist) & ((near.expiry_ns - hts) > NS_PER_DAY)
            if ok.sum() < view.config.min_history:
                continue
            rate = float(np.median(np.log(hist[ok]) / dt))
            fair_ratio = math.exp(rate * dt)
            now = lf.mid / ln.mid
            dev_frac = now / fair_ratio - 1.0

            def fn(p: Sequence[float]) -> float:
                return (p[0] / p[1] - 1.0) * 1e4

            out.append(
                Candidate(
                    kind=ScanKind.CALENDAR,
                    spread=_two_leg(far, near, f"calendar {far.id} vs {near.id}"),
                    markets={far.id: lf, near.id: ln},
                    instrument_id=str(far.id),
                    reference_id=str(near.id),
                    ts_ns=view.at,
                    value=(now - 1.0) * 1e4,
                    fair=(fair_ratio - 1.0) * 1e4,
                    unit="bp",
                    deviation_sign=math.copysign(1.0, dev_frac),
                    edge_per_usd=abs(dev_frac),
                    units_per_usd=(units_per_usd(lf), units_per_usd(ln)),
                    fair_source="history",
                    value_fn=fn,
                    increasing=(True, False),
                    history=(hist[ok] / fair_ratio - 1.0) * 1e4,
                    history_step_ns=_step(hts),
                )
            )
    return out


def xvenue_candidates(view: MarketView) -> list[Candidate]:
    """One coin's perpetuals on two venues (see the module docstring)."""
    out: list[Candidate] = []
    by_base: dict[str, list[Perpetual]] = {}
    for inst in view.instruments():
        if isinstance(inst, Perpetual) and inst.quote in _USD:
            by_base.setdefault(inst.base, []).append(inst)
    for base in sorted(by_base):
        perps = sorted(by_base[base], key=lambda p: str(p.id))
        for a, b in combinations(perps, 2):
            if a.id.venue == b.id.venue:
                continue
            la, lb = view.leg(str(a.id)), view.leg(str(b.id))
            if la is None or lb is None:
                continue
            sa, sb = view.price_series(str(a.id)), view.price_series(str(b.id))
            grid = sa.ts if len(sa) <= len(sb) else sb.ts
            ratio = sa.asof(grid) / sb.asof(grid) - 1.0
            hist, hts = _history(grid, ratio)
            ok = np.isfinite(hist)
            dev_frac = la.mid / lb.mid - 1.0

            def fn(p: Sequence[float]) -> float:
                return (p[0] / p[1] - 1.0) * 1e4

            out.append(
                Candidate(
                    kind=ScanKind.XVENUE,
                    spread=_two_leg(a, b, f"xvenue {a.id} vs {b.id}"),
                    markets={a.id: la, b.id: lb},
                    instrument_id=str(a.id),
                    reference_id=str(b.id),
                    ts_ns=view.at,
                    value=dev_frac * 1e4,
                    fair=0.0,
                    unit="bp",
                    deviation_sign=math.copysign(1.0, dev_frac),
                    edge_per_usd=abs(dev_frac),
                    units_per_usd=(units_per_usd(la), units_per_usd(lb)),
                    fair_source="other_venue",
                    value_fn=fn,
                    increasing=(True, False),
                    history=hist[ok] * 1e4,
                    history_step_ns=_step(hts),
                )
            )
    return out


def _aligned(view: MarketView, insts: list[Perpetual]) -> tuple[IntArray, FloatArray] | None:
    series = [view.price_series(str(p.id)) for p in insts]
    grid = np.unique(np.concatenate([s.ts for s in series]))
    if grid.size < 2 * view.config.min_history:
        return None
    mat = np.column_stack([np.log(s.asof(grid)) for s in series])
    keep = np.isfinite(mat).all(axis=1)
    return grid[keep], mat[keep]


def _pair_fit(y: FloatArray, x: FloatArray) -> tuple[float, float, float] | None:
    try:
        p = engle_granger(y, x).pvalue
        h = ols_hedge(y, x)
    except SpreadlabError:
        return None
    return float(p), h.alpha, h.beta


def pairs_candidates(view: MarketView) -> list[Candidate]:
    """Cointegrated perpetual pairs of one venue (see the module docstring)."""
    cfg = view.config
    out: list[Candidate] = []
    by_venue: dict[str, list[Perpetual]] = {}
    for inst in view.instruments():
        if isinstance(inst, Perpetual):
            by_venue.setdefault(inst.id.venue, []).append(inst)
    for venue in sorted(by_venue):
        insts = sorted(by_venue[venue], key=lambda p: str(p.id))
        if len(insts) < 2:
            continue
        aligned = _aligned(view, insts)
        if aligned is None:
            continue
        grid, logp = aligned
        rets = np.diff(logp, axis=0)
        sd = rets.std(axis=0)
        if rets.shape[0] < 3:
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.atleast_2d(np.asarray(np.corrcoef(rets, rowvar=False), dtype=np.float64))
        pairs = [
            (float(corr[i, j]), i, j)
            for i, j in combinations(range(len(insts)), 2)
            if sd[i] > 0 and sd[j] > 0 and corr[i, j] >= cfg.pairs_min_correlation
        ]
        pairs.sort(key=lambda t: (-t[0], t[1], t[2]))
        hist_rows = slice(0, grid.size - 1)
        for _, i, j in pairs[: cfg.pairs_max_candidates]:
            best: tuple[float, int, int, float, float] | None = None
            for yi, xi in ((i, j), (j, i)):
                fit = _pair_fit(logp[hist_rows, yi], logp[hist_rows, xi])
                if fit is not None and (best is None or fit[0] < best[0]):
                    best = (fit[0], yi, xi, fit[1], fit[2])
            if best is None or best[0] > cfg.pairs_max_pvalue or best[4] <= 0:
                continue
            pval, yi, xi, alpha, beta = best
            y, x = insts[yi], insts[xi]
            ly, lx = view.leg(str(y.id)), view.leg(str(x.id))
            if ly is None or lx is None:
                continue
            resid = logp[hist_rows, yi] - alpha - beta * logp[hist_rows, xi]
            now = math.log(ly.mid) - alpha - beta * math.log(lx.mid)

            def fn(p: Sequence[float], _a: float = alpha, _b: float = beta) -> float:
                return (math.log(p[0]) - _a - _b * math.log(p[1])) * 1e4

            spread = Spread(
                legs=(Leg(instrument=y, ratio=1.0), Leg(instrument=x, ratio=-beta)),
                quote=SpreadQuote.LOG_RATIO,
                name=f"pair {y.id} ~ {beta:.4g} {x.id} (EG p={pval:.3g})",
            )
            out.append(
                Candidate(
                    kind=ScanKind.PAIRS,
                    spread=spread,
                    markets={y.id: ly, x.id: lx},
                    instrument_id=str(y.id),
                    reference_id=str(x.id),
                    ts_ns=view.at,
                    value=now * 1e4,
                    fair=0.0,
                    unit="bp",
                    deviation_sign=math.copysign(1.0, now),
                    edge_per_usd=abs(now),
                    units_per_usd=(units_per_usd(ly), beta * units_per_usd(lx)),
                    fair_source="history",
                    value_fn=fn,
                    increasing=(True, False),
                    history=resid * 1e4,
                    history_step_ns=_step(grid),
                )
            )
    return out
