"""Years to expiry in the venue's day count reproduce Deribit's published mark IVs and greeks.

The snapshots carry the snapshot time and each option's expiry; the years
between them are counted by the parsed instrument (Deribit: ACT/365) and,
for the before/after figures, over a 365.25-day year (spreadlab's convention
before the day count became a property of the venue and instrument).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from tests.pricing.deribit import read_snapshot, snapshot_files

from spreadlab.core.enums import DayCount, Settlement
from spreadlab.core.time import year_fraction
from spreadlab.instruments import Option, parse_symbol
from spreadlab.pricing.black76 import black76_greeks
from spreadlab.pricing.iv import implied_vol


def _sample() -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    files = snapshot_files()
    raw = pl.concat([read_snapshot(f) for f in files[:: max(1, len(files) // 12)]], how="vertical_relaxed")
    ts = raw["timestamp"].str.to_datetime(time_zone="UTC").dt.epoch("ns").to_numpy()
    expiry = raw["expiry_datetime"].str.to_datetime(time_zone="UTC").dt.epoch("ns").to_numpy()
    return raw, ts, expiry


def _venue_years(raw: pl.DataFrame, ts: np.ndarray, expiry: np.ndarray) -> np.ndarray:
    cache: dict[str, Option] = {}
    years = np.empty(raw.height)
    for i, name in enumerate(raw["instrument_name"].to_list()):
        opt = cache.get(name)
        if opt is None:
            inst = parse_symbol("DERIBIT", name)
            assert isinstance(inst, Option)
            assert inst.expiry_ns == expiry[i], name  # the symbol's expiry is the file's expiry_datetime
            opt = cache[name] = inst
        years[i] = opt.time_to_expiry(int(ts[i]))
    return years


def _iv_error(raw: pl.DataFrame, years: np.ndarray) -> tuple[float, float]:
    res = implied_vol(
        raw["mark_price"].to_numpy(),
        forward=raw["underlying"].to_numpy(),
        strike=raw["strike"].to_numpy(),
        expiry_years=years,
        kind=raw["option_type"].to_numpy(),
        settlement=Settlement.INVERSE,
    )
    err = (res.vol - raw["implied_volatility"].to_numpy())[res.ok] * 100.0  # vol points
    return float(np.median(np.abs(err))), float(np.median(err))


@pytest.fixture(scope="module")
def sample() -> tuple[pl.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    raw, ts, expiry = _sample()
    return raw, ts, expiry, _venue_years(raw, ts, expiry)


def test_deribit_instruments_count_act_365(sample) -> None:
    _raw, ts, expiry, years = sample
    np.testing.assert_allclose(years, (expiry - ts) / (365 * 86_400e9), rtol=1e-12)


def test_mark_iv_error_falls_with_the_venue_day_count(sample) -> None:
    raw, ts, expiry, years = sample
    before_abs, before_bias = _iv_error(raw, np.asarray(year_fraction(ts, expiry, DayCount.ACT_365_25)))
    after_abs, after_bias = _iv_error(raw, years)
    print(
        f"median |IV err| vol pts {before_abs:.4f} -> {after_abs:.4f}; bias {before_bias:+.4f} -> {after_bias:+.4f}"
    )
    # measured on this sample: 0.0248 -> 0.0099 and +0.0197 -> -0.0001 vol points
    assert before_abs > 0.02 and before_bias > 0.015  # a 365.25-day year reads Deribit's vols high
    assert after_abs < 0.012
    assert abs(after_bias) < 0.002


def test_greeks_match_deribit_in_the_venue_day_count(sample) -> None:
    # Deribit publishes delta (linear Black delta) and vega (USD per vol point) at its mark IV
    raw, ts, expiry, years = sample
    keep = (years > 2 / 365) & (raw["vega"].to_numpy() > 1.0)
    sub, t = raw.filter(pl.Series(keep)), years[keep]
    stats = {}
    old = np.asarray(year_fraction(ts, expiry, DayCount.ACT_365_25))[keep]
    for label, yrs in (("ACT/365.25", old), ("ACT/365", t)):
        g = black76_greeks(
            sub["underlying"].to_numpy(),
            sub["strike"].to_numpy(),
            yrs,
            sub["implied_volatility"].to_numpy(),
            kind=sub["option_type"].to_numpy(),
        )
        vega = sub["vega"].to_numpy()
        stats[label] = (
            float(np.median(np.abs(g.delta - sub["delta"].to_numpy()))),
            float(np.median(g.vega / 100 / vega - 1.0)),
        )
    print(stats)
    d_before, v_before = stats["ACT/365.25"]
    d_after, v_after = stats["ACT/365"]
    # measured: median |delta err| 1.96e-4 -> 1.83e-4, median vega bias -5.1e-4 -> +1.3e-5 (relative)
    assert d_after < d_before and d_after < 2.5e-4  # the rest is the per-row forward Deribit used
    assert abs(v_after) < 1e-4 and abs(v_before) > 3e-4  # vega ~ sqrt(T): a 365.25-day year reads it low
