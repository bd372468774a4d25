"""A coin-settled option chain on an SVI smile per expiry.

Every ``snapshot_minutes`` each listed option (expiry after the snapshot) is
quoted. With forward ``F = index exp(c T)`` (``c`` the futures' carry at that
expiry), the smile is raw SVI in total variance
(:func:`spreadlab.kernels.svi.svi_total_variance`)::

    L  = vol_premium^2 (theta + (v - theta) (1 - e^{-kappa T}) / (kappa T))   ATM variance level
    b' = svi_b L / (vol_premium^2 theta),   a' = L - b' (-rho m + sqrt(m^2 + sigma^2))
    a  = a' T,  b = b' T,   w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2)),  k = ln(K / F)

(``v`` the index's current variance, ``theta``, ``kappa`` its mean level and
speed), so ``w(0) = L T`` and the whole smile scales with the level. The
fair premium in coin is the Black-76 price
(:func:`spreadlab.kernels.black76.black76_price`) at ``sqrt(w / T)`` divided
by ``F``; ``mark`` and ``mark_iv`` are that fair value. The quoted mid is the
same formula at the quote's IV, which is the fair IV except during a recorded
mispricing episode (``+size`` vol points on one option, at most one at a time,
only on options with ``|delta|`` in [0.15, 0.85] at the episode start).
Around the mid, ``bid = floor((mid - h) / tick) tick`` and
``ask = ceil((mid + h) / tick) tick`` with ``h = max(tick, half_spread_vol_points
* coin vega)``; a bid below one tick is left empty (null). ``bid_iv`` and
``ask_iv`` invert the quoted prices (:func:`spreadlab.kernels.iv.implied_vol`).
Greeks follow Deribit: the linear Black-76 ``delta`` and ``gamma`` of the fair
price, ``vega`` in USD per vol point and ``theta`` in USD per day.
``underlying_id`` is ``SIM:SYN.<B>-<DMYY>`` (the synthetic forward ``F``). Strikes are
fixed at the start: ``strikes_per_expiry`` log-moneyness points spanning
``+-strike_range_sd`` standard deviations, rounded to a 1/2/2.5/5 step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from spreadlab._typing import FloatArray, IntArray
from spreadlab.core.enums import OptionKind, Settlement
from spreadlab.core.ids import InstrumentId
from spreadlab.core.time import ns_to_datetime, venue_day_count, year_fraction
from spreadlab.data.market.config import IndexConfig, OptionsConfig
from spreadlab.data.market.paths import expected_average_variance, stream
from spreadlab.data.market.quoting import latency, on_grid
from spreadlab.data.market.truth import DislocationKind, SizeUnit, draw_episodes, truth_frame
from spreadlab.data.schema import conform
from spreadlab.events.schema import EventKind
from spreadlab.instruments.base import Option
from spreadlab.kernels.black76 import (
    GREEK_DELTA,
    GREEK_GAMMA,
    GREEK_THETA,
    GREEK_VEGA,
    black76_greeks,
    black76_price,
)
from spreadlab.kernels.iv import IV_OK, implied_vol
from spreadlab.kernels.svi import svi_total_variance

__all__ = ["SMILE_SCHEMA", "OptionChain", "format_dmy", "simulate_options"]

SMILE_SCHEMA = pl.Schema(
    {
        "ts_event": pl.Int64(),
        "expiry_ns": pl.Int64(),
        "expiry_years": pl.Float64(),
        "forward": pl.Float64(),
        "a": pl.Float64(),
        "b": pl.Float64(),
        "rho": pl.Float64(),
        "m": pl.Float64(),
        "sigma": pl.Float64(),
        "discount": pl.Float64(),
    }
)

_DC = venue_day_count("SIM")  # years to expiry as the simulated venue counts them
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def format_dmy(expiry_ns: int) -> str:
    """Deribit-style date ``27JUN25`` of an expiry (day without a leading zero).

    Examples
    --------
    >>> format_dmy(1709452800000000000)
    '3MAR24'
    """
    dt = ns_to_datetime(expiry_ns)
    return f"{dt.day}{_MONTHS[dt.month - 1]}{dt.year % 100:02d}"


def _nice_step(raw: float) -> float:
    mag = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * mag >= raw:
            return m * mag
    return 10.0 * mag


def _strikes(f0: float, sd: float, n: int, range_sd: float) -> FloatArray:
    k = np.linspace(-range_sd * sd, range_sd * sd, n)
    step = _nice_step(f0 * (math.exp(range_sd * sd) - math.exp(-range_sd * sd)) / max(n - 1, 1) * 0.9)
    strikes = np.unique(np.round(f0 * np.exp(k) / step) * step)
    return strikes[strikes > 0]


@dataclass(frozen=True, slots=True, kw_only=True)
class OptionChain:
    """Option instruments, their quotes, the SVI smile of each snapshot and the mispricings."""

    instruments: tuple[Option, ...]
    quotes: pl.DataFrame
    smiles: pl.DataFrame
    truth: pl.DataFrame


def simulate_options(
    cfg: OptionsConfig,
    index_cfg: IndexConfig,
    *,
    seed: int,
    base: str,
    ts: IntArray,
    step_ns: int,
    index: FloatArray,
    var: FloatArray,
    expiries: list[int],
    carries: list[float],
    dislocations: bool,
    latency_ms: float,
) -> OptionChain:
    """Quote the chain on the snapshots of the grid ``ts``."""
    snap = round(cfg.snapshot_minutes * 60e9 / step_ns)
    rows = np.arange(0, ts.shape[0], snap)
    t_s, idx_s, var_s = ts[rows], index[rows], var[rows]
    n_s = rows.shape[0]
    theta = index_cfg.vol**2
    prem2 = cfg.vol_premium**2
    disc_rate = cfg.rate
    rng = stream(seed, "options")
    instruments: list[Option] = []
    # per option: expiry slot, strike, is_call
    opt_exp: list[int] = []
    opt_k: list[float] = []
    opt_call: list[bool] = []
    for e, expiry in enumerate(expiries):
        tau0 = max(float(year_fraction(int(ts[0]), expiry, _DC)), 1.0 / _DC.days_per_year)
        f0 = float(index[0]) * math.exp(carries[e] * tau0)
        sd = index_cfg.vol * math.sqrt(tau0)
        dmy = format_dmy(expiry)
        for strike in _strikes(f0, sd, cfg.strikes_per_expiry, cfg.strike_range_sd):
            for kind in (OptionKind.CALL, OptionKind.PUT):
                ks = str(int(strike)) if float(strike).is_integer() else repr(float(strike)).replace(".", "d")
                instruments.append(
                    Option(
                        id=InstrumentId(
                            "SIM", f"{base}-{dmy}-{ks}-{'C' if kind is OptionKind.CALL else 'P'}"
                        ),
                        base=base,
                        quote="USD",
                        settlement_currency=base,
                        settlement=Settlement.INVERSE,
                        tick_size=cfg.tick_size,
                        lot_size=0.1,
                        multiplier=1.0,
                        strike=float(strike),
                        expiry_ns=int(expiry),
                        kind=kind,
                        underlying=base,
                        listing_ns=int(ts[0]),
                    )
                )
                opt_exp.append(e)
                opt_k.append(float(strike))
                opt_call.append(kind is OptionKind.CALL)
    n_o = len(instruments)
    exp_arr = np.asarray(expiries, dtype=np.int64)[np.asarray(opt_exp)]
    k_arr = np.asarray(opt_k)
    call_arr = np.asarray(opt_call, dtype=np.bool_)
    # fair vols on the (snapshot, option) grid
    tau = np.asarray(year_fraction(t_s[:, None], exp_arr[None, :], _DC))
    live = tau > 0.0
    carry_o = np.asarray(carries)[np.asarray(opt_exp)]
    fwd = idx_s[:, None] * np.exp(carry_o[None, :] * np.maximum(tau, 0.0))
    iv = np.full((n_s, n_o), np.nan)
    smile_rows: list[dict[str, float | int]] = []
    o = cfg
    hyp = math.hypot(o.svi_m, o.svi_sigma)
    for e, expiry in enumerate(expiries):
        cols = np.flatnonzero(np.asarray(opt_exp) == e)
        tau_e = np.asarray(year_fraction(t_s, expiry, _DC))
        level = prem2 * expected_average_variance(var_s, theta, index_cfg.mean_reversion, tau_e)
        for i in np.flatnonzero(tau_e > 0.0):
            lv, te = float(level[i]), float(tau_e[i])
            b1 = o.svi_b * lv / (prem2 * theta)
            a1 = lv - b1 * (-o.svi_rho * o.svi_m + hyp)
            f = float(fwd[i, cols[0]])
            w = svi_total_variance(np.log(k_arr[cols] / f), a1 * te, b1 * te, o.svi_rho, o.svi_m, o.svi_sigma)
            iv[i, cols] = np.sqrt(w / te)
            smile_rows.append(
                {
                    "ts_event": int(t_s[i]),
                    "expiry_ns": int(expiry),
                    "expiry_years": te,
                    "forward": f,
                    "a": a1 * te,
                    "b": b1 * te,
                    "rho": o.svi_rho,
                    "m": o.svi_m,
                    "sigma": o.svi_sigma,
                    "discount": math.exp(-disc_rate * te),
                }
            )
    si, oi = np.nonzero(live)
    F = fwd[si, oi]
    T = tau[si, oi]
    K = k_arr[oi]
    C = call_arr[oi]
    D = np.exp(-disc_rate * T)
    fair_iv = iv[si, oi]
    fair = black76_price(F, K, T, fair_iv, C, D) / F
    greeks = black76_greeks(F, K, T, fair_iv, C, D, np.full_like(T, disc_rate), False)
    delta = greeks[:, GREEK_DELTA]
    # mispricing episodes on the snapshot grid, one option at a time
    bump = np.zeros_like(fair_iv)
    truths: list[pl.DataFrame] = []
    if dislocations and n_o:
        mrng = stream(seed, "options", "mispricing")
        ep = draw_episodes(
            mrng,
            n_steps=n_s,
            step_ns=snap * step_ns,
            rate_per_day=cfg.mispricing_rate_per_day,
            minutes=cfg.mispricing_minutes,
            size=cfg.mispricing_size_vol_points,
        )
        pos = np.full((n_s, n_o), -1, dtype=np.int64)
        pos[si, oi] = np.arange(si.shape[0])
        keep = np.zeros(len(ep), dtype=np.bool_)
        chosen: list[int] = []
        for j in range(len(ep)):
            s0, s1 = int(ep.start[j]), int(ep.end[j])
            cand = [
                c for c in range(n_o) if (pos[s0:s1, c] >= 0).all() and 0.15 <= abs(delta[pos[s0, c]]) <= 0.85
            ]
            if cand:
                c = cand[int(mrng.integers(len(cand)))]
                bump[pos[s0:s1, c]] = ep.size[j] / 100.0
                keep[j] = True
                chosen.append(c)
        ep = ep.take(keep)
        for j, c in enumerate(chosen):
            truths.append(
                truth_frame(
                    ep.take(np.arange(len(ep)) == j),
                    t_s,
                    snap * step_ns,
                    instrument_id=str(instruments[c].id),
                    reference_id=f"SVI:{instruments[c].id.venue}:{base}-{format_dmy(instruments[c].expiry_ns)}",
                    kind=DislocationKind.IV_MISPRICING,
                    unit=SizeUnit.VOL_POINTS,
                )
            )
    q_iv = fair_iv + bump
    mid = black76_price(F, K, T, q_iv, C, D) / F
    vega_coin = black76_greeks(F, K, T, q_iv, C, D, np.full_like(T, disc_rate), True)[:, GREEK_VEGA]
    tick = cfg.tick_size
    half = np.maximum(tick, cfg.half_spread_vol_points / 100.0 * vega_coin)
    bid_t = np.floor((mid - half) / tick + 1e-9)
    ask_t = np.maximum(np.ceil((mid + half) / tick - 1e-9), bid_t + 1.0)
    bid = np.where(bid_t >= 1.0, on_grid(bid_t, tick), np.nan)
    ask = on_grid(ask_t, tick)
    bid_iv, st_b = implied_vol(np.nan_to_num(bid, nan=0.0), F, K, T, C, D, True)
    ask_iv, st_a = implied_vol(ask, F, K, T, C, D, True)
    oi_amt = np.round(rng.lognormal(4.0, 1.0, n_o), 1)
    lat = latency(stream(seed, "latency", "options"), si.shape[0], latency_ms)
    ids = np.asarray([str(x.id) for x in instruments], dtype=object)
    sizes = np.round(np.maximum(rng.lognormal(1.5, 0.7, (2, si.shape[0])), 0.1), 1)
    kinds = np.where(call_arr, OptionKind.CALL.value, OptionKind.PUT.value)
    under = np.asarray([f"SIM:SYN.{base}-{format_dmy(int(e))}" for e in expiries], dtype=object)
    quotes = conform(
        pl.DataFrame(
            {
                "ts_event": t_s[si],
                "ts_recv": t_s[si] + lat,
                "instrument_id": ids[oi].tolist(),
                "bid": bid,
                "ask": ask,
                "mark": np.round(fair, 10),
                "underlying_price": F,
                "bid_iv": np.where(st_b == IV_OK, bid_iv, np.nan),
                "ask_iv": np.where(st_a == IV_OK, ask_iv, np.nan),
                "mark_iv": fair_iv,
                "delta": delta,
                "open_interest": oi_amt[oi],
                "bid_size": np.where(np.isnan(bid), np.nan, sizes[0]),
                "ask_size": sizes[1],
                "gamma": greeks[:, GREEK_GAMMA],
                "vega": greeks[:, GREEK_VEGA] / 100.0,
                "theta": greeks[:, GREEK_THETA] / _DC.days_per_year,
                "index_price": np.round(idx_s[si], 2),
                "underlying_id": under[np.asarray(opt_exp)[oi]].tolist(),
                "strike": K,
                "expiry_ns": exp_arr[oi],
                "option_kind": kinds[oi].tolist(),
            }
        ).fill_nan(None),
        EventKind.OPTION_QUOTES,
    )
    smiles = pl.DataFrame(smile_rows, schema=SMILE_SCHEMA).sort(["ts_event", "expiry_ns"])
    truth = pl.concat(truths) if truths else pl.DataFrame()
    return OptionChain(instruments=tuple(instruments), quotes=quotes, smiles=smiles, truth=truth)
