"""Peak memory of an import per format, with the default chunk (issue 10 item 7).

Each case imports one real file from ../shared/data into a fresh catalog in a fresh
``python`` process (``Catalog.import_`` with its defaults); the figure is the process's peak
resident set (``ru_maxrss`` from ``wait4``), next to the peak of the same process importing a
10-row file (the interpreter with polars, pyarrow and DuckDB loaded: the floor). The big
capture is the real Binance USDT-M BTCUSDT depth capture repeated 4 times (375,816 messages,
2.13 million book-delta rows). No peer. The figures before the change (commit 56534e6: the
Binance websocket and Bybit chunks counted messages, default 500,000; same machine) are in
``extra``: then a chunk of depth messages held up to ~2.8 million rows.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.harness import ROOT, Context
from spreadlab.testing import shared_file

_CHILD = """
import sys, time
from pathlib import Path
from spreadlab.data.catalog import Catalog
t = time.perf_counter()
rep = Catalog(sys.argv[3]).import_(sys.argv[1], [Path(sys.argv[2])], venue=sys.argv[4] if len(sys.argv) > 4 else None)
print(rep.rows_stored, time.perf_counter() - t)
"""

CASES = [  # name, format, file under ../shared/data (or "big-ws"), venue
    ("floor", "tardis", "nautilus_fixtures/tardis_format/bitmex_trades_XBTUSD.csv", None),
    ("binance_ws", "binance-ws", "binance_l2_hftbacktest/usdm/btcusdt_20240808.gz", None),
    ("binance_ws_x4", "binance-ws", "big-ws", None),
    ("bybit_ob", "bybit-ob", "nautilus_fixtures/bybit_ob500/xrpusdt-ob500.data.zip", None),
    ("deribit_chain", "deribit-chain", "deribit_options/snapshots/deribit_options_snapshot_20260107T153452Z.csv.gz", None),
    ("ohlcv_300k", "ohlcv", "hyperliquid_perps/perp_ohlcv_1h.csv.gz", "HYPERLIQUID"),
    ("deribit_ticker", "deribit-ticker", "cryptofeed_raw_ws/DERIBIT.ws.1.0.gz", None),
]  # fmt: skip

# commit 56534e6 on this machine: peak MB, rows stored, seconds
BEFORE = {
    "floor": (289, 10, 0.85), "binance_ws": (457, 532923, 4.34), "binance_ws_x4": (869, 2131692, 16.1),
    "bybit_ob": (231, 3966, 0.22), "deribit_chain": (258, 1352, 0.50), "ohlcv_300k": (542, 299661, 3.95),
    "deribit_ticker": (233, 89, 0.32),
}  # fmt: skip


def _big(workdir: Path) -> Path:
    out = workdir / "usdm_btcusdt_x4.gz"
    if not out.exists():
        src = shared_file("binance_l2_hftbacktest/usdm/btcusdt_20240808.gz")
        if src is None:
            raise FileNotFoundError(
                "../shared/data/binance_l2_hftbacktest/usdm/btcusdt_20240808.gz is needed"
            )
        data = gzip.decompress(src.read_bytes())
        out.write_bytes(gzip.compress(data * 4, compresslevel=1))
    return out


def measure(
    fmt: str, path: Path, venue: str | None, workdir: Path, src: Path = ROOT / "src"
) -> tuple[int, int, float]:
    """Import ``path`` in a fresh process; return (peak RSS MB, rows stored, seconds)."""
    cat = workdir / f"cat-{time.time_ns()}"
    env = {**os.environ, "PYTHONPATH": str(src)}
    args = [sys.executable, "-c", _CHILD, fmt, str(path), str(cat), *([venue] if venue else [])]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f"import of {path} failed (status {status})")
    rows, secs = out.split()
    return usage.ru_maxrss // 1024, int(rows), float(secs)


def run(ctx: Context) -> list[dict]:
    out = []
    for name, fmt, rel, venue in CASES:
        path = _big(ctx.workdir) if rel == "big-ws" else shared_file(rel)
        if path is None:
            ctx.log(f"skip {name}: ../shared/data/{rel} is absent")
            continue
        mb, rows, secs = measure(fmt, path, venue, ctx.workdir)
        b_mb, _, b_secs = BEFORE[name]
        ctx.log(f"{name}: peak {mb} MB ({rows:,} rows, {secs:.1f} s); before {b_mb} MB ({b_secs} s)")
        out.append(
            ctx.record(
                name=f"import_peak_memory_{name}",
                work=f"{fmt} import of {rel if rel != 'big-ws' else 'the usdm BTCUSDT capture x4'} "
                f"({rows:,} rows stored), fresh process, default chunk",
                unit="peak MB (RSS)",
                spreadlab=float(mb),
                peers={},
                higher_is_better=False,
                extra={
                    "rows": rows,
                    "seconds": secs,
                    "before_peak_mb": b_mb,
                    "before_seconds": b_secs,
                    "before_commit": "56534e6",
                    "floor_mb": BEFORE["floor"][0],
                },
            )
        )
    return out
