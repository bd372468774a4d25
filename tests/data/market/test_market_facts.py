"""Statistical and structural facts of the built market, checked against outside references.

statsmodels is the reference for the AR(1) half-life (OLS) and for
cointegration (Engle-Granger ``coint``); funding is recomputed here from the
published quotes and index with Binance's rule written out independently.
"""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.tsa.stattools import coint

from spreadlab.data.market import (
    BookConfig,
    MarketConfig,
    PerpConfig,
    SecondVenueConfig,
    SimulatedMarket,
    build_market,
)
from spreadlab.data.market.quoting import make_book
from spreadlab.instruments import Future

HOUR = 3600 * 10**9


def _mid(frame: pl.DataFrame) -> np.ndarray:
    return ((frame["bid"] + frame["ask"]) / 2).to_numpy()


def _episode_profile(ts: np.ndarray, truth: pl.DataFrame) -> np.ndarray:
    out = np.zeros(ts.shape[0])
    for r in truth.iter_rows(named=True):
        out[(ts >= r["start_ns"]) & (ts < r["end_ns"])] += r["size"]
    return out


@pytest.mark.parametrize("half_life", [30.0, 90.0])
def test_premium_half_life_matches_config_by_statsmodels_ols(half_life: float) -> None:
    cfg = MarketConfig(
        seed=21,
        days=20.0,
        perp=PerpConfig(premium_half_life_minutes=half_life, premium_sd_bp=4.0),
        futures=None,
        options=None,
        universe=None,
        venue2=None,
    )
    mkt = build_market(cfg)
    q = mkt.frame("SIM:BTC-PERP")
    index = mkt.frame("SIM:BTC-PERP", "mark")["index"].to_numpy()
    ts = q["ts_event"].to_numpy()
    prem_bp = (_mid(q) / index - 1.0) * 1e4
    bursts = mkt.ground_truth.filter(pl.col("kind") == "premium_burst")
    assert bursts.height >= 10
    x = prem_bp - _episode_profile(ts, bursts)
    fit = sm.OLS(x[1:], sm.add_constant(x[:-1])).fit()
    phi, se = fit.params[1], fit.bse[1]
    hl = math.log(2) / -math.log(phi)
    hl_se = math.log(2) / (phi * math.log(phi) ** 2) * se
    assert abs(hl - half_life) < 3.5 * hl_se, (hl, hl_se)
    assert abs(hl - half_life) / half_life < 0.25
    mean = fit.params[0] / (1 - phi)
    assert mean == pytest.approx(cfg.perp.premium_mean_bp, abs=1.0)
    assert x.std() == pytest.approx(4.0, rel=0.2)
    # with the bursts left in, the premium is visibly displaced during each recorded episode
    for r in bursts.iter_rows(named=True):
        inside = (ts >= r["start_ns"]) & (ts < r["end_ns"])
        assert prem_bp[inside].mean() - mean == pytest.approx(r["size"], abs=4 * 4.0)


def _funding_by_hand(q: pl.DataFrame, index: np.ndarray, times: np.ndarray, interval: int, p: PerpConfig):
    ts = q["ts_event"].to_numpy()
    prem = _mid(q) / index - 1.0
    scale = interval / (8 * HOUR)
    i_rate, clamp = p.interest_per_8h * scale, p.interest_clamp_per_8h * scale
    out = []
    for t in times:
        avg = prem[(ts > t - interval) & (ts <= t)].mean()
        out.append(min(max(avg + min(max(i_rate - avg, -clamp), clamp), -p.funding_cap), p.funding_cap))
    return np.array(out)


