"""Same seed -> identical frames and byte-identical Parquet; the result object's API."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spreadlab.core.enums import Settlement
from spreadlab.data.market import TABLES, MarketConfig, SimulatedMarket, build_market
from spreadlab.data.schema import REQUIRED_COLUMNS, canonical_schema
from spreadlab.errors import UnknownSymbolError, ValidationError
from spreadlab.events.schema import EventKind
from spreadlab.instruments import Future, Option, Perpetual, Spot

SMALL = MarketConfig(days=1.0, seed=3)


def test_same_seed_gives_identical_frames_and_parquet_bytes(tmp_path: Path) -> None:
    a = build_market(SMALL)
    b = build_market(MarketConfig(days=1.0, seed=3))
    for name in TABLES:
        assert a.tables[name].equals(b.tables[name]), name
    pa = a.write_parquet(tmp_path / "a")
    pb = b.write_parquet(tmp_path / "b")
    assert set(pa) == {*TABLES, "instruments", "config"}
    for name, path in pa.items():
        assert path.read_bytes() == pb[name].read_bytes(), name
    # what was written reads back as the same table
    assert pl.read_parquet(pa["quotes"]).equals(a.quotes)


def test_different_seed_gives_different_market() -> None:
    a = build_market(SMALL)
    c = build_market(MarketConfig(days=1.0, seed=4))
    for name in ("quotes", "book_snapshots", "option_quotes", "bars", "mark"):
        assert a.tables[name].shape[1] == c.tables[name].shape[1]
        assert not a.tables[name].equals(c.tables[name]), name


def test_leaving_a_part_out_leaves_the_others_unchanged() -> None:
    full = build_market(SMALL)
    lean = build_market(MarketConfig(days=1.0, seed=3, options=None, universe=None, venue2=None))
    keep = ["SIM:BTCUSDT", "SIM:BTC-PERP"]
    for name in ("quotes", "book_snapshots", "mark", "funding"):
        f = full.tables[name].filter(pl.col("instrument_id").is_in(keep))
        g = lean.tables[name].filter(pl.col("instrument_id").is_in(keep))
        assert f.height > 0 and f.equals(g), name
    assert lean.option_quotes.height == 0 and lean.bars.height == 0


def test_tables_follow_the_canonical_schemas(market: SimulatedMarket) -> None:
    for kind in EventKind:
        if kind is EventKind.BOOK_DELTAS:
            continue
        frame = market.tables[kind.value]
        assert frame.schema == canonical_schema(kind), kind
        assert frame.height > 0 or kind is EventKind.TRADES, kind
        for col in REQUIRED_COLUMNS[kind]:
            assert frame.get_column(col).null_count() == 0, (kind, col)
        ts = frame.get_column("ts_event")
        assert ts.is_sorted(), kind
        assert (frame["ts_recv"] >= frame["ts_event"]).all(), kind
    # no NaN anywhere
    for name in TABLES:
        frame = market.tables[name]
        for col, dtype in frame.schema.items():
            if dtype == pl.Float64:
                assert not frame[col].is_nan().any(), (name, col)


def test_instruments_and_lookup(market: SimulatedMarket) -> None:
    ids = {str(i.id) for i in market.instruments}
    assert {"SIM:BTCUSDT", "SIM:BTC-PERP", "SIM2:BTC-PERP", "SIM:ETH-PERP"} <= ids
    assert isinstance(market.instrument("SIM:BTCUSDT"), Spot)
    perp = market.instrument("SIM:BTC-PERP")
    assert isinstance(perp, Perpetual) and perp.funding_interval_ns == 8 * 3600 * 10**9
    futs = [i for i in market.instruments if isinstance(i, Future)]
    assert len(futs) == 2 and futs[0].expiry_ns < futs[1].expiry_ns
    opts = [i for i in market.instruments if isinstance(i, Option)]
    assert opts and all(o.settlement is Settlement.INVERSE and o.settlement_currency == "BTC" for o in opts)
    assert {o.expiry_ns for o in opts} == {f.expiry_ns for f in futs}
    # every instrument with data is known, and every id in every table is an instrument
    for name in ("quotes", "book_snapshots", "funding", "mark", "option_quotes", "bars"):
        assert set(market.tables[name]["instrument_id"].unique()) <= ids, name
    assert str(market.spot.id) == "SIM:BTCUSDT" and market.perp is perp
    assert market.perp2 is not None and str(market.perp2.id) == "SIM2:BTC-PERP"
    assert market.futures == tuple(futs) and market.options == tuple(opts)
    assert {str(i.id) for i in market.universe} == {f"SIM:{c}-PERP" for c in market.config.universe.coins}
    reg = market.registry()
    assert len(reg) == len(market.instruments)
    with pytest.raises(UnknownSymbolError, match="SIM:NOPE"):
        market.instrument("SIM:NOPE")


def test_frame_picks_the_right_table(market: SimulatedMarket) -> None:
    q = market.frame("SIM:BTC-PERP")
    assert q.columns == list(canonical_schema("quotes")) and q.height == market.config.n_steps
    assert set(q["instrument_id"]) == {"SIM:BTC-PERP"}
    opt = next(i for i in market.instruments if isinstance(i, Option))
    assert market.frame(opt.id).columns == list(canonical_schema("option_quotes"))
    assert market.frame("SIM:ETH-PERP").columns == list(canonical_schema("bars"))
    assert market.frame("SIM:BTC-PERP", "funding").height == 9
    with pytest.raises(ValidationError, match="kind"):
        market.frame("SIM:BTC-PERP", "candles")


def test_progress_callback_reports_every_stage_in_order() -> None:
    seen: list[tuple[str, float]] = []
    build_market(MarketConfig(days=0.5, seed=1), progress=lambda s, f: seen.append((s, f)))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and seen[-1] == ("done", 1.0)
    assert {s for s, _ in seen} >= {"index", "perp", "options", "universe", "done"}


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 2**40),
    vol=st.floats(0.1, 2.0),
    step=st.sampled_from([15.0, 60.0, 300.0]),
    days=st.floats(0.3, 1.5),
    half_life=st.floats(1.0, 600.0),
    parts=st.fixed_dictionaries(
        {k: st.booleans() for k in ("venue2", "futures", "options", "universe", "trades")}
    ),
    dislocations=st.booleans(),
)
def test_any_valid_config_builds_a_clean_market(
    seed, vol, step, days, half_life, parts, dislocations
) -> None:
    from spreadlab.data.market import IndexConfig, PerpConfig

    off = {k: None for k, on in parts.items() if not on}
    cfg = MarketConfig(
        seed=seed,
        days=days,
        step_seconds=step,
        index=IndexConfig(vol=vol),
        perp=PerpConfig(premium_half_life_minutes=half_life),
        dislocations=dislocations,
        **off,
    )
    mkt = build_market(cfg)
    q = mkt.quotes
    assert q.height >= 2 * cfg.n_steps
    assert (q["bid"] < q["ask"]).all() and (q["bid"] > 0).all()
    for name, frame in mkt.tables.items():
        for col, dtype in frame.schema.items():
            if dtype == pl.Float64:
                assert not frame[col].is_nan().any(), (name, col)
                assert frame[col].is_finite().all(), (name, col)
    oq = mkt.option_quotes
    if oq.height:
        two = oq.filter(pl.col("bid").is_not_null())
        assert (two["bid"] < two["ask"]).all()
    if not dislocations:
        assert mkt.ground_truth.height == 0
    ids = {str(i.id) for i in mkt.instruments}
    assert set(mkt.ground_truth["instrument_id"]) <= ids


def test_bytes_are_identical_across_processes(tmp_path: Path) -> None:
    # another interpreter with another hash seed writes the very same files
    import os
    import subprocess
    import sys

    here = build_market(SMALL).write_parquet(tmp_path / "here")
    code = (
        "import sys; from spreadlab.data.market import MarketConfig, build_market; "
        "build_market(MarketConfig(days=1.0, seed=3)).write_parquet(sys.argv[1])"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "there")], check=True, env=env, timeout=600)
    for name, path in here.items():
        assert path.read_bytes() == (tmp_path / "there" / path.name).read_bytes(), name
