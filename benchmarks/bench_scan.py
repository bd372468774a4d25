"""``scan`` of a 600-snapshot Deribit + Binance catalog, warm (issue 10 item 23).

The catalog holds every Deribit BTC/ETH option-chain snapshot of the shared data (604 files,
2025-12-30 .. 2026-05-31) and the Binance BTC/ETH spot and USDT-M perpetual daily bars
(2021-01 .. 2023-06); it is built once into the benchmark's work folder. The work is
:func:`spreadlab.signals.scan.scan` with every kind at the default time (the newest data), timed
best of 3 after one call that loads the compiled kernels. No peer: the figure before the change
(scipy ``least_squares`` SVI fits in the vol kind, commit b347fad, same machine) is in ``extra``.
"""

from __future__ import annotations

import time

from benchmarks.harness import Context, best_of
from spreadlab.data.catalog import Catalog
from spreadlab.signals.scan import scan
from spreadlab.testing import shared_data_dir

BEFORE_S = 23.68  # b347fad, warm best of 3 on this catalog (load average about 5 on 2 cores)


def run(ctx: Context) -> list[dict]:
    root = shared_data_dir()
    if root is None:
        ctx.log("shared data absent: scan benchmark skipped")
        return []
    path = ctx.workdir / "catalog"
    done = ctx.workdir / "catalog.done"
    if not done.exists():
        cat = Catalog(path)
        snaps = sorted((root / "deribit_options" / "snapshots").glob("*.csv.gz"))
        t0 = time.perf_counter()
        cat.import_("deribit-chain", snaps)
        for f in sorted((root / "binance_spot_perp_daily").glob("*_1d_*.csv.gz")):
            cat.import_("ohlcv", [f], venue="BINANCE_USDM" if f.name.startswith("perp") else "BINANCE")
        ctx.log(f"catalog of {len(snaps)} snapshots built in {time.perf_counter() - t0:.1f} s")
        done.write_text("ok\n")
    first = time.perf_counter()
    rows = scan(str(path)).height
    first = time.perf_counter() - first
    warm = best_of(lambda: scan(str(path)), repeat=3)
    ctx.log(f"scan: {rows} rows, first call {first:.2f} s, warm {warm:.3f} s (before: {BEFORE_S} s)")
    return [
        ctx.record(
            name="scan_deribit_binance_600",
            work=f"scan every kind at the newest data of 604 Deribit chain snapshots + Binance bars ({rows} rows)",
            unit="seconds (warm)",
            spreadlab=warm,
            peers={},
            higher_is_better=False,
            extra={"first_call_s": first, "rows": rows, "before_s": BEFORE_S, "before_commit": "b347fad"},
        )
    ]
