"""Alignment, bars and funding: against brute-force references, pandas, and real captures."""

from __future__ import annotations

import bisect

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import need_shared

from spreadlab.data.align import align_asof, funding_on_clock, funding_settlements, split_by_instrument
from spreadlab.data.bars import quote_bars, trade_bars
from spreadlab.data.importers.binance_ws import read_binance_ws_tables
from spreadlab.errors import DataError, ValidationError
from spreadlab.events.schema import EventKind

NS = 1_000_000_000


def _reference(times: list[int], values: list[float], t: int, limit: int | None) -> float | None:
    """Last value with time <= t (last row among equal times), null if older than limit."""
    i = bisect.bisect_right(times, t) - 1
    if i < 0:
        return None
    if limit is not None and t - times[i] > limit:
        return None
    return values[i]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 200), st.floats(-5, 5, allow_nan=False)), min_size=1, max_size=30),
    st.lists(st.tuples(st.integers(0, 200), st.floats(-5, 5, allow_nan=False)), min_size=1, max_size=30),
    st.one_of(st.none(), st.integers(0, 40)),
    st.one_of(st.none(), st.integers(1, 37)),
)
def test_asof_alignment_equals_brute_force(a: list, b: list, limit: int | None, step: int | None) -> None:
    fa = pl.DataFrame({"ts_recv": [t for t, _ in a], "x": [v for _, v in a]})
    fb = pl.DataFrame({"ts_recv": [t for t, _ in b], "x": [v for _, v in b]})
    out = align_asof(
        {"a": fa, "b": fb},
        clock="grid" if step else "union",
        step_ns=step,
        staleness_ns={"a": limit, "b": 25},
    )
    clock = out["ts"].to_list()
    if step is None:
        assert clock == sorted({t for t, _ in a} | {t for t, _ in b})
    else:
        lo = min(t for t, _ in a + b)
        assert clock[0] == lo - lo % step and all(np.diff(clock) == step)
    for name, rows, lim in (("a", a, limit), ("b", b, 25)):
        srt = sorted(enumerate(rows), key=lambda r: (r[1][0], r[0]))  # stable: last row wins among ties
        times = [r[1][0] for r in srt]
        vals = [r[1][1] for r in srt]
        want = [_reference(times, vals, t, lim) for t in clock]
        assert out[f"{name}.x"].to_list() == want


def test_staleness_nulls_instead_of_forward_fill_on_real_quotes() -> None:
    spot = read_binance_ws_tables(need_shared("binance_l2_hftbacktest/spot/ethusdt_20240808.gz"))
    perp = read_binance_ws_tables(need_shared("binance_l2_hftbacktest/usdm/ethusdt_20240808.gz"))
    qs = spot[EventKind.QUOTES]
    qp = perp[EventKind.QUOTES]
    # cut a 20 s hole in the spot feed
    t0 = int(qs["ts_recv"][0]) + 60 * NS
    holed = qs.filter(~pl.col("ts_recv").is_between(t0, t0 + 20 * NS))
    series = {"spot": holed, "perp": qp}
    out = align_asof(
        series,
        clock="grid",
        step_ns=NS // 10,
        staleness_ns=2 * NS,
        columns={"spot": ["bid", "ask"], "perp": ["bid", "ask"]},
        with_age=True,
    )
    inside = out.filter(pl.col("ts").is_between(t0 + 3 * NS, t0 + 19 * NS))
    assert len(inside) in (160, 161) and inside["spot.bid"].null_count() == len(inside)
    assert inside["perp.bid"].null_count() == 0
    assert (out["spot.age_ns"].drop_nulls() <= 2 * NS).all()
    # every non-null value equals the brute-force as-of lookup
    times = holed["ts_recv"].to_list()
    bids = holed["bid"].to_list()
    sample = out.gather(np.linspace(0, len(out) - 1, 400).astype(int))
    for t, got in zip(sample["ts"].to_list(), sample["spot.bid"].to_list()):
        j = bisect.bisect_right(times, t) - 1
        want = None if j < 0 or t - times[j] > 2 * NS else bids[j]
        assert got == want
    # a basis computed on the aligned frame is null exactly where a leg is stale
    basis = out.select(
        (pl.col("perp.bid") + pl.col("perp.ask") - pl.col("spot.bid") - pl.col("spot.ask")) / 2
    )
    stale = out["spot.bid"].is_null() | out["perp.bid"].is_null()
    assert (basis.to_series().is_null() == stale).all()


def test_union_clock_and_errors() -> None:
    a = pl.DataFrame({"ts_recv": [1, 3, 3], "instrument_id": ["A:X"] * 3, "p": [1.0, 2.0, 2.5]})
    out = align_asof({"a": a})
    assert out.rows() == [(1, 1.0), (3, 2.5)]  # the last row of equal times wins
    with pytest.raises(ValidationError, match="step_ns"):
        align_asof({"a": a}, clock="grid")
    with pytest.raises(ValidationError, match="clock="):
        align_asof({"a": a}, clock="hourly")
    with pytest.raises(DataError, match="lacks columns"):
        align_asof({"a": a}, columns={"a": ["q"]})
    with pytest.raises(ValidationError, match="not in series"):
        align_asof({"a": a}, staleness_ns={"b": 1})
    assert set(split_by_instrument(pl.concat([a, a.with_columns(instrument_id=pl.lit("B:Y"))]))) == {
        "A:X",
        "B:Y",
    }


