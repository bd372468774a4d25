"""Peer: vollib (py_lets_be_rational, Jaeckel's "Let's be rational") Black-76 implied vol, one call per option.

Usage: python iv_vollib.py DIR   (DIR holds f.bin k.bin t.bin price.bin call.bin disc.bin rate.txt, float64)
Writes its vols to DIR/vol_vollib.bin (NaN where it failed). Prints one JSON line: seconds, options/s, failures and the accuracy against the true vols in vol.bin.
"""

from __future__ import annotations

import json
import math
import sys
import time
from array import array
from importlib.metadata import version
from pathlib import Path

from vollib.black.implied_volatility import implied_volatility

OUT = "vol_vollib"


def load(folder: Path, name: str) -> array:
    a = array("d")
    a.frombytes((folder / f"{name}.bin").read_bytes())
    return a


def main() -> None:
    folder = Path(sys.argv[1])
    f, k, t, p, c, true = (load(folder, n) for n in ("f", "k", "t", "price", "call", "vol"))
    r = float((folder / "rate.txt").read_text())
    n = len(f)
    out = [math.nan] * n
    fails = 0
    t0 = time.perf_counter()
    for i in range(n):
        try:
            out[i] = implied_volatility(p[i], f[i], k[i], r, t[i], "c" if c[i] else "p")
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
                "version": f"vollib {version('vollib')}, lets_be_rational {version('lets_be_rational')}",
            }
        )
    )


if __name__ == "__main__":
    main()
