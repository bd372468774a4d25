"""The option chain reprices from its SVI smiles by QuantLib's Black formula.

Outside truth: ``QuantLib.blackFormula`` / ``blackFormulaImpliedStdDev`` and
the raw-SVI formula of Gatheral (2004) written out here.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
import QuantLib as ql

from spreadlab.data.market import SimulatedMarket
from spreadlab.instruments import Option


def _svi(k: float, a: float, b: float, rho: float, m: float, sigma: float) -> float:
    return a + b * (rho * (k - m) + math.sqrt((k - m) ** 2 + sigma**2))


def _rows(market: SimulatedMarket) -> pl.DataFrame:
    return market.option_quotes.join(
        market.smiles.select(
            "ts_event",
            "expiry_ns",
            "expiry_years",
            "forward",
            "a",
            "b",
            pl.col("rho").alias("svi_rho"),
            "m",
            "sigma",
            "discount",
        ),
        on=["ts_event", "expiry_ns"],
        how="left",
    )


def _ql_coin(kind: str, strike: float, fwd: float, vol: float, t: float, disc: float) -> float:
    typ = ql.Option.Call if kind == "call" else ql.Option.Put
    return ql.blackFormula(typ, strike, fwd, vol * math.sqrt(t), disc) / fwd


def _mispriced(market: SimulatedMarket, rows: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    flag = np.zeros(rows.height, dtype=bool)
    size = np.zeros(rows.height)
    ts, ids = rows["ts_event"].to_numpy(), rows["instrument_id"].to_numpy()
    for r in market.ground_truth.filter(pl.col("kind") == "iv_mispricing").iter_rows(named=True):
        w = (ts >= r["start_ns"]) & (ts < r["end_ns"]) & (ids == r["instrument_id"])
        flag |= w
        size[w] = r["size"]
    return flag, size


def test_chain_layout(market: SimulatedMarket) -> None:
    oq = market.option_quotes
    opts = [i for i in market.instruments if isinstance(i, Option)]
    assert len(opts) == oq["instrument_id"].n_unique()
    assert oq["ts_event"].n_unique() > 500
    for o in opts[:4]:
        f = market.frame(o.id)
        assert (f["ts_event"] < o.expiry_ns).all()  # no quote at or after expiry
        assert (f["strike"] == o.strike).all() and (f["option_kind"] == o.kind.value).all()
    two_sided = oq.filter(pl.col("bid").is_not_null())
    assert (two_sided["bid"] < two_sided["ask"]).all() and (oq["ask"] > 0).all()
    assert (two_sided["bid_iv"] < two_sided["ask_iv"]).all()
    # both calls and puts at every strike
    assert set(oq["option_kind"]) == {"call", "put"}


def test_mids_reprice_from_the_svi_smile_by_quantlib(market: SimulatedMarket) -> None:
    rows = _rows(market)
    assert rows["a"].null_count() == 0
    flag, _ = _mispriced(market, rows)
    rng = np.random.default_rng(0)
    pick = rng.choice(np.flatnonzero(~flag & rows["bid"].is_not_null().to_numpy()), 3000, replace=False)
    tick = market.config.options.tick_size
    worst = 0.0
    for i in pick:
        r = rows.row(int(i), named=True)
        k = math.log(r["strike"] / r["forward"])
        vol = math.sqrt(_svi(k, r["a"], r["b"], r["svi_rho"], r["m"], r["sigma"]) / r["expiry_years"])
        assert r["mark_iv"] == pytest.approx(vol, rel=1e-10)
        fair = _ql_coin(
            r["option_kind"], r["strike"], r["underlying_price"], vol, r["expiry_years"], r["discount"]
        )
        assert r["mark"] == pytest.approx(fair, abs=1e-9)
        mid = 0.5 * (r["bid"] + r["ask"])
        worst = max(worst, abs(mid - fair))
    # quotes sit on the tick grid around the fair price: mid within half a tick
    assert worst <= tick / 2 + 1e-10


def test_put_call_parity_in_coin_holds_for_marks(market: SimulatedMarket) -> None:
    # C - P = D (1 - K / F) in coin, per DESIGN.md
    oq = market.option_quotes
    calls = oq.filter(pl.col("option_kind") == "call")
    puts = oq.filter(pl.col("option_kind") == "put")
    j = calls.join(puts, on=["ts_event", "expiry_ns", "strike"], suffix="_p")
    assert j.height == calls.height
    lhs = (j["mark"] - j["mark_p"]).to_numpy()
    rhs = (1 - j["strike"] / j["underlying_price"]).to_numpy()  # rate 0: D = 1
    np.testing.assert_allclose(lhs, rhs, atol=2e-9)


def test_mispriced_quotes_deviate_by_the_recorded_iv(market: SimulatedMarket) -> None:
    rows = _rows(market)
    flag, size = _mispriced(market, rows)
    assert flag.sum() >= 20
    tick = market.config.options.tick_size
    checked = 0
    for i in np.flatnonzero(flag & rows["bid"].is_not_null().to_numpy()):
        r = rows.row(int(i), named=True)
        t, fwd, disc = r["expiry_years"], r["underlying_price"], r["discount"]
        typ = ql.Option.Call if r["option_kind"] == "call" else ql.Option.Put
        mid = 0.5 * (r["bid"] + r["ask"])
        iv_mid = ql.blackFormulaImpliedStdDev(typ, r["strike"], fwd, mid * fwd, disc) / math.sqrt(t)
        # the IV error allowed by half a tick of price rounding, through the coin vega
        sd = r["mark_iv"] * math.sqrt(t)
        d1 = (math.log(fwd / r["strike"]) + 0.5 * sd * sd) / sd
        vega_coin = disc * math.exp(-0.5 * d1 * d1) / math.sqrt(2 * math.pi) * math.sqrt(t)
        tol = (tick / 2) / vega_coin * 1.2 + 1e-6
        assert (iv_mid - r["mark_iv"]) * 100 == pytest.approx(size[i], abs=tol * 100), r["instrument_id"]
        # and the quote is not at the fair price
        fair = _ql_coin(r["option_kind"], r["strike"], fwd, r["mark_iv"], t, disc)
        assert abs(mid - fair) > tick / 2
        checked += 1
    assert checked >= 20


def test_smiles_are_free_of_static_arbitrage(market: SimulatedMarket) -> None:
    sm = market.smiles
    k = np.linspace(-1.0, 1.0, 201)
    rng = np.random.default_rng(1)
    for i in rng.choice(sm.height, 40, replace=False):
        r = sm.row(int(i), named=True)
        w = np.array([_svi(x, r["a"], r["b"], r["rho"], r["m"], r["sigma"]) for x in k])
        assert (w > 0).all()
        # butterfly: undiscounted call prices (QuantLib) are convex and decreasing in strike
        strikes = r["forward"] * np.exp(k)
        calls = np.array(
            [
                ql.blackFormula(ql.Option.Call, s, r["forward"], math.sqrt(v), 1.0)
                for s, v in zip(strikes, w, strict=True)
            ]
        )
        dk = np.diff(strikes)
        slope = np.diff(calls) / dk
        assert (slope <= 0).all() and (slope >= -1 - 1e-9).all() and (np.diff(slope) > -1e-9).all()
    # calendar: total variance at the same forward moneyness grows with expiry
    for _, g in sm.group_by("ts_event"):
        if g.height < 2:
            continue
        g = g.sort("expiry_ns")
        ws = [[_svi(x, *row) for x in k] for row in g.select("a", "b", "rho", "m", "sigma").iter_rows()]
        assert (np.diff(np.array(ws), axis=0) > 0).all()
