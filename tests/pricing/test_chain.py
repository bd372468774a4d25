"""Option chain view on real Deribit snapshots: IVs, greeks, SVI, residuals, the parity-forward band."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from tests.pricing.deribit import chain_quotes, read_snapshot, snapshot_files

from spreadlab.core.enums import Settlement
from spreadlab.errors import ValidationError
from spreadlab.pricing.black76 import black76
from spreadlab.pricing.chain import chain_parity, option_chain


def test_chain_on_a_real_snapshot() -> None:
    raw = read_snapshot(snapshot_files()[300])
    chain = option_chain(chain_quotes(raw))
    opts = chain.options
    assert opts.height == raw.height
    ok = opts.filter(pl.col("mark_iv_status") == "OK")
    assert ok.height / opts.height > 0.95
    # mark IV reproduces Deribit's (the raw rows are in the same order)
    err = (opts["mark_iv"] - raw["implied_volatility"]).abs().drop_nulls() * 100
    assert err.median() < 0.1
    # bid IV <= mark IV <= ask IV where all three exist (prices are monotone in vol)
    three = ok.filter(pl.col("bid_iv").is_not_null() & pl.col("ask_iv").is_not_null())
    assert (three["bid_iv"] <= three["ask_iv"]).all()
    # Deribit's mark may sit outside the touch (it is its own model price), but mostly inside
    assert ((three["bid_iv"] <= three["mark_iv"]) & (three["mark_iv"] <= three["ask_iv"])).mean() > 0.9
    # linear delta follows Deribit's delta column
    d_err = (opts["delta_linear"] - raw["delta"]).abs().drop_nulls()
    assert d_err.median() < 1e-3
    # every expiry with >= 5 quoted OTM strikes has a converged, butterfly-free fit
    exp = chain.expiries
    fitted = exp.filter(pl.col("svi_n") >= 5)
    assert fitted.height >= 10
    assert fitted["svi_converged"].all() and fitted["svi_butterfly_free"].all()
    # Deribit marks its wings off its own surface; SVI matches the quoted OTM marks to well under a vol point
    assert fitted["svi_rmse_vol_points"].median() < 0.6
    assert fitted["svi_rmse_vol_points"].max() < 3.0
    # futures trade at a modest annualised premium to the index
    assert fitted["basis_annualised"].drop_nulls().is_between(-0.5, 1.0).all()
    # residuals are small in the quoted part of the smile, and zero-mean-ish
    quoted = opts.filter(pl.col("bid") > 0, pl.col("residual").is_not_null())
    assert quoted["residual"].abs().median() < 0.01
    # listed futures sit inside the best parity band for every expiry that has one
    with_fut = exp.filter(pl.col("future").is_not_null() & pl.col("parity_forward_bid").is_not_null())
    assert with_fut.height > 0
    assert (
        (with_fut["parity_forward_bid"] <= with_fut["future"])
        & (with_fut["future"] <= with_fut["parity_forward_ask"])
    ).all()
    # ATM vol from SVI is close to the mark IV of the strike nearest the forward
    # no material calendar arbitrage inside the quoted ranges (total variance decrease < 0.001)
    for und in ("BTC", "ETH"):
        assert chain.calendar[und].pairs_checked >= 5
        assert chain.calendar[und].max_decrease < 1e-3


def test_chain_on_synthetic_linear_quotes_without_forward_column() -> None:
    # a linear chain priced off a known flat-vol Black-76 world: the parity forward is recovered
    f, t, vol = 3000.0, 0.25, 0.6
    strikes = np.arange(2000.0, 4200.0, 100.0)
    rows = []
    for k in strikes:
        for kind in ("call", "put"):
            mid = float(black76(f, k, t, vol, kind=kind))
            rows.append(
                {
                    "expiry_years": t,
                    "strike": k,
                    "kind": kind,
                    "bid": mid * 0.99,
                    "ask": mid * 1.01,
                    "mark": mid,
                }
            )
    chain = option_chain(pl.DataFrame(rows), settlement=Settlement.LINEAR)
    exp = chain.expiries.row(0, named=True)
    assert exp["forward"] == pytest.approx(f, rel=1e-6)
    assert exp["parity_forward_bid"] < f < exp["parity_forward_ask"]
    assert chain.options["mark_iv"].drop_nulls().to_numpy() == pytest.approx(vol, rel=1e-6)
    assert exp["svi_rmse_vol_points"] < 1e-3 and exp["atm_vol"] == pytest.approx(vol, rel=1e-5)
    assert abs(exp["rr25"]) < 1e-5


def test_chain_rejects_bad_rows_naming_them() -> None:
    base = {
        "expiry_years": [0.1],
        "strike": [100.0],
        "kind": ["call"],
        "bid": [1.0],
        "ask": [1.1],
        "mark": [1.05],
    }
    with pytest.raises(ValidationError, match="missing required columns"):
        option_chain(pl.DataFrame({k: v for k, v in base.items() if k != "mark"}))
    with pytest.raises(ValidationError, match="row 0: kind='straddle'"):
        option_chain(pl.DataFrame({**base, "kind": ["straddle"]}))
    with pytest.raises(ValidationError, match="expiry_years"):
        option_chain(pl.DataFrame({**base, "expiry_years": [-0.1]}))


def _parity_table(files: list[Path]) -> pl.DataFrame:
    out = []
    for path in files:
        par = chain_parity(chain_quotes(read_snapshot(path)))
        out.append(par.with_columns(pl.lit(path.name).alias("file")))
    return pl.concat(out, how="vertical_relaxed").filter(pl.col("inside").is_not_null())


def _summary(par: pl.DataFrame) -> pl.DataFrame:
    return (
        par.group_by("underlying")
        .agg(
            pl.len().alias("pairs"),
            pl.col("inside").mean().alias("inside_share"),
            (~pl.col("inside")).sum().alias("violations_gross"),
            (~pl.col("inside_net")).sum().alias("violations_after_fees"),
        )
        .sort("underlying")
    )


def test_listed_future_inside_parity_band_on_a_sample() -> None:
    files = snapshot_files()
    summary = _summary(_parity_table(files[:: max(1, len(files) // 40)]))
    assert set(summary["underlying"]) == {"BTC", "ETH"}
    assert (summary["inside_share"] >= 0.9).all()


@pytest.mark.slow
def test_listed_future_inside_parity_band_on_all_snapshots() -> None:
    summary = _summary(_parity_table(snapshot_files()))
    print(summary)
    assert (summary["inside_share"] >= 0.9).all()


def test_conversion_reversal_against_the_perpetual_on_real_snapshots() -> None:
    from tests.conftest import need_shared

    from spreadlab.pricing.forwards import parity_edges, parity_forward_band

    perps = pl.read_csv(
        need_shared("deribit_options/perpetual_futures_prices.csv.gz"), infer_schema_length=10_000
    )
    files = {p.name.removesuffix(".gz"): p for p in snapshot_files()}
    checked = 0
    cache: dict[str, pl.DataFrame] = {}
    for row in perps.filter(pl.col("accepted_under_max_gap")).head(24).iter_rows(named=True):
        path = files.get(row["snapshot_file"])
        if path is None:
            continue
        if path.name not in cache:
            cache[path.name] = chain_parity(chain_quotes(read_snapshot(path)))
        par = cache[path.name].filter(pl.col("underlying") == row["coin"])
        near = par.filter(pl.col("expiry_years") == par["expiry_years"].min())
        if near.height < 3:
            continue
        band = parity_forward_band(
            near["call_bid"].to_numpy(), near["call_ask"].to_numpy(), near["put_bid"].to_numpy(),
            near["put_ask"].to_numpy(), strike=near["strike"].to_numpy(),
            expiry_years=near["expiry_years"].to_numpy(), settlement=Settlement.INVERSE,
        )  # fmt: skip
        perp = float(row["candle_price_used"])
        edges = parity_edges(band, perp, perp)
        # within days of expiry the synthetic forward and the perpetual agree to a fraction of a percent
        assert abs(np.nanmedian(band.mid) / perp - 1) < 0.01
        # and no strike offers a conversion or reversal worth more than 1% of the price
        assert np.nanmax(np.maximum(edges.conversion, edges.reversal)) < 0.01 * perp
        checked += 1
    assert checked >= 10


def test_forward_source_of_every_underlying_named_in_the_real_chains() -> None:
    from spreadlab.pricing.chain import ForwardSource, forward_source

    files = snapshot_files()
    names: set[str] = set()
    for path in files[:: max(1, len(files) // 60)]:
        raw = pl.read_csv(path, columns=["underlying_name"], infer_schema_length=0)
        names |= set(raw["underlying_name"].drop_nulls().to_list())
    assert "index_price" in names and any(n.startswith("SYN.") for n in names)
    for name in sorted(names):
        got = forward_source(f"DERIBIT:{name}")
        want = (
            ForwardSource.INDEX
            if name == "index_price"
            else ForwardSource.SYNTHETIC
            if name.startswith("SYN.")
            else ForwardSource.FUTURE
        )
        assert got is want, name
    # a perpetual, an unparsable name or no name is never taken for a listed future
    for other in ("DERIBIT:BTC-PERPETUAL", "DERIBIT:BTC-32FOO26", "", None, "BTC-27MAR26"):
        assert forward_source(other) is ForwardSource.UNKNOWN, other
    assert forward_source("DERIBIT:btc_usd") is ForwardSource.INDEX


def test_chain_takes_no_future_from_an_index_or_synthetic_forward() -> None:
    f, t = 100.0, 0.05
    rows = []
    for src in ("index", "synthetic", "future"):
        for k in (90.0, 100.0, 110.0):
            for kind in ("call", "put"):
                mid = float(black76(f, k, t, 0.5, kind=kind))
                rows.append({"expiry_years": t, "strike": k, "kind": kind, "bid": mid * 0.99, "ask": mid * 1.01,
                             "mark": mid, "expiry": src, "forward": f, "forward_source": src})  # fmt: skip
    chain = option_chain(pl.DataFrame(rows), settlement=Settlement.LINEAR)
    exp = {r["group"]: r for r in chain.expiries.iter_rows(named=True)}
    assert exp["future"]["future"] == pytest.approx(f) and exp["future"]["forward_source"] == "future"
    for src in ("index", "synthetic"):
        assert exp[src]["future"] is None and exp[src]["forward_source"] == src
    par = chain.parity
    assert par.filter(pl.col("group") != "future")["conversion"].null_count() == 6
    assert par.filter(pl.col("group") == "future")["inside"].all()
    with pytest.raises(ValidationError, match="row 0: forward_source='perp' is invalid"):
        option_chain(pl.DataFrame([{**rows[0], "forward_source": "perp"}]))
