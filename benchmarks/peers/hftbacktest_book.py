"""Peer: hftbacktest rebuilding the order book from a raw Binance futures capture.

Usage: python hftbacktest_book.py CAPTURE.gz TICK LOT REPEAT

Converts the capture with hftbacktest's own converter (untimed), keeps the
depth events (snapshot clears/inserts and diffs), then times
``HashMapMarketDepthBacktest._goto_end()``, the loop hftbacktest's own
``create_last_snapshot`` uses to apply every event to its book. Prints one
JSON object: best wall and CPU seconds, depth rows (source level updates), version.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from importlib.metadata import version

import numpy as np
from hftbacktest import BacktestAsset, HashMapMarketDepthBacktest
from hftbacktest.data.utils import binancefutures
from hftbacktest.types import (
    DEPTH_CLEAR_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    LOCAL_EVENT,
)


def main() -> None:
    path, tick, lot, repeat = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    with contextlib.redirect_stdout(io.StringIO()):
        data = binancefutures.convert(path, buffer_size=5_000_000)
    kind = data["ev"] & 0xFF
    depth = data[np.isin(kind, [DEPTH_EVENT, DEPTH_CLEAR_EVENT, DEPTH_SNAPSHOT_EVENT])]
    dk = depth["ev"] & 0xFF
    source_rows = int(((depth["ev"] & LOCAL_EVENT) != 0)[dk != DEPTH_CLEAR_EVENT].sum())
    best = float("inf")
    best_cpu = float("inf")
    bid = ask = float("nan")
    for _ in range(repeat + 1):  # the first run warms up
        asset = BacktestAsset().data([depth]).tick_size(tick).lot_size(lot)
        hbt = HashMapMarketDepthBacktest([asset])
        t0 = time.perf_counter()
        c0 = time.process_time()
        rc = hbt._goto_end()
        dt = time.perf_counter() - t0
        best_cpu = min(best_cpu, time.process_time() - c0)
        if rc not in (0, 1):
            raise RuntimeError(f"goto_end returned {rc}")
        d = hbt.depth(0)
        bid, ask = d.best_bid, d.best_ask
        best = min(best, dt)
        hbt.close()
    print(
        json.dumps(
            {
                "seconds": best,
                "cpu_seconds": best_cpu,
                "rows": source_rows,
                "all_rows": len(depth),
                "best_bid": bid,
                "best_ask": ask,
                "version": version("hftbacktest"),
            }
        )
    )


if __name__ == "__main__":
    main()
