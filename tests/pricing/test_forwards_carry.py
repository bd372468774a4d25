"""Parity forwards, fees, conversions/reversals, boxes and carry: hand-worked, property and QuantLib checks."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spreadlab.core.enums import Settlement
from spreadlab.errors import ValidationError
from spreadlab.instruments.fees import FeeModel, InstrumentClass
from spreadlab.pricing.black76 import black76
from spreadlab.pricing.carry import (
    Compounding,
    annualised_basis,
    basis_term_structure,
    funding_fair_future,
    funding_implied_basis,
    perp_premium,
)
from spreadlab.pricing.forwards import (
    box_spread,
    parity_edges,
    parity_forward,
    parity_forward_band,
)

DERIBIT = FeeModel.default().class_rate(
    "DERIBIT", InstrumentClass.OPTION
)  # 0.03% of the underlying, cap 12.5%


@settings(max_examples=200, deadline=None)
@given(
    f=st.floats(100.0, 200_000.0),
    m=st.floats(-0.7, 0.7),
    t=st.floats(0.002, 2.0),
    vol=st.floats(0.05, 2.0),
    r=st.floats(-0.02, 0.1),
)
def test_parity_forward_inverts_black76_in_both_settlements(
    f: float, m: float, t: float, vol: float, r: float
) -> None:
    k = f * math.exp(m)
    for settle in (Settlement.LINEAR, Settlement.INVERSE):
        c = black76(f, k, t, vol, kind="call", settlement=settle, rate=r)
        p = black76(f, k, t, vol, kind="put", settlement=settle, rate=r)
        got = float(parity_forward(c, p, strike=k, expiry_years=t, settlement=settle, rate=r))
        assert got == pytest.approx(f, rel=1e-9)


def test_band_orders_and_fee_widening_hand_worked() -> None:
    # coin: C_bid 0.05, C_ask 0.052, P_bid 0.01, P_ask 0.011, K 90,000, r = 0
    band = parity_forward_band(0.05, 0.052, 0.01, 0.011, strike=90_000.0, expiry_years=0.1,
                               settlement=Settlement.INVERSE)  # fmt: skip
    assert float(band.bid) == pytest.approx(90_000 / (1 - 0.039))
    assert float(band.ask) == pytest.approx(90_000 / (1 - 0.042))
    net = parity_forward_band(0.05, 0.052, 0.01, 0.011, strike=90_000.0, expiry_years=0.1,
                              settlement=Settlement.INVERSE, fees=DERIBIT)  # fmt: skip
    # fees: min(0.0003, 12.5% of premium) per leg: 0.0003 on both calls and puts here
    assert float(net.bid) == pytest.approx(90_000 / (1 - (0.05 - 0.0003 - 0.011 - 0.0003)))
    assert float(net.ask) == pytest.approx(90_000 / (1 - (0.052 + 0.0003 - 0.01 + 0.0003)))
    # a cheap put: the cap binds (12.5% of 0.0008 = 0.0001)
    assert float(DERIBIT.option_fee(0.0008, 1.0)[()]) == pytest.approx(0.0001)
    # a linear option at 50 USD with the forward at 3,000: 0.03% of 3,000 = 0.9 USD (cap 6.25 USD)
    assert float(DERIBIT.option_fee(50.0, 3000.0)[()]) == pytest.approx(0.9)
    edges = parity_edges(band, 94_000.0, 94_100.0)
    assert float(edges.conversion) == pytest.approx(float(band.bid) - 94_100.0)
    assert float(edges.reversal) == pytest.approx(94_000.0 - float(band.ask))
    assert bool(edges.inside) == (float(band.bid) <= 94_100 and float(band.ask) >= 94_000)


def test_missing_quotes_give_invalid_band_not_errors() -> None:
    band = parity_forward_band([0.05, np.nan, 0.05], [0.06, 0.06, 0.06], [0.0, 0.01, 0.01], [0.02, 0.02, 0.02],
                               strike=90_000.0, expiry_years=0.1, settlement=Settlement.INVERSE)  # fmt: skip
    assert band.valid.tolist() == [False, False, True]
    assert np.isnan(band.bid[:2]).all()
    with pytest.raises(ValidationError, match="call_bid"):
        parity_forward_band(
            -0.01, 0.06, 0.01, 0.02, strike=1.0, expiry_years=0.1, settlement=Settlement.INVERSE
        )


def test_box_spread_values_and_rates_against_black76() -> None:
    f, t, r, vol = 100.0, 0.5, 0.04, 0.3
    k1, k2 = 90.0, 110.0
    px = {
        (k, kind): float(black76(f, k, t, vol, kind=kind, rate=r))
        for k in (k1, k2)
        for kind in ("call", "put")
    }
    box = box_spread(
        low_call=(px[k1, "call"], px[k1, "call"]), high_call=(px[k2, "call"], px[k2, "call"]),
        low_put=(px[k1, "put"], px[k1, "put"]), high_put=(px[k2, "put"], px[k2, "put"]),
        low_strike=k1, high_strike=k2, expiry_years=t, settlement=Settlement.LINEAR,
    )  # fmt: skip
    assert float(box.ask) == pytest.approx((k2 - k1) * math.exp(-r * t), rel=1e-12)
    assert float(box.lend_rate) == pytest.approx(r, rel=1e-9)
    # coin-settled: the box premium in coin times spot is the USD PV (zero coin rate, spot = F e^{-r T})
    spot = f * math.exp(-r * t)
    cpx = {key: v / f * math.exp(r * t) for key, v in px.items()}  # coin premium at zero coin rate
    cbox = box_spread(
        low_call=(cpx[k1, "call"],) * 2, high_call=(cpx[k2, "call"],) * 2,
        low_put=(cpx[k1, "put"],) * 2, high_put=(cpx[k2, "put"],) * 2,
        low_strike=k1, high_strike=k2, expiry_years=t, settlement=Settlement.INVERSE, spot=spot,
    )  # fmt: skip
    assert float(cbox.lend_rate) == pytest.approx(r, rel=1e-9)
    with pytest.raises(ValidationError, match="high_strike"):
        box_spread(low_call=(1, 1), high_call=(1, 1), low_put=(1, 1), high_put=(1, 1), low_strike=2.0,
                   high_strike=1.0, expiry_years=1.0, settlement=Settlement.LINEAR)  # fmt: skip


def test_carry_hand_worked() -> None:
    assert float(annualised_basis(102.0, 100.0, 0.5, compounding=Compounding.SIMPLE)) == pytest.approx(0.04)
    assert float(annualised_basis(102.0, 100.0, 0.5)) == pytest.approx(2 * math.log(1.02))
    assert float(perp_premium(99.0, 100.0)) == pytest.approx(-0.01)
    # 0.01% per 8h = 0.03%/day = 10.95%/year (24/7, 365 days); Hyperliquid hourly 0.00125% = 10.95% too
    assert float(funding_implied_basis(0.0001, interval_hours=8)) == pytest.approx(0.1095)
    assert float(funding_implied_basis(0.0000125, interval_hours=1)) == pytest.approx(0.1095)
    assert float(funding_fair_future(100.0, 0.0001, 0.25, interval_hours=8)) == pytest.approx(
        100 * math.exp(0.1095 * 0.25)
    )
    with pytest.raises(ValidationError, match="interval_hours"):
        funding_implied_basis(0.0001, interval_hours=0)
    with pytest.raises(ValidationError, match="spot"):
        annualised_basis(100.0, -1.0, 0.5)


def test_basis_term_structure_on_real_deribit_futures(shared_data) -> None:  # type: ignore[no-untyped-def]
    from tests.pricing.deribit import read_snapshot, snapshot_files

    raw = read_snapshot(snapshot_files()[100]).filter(
        (pl.col("currency") == "BTC") & ~pl.col("futures_instrument_name").str.starts_with("SYN.")
    )
    fut = (
        raw.group_by("futures_instrument_name")
        .agg(
            pl.col("expiry_years").mean(),
            pl.col("futures_price").mean().alias("price"),
        )
        .rename({"futures_instrument_name": "instrument"})
    )
    spot = float(raw["index_price"].median())
    ts = basis_term_structure(fut, spot=spot)
    assert ts["expiry_years"].is_sorted()
    # crypto futures trade in contango: positive annualised basis of a few percent, not hundreds
    assert (ts["basis_continuous"] > -0.05).all() and (ts["basis_continuous"] < 0.5).all()
    f = ts["price"].to_numpy()
    assert ts["calendar_spread"][0] == pytest.approx(f[1] - f[0])
    assert ts["calendar_spread"][-1] is None
    with pytest.raises(ValidationError, match="missing columns"):
        basis_term_structure(fut.drop("price"), spot=spot)
