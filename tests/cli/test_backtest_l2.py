"""``spreadlab backtest`` on the real Binance L2 captures: spot, USDT-M and COIN-M books replayed at once.

Checked against an independent replay of each book (``OrderBook`` with the
venue's sequence rules): the first fill of every aggressive order is at that
book's touch at the fill's venue time (or worse, where our own earlier fill
had consumed the level), never better; passive entries fill as maker after
waiting in the queue; fees are the venues' rates.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from tests.conftest import need_shared
from typer.testing import CliRunner

from spreadlab.cli.app import app
from spreadlab.data.catalog import Catalog
from spreadlab.data.orderbook import OrderBook

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "backtest_l2_basis.toml"
FILES = [
    ("BINANCE", "binance_l2_hftbacktest/spot/btcusdt_20240808.gz", "binance_spot", "BINANCE:BTCUSDT"),
    (
        "BINANCE_USDM",
        "binance_l2_hftbacktest/usdm/btcusdt_20240808.gz",
        "binance_futures",
        "BINANCE_USDM:BTCUSDT",
    ),
    (
        "BINANCE_COINM",
        "binance_l2_hftbacktest/cm/btcusd_perp_20240808.gz",
        "binance_futures",
        "BINANCE_COINM:BTCUSD_PERP",
    ),
]


@pytest.mark.slow
def test_three_books_at_once_fill_at_book_prices_with_queue_and_fees(tmp_path: Path) -> None:
    cat = Catalog(tmp_path / "cat")
    for venue, rel, _, _ in FILES:
        cat.import_("binance-ws", [need_shared(rel)], venue=venue)
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app, ["backtest", str(EXAMPLE), "-c", str(tmp_path / "cat"), "--out", str(out), "--json"]
    )
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert set(d["sources"].values()) == {"depth"} and len(d["book_checks"]) == 3
    fills = pl.read_parquet(out / "fills.parquet")
    orders = pl.read_parquet(out / "orders.parquet")
    for _, _, rule, iid in FILES:
        deltas = cat.query("book_deltas", [iid])
        top = OrderBook(rule=rule).replay(deltas, time_column="ts_event").frame
        top = top.with_columns(pl.col("ts").cum_max()).filter(pl.col("valid"))
        first = (
            fills.filter(
                (pl.col("instrument_id") == iid)
                & (pl.col("liquidity") == "taker")
                & (pl.col("order_id") >= 0)
            )
            .sort("fill_id")
            .unique("order_id", keep="first", maintain_order=True)
        )
        assert first.height > 10
        joined = first.sort("ts").join_asof(
            top.select("ts", "bid", "ask").sort("ts"), on="ts", strategy="backward"
        )
        touch = pl.when(pl.col("side") > 0).then(pl.col("ask")).otherwise(pl.col("bid"))
        worse = pl.when(pl.col("side") > 0).then(pl.col("price") >= touch).otherwise(pl.col("price") <= touch)
        chk = joined.with_columns(touch.alias("touch"), worse.alias("not_better"))
        assert chk["not_better"].all(), chk.filter(~pl.col("not_better")).head()
        assert (chk["price"] == chk["touch"]).mean() >= 0.9  # type: ignore[operator]
    maker = fills.filter(pl.col("liquidity") == "maker")
    assert maker.height > 0 and set(maker["owner"]) == {"basis passive"}
    perp = maker.filter(pl.col("instrument_id") == "BINANCE_USDM:BTCUSDT")
    assert perp["fee"].to_list() == pytest.approx(
        (perp["price"] * perp["quantity"] * 0.0002).to_list(), rel=1e-9
    )
    passive = orders.filter((pl.col("owner") == "basis passive") & (pl.col("tif") == "gtc"))
    assert passive["status"].is_in(["filled", "cancelled", "rejected"]).all()
    # a post-only order that would have crossed when it arrived (the book moved during the latency) is refused
    assert (passive.filter(pl.col("status") == "rejected")["reason"] == "post_only").all()
    trades = pl.read_parquet(out / "trades.parquet").filter(pl.col("closed"))
    assert (trades["imbalance_usd_s"] > 0).any()
    assert "Round trips" in (out / "report.html").read_text()
