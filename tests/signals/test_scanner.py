"""The scanner on the built-in market (scored against its ground truth) and its input checks."""

from __future__ import annotations

import polars as pl
import pytest

from spreadlab.core.time import NS_PER_DAY, NS_PER_MINUTE
from spreadlab.data.market import MarketConfig, build_market
from spreadlab.errors import ValidationError
from spreadlab.signals.scan import SCAN_SCHEMA, ScanConfig, scan_frames, scan_times, score_detections


@pytest.fixture(scope="module")
def market():  # type: ignore[no-untyped-def]
    return build_market(MarketConfig(days=1.0, seed=1, universe=None, venue2=None))


def _truth_at(market, kind: str) -> dict:  # type: ignore[no-untyped-def]
    gt = market.ground_truth.filter(pl.col("kind") == kind).sort("start_ns")
    return gt.row(0, named=True)


def test_injected_option_mispricing_is_the_top_vol_row_with_positive_edge(market) -> None:  # type: ignore[no-untyped-def]
    ep = _truth_at(market, "iv_mispricing")
    t = (ep["start_ns"] + ep["end_ns"]) // 2
    out = scan_frames(market.tables, at=t, kinds="vol", instruments=market.instruments,
                      config=ScanConfig(vol_history_snapshots=0))  # fmt: skip
    assert out.schema == SCAN_SCHEMA
    top = out.row(0, named=True)
    assert top["instrument_id"] == ep["instrument_id"]
    # the recorded bump (vol points) is recovered by the robust smile fit to within the quote's rounding
    assert top["deviation"] == pytest.approx(ep["size"], abs=0.6)
    assert top["direction"] == ("sell" if ep["size"] > 0 else "buy")
    others = out.filter(pl.col("instrument_id") != ep["instrument_id"])
    assert others["deviation"].abs().max() < abs(ep["size"]) / 2


def test_injected_basis_dislocation_stands_out(market) -> None:  # type: ignore[no-untyped-def]
    ep = _truth_at(market, "basis_dislocation")
    t = (ep["start_ns"] + ep["end_ns"]) // 2
    out = scan_frames(market.tables, at=t, kinds="basis", instruments=market.instruments)
    row = out.filter(pl.col("instrument_id") == ep["instrument_id"]).row(0, named=True)
    assert row["fair_source"] == "history"
    # the deviation carries the episode's sign and most of its size (fair carry from the median of history)
    assert row["deviation"] * ep["size"] > 0 and abs(row["deviation"]) > 0.5 * abs(ep["size"])
    assert row["zscore"] * ep["size"] > 0 and abs(row["zscore"]) > 1.0
    assert row["capacity_usd"] == row["capacity_usd"]  # books known: capacity is a number
    calm = scan_frames(market.tables, at=ep["start_ns"] - 30 * NS_PER_MINUTE, kinds="basis",
                       instruments=market.instruments)  # fmt: skip
    before = calm.filter(pl.col("instrument_id") == ep["instrument_id"])["deviation"][0]
    assert abs(before) < abs(row["deviation"])


def test_scan_is_reproducible_and_ranked(market) -> None:  # type: ignore[no-untyped-def]
    kw = dict(at="2024-03-01T15:00Z", kinds="basis,calendar,parity,box", instruments=market.instruments)
    a = scan_frames(market.tables, **kw)  # type: ignore[arg-type]
    b = scan_frames(market.tables, **kw)  # type: ignore[arg-type]
    assert a.equals(b) and a.height > 10
    assert a["rank"].to_list() == list(range(1, a.height + 1))
    assert (a["net_edge_usd"].diff().drop_nulls() <= 0).all()
    assert ((a["net_edge_usd"] - (a["edge_usd"] - a["cost_usd"])).abs() < 1e-6).all()
    big = scan_frames(market.tables, size_usd=2_000_000.0, **kw)  # type: ignore[arg-type]
    # impact grows with size: cost per USD is higher for every spread priced off books
    joined = a.join(big, on="spread", suffix="_big").filter(pl.col("price_source") == "book")
    assert joined.height and (joined["cost_bp_big"] >= joined["cost_bp"] - 1e-9).all()


def test_bad_input_names_the_field(market) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="kinds: 'spot'"):
        scan_frames(market.tables, kinds="basis,spot", instruments=market.instruments)
    with pytest.raises(ValidationError, match="size_usd=-5"):
        scan_frames(market.tables, size_usd=-5.0, instruments=market.instruments)
    with pytest.raises(ValidationError, match="at=2023-01-01.*outside the data"):
        scan_frames(market.tables, at="2023-01-01", instruments=market.instruments)
    with pytest.raises(ValidationError, match="time="):
        scan_frames(market.tables, at="yesterday", instruments=market.instruments)


@pytest.mark.slow
def test_detection_recall_and_precision_on_the_built_in_market() -> None:
    m = build_market(MarketConfig(days=1.0, seed=1, universe=None, venue2=None))
    start = m.config.start_ns + 6 * 60 * NS_PER_MINUTE
    times = list(range(start, m.config.end_ns, 20 * NS_PER_MINUTE))
    cfg = ScanConfig(kinds=("basis", "vol"), vol_history_snapshots=0, lookback_ns=NS_PER_DAY)
    out = scan_times(m.tables, times, config=cfg, instruments=m.instruments)
    gt = m.ground_truth.filter((pl.col("end_ns") > times[0]) & (pl.col("start_ns") <= times[-1]))
    flagged = out.filter(pl.col("net_edge_usd") > 0)
    iv = score_detections(flagged, gt, truth_kind="iv_mispricing")
    assert iv.episodes >= 3 and iv.recall >= 0.75 and iv.precision >= 0.9
    half = out.filter(pl.col("edge_usd") > pl.col("cost_usd") / 2)
    for kind in ("iv_mispricing", "basis_dislocation"):
        s = score_detections(half, gt, truth_kind=kind)
        assert s.recall >= 0.99 and s.precision >= 0.9, s
