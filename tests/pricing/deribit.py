"""Helpers for reading the shared Deribit option snapshots in tests (no spreadlab importer needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
from tests.conftest import need_shared

from spreadlab.core.enums import Venue
from spreadlab.core.time import venue_day_count, year_fraction

SNAPSHOT_DIR = "deribit_options/snapshots"


def snapshot_files() -> list[Path]:
    """All Deribit snapshot files, sorted by time (skips the test if the data is absent)."""
    folder = need_shared(SNAPSHOT_DIR)
    files = sorted(folder.glob("deribit_options_snapshot_*.csv.gz"))
    if not files:
        import pytest

        pytest.skip(f"no snapshot files under {folder}")
    return files


def read_snapshot(path: Path) -> pl.DataFrame:
    """Read one raw snapshot CSV, adding ``expiry_years`` in Deribit's day count (ACT/365).

    The file's own ``time_to_maturity`` counts 365.25-day years; Deribit's marks do not.
    """
    raw = pl.read_csv(path, infer_schema_length=10_000)
    ts = raw["timestamp"].str.to_datetime(time_zone="UTC").dt.epoch("ns").to_numpy()
    expiry = raw["expiry_datetime"].str.to_datetime(time_zone="UTC").dt.epoch("ns").to_numpy()
    years = np.asarray(year_fraction(ts, expiry, venue_day_count(Venue.DERIBIT)), dtype=np.float64)
    return raw.with_columns(pl.Series("expiry_years", years))


def chain_quotes(raw: pl.DataFrame) -> pl.DataFrame:
    """Map a raw Deribit snapshot to the columns :func:`spreadlab.pricing.option_chain` expects."""
    return raw.select(
        pl.col("instrument_name").alias("instrument"),
        pl.col("currency").alias("underlying"),
        pl.col("expiry_datetime").str.to_datetime(time_zone="UTC").alias("expiry"),
        "expiry_years",
        pl.col("strike").cast(pl.Float64),
        pl.col("option_type").alias("kind"),
        pl.col("bid_price").cast(pl.Float64).alias("bid"),
        pl.col("ask_price").cast(pl.Float64).alias("ask"),
        pl.col("mark_price").cast(pl.Float64).alias("mark"),
        pl.col("underlying").cast(pl.Float64).alias("forward"),
        pl.when(pl.col("underlying_name") == "index_price")
        .then(pl.lit("index"))
        .when(pl.col("underlying_name").str.starts_with("SYN."))
        .then(pl.lit("synthetic"))
        .otherwise(pl.lit("future"))
        .alias("forward_source"),
        pl.when(pl.col("futures_instrument_name").str.starts_with("SYN.").not_())
        .then(pl.col("futures_price").cast(pl.Float64))
        .alias("future"),
        pl.col("index_price").cast(pl.Float64).alias("index"),
    )
