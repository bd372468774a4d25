"""The ground truth's ``tradable`` column: an episode is worth trading when it beats its round trip (issue 10 item 1)."""

from __future__ import annotations

import polars as pl
import pytest

from spreadlab.core.time import NS_PER_MINUTE
from spreadlab.data.market import MarketConfig, build_market
from spreadlab.errors import ValidationError
from spreadlab.instruments.symbols import parse_instrument_id
from spreadlab.signals.scan import score_detections
from spreadlab.signals.scan.truth import label_tradable

T0 = 1_709_251_200_000_000_000  # 2024-03-01


def _truth(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"reference_id": "", "end_ns": T0 + 60 * NS_PER_MINUTE, "unit": "bp", **r} for r in rows],
        schema={
            "instrument_id": pl.String,
            "reference_id": pl.String,
            "kind": pl.String,
            "start_ns": pl.Int64,
            "end_ns": pl.Int64,
            "size": pl.Float64,
            "unit": pl.String,
        },
    )


def test_round_trip_cost_by_hand() -> None:
    perp = parse_instrument_id("BINANCE_USDM:BTCUSDT")
    spot = parse_instrument_id("BINANCE:BTCUSDT")
    perp2 = parse_instrument_id("BYBIT_LINEAR:BTCUSDT")
    quotes = pl.DataFrame({
        "ts_event": [T0 - 1, T0 - 1, T0 - 1, T0 + 5],
        "instrument_id": [str(perp.id), str(spot.id), str(perp2.id), str(perp.id)],
        "bid": [59_997.0, 59_994.0, 60_000.0, 1.0],  # the last quote is after the start: not used
        "ask": [60_003.0, 60_006.0, 60_012.0, 2.0],
    })  # fmt: skip
    truth = _truth([
        {"instrument_id": str(perp.id), "kind": "premium_burst", "start_ns": T0, "size": 40.0},
        {"instrument_id": str(perp.id), "kind": "premium_burst", "start_ns": T0, "size": -30.0},
        {"instrument_id": str(perp2.id), "reference_id": str(perp.id), "kind": "venue_dislocation",
         "start_ns": T0, "size": 21.0},
    ])  # fmt: skip
    out = label_tradable(truth, {"quotes": quotes}, instruments=[perp, spot, perp2])
    # Binance USDT-M taker 5 bp + half-spread 0.5 bp; Binance spot taker 10 bp + half-spread 1 bp; twice
    burst = 2 * ((5.0 + 0.5) + (10.0 + 1.0))
    assert out["cost"][0] == pytest.approx(burst) and out["cost"][1] == pytest.approx(burst)
    assert out["tradable"].to_list()[:2] == [True, False]  # 40 bp > 33 bp > 30 bp
    # Bybit linear taker 5.5 bp + half-spread 1 bp (60,000 / 60,012), and the Binance perpetual
    xv = 2 * ((5.5 + 6.0 / 60_006.0 * 1e4) + (5.0 + 0.5))
    assert out["cost"][2] == pytest.approx(xv) and out["tradable"][2] is False


def test_pair_spread_cost_scales_the_leader_by_the_hedge_ratio() -> None:
    y = parse_instrument_id("HYPERLIQUID:DOT")
    x = parse_instrument_id("HYPERLIQUID:LINK")
    pairs = pl.DataFrame({"leader_id": [str(x.id)], "follower_id": [str(y.id)], "hedge_ratio": [-1.5]})
    truth = _truth([{"instrument_id": str(y.id), "reference_id": str(x.id), "kind": "pair_spread",
                     "start_ns": T0, "size": size} for size in (20.0, -30.0)])  # fmt: skip
    out = label_tradable(truth, {"pairs": pairs}, instruments=[y, x], half_spread_bp=1.0)
    fee = out["cost"][0] / 2 / 2.5 - 1.0  # (fee + 1 bp) * (1 + 1.5) * 2
    assert fee == pytest.approx(4.5)  # Hyperliquid's taker fee: 0.045%
    assert out["cost"][0] == pytest.approx(27.5)
    assert out["tradable"].to_list() == [False, True]
    with pytest.raises(ValidationError, match="'HYPERLIQUID:XRP', which is not one of the instruments"):
        label_tradable(truth.with_columns(pl.lit("HYPERLIQUID:XRP").alias("instrument_id")), {},
                       instruments=[y, x])  # fmt: skip


def test_scoring_counts_only_tradable_episodes_on_the_built_in_market() -> None:
    m = build_market(MarketConfig(days=1.0, seed=3))
    gt = label_tradable(m.ground_truth, m.tables, instruments=m.instruments)
    assert gt["tradable"].dtype == pl.Boolean and gt["cost"].null_count() == 0
    iv = gt.filter(pl.col("kind") == "iv_mispricing")
    # an option round trip: twice (half the IV spread + (option fee + hedge cost) / vega); a one-day
    # option's vega is small, so its round trip is several vol points, a month's is two or three
    assert iv["cost"].is_between(1.0, 15.0).all()
    assert (iv["tradable"] == (iv["size"].abs() > iv["cost"])).all()
    ven = gt.filter(pl.col("kind") == "venue_dislocation")
    # two perpetual legs at taker fees: about 2 * (5 + 5 + spreads) bp
    assert ven["cost"].is_between(20.0, 25.0).all()
    # a flag matching only an episode below its cost is a false flag; recall counts tradable episodes only
    ep = ven.row(0, named=True)
    flag = pl.DataFrame({"kind": ["xvenue"], "instrument_class": ["perpetual"], "instrument_id": [ep["instrument_id"]],
                         "reference_id": [ep["reference_id"]], "ts_ns": [ep["start_ns"]]})  # fmt: skip
    s = score_detections(flag, gt, truth_kind="venue_dislocation")
    assert s.episodes == int(ven["tradable"].sum())
    assert s.true_flags == int(ep["tradable"])
    raw = score_detections(flag, gt, truth_kind="venue_dislocation", tradable=False)
    assert raw.episodes == ven.height and raw.true_flags == 1
    with pytest.raises(ValidationError, match="needs a 'tradable' column"):
        score_detections(flag, m.ground_truth, truth_kind="venue_dislocation", tradable=True)
