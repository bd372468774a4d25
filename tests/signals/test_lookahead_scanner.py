"""No look-ahead in the scanner: what arrives after ``at`` cannot change a scan at ``at``.

On the built-in market (every kind of table: quotes, books, marks, funding, option chains, bars;
venue latency makes ``ts_recv`` later than ``ts_event``), every price of every row received after a
random time ``t`` is rewritten; the scan at ``t`` (all kinds, every feature and candidate it reports)
must be identical. A row counts as known at ``t`` when it was received by then (``ts_recv <= t``):
a quote stamped by the venue before ``t`` but still in flight at ``t`` is not yet known.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from spreadlab.data.market import MarketConfig, build_market
from spreadlab.signals.scan import ScanConfig, scan_frames

KINDS = "basis,calendar,parity,box,vol,xvenue,pairs"


@pytest.fixture(scope="module")
def market():  # type: ignore[no-untyped-def]
    return build_market(MarketConfig(days=1.0, seed=3))


KEEP = {"strike"}  # contract terms, not market data


def _perturbed(tables: dict[str, pl.DataFrame], t: int, seed: int) -> dict[str, pl.DataFrame]:
    """Scale every float (and float-list) column of the rows received after ``t`` by random factors."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, df in tables.items():
        if "ts_recv" not in df.columns:  # ground truth, smiles, pair list: not market data
            out[name] = df
            continue
        late = (df["ts_recv"] > t).to_numpy()
        if late.any():
            f = pl.Series(np.where(late, rng.uniform(0.7, 1.3, df.height), 1.0))
            is_late = pl.Series(late)
            exprs = []
            for c, dtype in df.schema.items():
                if c in KEEP:
                    continue
                if dtype.is_float():
                    exprs.append(pl.col(c) * f)
                elif isinstance(dtype, pl.List) and dtype.inner.is_float():
                    bumped = pl.col(c).list.eval(pl.element() * 1.2)
                    exprs.append(pl.when(is_late).then(bumped).otherwise(pl.col(c)).alias(c))
            df = df.with_columns(exprs)
        out[name] = df
    return out


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frac=st.floats(0.3, 0.95), kind=st.sampled_from(["quotes", "mark", "option_quotes", "book_snapshots"]),
       seed=st.integers(0, 2**31 - 1))  # fmt: skip
def test_rows_received_after_at_never_change_a_scan(market, frac: float, kind: str, seed: int) -> None:  # type: ignore[no-untyped-def]
    # scan at a time when a row of ``kind`` has been stamped by the venue but not yet received
    rows = market.tables[kind]
    row = rows.row(int(frac * (rows.height - 1)), named=True)
    t = (row["ts_event"] + row["ts_recv"]) // 2
    assert row["ts_event"] <= t < row["ts_recv"]
    cfg = ScanConfig(vol_history_snapshots=0)
    base = scan_frames(market.tables, at=t, kinds=KINDS, instruments=market.instruments, config=cfg)
    other = scan_frames(_perturbed(market.tables, t, seed), at=t, kinds=KINDS, instruments=market.instruments,
                        config=cfg)  # fmt: skip
    assert base.height > 0
    assert_frame_equal(base, other, check_exact=True)
