"""No look-ahead in the feature builders: rewriting the data after a random cut t changes no output at or before t.

Every builder of ``spreadlab.signals`` that maps a time series to a time series
is run on seeded random data and on a copy whose rows after ``t`` are redrawn
(hypothesis draws the seed and ``t``); the outputs of rows ``0..t`` must be
identical bit for bit. Event series (funding, open interest, any as-of
source) are perturbed where their publication time is after bar ``t``.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from spreadlab.core.enums import OptionKind, Settlement
from spreadlab.core.ids import InstrumentId
from spreadlab.data.book_types import TopLevels
from spreadlab.instruments import Future, Option, Spot
from spreadlab.pricing.svi import SVI, SVIParams
from spreadlab.signals.features import (
    ReturnKind,
    asof_join,
    book_features,
    correlation_features,
    event_features,
    funding_features,
    log_returns,
    open_interest_features,
    realised_volatility,
    spread_features,
    surface_feature_series,
    to_signal_frame,
)
from spreadlab.signals.rules import ThresholdRule
from spreadlab.signals.spread import Leg, Spread, SpreadQuote
from spreadlab.signals.zscore import ewma_zscore, robust_zscore, rolling_zscore
from spreadlab.testing.lookahead import assert_prefix_equal, check_builder, perturb_after

N = 300
HOUR = 3_600_000_000_000
CASES = settings(max_examples=25, deadline=None)
seeds = st.integers(0, 2**31 - 1)
cuts = st.integers(0, N - 2)


def _walk(seed: int, n: int = N) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100.0 + np.cumsum(rng.normal(size=n))


@CASES
@given(seed=seeds, t=cuts)
def test_zscores(seed: int, t: int) -> None:
    x = {"values": _walk(seed)}
    check_builder(rolling_zscore, x, t, seed, window=20)
    check_builder(rolling_zscore, x, t, seed, window=50, min_periods=5)
    check_builder(ewma_zscore, x, t, seed, halflife=10.0)
    check_builder(robust_zscore, x, t, seed, window=30)


@CASES
@given(seed=seeds, t=cuts)
def test_realised_volatility_and_spread_features(seed: int, t: int) -> None:
    x = _walk(seed)
    check_builder(realised_volatility, {"values": x}, t, seed, window=24)
    check_builder(realised_volatility, {"values": x}, t, seed, window=10, kind=ReturnKind.LOG)
    ts = np.arange(N, dtype=np.int64) * HOUR

    def build(spread: np.ndarray) -> pl.DataFrame:
        return spread_features(ts, spread, momentum=(1, 6), zscore_windows=(24,), vol_windows=(12,))

    check_builder(build, {"spread": x}, t, seed)


def _events(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    bars = np.arange(N, dtype=np.int64) * HOUR
    ev_ts = np.sort(rng.choice(N * 60, size=N // 3, replace=False)).astype(np.int64) * (HOUR // 60)
    return bars, ev_ts, rng.normal(1e-4, 1e-4, ev_ts.size)


@CASES
@given(seed=seeds, t=cuts, lag=st.integers(0, 3))
def test_event_features_see_only_published_values(seed: int, t: int, lag: int) -> None:
    bars, ev_ts, vals = _events(seed)
    lag_ns = lag * HOUR // 2
    late = ev_ts + lag_ns > bars[t]  # published after bar t
    rng = np.random.default_rng(seed + 1)
    vals2 = np.where(late, rng.normal(size=vals.size), vals)
    oi, oi2 = 1e6 * (1 + np.abs(vals)), 1e6 * (1 + np.abs(vals2))
    ev = {"name": "ev", "changes": (1, 2), "pct_changes": (1,), "means": (3,), "lag_ns": lag_ns}
    # funding and open interest carry no lag: what is published at or before the bar is used
    late0 = ev_ts > bars[t]
    f2 = np.where(late0, rng.normal(size=vals.size), vals)
    o2 = np.where(late0, 1e6 * (1 + np.abs(f2)), oi)
    for fn, a, b, kw in (
        (event_features, oi, oi2, ev),
        (funding_features, vals, f2, {}),
        (open_interest_features, oi, o2, {}),
    ):
        base = fn(bars, ev_ts, a, max_staleness_ns=20 * HOUR, **kw)
        other = fn(bars, ev_ts, b, max_staleness_ns=20 * HOUR, **kw)
        assert_prefix_equal(base, other, t + 1, name=fn.__name__)
    src = pl.DataFrame({"ts": ev_ts, "v": vals})
    joined = [
        asof_join(bars, frame, max_staleness_ns=5 * HOUR, lag_ns=lag_ns)
        for frame in (src, src.with_columns(pl.Series("v", vals2)))
    ]
    assert_prefix_equal(joined[0], joined[1], t + 1, name="asof_join")


@CASES
@given(seed=seeds, t=cuts)
def test_signal_frame_keeps_rows_by_their_own_values(seed: int, t: int) -> None:
    x = _walk(seed)
    feats = spread_features(np.arange(N, dtype=np.int64) * HOUR, x, momentum=(3,), zscore_windows=(10,))
    rng = np.random.default_rng(seed)
    pert = feats.with_columns(pl.Series("spread", perturb_after(x, t, rng)))
    a, b = to_signal_frame(feats).frame, to_signal_frame(pert).frame
    keep = int(np.searchsorted(a.ts, int(feats["ts"][t]), side="right"))
    assert_prefix_equal(a.ts, b.ts, keep, name="ts")
    assert_prefix_equal(dict(a.columns), dict(b.columns), min(keep, len(a)), name="columns")


@CASES
@given(seed=seeds, t=cuts)
def test_book_features(seed: int, t: int) -> None:
    rng = np.random.default_rng(seed)
    mid = _walk(seed)
    depth = 5
    steps = np.arange(1, depth + 1) * 0.01

    def build(mid: np.ndarray, size: np.ndarray) -> pl.DataFrame:
        sizes = np.abs(size)[:, None] * (1 + steps[None, :])
        top = TopLevels(
            bid_prices=mid[:, None] - steps[None, :],
            bid_sizes=sizes,
            ask_prices=mid[:, None] + steps[None, :],
            ask_sizes=sizes[:, ::-1],
        )
        return book_features(np.arange(N, dtype=np.int64), top, levels=(1, 5), depth_bp=(2.0,))

    check_builder(build, {"mid": mid, "size": rng.uniform(0.5, 3.0, N)}, t, seed)


@CASES
@given(seed=seeds, t=cuts)
def test_universe_features(seed: int, t: int) -> None:
    rng = np.random.default_rng(seed)
    prices = np.exp(np.cumsum(rng.normal(scale=0.01, size=(N, 4)), axis=0)) * 50
    ts = np.arange(N, dtype=np.int64) * HOUR
    frame = pl.DataFrame({"ts": ts, **{f"c{i}": prices[:, i] for i in range(4)}})
    pert = prices.copy()
    pert[t + 1 :] *= rng.uniform(0.5, 1.5, size=pert[t + 1 :].shape)
    other = pl.DataFrame({"ts": ts, **{f"c{i}": pert[:, i] for i in range(4)}})
    assert_prefix_equal(log_returns(frame), log_returns(other), t + 1, name="log_returns")
    r = np.diff(np.log(prices), axis=0)
    target = rng.normal(size=N - 1)

    def build(returns: np.ndarray, target: np.ndarray) -> pl.DataFrame:
        return correlation_features(ts[1:], returns, target, window=30, k=2)

    check_builder(build, {"returns": r, "target": target}, max(t - 1, 0), seed)


def test_surface_features_per_snapshot() -> None:
    # each row is built from its own snapshot's fits: rewriting later snapshots changes no earlier row
    rng = np.random.default_rng(5)
    k = np.linspace(-0.5, 0.5, 15)
    snaps = []
    for _ in range(12):
        fits = []
        for t_exp in (0.05, 0.2, 0.5):
            p = SVIParams(a=0.02 * t_exp * 10, b=rng.uniform(0.05, 0.2), rho=-0.3, m=0.0, sigma=0.2)
            fits.append(SVI().fit(k, p.implied_vol(k, t_exp), expiry_years=t_exp))
        snaps.append(fits)
    ts = np.arange(12, dtype=np.int64) * HOUR
    base = surface_feature_series(ts, snaps, tenor_years=0.25)
    for t in (0, 5, 10):
        other_snaps = snaps[: t + 1] + [snaps[0]] * (11 - t)
        other = surface_feature_series(ts, other_snaps, tenor_years=0.25)
        assert_prefix_equal(base, other, t + 1, name="surface_feature_series")


@CASES
@given(seed=seeds, t=cuts, current=st.sampled_from([-1.0, 0.0, 1.0]))
def test_threshold_rule_states(seed: int, t: int, current: float) -> None:
    z = np.random.default_rng(seed).normal(scale=1.5, size=N)
    rule = ThresholdRule(entry_z=1.5, exit_z=0.3, stop_z=3.5, max_hold_bars=40)

    def build(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = rule.apply(z, current=current)
        return out.state, out.events

    check_builder(build, {"z": z}, t, seed)


SPOT = Spot(id=InstrumentId("SIM", "BTCUSDT"), base="BTC", quote="USDT", settlement_currency="USDT",
            tick_size=0.1, lot_size=0.001)  # fmt: skip
FUT = Future(id=InstrumentId("SIM", "BTC-28MAR25"), base="BTC", quote="USDT", settlement_currency="USDT",
             tick_size=0.1, lot_size=0.001, expiry_ns=1_743_148_800_000_000_000)  # fmt: skip
OPT = Option(id=InstrumentId("SIM", "BTC-28MAR25-100000-C"), base="BTC", quote="USD", settlement_currency="BTC",
             settlement=Settlement.INVERSE, tick_size=0.0001, lot_size=0.1, strike=100_000.0,
             expiry_ns=1_743_148_800_000_000_000, kind=OptionKind.CALL, underlying="BTC")  # fmt: skip


@CASES
@given(seed=seeds, t=cuts)
def test_spread_values(seed: int, t: int) -> None:
    rng = np.random.default_rng(seed)
    ts = FUT.expiry_ns - (200 - np.arange(N) * 0.5).astype(np.int64) * 86_400_000_000_000
    spot = 95_000 * np.exp(np.cumsum(rng.normal(scale=0.002, size=N)))
    fut = spot * (1 + rng.normal(0.01, 0.002, N))
    for quote in (SpreadQuote.BASIS, SpreadQuote.ANNUALISED_BASIS, SpreadQuote.LOG_RATIO):
        s = Spread(legs=(Leg(instrument=FUT, ratio=1.0), Leg(instrument=SPOT, ratio=-1.0)), quote=quote)

        def build(fut: np.ndarray, spot: np.ndarray, s: Spread = s) -> np.ndarray:
            return s.value([fut, spot], ts_ns=ts)

        check_builder(build, {"fut": fut, "spot": spot}, t, seed)
    iv = Spread(
        legs=(Leg(instrument=OPT, ratio=1.0), Leg(instrument=FUT, ratio=-0.5)), quote=SpreadQuote.IV_RESIDUAL
    )
    prem = rng.uniform(0.02, 0.06, N)

    def build_iv(prem: np.ndarray, fut: np.ndarray) -> np.ndarray:
        return iv.value([prem, fut], ts_ns=ts)

    check_builder(build_iv, {"prem": prem, "fut": fut}, t, seed)