def test_funding_paid_at_00_08_16_utc_and_follows_the_premium(market: SimulatedMarket) -> None:
    cfg = market.config
    fund = market.frame("SIM:BTC-PERP", "funding")
    times = fund["funding_time_ns"].to_numpy()
    assert (fund["ts_event"].to_numpy() == times).all()
    hours = {datetime.fromtimestamp(t / 1e9, tz=UTC).strftime("%H:%M:%S") for t in times}
    assert hours == {"00:00:00", "08:00:00", "16:00:00"}
    expected = np.arange(cfg.start_ns + 8 * HOUR, cfg.end_ns + 1, 8 * HOUR)
    assert times.tolist() == expected.tolist()
    assert (fund["interval_ns"] == 8 * HOUR).all()
    q = market.frame("SIM:BTC-PERP")
    index = market.frame("SIM:BTC-PERP", "mark")["index"].to_numpy()
    want = _funding_by_hand(q, index, times, 8 * HOUR, cfg.perp)
    np.testing.assert_allclose(fund["rate"].to_numpy(), want, atol=1e-9)
    # the rule is not stuck at the interest rate: bursts push some rates beyond the clamp
    assert len(set(np.round(want, 8))) > 2


def test_funding_of_an_hourly_second_venue_with_a_large_premium() -> None:
    perp = PerpConfig(premium_mean_bp=12.0, premium_sd_bp=6.0, burst_rate_per_day=4.0)
    cfg = MarketConfig(
        days=1.0,
        seed=5,
        perp=perp,
        venue2=SecondVenueConfig(funding_interval_hours=1.0),
        options=None,
        universe=None,
        futures=None,
    )
    mkt = build_market(cfg)
    fund = mkt.frame("SIM2:BTC-PERP", "funding")
    times = fund["funding_time_ns"].to_numpy()
    assert times.tolist() == np.arange(cfg.start_ns + HOUR, cfg.end_ns + 1, HOUR).tolist()
    q = mkt.frame("SIM2:BTC-PERP")
    index = mkt.frame("SIM2:BTC-PERP", "mark")["index"].to_numpy()
    want = _funding_by_hand(q, index, times, HOUR, perp)
    np.testing.assert_allclose(fund["rate"].to_numpy(), want, atol=1e-9)
    assert np.unique(np.round(want, 9)).size > 10  # rates track the premium, not the clamp


def test_futures_carry_and_convergence_to_the_index_at_expiry(market: SimulatedMarket) -> None:
    futs = sorted((i for i in market.instruments if isinstance(i, Future)), key=lambda f: f.expiry_ns)
    carries = market.config.futures.carry_annual
    near, far = futs
    assert market.config.start_ns < near.expiry_ns <= market.config.end_ns
    q = market.frame(near.id)
    mark = market.frame(near.id, "mark")
    assert q["ts_event"].max() == near.expiry_ns  # quoted up to and including expiry, not after
    index = mark["index"].to_numpy()
    basis = _mid(q) / index - 1.0
    # at expiry the future sits on the index (within one tick and the index's 1-cent rounding)
    assert abs(_mid(q)[-1] - index[-1]) <= near.tick_size + 0.01
    # the basis shrinks to zero: last hour within a few bp, far smaller than a day before
    ts = q["ts_event"].to_numpy()
    last_hour = ts > near.expiry_ns - HOUR
    assert np.abs(basis[last_hour]).max() < 1.5e-4
    # the far future's annualised basis (outside recorded dislocations) estimates its carry
    qf = market.frame(far.id)
    tf = qf["ts_event"].to_numpy()
    tau = (far.expiry_ns - tf) / (365.25 * 86_400e9)
    truth = market.ground_truth.filter(pl.col("instrument_id") == str(far.id))
    calm = _episode_profile(tf, truth) == 0
    ann = np.log(_mid(qf) / market.frame(far.id, "mark")["index"].to_numpy()) / tau
    assert ann[calm].mean() == pytest.approx(carries[1], abs=0.01)
    assert near.expiry_ns - market.config.start_ns < far.expiry_ns - market.config.start_ns


