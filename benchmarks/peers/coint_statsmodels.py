"""Peer: Engle-Granger over all pairs with statsmodels ``coint`` (no spreadlab).

Usage: python coint_statsmodels.py DATA.npz OUT.npy [MAX_PAIRS]
Regresses column i on column j for every i < j (row-major order) with
``coint(y, x, trend="c", autolag="aic")`` (maxlag 12 (n/100)^{1/4}); BLAS is
pinned to one thread, which is several times faster than the threaded default
on a small shared machine. Saves statistic and p-value per pair to OUT
and prints one JSON line with the wall time.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from importlib.metadata import version  # noqa: E402

import numpy as np  # noqa: E402
from statsmodels.tsa.stattools import coint  # noqa: E402


def main() -> None:
    data = np.load(sys.argv[1])
    out = sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else None
    P = data["prices"]
    N = P.shape[1]
    pairs = [(i, j) for i in range(N) for j in range(i + 1, N)]
    if limit is not None:
        pairs = pairs[:limit]
    res = np.empty((len(pairs), 2))
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    for q, (i, j) in enumerate(pairs):
        r = coint(P[:, i], P[:, j], trend="c", autolag="aic", return_results=True)
        res[q, 0] = r.coint_t
        res[q, 1] = r.pvalue
    elapsed = time.perf_counter() - t0
    np.save(out, res)
    print(
        json.dumps(
            {"seconds": elapsed, "pairs": len(pairs), "statsmodels": version("statsmodels"), "out": out}
        )
    )


if __name__ == "__main__":
    main()
