"""Feature builders and labels against pandas/numpy references, the order book, and real data; no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import need_shared

from spreadlab.core.time import NS_PER_HOUR
from spreadlab.errors import InsufficientDataError, ValidationError
from spreadlab.kernels.features import (
    first_passage,
    first_passage_py,
    rolling_corr_spectrum,
    rolling_corr_spectrum_py,
)
from spreadlab.signals.features import (
    NullPolicy,
    PassageOutcome,
    asof_join,
    correlation_features,
    first_passage_labels,
    funding_features,
    horizon_change,
    interpolate_tenor,
    log_returns,
    open_interest_features,
    spread_features,
    surface_feature_series,
    to_signal_frame,
)


# ---------------------------------------------------------------- kernels vs twins
@pytest.mark.parametrize("seed", range(5))
def test_first_passage_kernel_matches_twin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    z = np.cumsum(rng.normal(size=500)) * 0.3
    z[rng.integers(0, 500, 20)] = np.nan
    for exit_, stop, h in ((0.0, 3.0, 10), (-0.5, 2.0, 40), (0.5, 1e300, 5)):
        a = first_passage(z, exit_, stop, h)
        b = first_passage_py(z, exit_, stop, h)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("seed", range(3))
def test_corr_spectrum_kernel_matches_numpy_twin_and_factor_definition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m, w = 120, 6, 40
    r = rng.normal(size=(n, 1)) * 0.7 + rng.normal(size=(n, m))
    y = r[:, 0] - 0.5 * r[:, 1] + rng.normal(size=n) * 0.3
    share, load = rolling_corr_spectrum(r, y, w, 3)
    s2, l2 = rolling_corr_spectrum_py(r, y, w, 3)
    np.testing.assert_allclose(share, s2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(load, l2, rtol=1e-8, atol=1e-10)
    # loading = corr(target, factor return Z v_j), computed the long way at the last bar
    block = r[-w:]
    zs = (block - block.mean(0)) / block.std(0)
    vals, vecs = np.linalg.eigh(np.corrcoef(block, rowvar=False))
    v = vecs[:, -1] * np.sign(vecs[:, -1].sum())
    factor = zs @ v
    assert load[-1, 0] == pytest.approx(np.corrcoef(y[-w:], factor)[0, 1], rel=1e-9)
    assert share[-1, 0] == pytest.approx(vals[-1] / m, rel=1e-12)
    assert np.all(np.isnan(share[: w - 1]))


# ---------------------------------------------------------------- spread features vs pandas
def test_spread_features_match_pandas() -> None:
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.normal(size=300))
    f = spread_features(
        np.arange(300), x, momentum=(1, 5), zscore_windows=(20,), vol_windows=(10,), prefix="s"
    )
    s = pd.Series(x)
    np.testing.assert_allclose(f["s_mom_5"].to_numpy()[5:], s.diff(5).to_numpy()[5:])
    z = (s - s.rolling(20).mean()) / s.rolling(20).std()
    np.testing.assert_allclose(f["s_z_20"].to_numpy()[19:], z.to_numpy()[19:], rtol=1e-9)
    rv = np.sqrt((s.diff() ** 2).rolling(10).sum())
    np.testing.assert_allclose(f["s_rv_10"].to_numpy()[10:], rv.to_numpy()[10:], rtol=1e-10)
    # warm-up is null, never NaN
    assert f["s_z_20"].null_count() == 19 and f["s_rv_10"].null_count() == 10
    assert not any(f[c].is_nan().any() for c in f.columns if c != "ts")


def test_spread_features_bad_input() -> None:
    with pytest.raises(ValidationError, match=r"spread has 1 non-finite value\(s\).*index 2"):
        spread_features(np.arange(4), np.array([1.0, 2.0, np.nan, 3.0]))
    with pytest.raises(ValidationError, match="ts has 3, spread has 4"):
        spread_features(np.arange(3), np.arange(4.0))
    with pytest.raises(ValidationError, match="strictly increasing; row 2"):
        spread_features(np.array([0, 1, 1, 2]), np.arange(4.0))


# ---------------------------------------------------------------- as-of join: no look-ahead
@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    staleness=st.integers(0, 50),
    lag=st.integers(0, 20),
)
def test_asof_join_never_leaks_a_future_value(seed: int, staleness: int, lag: int) -> None:
    rng = np.random.default_rng(seed)
    bars = np.sort(rng.choice(1000, size=80, replace=False)).astype(np.int64)
    src = np.sort(rng.choice(1000, size=60, replace=False)).astype(np.int64)
    vals = rng.normal(size=60)
    macro = pl.DataFrame({"ts": src, "v": vals})
    out = asof_join(bars, macro, max_staleness_ns=staleness, lag_ns=lag, keep_available_ts=True)
    avail = out["available_ts"].to_numpy()
    got = out["v"].to_numpy()
    for i, t in enumerate(bars):
        ok = np.flatnonzero(src + lag <= t)
        if ok.size == 0 or t - (src[ok[-1]] + lag) > staleness:
            assert out["v"][i] is None
        else:
            assert got[i] == vals[ok[-1]] and avail[i] <= t
    # rewriting every value published after bar k changes nothing at or before bar k
    k = 40
    future = src + lag > bars[k]
    vals2 = np.where(future, vals + 1e6, vals)
    out2 = asof_join(bars, pl.DataFrame({"ts": src, "v": vals2}), max_staleness_ns=staleness, lag_ns=lag)
    assert out2["v"][: k + 1].to_list() == out["v"][: k + 1].to_list()


def test_asof_join_bad_input() -> None:
    with pytest.raises(ValidationError, match=r"column 'v' has 1 NaN value\(s\), first at row 1"):
        asof_join(np.arange(3), pl.DataFrame({"ts": [0, 1], "v": [1.0, np.nan]}), max_staleness_ns=5)
    with pytest.raises(ValidationError, match="series\\['ts'\\] must be strictly increasing"):
        asof_join(np.arange(3), pl.DataFrame({"ts": [1, 0], "v": [1.0, 2.0]}), max_staleness_ns=5)
    with pytest.raises(ValidationError, match="no time column 'time'"):
        asof_join(np.arange(3), pl.DataFrame({"ts": [0], "v": [1.0]}), max_staleness_ns=5, on="time")


def test_funding_features_on_real_binance_funding() -> None:
    fund = pl.read_csv(need_shared("binance_spot_perp_daily/funding_BTCUSDT_2021-01_2023-06.csv.gz"))
    fts = fund["funding_time"].str.to_datetime(time_zone="UTC").dt.epoch("ns").to_numpy()
    rates = fund["funding_rate"].to_numpy()
    bars = np.arange(fts[0] - NS_PER_HOUR, fts[-1], NS_PER_HOUR, dtype=np.int64)
    f = funding_features(bars, fts, rates, max_staleness_ns=9 * NS_PER_HOUR, changes=(1, 3), means=(3,))
    i = np.searchsorted(fts, bars, side="right") - 1  # last funding at or before each bar
    assert f["funding"][0] is None  # the first bar precedes every funding
    ok = (i >= 0) & (bars - fts[np.maximum(i, 0)] <= 9 * NS_PER_HOUR)
    np.testing.assert_array_equal(f["funding"].to_numpy()[ok], rates[i[ok]])
    j = i[ok]
    sel = j >= 3
    np.testing.assert_allclose(f["funding_chg_3"].to_numpy()[ok][sel], rates[j[sel]] - rates[j[sel] - 3])
    np.testing.assert_allclose(
        f["funding_mean_3"].to_numpy()[ok][sel], (rates[j[sel]] + rates[j[sel] - 1] + rates[j[sel] - 2]) / 3
    )
    # a gap in the funding history longer than the staleness limit gives nulls, not stale values
    assert f["funding"].null_count() == int((~ok).sum())


def test_open_interest_pct_changes() -> None:
    f = open_interest_features(
        np.array([5, 10, 20]), np.array([0, 10, 20]), np.array([100.0, 110.0, 99.0]), max_staleness_ns=100,
        pct_changes=(1, 2),
    )  # fmt: skip
    assert f["oi_pct_1"][0] is None
    np.testing.assert_allclose(f["oi_pct_1"].to_numpy()[1:], [0.1, 99 / 110 - 1])
    assert f["oi_pct_2"].to_list()[:2] == [None, None] and f["oi_pct_2"][2] == pytest.approx(-0.01)
    with pytest.raises(ValidationError, match=r"open_interest\[1\]=-1.0 must be >= 0"):
        open_interest_features(np.arange(2), np.arange(2), np.array([1.0, -1.0]), max_staleness_ns=1)


# ---------------------------------------------------------------- order book features vs the book
def test_book_features_match_order_book_queries_on_real_depth() -> None:
    from spreadlab.data.importers.binance_ws import read_binance_ws_tables
    from spreadlab.data.orderbook import OrderBook
    from spreadlab.events.schema import EventKind
    from spreadlab.signals.features import book_features

    path = need_shared("binance_l2_hftbacktest/usdm/ethusdt_20240808.gz")
    deltas = read_binance_ws_tables(path)[EventKind.BOOK_DELTAS]
    replay = OrderBook(rule="binance_futures").replay(deltas, top_n=200)
    assert replay.top is not None
    f = book_features(replay.frame["ts"].to_numpy(), replay.top, levels=(1, 5, 10), depth_bp=(2.0, 10.0))
    valid = np.flatnonzero(replay.frame["valid"].to_numpy())
    assert valid.size > 1000
    # replay a prefix on a fresh book and query it: message k ends at delta row ends[k]
    seq = deltas["sequence"].to_numpy()
    ends = np.flatnonzero(np.r_[seq[1:] != seq[:-1], True])
    assert ends.size == replay.events
    for k in (int(valid[5]), int(valid[valid.size // 2]), int(valid[-1])):
        book = OrderBook(rule="binance_futures")
        book.replay(deltas.slice(0, int(ends[k]) + 1))
        assert f["book_imb_5"][k] == pytest.approx(book.imbalance((5,))[0], rel=1e-12)
        assert f["book_imb_10"][k] == pytest.approx(book.imbalance((10,))[0], rel=1e-12)
        d = book.depth(2.0)
        assert f["book_depth_bid_2bp"][k] == pytest.approx(d.bid_size, rel=1e-12)
        assert f["book_depth_ask_2bp"][k] == pytest.approx(d.ask_size, rel=1e-12)
        # 10 bp of ETH reaches past the 200 recorded levels: the feature is then a lower bound
        assert f["book_depth_bid_10bp"][k] <= book.depth(10.0).bid_size + 1e-9
        mid = book.mid
        assert mid is not None
        assert f["book_micro_dev_bp"][k] == pytest.approx((book.microprice() / mid - 1) * 1e4, abs=1e-9)
    # invalid rows (before the snapshot synced) are null, not NaN
    invalid = ~replay.frame["valid"].to_numpy()
    assert f["book_imb_1"].is_null().to_numpy()[invalid].all()
    with pytest.raises(ValidationError, match=r"levels entry 300 must be an int in \[1, 200\]"):
        book_features(replay.frame["ts"].to_numpy(), replay.top, levels=(300,))


# ---------------------------------------------------------------- universe correlation on real data
def test_correlation_features_on_hyperliquid_universe() -> None:
    raw = pl.read_csv(need_shared("hyperliquid_perps/perp_ohlcv_1h.csv.gz"), n_rows=200_000)
    syms = ["BTC", "ETH", "SOL", "AVAX", "LINK", "DOGE"]
    wide = (
        raw.filter(pl.col("symbol").is_in(syms))
        .pivot(on="symbol", index="date", values="close")
        .drop_nulls()
        .sort("date")
        .with_columns(pl.col("date").str.to_datetime(time_zone="UTC").dt.epoch("ns").alias("ts"))
        .drop("date")
        .select("ts", *syms)
    )
    rets = log_returns(wide).slice(1)
    spread_ret = (rets["ETH"] - rets["BTC"]).to_numpy()
    members = rets.select(syms)
    f = correlation_features(rets["ts"].to_numpy(), members, spread_ret, window=168, k=2)
    share, load = rolling_corr_spectrum_py(members.to_numpy(), spread_ret, 168, 2)
    got = f.select("corr_eig_1", "corr_eig_2").to_numpy()
    np.testing.assert_allclose(got[167:], share[167:], rtol=1e-9)
    np.testing.assert_allclose(f["corr_load_1"].to_numpy()[167:], load[167:, 0], rtol=1e-7, atol=1e-10)
    # crypto majors move together: the market mode explains over half the variance
    assert np.nanmedian(got[:, 0]) > 0.5


def test_correlation_features_bad_input() -> None:
    r = np.ones((10, 3))
    r[4, 1] = np.nan
    with pytest.raises(ValidationError, match="first at row 4 column 'col1'"):
        correlation_features(np.arange(10), r, np.zeros(10), window=5)
    with pytest.raises(InsufficientDataError, match="returns has 4 observation"):
        correlation_features(np.arange(4), np.zeros((4, 3)), np.zeros(4), window=5)
    with pytest.raises(ValidationError, match=r"k=4 must be an int in \[1, 3\]"):
        correlation_features(np.arange(10), np.zeros((10, 3)), np.zeros(10), window=5, k=4)


# ---------------------------------------------------------------- surface features from pricing
def test_surface_features_come_from_pricing_and_interpolate_in_total_variance() -> None:
    from spreadlab.pricing.surface import slice_features
    from spreadlab.pricing.svi import SVI, SVIParams

    k = np.linspace(-0.4, 0.4, 21)
    near_p = SVIParams(a=0.004, b=0.05, rho=-0.4, m=0.0, sigma=0.2)
    far_p = SVIParams(a=0.02, b=0.08, rho=-0.2, m=0.05, sigma=0.3)
    near = SVI().fit(k, near_p.implied_vol(k, 0.05), expiry_years=0.05)
    far = SVI().fit(k, far_p.implied_vol(k, 0.25), expiry_years=0.25)
    f = surface_feature_series([0, 1], [[near, far], [far, near]], tenor_years=0.25)
    ref = slice_features(far)
    assert f["iv_atm"][0] == pytest.approx(ref.atm_vol, rel=1e-12)
    assert f["iv_rr25"][1] == pytest.approx(ref.rr25, rel=1e-12)
    assert f["iv_term_slope"][0] == pytest.approx(
        (ref.atm_vol - slice_features(near).atm_vol) / 0.2, rel=1e-12
    )
    mid = surface_feature_series([0], [[near, far]], tenor_years=0.15)
    a, b = slice_features(near), slice_features(far)
    w = 0.5 * a.atm_vol**2 * 0.05 + 0.5 * b.atm_vol**2 * 0.25
    assert mid["iv_atm"][0] == pytest.approx(np.sqrt(w / 0.15), rel=1e-12)
    assert mid["iv_bf25"][0] == pytest.approx(0.5 * (a.bf25 + b.bf25), rel=1e-12)
    # outside the listed expiries: null, never extrapolated
    assert surface_feature_series([0], [[near, far]], tenor_years=0.5)["iv_atm"][0] is None
    assert np.isnan(interpolate_tenor(pl.DataFrame({"expiry_years": [], "atm_vol": []}), 0.1)["atm_vol"])


# ---------------------------------------------------------------- labels
def test_horizon_change_and_first_passage_hand_worked() -> None:
    lab = horizon_change(np.array([0.0, 1.0, 3.0, 6.0]), horizon=1)
    assert lab.value[:3].tolist() == [1.0, 2.0, 3.0] and np.isnan(lab.value[3])
    z = np.array([np.nan, 2.5, 3.0, 4.2, 1.0, -2.2, -1.0, 0.1, -3.0, -2.9])
    fp = first_passage_labels(z, exit_z=0.0, stop_z=4.0, horizon=3)
    assert fp.outcome is not None
    names = [PassageOutcome(o).name for o in fp.outcome]
    # bar 1 (z 2.5): 3.0, 4.2 -> stopped at bar 3; bar 4 (z 1.0): -2.2 reverts at bar 5
    # bar 5 (z -2.2, long side): -1.0, 0.1 -> reverted at bar 7; bar 8 (z -3.0): -2.9 then data end -> unknown
    assert names[:9] == [
        "UNKNOWN", "STOPPED", "STOPPED", "REVERTED", "REVERTED", "REVERTED", "REVERTED", "REVERTED", "UNKNOWN",
    ]  # fmt: skip
    assert fp.end[1] == 3 and fp.end[5] == 7
    assert np.isnan(fp.value[0]) and np.isnan(fp.value[8])
    assert fp.count(PassageOutcome.STOPPED) == 2
    timeout = first_passage_labels(np.array([2.0, 1.5, 1.5, 1.5, 1.5]), exit_z=0.0, stop_z=4.0, horizon=2)
    assert timeout.outcome is not None and PassageOutcome(timeout.outcome[0]) is PassageOutcome.TIMEOUT
    assert timeout.value[0] == 0.0 and timeout.end[0] == 2
    with pytest.raises(ValidationError, match="exit_z=1.0 must be < stop_z=1.0"):
        first_passage_labels(z, exit_z=1.0, stop_z=1.0, horizon=3)


# ---------------------------------------------------------------- to_signal_frame
def test_to_signal_frame_drops_warmup_and_refuses_interior_gaps() -> None:
    t = pl.DataFrame(
        {"ts": [1, 2, 3, 4, 5], "spread": [0.1, 0.2, 0.3, 0.4, 0.5], "f": [None, 1.0, None, 2.0, 3.0]}
    )
    with pytest.raises(
        ValidationError, match=r"column 'f' has 1 missing value\(s\) after the warm-up, first at row 2"
    ):
        to_signal_frame(t)
    b = to_signal_frame(t, interior=NullPolicy.DROP)
    assert b.frame.ts.tolist() == [2, 4, 5] and b.warmup == 1 and b.interior == 1
    t2 = t.with_columns(pl.Series("g", [np.nan] * 5))
    with pytest.raises(InsufficientDataError, match="none has all of"):
        to_signal_frame(t2)
