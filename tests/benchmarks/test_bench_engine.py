"""Smoke test of the engine benchmark's own code at unit size (the timed run is ``make bench``)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks import bench_engine as be
from spreadlab.engine.tape import build_tape
from spreadlab.kernels import engine_layout as lay

pytestmark = pytest.mark.slow  # ~5 CPU seconds (numba cache loads): kept out of `make test`


def test_synthetic_books_are_seeded_and_never_cross_and_the_engine_sees_the_bare_loops_books() -> None:
    a = be.synthetic_deltas(20_000, seed=3)
    assert a.equals(be.synthetic_deltas(20_000, seed=3))
    assert not a.equals(be.synthetic_deltas(20_000, seed=4))
    assert a.height == 20_000 + 200  # 50 snapshot levels per side and leg first
    tape = build_tape({"book_deltas": a}, be.IDS)
    # the generator deletes the level a mid move uncovers, so applying rows one by one never crosses
    bk = be.run_bare(tape)
    for (bid, ask), inst in zip(be._bbo(bk), be.INSTRUMENTS, strict=True):
        assert bid < ask, inst
    prog = be.strategy(bar_ns=200_000_000, window=30).program(tape, be.IDS)
    engine = be.run_engine(tape, prog)
    local = [(float(engine.lk[i, lay.L_BID]), float(engine.lk[i, lay.L_ASK])) for i in range(2)]
    be._check_bbo("bare loop", local, be._bbo(bk))
    assert engine.vs[lay.V_CNT][lay.C_NORD] > 0  # the threshold rule traded


def test_case_files_hold_each_legs_rows_in_receive_order(tmp_path: Path) -> None:
    d = be.synthetic_deltas(5_000, seed=1)
    tape = build_tape({"book_deltas": d}, be.IDS)
    prog = be.strategy(bar_ns=100_000_000, window=10).program(tape, be.IDS)
    be._write_case(tmp_path, d, prog, capture=False)
    z = np.load(tmp_path / "case.npz")
    for k, iid in enumerate(be.IDS):
        rows = d.filter(pl.col("instrument_id") == iid)
        assert z[f"l{k}_price"].shape[0] == rows.height
        assert (np.diff(z[f"l{k}_ts_recv"]) >= 0).all()
    assert z["sched_t"].shape == prog.schedule_t.shape
