"""Peer: NautilusTrader's Tardis CSV loader on an incremental_book_L2 file (does not import spreadlab).

Usage: python nautilus_tardis.py FILE.csv -> prints {"rows", "seconds", "rows_per_s", "version", "variant"}.
Times ``TardisCSVDataLoader.load_deltas`` (best of 3) with the price/size
precisions given, in both output modes (pyo3 objects and legacy Cython
objects) and reports the faster one.
"""

from __future__ import annotations

import inspect
import json
import sys
import time


def main() -> None:
    path = sys.argv[1]
    import nautilus_trader
    from nautilus_trader.adapters.tardis.loaders import TardisCSVDataLoader

    kwargs = {}
    params = inspect.signature(TardisCSVDataLoader).parameters
    if "price_precision" in params:
        kwargs["price_precision"] = 2
    if "size_precision" in params:
        kwargs["size_precision"] = 3
    loader = TardisCSVDataLoader(**kwargs)
    variants = {}
    load_params = inspect.signature(loader.load_deltas).parameters
    modes = [True, False] if "as_legacy_cython" in load_params else [None]
    for mode in modes:
        best = float("inf")
        rows = 0
        for _ in range(3):
            t0 = time.perf_counter()
            out = (
                loader.load_deltas(path) if mode is None else loader.load_deltas(path, as_legacy_cython=mode)
            )
            best = min(best, time.perf_counter() - t0)
            rows = len(out)
            del out
        variants["as_legacy_cython=" + str(mode)] = (best, rows)
    name, (secs, rows) = min(variants.items(), key=lambda kv: kv[1][0])
    print(
        json.dumps(
            {
                "rows": rows,
                "seconds": secs,
                "rows_per_s": rows / secs,
                "version": nautilus_trader.__version__,
                "variant": name,
                "all": {k: {"seconds": v[0], "rows": v[1]} for k, v in variants.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
