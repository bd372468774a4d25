"""Peer script (vectorbt venv): the same two-leg backtest with Portfolio.from_orders.

Prints one JSON line: seconds (best of 3, warm), total PnL, vectorbt version.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pandas as pd
import vectorbt as vbt


def main() -> None:
    d = np.load(sys.argv[1])
    n = d["ts"].size
    delay = int(d["delay"])
    target = np.zeros(n)
    target[delay:] = d["target"][: n - delay]
    amounts = np.column_stack([target, -target])  # long perp / short spot per unit
    bid = np.column_stack([d["perp_bid"], d["spot_bid"]])
    ask = np.column_stack([d["perp_ask"], d["spot_ask"]])
    mid = 0.5 * (bid + ask)
    prev = np.vstack([np.zeros((1, 2)), amounts[:-1]])
    price = np.where(amounts > prev, ask, np.where(amounts < prev, bid, mid))
    index = pd.to_datetime(d["ts"], unit="ns")
    close = pd.DataFrame(mid, index=index, columns=["perp", "spot"])
    size = pd.DataFrame(amounts, index=index, columns=["perp", "spot"])
    px = pd.DataFrame(price, index=index, columns=["perp", "spot"])
    fees = np.array([float(d["fee_perp"]), float(d["fee_spot"])])

    def once() -> float:
        pf = vbt.Portfolio.from_orders(
            close=close,
            size=size,
            size_type="targetamount",
            price=px,
            fees=fees,
            direction="both",
            init_cash=1e12,
            cash_sharing=True,
            group_by=True,
            freq="1min",
        )
        return float(pf.total_profit())

    pnl = once()  # warm up numba
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        pnl = once()
        best = min(best, time.perf_counter() - t0)
    print(json.dumps({"seconds": best, "pnl": pnl, "version": vbt.__version__}))


if __name__ == "__main__":
    main()
