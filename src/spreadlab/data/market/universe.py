"""A universe of correlated coins, some pairs cointegrated, as OHLCV bars.

Log prices from the start, per step of ``dt`` years::

    dx_i = -sigma^2 dt / 2 + sigma sqrt(dt) (sqrt(c) f + sqrt(1 - c) e_i)     (leaders, free coins)
    x_f  = beta x_l + s - s_0,   s = OU(half-life, sd) + dislocation episodes (followers)

so each (leader, follower) pair is cointegrated with vector ``(1, -beta)``
and every other pair is not (independent random walks whose increments are
correlated ``c``). Bars follow :mod:`spreadlab.data.schema`: a bar covers
``[t - step, t)``, ``ts_event = t - step`` is its open time and ``ts_recv = t``
its close, when it is known; ``open`` is the previous close, ``close`` the
price at ``t``, and ``high``/``low`` are drawn exactly from the law of the
maximum / minimum of a Brownian bridge between them::

    max = (b + sqrt(b^2 - 2 s^2 ln U)) / 2,   min = (b - sqrt(b^2 - 2 s^2 ln U')) / 2

(``b`` the log return of the bar, ``s^2`` its variance). Prices sit on a tick
of ``10^(floor(log10 p0) - 4)``. ``volume`` is in coin: the USD volume per bar
times a log-normal factor that grows with ``|return| / s``, divided by the close.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from spreadlab._typing import FloatArray, IntArray
from spreadlab.core.enums import Settlement
from spreadlab.core.ids import InstrumentId
from spreadlab.core.time import NS_PER_MINUTE, NS_PER_YEAR
from spreadlab.data.market.config import UniverseConfig
from spreadlab.data.market.paths import ou, stream
from spreadlab.data.market.truth import DislocationKind, SizeUnit, draw_episodes, truth_frame
from spreadlab.data.schema import PriceType, conform
from spreadlab.events.schema import EventKind
from spreadlab.instruments.base import Perpetual

__all__ = ["UniverseResult", "simulate_universe"]

VENUE = "SIM"


def coin_tick(price: float) -> float:
    """Tick of a coin quoted near ``price``: four significant digits below its magnitude."""
    return float(10.0 ** (math.floor(math.log10(price)) - 4))


@dataclass(frozen=True, slots=True, kw_only=True)
class UniverseResult:
    """Bars, instruments, pair facts and ground truth of the universe."""

    instruments: tuple[Perpetual, ...]
    bars: pl.DataFrame
    pairs: pl.DataFrame
    truth: pl.DataFrame


def simulate_universe(
    cfg: UniverseConfig, *, seed: int, ts: IntArray, step_ns: int, dislocations: bool
) -> UniverseResult:
    """Simulate the universe on the time grid ``ts`` (bars close at ``ts[1:]``).

    A pair-spread episode starting at grid point ``i`` first shows in the bar
    closing at ``ts[i]`` (its ``ts_recv``; ground truth ``start_ns = ts[i]``).
    """
    n = ts.shape[0]
    k = len(cfg.coins)
    dt = step_ns / NS_PER_YEAR
    sig = cfg.vol * math.sqrt(dt)
    rng = stream(seed, "universe")
    f = rng.standard_normal(n - 1)
    e = rng.standard_normal((k, n - 1))
    c = cfg.market_correlation
    incr = -0.5 * sig * sig + sig * (math.sqrt(c) * f[None, :] + math.sqrt(1.0 - c) * e)
    x = np.concatenate((np.zeros((k, 1)), np.cumsum(incr, axis=1)), axis=1)
    step_var = np.full(k, sig * sig)
    pos = {coin: i for i, coin in enumerate(cfg.coins)}
    pair_rows = []
    truths = []
    for leader, follower in cfg.cointegrated_pairs:
        li, fi = pos[leader], pos[follower]
        prng = stream(seed, "universe", "pair", leader, follower)
        beta = round(float(prng.uniform(*cfg.hedge_ratio)), 4)
        half_life = round(float(prng.uniform(*cfg.spread_half_life_minutes)), 4)
        spread = ou(prng, n, sd=cfg.spread_sd_bp * 1e-4, half_life_minutes=half_life, step_ns=step_ns)
        fid = str(InstrumentId(VENUE, f"{follower}-PERP"))
        lid = str(InstrumentId(VENUE, f"{leader}-PERP"))
        if dislocations:
            ep = draw_episodes(
                stream(seed, "universe", "dislocations", leader, follower),
                n_steps=n,
                step_ns=step_ns,
                rate_per_day=cfg.dislocation_rate_per_day,
                minutes=cfg.dislocation_minutes,
                size=cfg.dislocation_size_bp,
            )
            spread = spread + ep.profile(n) * 1e-4
            truths.append(
                truth_frame(
                    ep,
                    ts,
                    step_ns,
                    instrument_id=fid,
                    reference_id=lid,
                    kind=DislocationKind.PAIR_SPREAD,
                    unit=SizeUnit.BP,
                )
            )
        x[fi] = beta * x[li] + spread - spread[0]
        phi = math.exp(-math.log(2.0) * (step_ns / NS_PER_MINUTE) / half_life)
        step_var[fi] = beta * beta * sig * sig + (cfg.spread_sd_bp * 1e-4) ** 2 * 2.0 * (1.0 - phi)
        pair_rows.append(
            {
                "leader_id": lid,
                "follower_id": fid,
                "hedge_ratio": beta,
                "spread_half_life_minutes": half_life,
                "spread_sd_bp": cfg.spread_sd_bp,
            }
        )
    brng = stream(seed, "universe", "bars")
    frames = []
    instruments = []
    for i, coin in enumerate(cfg.coins):
        p0 = cfg.start_prices[i]
        tick = coin_tick(p0)
        iid = InstrumentId(VENUE, f"{coin}-PERP")
        instruments.append(
            Perpetual(
                id=iid,
                base=coin,
                quote="USDT",
                settlement_currency="USDT",
                settlement=Settlement.LINEAR,
                tick_size=tick,
                lot_size=float(10.0 ** math.floor(math.log10(1.0 / p0))),
            )
        )
        frames.append(_bars(brng, str(iid), ts, step_ns, p0 * np.exp(x[i]), step_var[i], tick, cfg))
    bars = pl.concat(frames).sort(["ts_event", "instrument_id"], maintain_order=True)
    truth = pl.concat(truths) if truths else pl.DataFrame()
    return UniverseResult(
        instruments=tuple(instruments), bars=bars, pairs=pl.DataFrame(pair_rows), truth=truth
    )


def _bars(
    rng: np.random.Generator,
    iid: str,
    ts: IntArray,
    step_ns: int,
    price: FloatArray,
    var: float,
    tick: float,
    cfg: UniverseConfig,
) -> pl.DataFrame:
    b = np.diff(np.log(price))
    m = b.shape[0]
    u = rng.uniform(size=(2, m))
    hi_log = 0.5 * (b + np.sqrt(b * b - 2.0 * var * np.log1p(-u[0])))
    lo_log = 0.5 * (b - np.sqrt(b * b - 2.0 * var * np.log1p(-u[1])))
    open_ = price[:-1]
    dec = max(0, -math.floor(math.log10(tick))) + 3

    def grid(p: FloatArray) -> FloatArray:
        return np.round(np.round(p / tick) * tick, dec)

    o, cl = grid(open_), grid(price[1:])
    hi = np.maximum(grid(open_ * np.exp(hi_log)), np.maximum(o, cl))
    lo = np.minimum(grid(open_ * np.exp(lo_log)), np.minimum(o, cl))
    z = np.abs(b) / math.sqrt(var)
    vol_usd = cfg.volume_per_bar * rng.lognormal(-0.125, 0.5, m) * (0.6 + 0.5 * z)
    return conform(
        pl.DataFrame(
            {
                "ts_event": ts[:-1],
                "ts_recv": ts[1:],
                "instrument_id": [iid] * m,
                "open": o,
                "high": hi,
                "low": lo,
                "close": cl,
                "volume": np.round(vol_usd / cl, 6),
                "interval_ns": np.full(m, step_ns, dtype=np.int64),
                "price_type": [PriceType.TRADE.value] * m,
                "quote_volume": np.round(vol_usd, 2),
            }
        ),
        EventKind.BARS,
    )
