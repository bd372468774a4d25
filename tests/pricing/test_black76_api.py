"""Public Black-76 API: broadcasting, coin settlement, greeks against Deribit, validation."""

from __future__ import annotations

import numpy as np
import pytest
from tests.pricing.deribit import read_snapshot, snapshot_files

from spreadlab.core.enums import OptionKind, Settlement
from spreadlab.errors import ValidationError
from spreadlab.pricing.black76 import black76, black76_greeks


def test_broadcasting_and_kinds() -> None:
    strikes = np.array([[80.0, 100.0, 120.0]])
    kinds = np.array([["call"], ["put"]])
    out = black76(100.0, strikes, 0.5, 0.3, kind=kinds)
    assert out.shape == (2, 3)
    # parity row by row: C - P = F - K (rate 0)
    np.testing.assert_allclose(out[0] - out[1], 100.0 - strikes[0], atol=1e-12)
    same = black76(100.0, strikes, 0.5, 0.3, kind=np.array([[True], [False]]))
    np.testing.assert_array_equal(out, same)
    enum_kind = black76(100.0, 120.0, 0.5, 0.3, kind=OptionKind.PUT)
    assert float(enum_kind) == pytest.approx(out[1, 2], rel=1e-15)


def test_coin_settled_is_usd_over_forward_and_greeks_consistent() -> None:
    rng = np.random.default_rng(2)
    f = rng.uniform(1_000, 100_000, 100)
    k = f * np.exp(rng.normal(0, 0.4, 100))
    t = rng.uniform(0.01, 2, 100)
    s = rng.uniform(0.2, 1.5, 100)
    kinds = rng.choice(["call", "put"], 100)
    usd = black76(f, k, t, s, kind=kinds, rate=0.02)
    coin = black76(f, k, t, s, kind=kinds, settlement=Settlement.INVERSE, rate=0.02)
    np.testing.assert_allclose(coin, usd / f, rtol=1e-15)
    g_usd = black76_greeks(f, k, t, s, kind=kinds, rate=0.02)
    g_coin = black76_greeks(f, k, t, s, kind=kinds, settlement=Settlement.INVERSE, rate=0.02)
    np.testing.assert_allclose(g_coin.price, usd / f, rtol=1e-15)
    # coin delta = (usd delta - coin premium) / F; vega and theta scale by 1/F
    np.testing.assert_allclose(g_coin.delta, (g_usd.delta - g_coin.price) / f, rtol=1e-12, atol=1e-20)
    np.testing.assert_allclose(g_coin.vega, g_usd.vega / f, rtol=1e-14)
    np.testing.assert_allclose(g_coin.theta, g_usd.theta / f, rtol=1e-14)


def test_greeks_reproduce_deribit_delta_and_vega() -> None:
    # Deribit's API delta is the linear Black delta and vega is USD per vol point, at its own
    # forward (`underlying`), ACT/365 time to expiry and mark IV.
    raw = read_snapshot(snapshot_files()[200])
    g = black76_greeks(
        raw["underlying"].to_numpy(),
        raw["strike"].to_numpy(),
        raw["expiry_years"].to_numpy(),
        raw["implied_volatility"].to_numpy(),
        kind=raw["option_type"].to_numpy(),
    )
    d_err = np.abs(g.delta - raw["delta"].to_numpy())
    assert np.median(d_err) < 5e-4  # Deribit rounds delta to 5 decimals and uses a slightly different F
    assert np.quantile(d_err, 0.95) < 5e-3
    vega = raw["vega"].to_numpy()
    big = vega > 1.0
    rel = np.abs(g.vega[big] / 100 - vega[big]) / vega[big]
    assert np.median(rel) < 5e-3
    # mark price in coin = Black-76 at Deribit's mark IV / forward
    coin = black76(
        raw["underlying"].to_numpy(),
        raw["strike"].to_numpy(),
        raw["expiry_years"].to_numpy(),
        raw["implied_volatility"].to_numpy(),
        kind=raw["option_type"].to_numpy(),
        settlement=Settlement.INVERSE,
    )
    assert np.median(np.abs(coin - raw["mark_price"].to_numpy())) < 5e-5


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"forward": float("nan")}, "forward"),
        ({"strike": -5.0}, "strike"),
        ({"expiry_years": 0.0}, "expiry_years"),
        ({"expiry_years": [1.0, -1.0]}, "expiry_years[1]"),
        ({"vol": -0.1}, "vol"),
        ({"kind": "straddle"}, "kind"),
        ({"kind": ["call", "banana"]}, "kind[1]"),
        ({"rate": float("inf")}, "rate"),
        ({"settlement": "quanto"}, "settlement"),
        ({"strike": [1.0, 2.0, 3.0], "forward": [1.0, 2.0]}, "broadcast"),
    ],
)
def test_bad_input_raises_validation_error_naming_field(kwargs: dict, field: str) -> None:
    args = {"forward": 100.0, "strike": 100.0, "expiry_years": 1.0, "vol": 0.2, "kind": "call"}
    args.update(kwargs)
    with pytest.raises(ValidationError, match=field.replace("[", r"\[")):
        black76(args.pop("forward"), args.pop("strike"), args.pop("expiry_years"), args.pop("vol"), **args)
