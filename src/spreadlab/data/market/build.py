"""``build_market``: the built-in simulated multi-venue crypto derivatives market.

The build is a pure function of :class:`MarketConfig` (no global state, no
clock): every component draws from its own seeded stream (see
:func:`spreadlab.data.market.paths.stream`). On the time grid
``ts_i = start + i step`` it simulates, in order:

1. the index (Heston + jumps) and ``SIM:<B>USDT`` spot = index x (1 + AR(1) basis);
2. ``SIM:<B>-PERP`` with premium ``mean + OU + bursts`` and 8 h funding;
3. ``SIM2:<B>-PERP`` = the SIM perpetual's mid ``lag_steps`` earlier x (1 + OU noise + dislocations);
4. futures ``SIM:<B>-<DMYY>`` = index x exp(c T) x (1 + taper (OU noise + dislocations)),
   quoted up to and including their expiry, where ``taper = min(1, hours left / taper_hours)``;
5. the coin-settled option chain (:mod:`spreadlab.data.market.options`);
6. the universe of coins (:mod:`spreadlab.data.market.universe`).

Each of spot, perpetuals and futures gets an L2 book per step whose top is
its quote (:mod:`spreadlab.data.market.quoting`), taker trades at the touch
while that quote stands, a mark/index row (not the spot), and the
perpetuals a funding row per scheduled time (:mod:`spreadlab.data.market.funding`),
all through :mod:`spreadlab.data.market.legs`. Prices are on each instrument's tick
grid; ``ts_recv = ts_event +`` a gamma latency per venue.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

from spreadlab.core.enums import Settlement
from spreadlab.core.ids import InstrumentId
from spreadlab.core.time import NS_PER_DAY, NS_PER_HOUR, ns_to_iso, parse_time
from spreadlab.data.market.config import MarketConfig
from spreadlab.data.market.funding import mark_frame, mark_prices
from spreadlab.data.market.legs import Tables, episode_profile, perp_extras, publish
from spreadlab.data.market.options import SMILE_SCHEMA, format_dmy, simulate_options
from spreadlab.data.market.paths import ou, simulate_index, stream
from spreadlab.data.market.quoting import latency
from spreadlab.data.market.result import SimulatedMarket
from spreadlab.data.market.truth import GROUND_TRUTH_SCHEMA, DislocationKind
from spreadlab.data.market.universe import simulate_universe
from spreadlab.errors import ValidationError
from spreadlab.events.schema import EventKind, polars_schema
from spreadlab.instruments.base import Future, Perpetual, Spot

__all__ = ["ProgressCallback", "build_market", "default_expiries"]

ProgressCallback = Callable[[str, float], None]
"""Called as ``progress(stage, fraction_done)`` with ``fraction_done`` in [0, 1]."""

_STAGES = ("index", "spot", "perp", "venue2", "futures", "options", "universe", "tables")


def default_expiries(start_ns: int, end_ns: int, count: int) -> list[int]:
    """08:00 UTC on the first day at or after mid-run, then every 28 days (``count`` expiries).

    Examples
    --------
    >>> from spreadlab.core.time import ns_to_iso
    >>> [ns_to_iso(t)[:16] for t in default_expiries(parse_time("2024-03-01"), parse_time("2024-03-04"), 2)]
    ['2024-03-03T08:00', '2024-03-31T08:00']
    """
    mid = start_ns + (end_ns - start_ns) // 2
    first = (mid - 8 * NS_PER_HOUR + NS_PER_DAY - 1) // NS_PER_DAY * NS_PER_DAY + 8 * NS_PER_HOUR
    return [first + i * 28 * NS_PER_DAY for i in range(count)]


def _concat(frames: list[pl.DataFrame], kind: EventKind) -> pl.DataFrame:
    frames = [f for f in frames if f.height]
    if not frames:
        return pl.DataFrame(schema=polars_schema(kind))
    return pl.concat(frames).sort(["ts_event", "instrument_id"], maintain_order=True)


def build_market(
    config: MarketConfig | None = None, *, progress: ProgressCallback | None = None
) -> SimulatedMarket:
    """Build the simulated market described by ``config`` (defaults if None).

    Parameters
    ----------
    config
        What to simulate; the same config always gives the same tables.
    progress
        Optional ``progress(stage, fraction_done)`` callback, e.g. to drive a progress bar.

    Examples
    --------
    >>> from spreadlab.data.market import MarketConfig, build_market
    >>> mkt = build_market(MarketConfig(days=0.5, options=None, universe=None))
    >>> sorted({i.id.symbol for i in mkt.instruments if i.id.venue == "SIM"})[:3]
    ['BTC-1MAR24', 'BTC-29MAR24', 'BTC-PERP']
    >>> bool((mkt.quotes["bid"] < mkt.quotes["ask"]).all())
    True
    """
    cfg = MarketConfig() if config is None else config
    if not isinstance(cfg, MarketConfig):
        raise ValidationError(f"config={cfg!r} must be a MarketConfig")

    def tick(stage: str) -> None:
        if progress is not None:
            progress(stage, _STAGES.index(stage) / len(_STAGES))

    n, step, seed, b = cfg.n_steps, cfg.step_ns, cfg.seed, cfg.base
    ts = cfg.start_ns + np.arange(n, dtype=np.int64) * step
    t = Tables()
    index_id = f"SIM:{b}-INDEX"

    tick("index")
    idx = simulate_index(cfg.index, stream(seed, "index"), n=n, step_ns=step, spot_price=cfg.spot_price)
    index_pub = np.round(idx.price, 2)

    tick("spot")
    sc = cfg.spot
    spot = Spot(
        id=InstrumentId("SIM", f"{b}USDT"),
        base=b,
        quote="USDT",
        settlement_currency="USDT",
        tick_size=sc.tick_size,
        lot_size=sc.lot_size,
        min_notional=5.0,
    )
    basis = ou(
        stream(seed, "spot"),
        n,
        sd=sc.basis_sd_bp * 1e-4,
        half_life_minutes=sc.basis_half_life_minutes,
        step_ns=step,
    )
    publish(
        t,
        cfg,
        spot,
        ts=ts,
        mid=idx.price * (1.0 + basis),
        var=idx.var,
        base_half_bp=sc.half_spread_bp,
        latency_ms=cfg.latency_ms,
    )

    tick("perp")
    pc = cfg.perp
    perp = Perpetual(
        id=InstrumentId("SIM", f"{b}-PERP"),
        base=b,
        quote="USDT",
        settlement_currency="USDT",
        tick_size=pc.tick_size,
        lot_size=pc.lot_size,
        min_notional=5.0,
        funding_interval_ns=round(pc.funding_interval_hours * NS_PER_HOUR),
    )
    prem = pc.premium_mean_bp * 1e-4 + ou(
        stream(seed, "perp"),
        n,
        sd=pc.premium_sd_bp * 1e-4,
        half_life_minutes=pc.premium_half_life_minutes,
        step_ns=step,
    )
    prem = prem + 1e-4 * episode_profile(
        t,
        cfg,
        ts,
        name="perp",
        instrument_id=str(perp.id),
        reference_id=index_id,
        kind=DislocationKind.PREMIUM_BURST,
        rate=pc.burst_rate_per_day,
        minutes=pc.burst_minutes,
        size=pc.burst_size_bp,
        positive_share=pc.burst_positive_share,
    )
    perp_mid = idx.price * (1.0 + prem)
    book = publish(
        t,
        cfg,
        perp,
        ts=ts,
        mid=perp_mid,
        var=idx.var,
        base_half_bp=pc.half_spread_bp,
        latency_ms=cfg.latency_ms,
    )
    perp_extras(t, cfg, perp, ts=ts, book=book, index_pub=index_pub, latency_ms=cfg.latency_ms)

    tick("venue2")
    if cfg.venue2 is not None:
        vc = cfg.venue2
        perp2 = Perpetual(
            id=InstrumentId("SIM2", f"{b}-PERP"),
            base=b,
            quote="USDT",
            settlement_currency="USDT",
            tick_size=pc.tick_size,
            lot_size=pc.lot_size,
            min_notional=5.0,
            funding_interval_ns=round(vc.funding_interval_hours * NS_PER_HOUR),
        )
        lagged = perp_mid[np.maximum(np.arange(n) - vc.lag_steps, 0)]
        noise = ou(
            stream(seed, "venue2"),
            n,
            sd=vc.noise_sd_bp * 1e-4,
            half_life_minutes=vc.noise_half_life_minutes,
            step_ns=step,
        )
        noise = noise + 1e-4 * episode_profile(
            t,
            cfg,
            ts,
            name="venue2",
            instrument_id=str(perp2.id),
            reference_id=str(perp.id),
            kind=DislocationKind.VENUE_DISLOCATION,
            rate=vc.dislocation_rate_per_day,
            minutes=vc.dislocation_minutes,
            size=vc.dislocation_size_bp,
            first=vc.lag_steps + 1,
        )
        book2 = publish(
            t,
            cfg,
            perp2,
            ts=ts,
            mid=lagged * (1.0 + noise),
            var=idx.var,
            base_half_bp=vc.half_spread_bp,
            latency_ms=vc.latency_ms,
            size_scale=0.6,
        )
        perp_extras(t, cfg, perp2, ts=ts, book=book2, index_pub=index_pub, latency_ms=vc.latency_ms)

    tick("futures")
    fut_expiries: list[int] = []
    carries: list[float] = []
    if cfg.futures is not None:
        fc = cfg.futures
        fut_expiries = (
            [parse_time(e) for e in fc.expiries]
            if fc.expiries is not None
            else default_expiries(cfg.start_ns, cfg.end_ns, len(fc.carry_annual))
        )
        carries = list(fc.carry_annual)
        for expiry, carry in zip(fut_expiries, carries):
            if expiry <= cfg.start_ns:
                raise ValidationError(
                    f"FuturesConfig.expiries: {ns_to_iso(expiry)} is not after "
                    f"the start {ns_to_iso(cfg.start_ns)}"
                )
            fut = Future(
                id=InstrumentId("SIM", f"{b}-{format_dmy(expiry)}"),
                base=b,
                quote="USDT",
                settlement_currency="USDT",
                settlement=Settlement.LINEAR,
                tick_size=fc.tick_size,
                lot_size=fc.lot_size,
                expiry_ns=expiry,
                listing_ns=cfg.start_ns,
            )
            live = int(np.searchsorted(ts, expiry, side="right"))
            tau = fut.years_to_expiry(ts[:live])
            taper = np.clip((expiry - ts[:live]) / (fc.taper_hours * NS_PER_HOUR), 0.0, 1.0)
            noise = ou(
                stream(seed, "futures", str(fut.id)),
                live,
                sd=fc.noise_sd_bp * 1e-4,
                half_life_minutes=fc.noise_half_life_minutes,
                step_ns=step,
            )
            limit = int(np.searchsorted(ts, expiry - round(fc.taper_hours * NS_PER_HOUR), side="right"))
            dis = episode_profile(
                t,
                cfg,
                ts,
                name=f"futures:{fut.id}",
                instrument_id=str(fut.id),
                reference_id=index_id,
                kind=DislocationKind.BASIS_DISLOCATION,
                rate=fc.dislocation_rate_per_day,
                minutes=fc.dislocation_minutes,
                size=fc.dislocation_size_bp,
                limit=limit,
            )[:live]
            mid = idx.price[:live] * np.exp(carry * tau) * (1.0 + taper * (noise + 1e-4 * dis))
            fbook = publish(
                t,
                cfg,
                fut,
                ts=ts[:live],
                mid=mid,
                var=idx.var[:live],
                base_half_bp=fc.half_spread_bp,
                latency_ms=cfg.latency_ms,
            )
            recv = ts[:live] + latency(stream(seed, "latency", str(fut.id), "mark"), live, cfg.latency_ms)
            fmark = mark_prices(
                fbook.mid, index_pub[:live], smoothing_minutes=0.0, step_ns=step, tick=fut.tick_size
            )
            t.mark.append(mark_frame(str(fut.id), ts[:live], recv, fmark, index_pub[:live]))

    tick("options")
    option_quotes = pl.DataFrame(schema=polars_schema(EventKind.OPTION_QUOTES))
    smiles = pl.DataFrame(schema=SMILE_SCHEMA)
    if cfg.options is not None:
        oc = cfg.options
        if oc.expiries is not None:
            opt_exp = [parse_time(e) for e in oc.expiries]
        elif fut_expiries:
            opt_exp = list(fut_expiries)
        else:
            opt_exp = default_expiries(cfg.start_ns, cfg.end_ns, 2)
        opt_exp = [e for e in opt_exp if e > cfg.start_ns]
        if fut_expiries:
            opt_carry = [float(np.interp(e, fut_expiries, carries)) for e in opt_exp]
        else:
            opt_carry = [0.0] * len(opt_exp)
        chain = simulate_options(
            oc,
            cfg.index,
            seed=seed,
            base=b,
            ts=ts,
            step_ns=step,
            index=idx.price,
            var=idx.var,
            expiries=opt_exp,
            carries=opt_carry,
            dislocations=cfg.dislocations,
            latency_ms=cfg.latency_ms,
        )
        t.instruments.extend(chain.instruments)
        option_quotes = chain.quotes
        smiles = chain.smiles
        if chain.truth.height:
            t.truth.append(chain.truth)

    tick("universe")
    bars = pl.DataFrame(schema=polars_schema(EventKind.BARS))
    pairs = pl.DataFrame()
    if cfg.universe is not None:
        uni = simulate_universe(cfg.universe, seed=seed, ts=ts, step_ns=step, dislocations=cfg.dislocations)
        t.instruments.extend(uni.instruments)
        bars = uni.bars
        pairs = uni.pairs
        if uni.truth.height:
            t.truth.append(uni.truth)

    tick("tables")
    truth_frames = [f for f in t.truth if f.height]
    truth = (
        pl.concat(truth_frames).sort(["start_ns", "instrument_id"], maintain_order=True)
        if truth_frames
        else pl.DataFrame(schema=GROUND_TRUTH_SCHEMA)
    )
    market = SimulatedMarket(
        config=cfg,
        instruments=tuple(t.instruments),
        quotes=_concat(t.quotes, EventKind.QUOTES),
        trades=_concat(t.trades, EventKind.TRADES),
        book_snapshots=_concat(t.books, EventKind.BOOK_SNAPSHOTS),
        funding=_concat(t.funding, EventKind.FUNDING),
        mark=_concat(t.mark, EventKind.MARK),
        option_quotes=option_quotes,
        bars=bars,
        ground_truth=truth,
        smiles=smiles,
        pairs=pairs,
    )
    if progress is not None:
        progress("done", 1.0)
    return market
