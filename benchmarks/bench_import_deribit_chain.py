"""Deribit chain snapshot import speed and part count (issue 10 item 25, in part).

Work: ``Catalog.import_("deribit-chain", files)`` of the first 40 real snapshots of
``deribit_options/snapshots`` (52,902 option rows, ~1,300 a file) into a fresh catalog, in a
fresh process; the figure is source rows per wall second, with the number of Parquet parts
written. No peer. Before the change (commit 8cbb403, same machine and hour): every option id was
parsed again in every file (a Deribit chain repeats its names) and the writer gave DuckDB's lock
up (a checkpointing close, ~50 ms) after 0.5 s of holding it. The issue's targets (200k rows/s,
a day of one venue and kind in a few files) are not reached: each file is still its own import
with its own parts and commit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from benchmarks.harness import ROOT, Context
from spreadlab.testing import shared_data_dir

_CHILD = """
import sys, time
from pathlib import Path
from spreadlab.data.catalog import Catalog
files = sorted(Path(sys.argv[1]).glob("*.csv.gz"))[:40]
cat = Catalog(sys.argv[2])
t = time.perf_counter()
rep = cat.import_("deribit-chain", files)
el = time.perf_counter() - t
print(rep.rows_read, el, cat.sql("SELECT count(*) AS n FROM files")["n"][0])
"""

BEFORE = {"rows_per_s": 9355.0, "parts": 716}  # commit 8cbb403, best of 2, load ~12 on 2 cores


def measure(workdir: Path, src: Path = ROOT / "src") -> tuple[int, float, int]:
    """Return (rows read, seconds, parts) of one import in a fresh process."""
    shared = shared_data_dir()
    assert shared is not None
    cat = workdir / f"cat-{os.getpid()}-{len(list(workdir.glob('cat-*')))}"
    out = subprocess.run([sys.executable, "-c", _CHILD, str(shared / "deribit_options" / "snapshots"), str(cat)],
                         check=True, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(src)}).stdout.split()  # fmt: skip
    return int(out[0]), float(out[1]), int(out[2])


def run(ctx: Context) -> list[dict]:
    if shared_data_dir() is None:
        ctx.log("skip: ../shared/data is absent")
        return []
    rows, secs, parts = min((measure(ctx.workdir) for _ in range(2)), key=lambda r: r[1])
    rate = rows / secs
    ctx.log(
        f"deribit chain: {rows:,} rows in {secs:.2f} s = {rate:,.0f} rows/s, {parts} parts (before {BEFORE})"
    )
    return [
        ctx.record(
            name="deribit_chain_import_40_snapshots",
            work=f"Catalog.import_ of 40 real Deribit chain snapshots ({rows:,} rows), fresh process",
            unit="rows/s",
            spreadlab=round(rate, 1),
            peers={},
            extra={"seconds": round(secs, 3), "parts": parts, "before_rows_per_s": BEFORE["rows_per_s"],
                   "before_parts": BEFORE["parts"], "before_commit": "8cbb403"},
        )
    ]  # fmt: skip
