"""The engine on real daily Binance BTC spot and perpetual bars with funding: three round trips worked by hand.

Independent arithmetic from the raw CSV files: each leg fills at its daily close
-+ the 1 bp half spread (sell at the bid, buy at the ask), pays the taker fee
of the venue (spot 10 bp, USDT-M 5 bp), and the perpetual pays or earns
``-q * mid * rate`` at every 8-hourly funding time it is held over (no mark in
these files, so the mid).
"""

from __future__ import annotations

import polars as pl
import pytest
from tests.conftest import need_shared

from spreadlab.backtest.engine_run import Backtest, BacktestConfig
from spreadlab.data.catalog import Catalog
from spreadlab.engine.core import EngineConfig
from spreadlab.execution.venue import SimulatedVenue
from spreadlab.instruments import parse_symbol
from spreadlab.signals.spread import Leg, Spread, SpreadQuote
from spreadlab.strategy.convergence import Bands, Direction, Legging, SignalKind, SpreadConvergence

D = "binance_spot_perp_daily"
PERP = parse_symbol("BINANCE_USDM", "BTCUSDT")
SPOT = parse_symbol("BINANCE", "BTCUSDT")
DAY = 86_400_000_000_000


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    root = need_shared(D)
    cat = Catalog(tmp_path_factory.mktemp("real") / "cat")
    cat.import_("ohlcv", [root / "spot_BTCUSDT_1d_2021-01_2023-06.csv.gz"], venue="BINANCE")
    cat.import_(
        "ohlcv",
        [root / "perp_BTCUSDT_1d_2021-01_2023-06.csv.gz", root / "funding_BTCUSDT_2021-01_2023-06.csv.gz"],
        venue="BINANCE_USDM",
    )
    return cat


def _closes(path: str) -> dict[int, float]:
    df = pl.read_csv(need_shared(f"{D}/{path}"), try_parse_dates=True)
    t = df["open_time"].dt.epoch("ns") + DAY
    return dict(zip(t.to_list(), df["close"].to_list(), strict=True))


def test_three_basis_round_trips_match_the_hand_computation(catalog: Catalog) -> None:
    strat = SpreadConvergence(
        spread=Spread(
            legs=(Leg(instrument=PERP, ratio=1.0), Leg(instrument=SPOT, ratio=-1.0)), quote=SpreadQuote.BASIS
        ),
        signal=SignalKind.ZSCORE,
        window=20,
        bar_ns=DAY,
        bands=Bands(entry=1.5, exit=0.0, stop=4.0),
        legging=Legging(market=True),
        notional_usd=50_000.0,
        direction=Direction.SHORT,
    )
    venues = (
        SimulatedVenue(venue="BINANCE", impact_bp=0.0),
        SimulatedVenue(venue="BINANCE_USDM", impact_bp=0.0),
    )
    cfg = BacktestConfig(
        engine=EngineConfig(venues=venues, capital_usd=200_000.0, sample_ns=DAY), bar_half_spread_bp=1.0
    )
    res = Backtest([strat], config=cfg).run_catalog(catalog, start="2021-01-01", end="2022-01-01")
    trades = res.trades.filter(pl.col("closed")).sort("trade")
    assert trades.height >= 3
    perp_c = _closes("perp_BTCUSDT_1d_2021-01_2023-06.csv.gz")
    spot_c = _closes("spot_BTCUSDT_1d_2021-01_2023-06.csv.gz")
    fund = pl.read_csv(need_shared(f"{D}/funding_BTCUSDT_2021-01_2023-06.csv.gz"), try_parse_dates=True)
    f_t = fund["funding_time"].dt.epoch("ns").to_list()
    f_r = fund["funding_rate"].to_list()
    h = 1e-4
    for tr in trades.head(3).to_dicts():
        fills = res.fills.filter((pl.col("trade") == tr["trade"]) & (pl.col("owner") == strat.name)).sort(
            "ts"
        )
        perp_f = fills.filter(pl.col("instrument_id") == str(PERP.id))
        spot_f = fills.filter(pl.col("instrument_id") == str(SPOT.id))
        t_in, t_out = int(perp_f["ts"][0]), int(perp_f["ts"][-1])
        q_p, q_s = float(perp_f["quantity"][0]), float(spot_f["quantity"][0])
        # short basis: sell the perpetual at its bid and buy spot at its ask; reverse at the exit
        p_in, p_out = perp_c[t_in] * (1 - h), perp_c[t_out] * (1 + h)
        s_in, s_out = spot_c[t_in] * (1 + h), spot_c[t_out] * (1 - h)
        assert perp_f["price"].to_list() == pytest.approx([p_in, p_out], rel=1e-12)
        assert spot_f["price"].to_list() == pytest.approx([s_in, s_out], rel=1e-12)
        gross = q_p * (p_in - p_out) + q_s * (s_out - s_in)
        fees = q_p * (p_in + p_out) * 0.0005 + q_s * (s_in + s_out) * 0.001
        funding = 0.0
        for t, r in zip(f_t, f_r, strict=True):
            if t_in < t <= t_out:
                bar = max(k for k in perp_c if k <= t)
                funding += q_p * perp_c[bar] * r  # a short perpetual receives a positive rate at the mid
        assert tr["pnl_usd"] == pytest.approx(gross - fees + funding, rel=1e-9, abs=1e-6)
        assert tr["funding_usd"] == pytest.approx(funding, rel=1e-9, abs=1e-9)
        assert q_p * p_in == pytest.approx(50_000.0, rel=2e-3)  # sized to the notional, in lots of 0.001