def test_books_are_never_crossed_and_their_top_is_the_quote(market: SimulatedMarket) -> None:
    books = market.book_snapshots
    quotes = market.quotes
    assert books.height == quotes.height
    assert books["ts_event"].to_list() == quotes["ts_event"].to_list()
    bp = np.stack(books["bid_prices"].to_list())
    ap = np.stack(books["ask_prices"].to_list())
    bs = np.stack(books["bid_sizes"].to_list())
    as_ = np.stack(books["ask_sizes"].to_list())
    assert bp.shape[1] == 10
    assert (bp[:, 0] < ap[:, 0]).all()
    assert (np.diff(bp, axis=1) < 0).all() and (np.diff(ap, axis=1) > 0).all()
    assert (bs > 0).all() and (as_ > 0).all()
    np.testing.assert_array_equal(bp[:, 0], quotes["bid"].to_numpy())
    np.testing.assert_array_equal(ap[:, 0], quotes["ask"].to_numpy())
    np.testing.assert_array_equal(bs[:, 0], quotes["bid_size"].to_numpy())
    # prices sit on each instrument's tick grid
    for inst_id in quotes["instrument_id"].unique():
        tick = market.instrument(inst_id).tick_size
        q = quotes.filter(pl.col("instrument_id") == inst_id)
        for col in ("bid", "ask"):
            k = q[col].to_numpy() / tick
            assert np.abs(k - np.round(k)).max() < 1e-6, (inst_id, col)
    # depth grows away from the top on average (realistic profile)
    assert bs[:, -1].mean() > 2 * bs[:, 0].mean()


