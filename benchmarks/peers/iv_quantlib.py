"""Peer: QuantLib blackFormulaImpliedStdDev (Black-76 implied std dev), one call per option.

Usage: python iv_quantlib.py DIR   (same files as iv_vollib.py)
Writes its vols to DIR/vol_quantlib.bin (NaN where it failed). Prints one JSON line: seconds, options/s, failures and the accuracy against the true vols.
"""

from __future__ import annotations

import json
import math
import sys
import time
from array import array
from importlib.metadata import version
from pathlib import Path

import QuantLib as ql

OUT = "vol_quantlib"


def load(folder: Path, name: str) -> array:
    a = array("d")
    a.frombytes((folder / f"{name}.bin").read_bytes())
    return a


def main() -> None:
    folder = Path(sys.argv[1])
    f, k, t, p, c, d, true = (load(folder, n) for n in ("f", "k", "t", "price", "call", "disc", "vol"))
    n = len(f)
    out = [math.nan] * n
    fails = 0
    call, put = ql.Option.Call, ql.Option.Put
    solve = ql.blackFormulaImpliedStdDev
    t0 = time.perf_counter()
    for i in range(n):
        try:
            out[i] = solve(call if c[i] else put, k[i], f[i], p[i], d[i], 0.0, 0.5, 1e-12, 100) / math.sqrt(
                t[i]
            )
        except Exception:
            fails += 1
    sec = time.perf_counter() - t0
    (folder / f"{OUT}.bin").write_bytes(array("d", out).tobytes())  # its vols, for the comparison
    errs = sorted(abs(out[i] - true[i]) for i in range(n) if out[i] == out[i])
    print(
        json.dumps(
            {
                "seconds": sec,
                "options_per_s": n / sec,
                "n": n,
                "failures": fails,
                "median_abs_err": errs[len(errs) // 2] if errs else None,
                "max_abs_err": errs[-1] if errs else None,
                "version": f"QuantLib {version('QuantLib')}",
            }
        )
    )


if __name__ == "__main__":
    main()
