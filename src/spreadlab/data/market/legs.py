"""Publishing one instrument's data: quotes, book, trades, mark and funding, plus episode profiles.

Shared by the parts of :func:`spreadlab.data.market.build_market`; every
helper draws from the named stream of its instrument
(:func:`spreadlab.data.market.paths.stream`), so the output of one
instrument does not depend on which other parts are switched on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from spreadlab._typing import FloatArray, IntArray
from spreadlab.core.time import NS_PER_MINUTE
from spreadlab.data.market.config import MarketConfig
from spreadlab.data.market.funding import funding_frame, mark_frame, mark_prices
from spreadlab.data.market.paths import stream
from spreadlab.data.market.quoting import (
    Book,
    half_spread,
    latency,
    make_book,
    quotes_frame,
    snapshots_frame,
    trades_frame,
)
from spreadlab.data.market.truth import DislocationKind, SizeUnit, draw_episodes, truth_frame
from spreadlab.instruments.base import Instrument, Perpetual

__all__ = ["Tables", "episode_profile", "perp_extras", "publish"]


@dataclass(slots=True)
class Tables:
    """Frames collected while building, by table."""

    quotes: list[pl.DataFrame] = field(default_factory=list)
    books: list[pl.DataFrame] = field(default_factory=list)
    funding: list[pl.DataFrame] = field(default_factory=list)
    mark: list[pl.DataFrame] = field(default_factory=list)
    truth: list[pl.DataFrame] = field(default_factory=list)
    instruments: list[Instrument] = field(default_factory=list)
    trades: list[pl.DataFrame] = field(default_factory=list)


def publish(
    t: Tables,
    cfg: MarketConfig,
    inst: Instrument,
    *,
    ts: IntArray,
    mid: FloatArray,
    var: FloatArray,
    base_half_bp: float,
    latency_ms: float,
    size_scale: float = 1.0,
) -> Book:
    key = str(inst.id)
    half = half_spread(stream(cfg.seed, "spread", key), base_bp=base_half_bp, var=var, theta=cfg.index.vol**2)
    book = make_book(
        stream(cfg.seed, "book", key),
        mid=mid,
        half=half,
        tick=inst.tick_size,
        lot=inst.lot_size,
        cfg=cfg.book,
        size_scale=size_scale,
    )
    recv = ts + latency(stream(cfg.seed, "latency", key), ts.shape[0], latency_ms)
    t.quotes.append(quotes_frame(key, ts, recv, book))
    t.books.append(snapshots_frame(key, ts, recv, book))
    t.instruments.append(inst)
    if cfg.trades is not None and cfg.trades.rate_per_minute > 0.0:
        t.trades.append(
            trades_frame(
                stream(cfg.seed, "trades", key),
                key,
                ts,
                cfg.step_ns,
                book,
                rate_per_step=cfg.trades.rate_per_minute * cfg.step_ns / NS_PER_MINUTE,
                mean_size=cfg.trades.mean_size * size_scale,
                lot=inst.lot_size,
                latency_ms=latency_ms,
            )
        )
    return book


def perp_extras(
    t: Tables,
    cfg: MarketConfig,
    inst: Perpetual,
    *,
    ts: IntArray,
    book: Book,
    index_pub: FloatArray,
    latency_ms: float,
) -> None:
    key = str(inst.id)
    p = cfg.perp
    recv = ts + latency(stream(cfg.seed, "latency", key, "mark"), ts.shape[0], latency_ms)
    mark = mark_prices(
        book.mid,
        index_pub,
        smoothing_minutes=p.mark_smoothing_minutes,
        step_ns=cfg.step_ns,
        tick=inst.tick_size,
    )
    t.mark.append(mark_frame(key, ts, recv, mark, index_pub))
    t.funding.append(
        funding_frame(
            key,
            ts,
            book.mid / index_pub - 1.0,
            start_ns=cfg.start_ns,
            end_ns=cfg.end_ns,
            interval_ns=inst.funding_interval_ns,
            interest_per_8h=p.interest_per_8h,
            clamp_per_8h=p.interest_clamp_per_8h,
            cap=p.funding_cap,
            rng=stream(cfg.seed, "latency", key, "funding"),
            latency_ms=latency_ms,
        )
    )


def episode_profile(
    t: Tables,
    cfg: MarketConfig,
    ts: IntArray,
    *,
    name: str,
    instrument_id: str,
    reference_id: str,
    kind: DislocationKind,
    rate: float,
    minutes: tuple[float, float],
    size: tuple[float, float],
    positive_share: float = 0.5,
    first: int = 1,
    limit: int | None = None,
) -> FloatArray:
    n = ts.shape[0]
    if not cfg.dislocations:
        return np.zeros(n)
    ep = draw_episodes(
        stream(cfg.seed, name, "dislocations"),
        n_steps=n,
        step_ns=cfg.step_ns,
        rate_per_day=rate,
        minutes=minutes,
        size=size,
        positive_share=positive_share,
        first=first,
        limit=limit,
    )
    t.truth.append(
        truth_frame(
            ep,
            ts,
            cfg.step_ns,
            instrument_id=instrument_id,
            reference_id=reference_id,
            kind=kind,
            unit=SizeUnit.BP,
        )
    )
    return ep.profile(n)