def test_trade_bars_match_pandas_resample_on_real_trades() -> None:
    trades = read_binance_ws_tables(need_shared("binance_l2_hftbacktest/spot/btcusdt_20240808.gz"))[
        EventKind.TRADES
    ]
    bars = trade_bars(trades, 10 * NS)
    pdf = pd.DataFrame(
        {"price": trades["price"].to_numpy(), "size": trades["size"].to_numpy()},
        index=pd.to_datetime(trades["ts_event"].to_numpy(), unit="ns"),
    ).sort_index(kind="stable")
    ohlc = pdf["price"].resample("10s").ohlc().dropna()
    vol = pdf["size"].resample("10s").sum().loc[ohlc.index]
    cnt = pdf["size"].resample("10s").count().loc[ohlc.index]
    assert len(bars) == len(ohlc)
    np.testing.assert_array_equal(bars["ts_event"].to_numpy(), ohlc.index.asi8)
    for col in ("open", "high", "low", "close"):
        np.testing.assert_array_equal(bars[col].to_numpy(), ohlc[col].to_numpy())
    np.testing.assert_allclose(bars["volume"].to_numpy(), vol.to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal(bars["trade_count"].to_numpy(), cnt.to_numpy())
    assert (bars["ts_recv"] - bars["ts_event"] == 10 * NS).all()
    assert bars["price_type"].unique().to_list() == ["trade"]
    assert bars["trade_count"].sum() == len(trades)


def test_quote_bars_on_real_quotes() -> None:
    quotes = read_binance_ws_tables(need_shared("binance_l2_hftbacktest/spot/ethusdt_20240808.gz"))[
        EventKind.QUOTES
    ]
    bars = quote_bars(quotes, NS)
    assert bars["quote_count"].sum() == len(quotes)
    first = quotes.filter(pl.col("ts_recv") < bars["ts_recv"][0])
    mids = ((first["bid"] + first["ask"]) / 2).to_list()
    row = bars.row(0, named=True)
    assert (row["open"], row["close"], row["high"], row["low"]) == (mids[0], mids[-1], max(mids), min(mids))
    assert (bars["low"] <= bars["close"]).all() and (bars["close"] <= bars["high"]).all()


def test_funding_settlements_from_a_live_stream_and_on_a_clock() -> None:
    # markPrice-style observations: predicted rate repeated before each 8h settlement
    h = 3600 * NS
    obs = pl.DataFrame(
        {
            "instrument_id": ["BINANCE_USDM:BTCUSDT"] * 6,
            "ts_recv": [1 * h, 7 * h, 8 * h + 5, 9 * h, 15 * h, 16 * h],
            "rate": [1e-4, 1.5e-4, 9e-4, 2e-4, 3e-4, 3.5e-4],
            "funding_time_ns": [8 * h, 8 * h, 8 * h, 16 * h, 16 * h, 16 * h],
        }
    )
    s = funding_settlements(obs)
    # the 8h settlement used the last rate known by 8h (1.5e-4); the late observation is ignored
    assert s.select("funding_time_ns", "rate").rows() == [(8 * h, 1.5e-4), (16 * h, 3.5e-4)]
    assert s["interval_ns"].to_list() == [None, 8 * h]
    clock = list(range(0, 20 * h, h))
    booked = funding_on_clock(s, clock)
    col = "BINANCE_USDM:BTCUSDT.funding_rate"
    assert booked.filter(pl.col(col) != 0)["ts"].to_list() == [8 * h, 16 * h]
    assert booked[col].sum() == pytest.approx(5e-4)


def test_funding_on_clock_with_real_binance_history() -> None:
    path = need_shared("binance_bybit_perps/binance_usdm_funding.csv.gz")
    raw = pl.read_csv(path)
    t = (
        pl.Series(raw["date"])
        .str.to_datetime("%Y-%m-%d %H:%M:%S%.3f%:z", time_unit="ns")
        .dt.convert_time_zone("UTC")
        .cast(pl.Int64)
    )
    f = pl.DataFrame(
        {"instrument_id": "BINANCE_USDM:" + raw["symbol"] + "USDT", "rate": raw["funding_rate"]}
    ).with_columns(funding_time_ns=t, ts_recv=t)
    s = funding_settlements(f)
    assert len(s) == len(raw)
    # 4h cadence: Binance stamps settlements a few ms late, so intervals are 4h +- a few ms
    iv = s["interval_ns"].drop_nulls()
    assert ((iv - 4 * 3600 * NS).abs() < NS).mean() > 0.95
    grid = list(range(int(t.min()) - int(t.min()) % (3600 * NS), int(t.max()) + 3600 * NS, 3600 * NS))
    booked = funding_on_clock(s, grid)
    col = "BINANCE_USDM:WIFUSDT.funding_rate"
    assert booked[col].sum() == pytest.approx(raw["funding_rate"].sum(), rel=1e-12)
    # each settlement lands on its own hour (the ms lag is snapped), never an hour late
    hits = booked.filter(pl.col("BINANCE_USDM:WIFUSDT.settlements") > 0)
    assert len(hits) == len(raw)
    assert (hits["ts"] % (4 * 3600 * NS) == 0).mean() > 0.95