@settings(max_examples=60, deadline=None)
@given(
    mid=st.floats(1e-3, 1e6),
    half_bp=st.floats(0.0, 200.0),
    tick_exp=st.integers(-6, 1),
    levels=st.integers(1, 25),
    spacing=st.floats(0.01, 5.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_make_book_never_crosses_for_any_inputs(mid, half_bp, tick_exp, levels, spacing, seed) -> None:
    tick = 10.0**tick_exp
    if mid < 20 * tick:
        mid = 20 * tick * (1 + mid)
    n = 5
    cfg = BookConfig(levels=levels, level_spacing_bp=spacing)
    rng = np.random.default_rng(seed)
    mids = mid * np.exp(rng.normal(0, 0.01, n))
    book = make_book(rng, mid=mids, half=np.full(n, half_bp * 1e-4), tick=tick, lot=0.001, cfg=cfg)
    assert (book.bid < book.ask).all()
    assert (book.bid <= mids * (1 + 1e-12)).all() and (book.ask >= mids * (1 - 1e-12)).all()
    if levels > 1:
        assert (np.diff(book.bid_prices, axis=1) < 0).all() and (np.diff(book.ask_prices, axis=1) > 0).all()


def test_second_venue_lags_the_first(market: SimulatedMarket) -> None:
    a = np.diff(np.log(_mid(market.frame("SIM:BTC-PERP"))))
    b = np.diff(np.log(_mid(market.frame("SIM2:BTC-PERP"))))
    lag = market.config.venue2.lag_steps
    corr = {k: np.corrcoef(a[: len(a) - k], b[k:])[0, 1] for k in range(0, 4)}
    assert max(corr, key=corr.get) == lag
    assert corr[lag] > 0.8 and corr[0] < 0.3


def _eg_pvalue(y: np.ndarray, x: np.ndarray) -> float:
    # Engle-Granger with a fixed ADF lag order (the AIC lag search over ~30 lags is needlessly slow)
    return float(coint(y, x, autolag=None, maxlag=2)[1])


def test_cointegrated_pairs_pass_engle_granger_at_1pct_and_the_others_mostly_do_not(
    market: SimulatedMarket,
) -> None:
    wide = market.bars.pivot(on="instrument_id", index="ts_event", values="close").sort("ts_event")
    logs = {c: np.log(wide[c].to_numpy()) for c in wide.columns if c != "ts_event"}
    pairs = {(r["leader_id"], r["follower_id"]) for r in market.pairs.iter_rows(named=True)}
    assert len(pairs) == 3
    for leader, follower in pairs:
        assert _eg_pvalue(logs[follower], logs[leader]) < 0.01, (leader, follower)
    others = [
        (x, y)
        for x, y in itertools.combinations(sorted(logs), 2)
        if (x, y) not in pairs and (y, x) not in pairs
    ]
    rejected = sum(_eg_pvalue(logs[x], logs[y]) < 0.01 for x, y in others)
    assert len(others) == 42 and rejected <= 4


def test_universe_bars_are_consistent_and_correlated(market: SimulatedMarket) -> None:
    bars = market.bars
    assert (bars["high"] >= bars[["open", "close"]].max_horizontal()).all()
    assert (bars["low"] <= bars[["open", "close"]].min_horizontal()).all()
    assert (bars["low"] > 0).all() and (bars["volume"] > 0).all()
    assert ((bars["ts_recv"] - bars["ts_event"]) == bars["interval_ns"]).all()
    wide = bars.pivot(on="instrument_id", index="ts_event", values="close").sort("ts_event")
    r = np.diff(np.log(wide.drop("ts_event").to_numpy()), axis=0)
    c = np.corrcoef(r.T)
    off = c[~np.eye(c.shape[0], dtype=bool)]
    assert 0.4 < np.median(off) < 0.8  # one market factor with correlation 0.6
    vol = r.std(axis=0) * math.sqrt(525_960)
    assert np.median(vol) == pytest.approx(market.config.universe.vol, rel=0.2)


def test_trades_print_at_the_standing_touch(market: SimulatedMarket) -> None:
    trades = market.trades
    assert trades.height > 10_000
    assert set(trades["instrument_id"]) == set(market.quotes["instrument_id"])
    j = trades.sort("ts_event").join_asof(
        market.quotes.sort("ts_event").select(
            "ts_event", "instrument_id", "bid", "ask", "bid_size", "ask_size"
        ),
        on="ts_event",
        by="instrument_id",
        strategy="backward",
        check_sortedness=False,
    )
    assert j["bid"].null_count() == 0
    buys = j.filter(pl.col("aggressor") == 1)
    sells = j.filter(pl.col("aggressor") == -1)
    assert buys.height + sells.height == j.height and 0.45 < buys.height / j.height < 0.55
    assert (buys["price"] == buys["ask"]).all() and (buys["size"] <= buys["ask_size"]).all()
    assert (sells["price"] == sells["bid"]).all() and (sells["size"] <= sells["bid_size"]).all()
    assert (trades["size"] > 0).all()
    # no trade at a quote time itself: each happens strictly inside a step
    step = market.config.step_ns
    assert ((trades["ts_event"] - market.config.start_ns) % step != 0).all()
    # Poisson rate per instrument close to the configured one
    per_inst = trades.group_by("instrument_id").len()["len"].to_numpy()
    minutes = market.config.days * 1440
    assert np.median(per_inst) / minutes == pytest.approx(market.config.trades.rate_per_minute, rel=0.1)


def test_index_volatility_and_jumps_follow_the_config() -> None:
    from spreadlab.data.market import IndexConfig

    def realised(index_cfg: IndexConfig) -> np.ndarray:
        cfg = MarketConfig(
            seed=2,
            days=10.0,
            index=index_cfg,
            futures=None,
            options=None,
            universe=None,
            venue2=None,
            trades=None,
        )
        mkt = build_market(cfg)
        return np.diff(np.log(mkt.frame("SIM:BTC-PERP", "mark")["index"].to_numpy()))

    dt = 60 / (365.25 * 86400)
    # constant variance, no jumps: realised vol matches within 3 standard errors (n = 14,400)
    r = realised(IndexConfig(vol=0.8, vol_of_vol=0.0, jump_rate_per_day=0.0))
    assert math.sqrt(r.var() / dt) == pytest.approx(0.8, rel=3 * math.sqrt(0.5 / r.size))
    assert abs(float(np.mean(r > 0)) - 0.5) < 0.02
    # jumps of sd 3% at 5 a day (~50 in 10 days, half of them beyond 2%) fatten the tails
    rj = realised(IndexConfig(vol=0.5, vol_of_vol=0.0, jump_rate_per_day=5.0, jump_sd_pct=3.0))
    kurt = ((rj - rj.mean()) ** 4).mean() / rj.var() ** 2 - 3
    assert kurt > 20
    assert 12 <= int(np.sum(np.abs(rj) > 0.02)) <= 40
