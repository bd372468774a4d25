"""Vectorised multi-leg backtest kernel: target positions -> positions, PnL components.

For bars t = 0..n-1 and legs l, with ``q[t, l] = target[t] * ratio[l]`` the leg
quantity held from bar t on (the caller applies any decision delay first):

1. convergence[t] += pnl(q[t-1, l], mid[t-1, l] -> mid[t, l]) * fx[t, l]
   (mark-to-market at mids of the position held over (t-1, t]);
2. funding[t]     += funding(q[t-1, l], funding_price[t, l], rate[t, l]) * fx[t, l]
   where ``rate`` is non-zero only at the bar of a funding time and
   ``funding_price`` is the price it is charged on (the mark at the funding
   time where known; the caller fills it);
3. a trade dq = q[t, l] - q[t-1, l] executes at the ask if dq > 0, at the bid if
   dq < 0 (deeper levels are the caller's business): its crossing cost
   ``pnl(dq, exec -> mid)`` goes to ``crossing[t]`` and its fee
   ``fee(dq, exec, underlying, m, kind, fee_rate, fee_cap)`` to ``fees[t]`` (as a
   negative flow), both times ``fx[t, l]``.

``pnl``, ``funding`` and ``fee`` are the per-kind contract formulas of
:mod:`spreadlab.kernels.contracts` (linear, inverse, coin-settled option,
linear option; ``kind`` holds their codes). ``fx[t, l]`` is USD per unit of leg
l's settlement currency (1 for stablecoins, the price for inverse legs, the
underlying's price for coin options). The sum convergence + crossing + fees +
funding is the total PnL; ``traded`` is the USD value of the fills.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from spreadlab._typing import FloatArray, IntArray
from spreadlab.kernels.contracts import INVERSE, fee1, funding1, notional1, pnl1

__all__ = ["run_legs", "run_legs_py"]

Out = tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]


@njit(cache=True, nogil=True)
def run_legs(
    target: FloatArray,
    bid: FloatArray,
    ask: FloatArray,
    mid: FloatArray,
    ratio: FloatArray,
    multiplier: FloatArray,
    kind: IntArray,
    fee_rate: FloatArray,
    fee_cap: FloatArray,
    funding_rate: FloatArray,
    funding_price: FloatArray,
    underlying: FloatArray,
    fx: FloatArray,
) -> Out:
    """Run the legs; return (positions[n, L], convergence, crossing, fees, funding, traded_usd)."""
    n, legs = bid.shape
    pos = np.zeros((n, legs))
    conv = np.zeros(n)
    cross = np.zeros(n)
    fees = np.zeros(n)
    fund = np.zeros(n)
    traded = np.zeros(n)
    for t in range(n):
        for j in range(legs):
            m, k = multiplier[j], kind[j]
            prev = pos[t - 1, j] if t > 0 else 0.0
            if t > 0 and prev != 0.0:
                conv[t] += pnl1(prev, mid[t - 1, j], mid[t, j], m, k) * fx[t, j]
                r = funding_rate[t, j]
                if r != 0.0:
                    fund[t] += funding1(prev, funding_price[t, j], r, m, k) * fx[t, j]
            want = target[t] * ratio[j]
            dq = want - prev
            if dq != 0.0:
                px = ask[t, j] if dq > 0.0 else bid[t, j]
                cross[t] += pnl1(dq, px, mid[t, j], m, k) * fx[t, j]
                fees[t] -= fee1(dq, px, underlying[t, j], m, k, fee_rate[j], fee_cap[j]) * fx[t, j]
                traded[t] += abs(notional1(dq, px, m, k)) * fx[t, j]
            pos[t, j] = want
    return pos, conv, cross, fees, fund, traded


def run_legs_py(
    target: FloatArray,
    bid: FloatArray,
    ask: FloatArray,
    mid: FloatArray,
    ratio: FloatArray,
    multiplier: FloatArray,
    kind: IntArray,
    fee_rate: FloatArray,
    fee_cap: FloatArray,
    funding_rate: FloatArray,
    funding_price: FloatArray,
    underlying: FloatArray,
    fx: FloatArray,
) -> Out:
    """Plain-Python twin of :func:`run_legs` (the contract formulas written out)."""
    n, legs = bid.shape
    pos = [[0.0] * legs for _ in range(n)]
    conv, cross, fees, fund, traded = ([0.0] * n for _ in range(5))
    for t in range(n):
        for j in range(legs):
            prev = pos[t - 1][j] if t > 0 else 0.0
            m, inv, opt = float(multiplier[j]), int(kind[j]) == INVERSE, int(kind[j]) >= 2
            if t > 0 and prev != 0.0:
                a, b = float(mid[t - 1, j]), float(mid[t, j])
                conv[t] += (prev * m * (1 / a - 1 / b) if inv else prev * m * (b - a)) * fx[t, j]
                r = float(funding_rate[t, j])
                if r != 0.0:
                    fp = float(funding_price[t, j])
                    fund[t] += (-prev * m / fp * r if inv else -prev * m * fp * r) * fx[t, j]
            want = float(target[t]) * float(ratio[j])
            dq = want - prev
            if dq != 0.0:
                px = float(ask[t, j] if dq > 0 else bid[t, j])
                md = float(mid[t, j])
                cross[t] += (dq * m * (1 / px - 1 / md) if inv else dq * m * (md - px)) * fx[t, j]
                value = abs(dq) * m / px if inv else abs(dq) * m * px
                if opt:
                    unit = 1.0 if int(kind[j]) == 2 else float(underlying[t, j])
                    per = float(fee_rate[j]) * unit
                    cost = abs(dq) * m * (min(per, float(fee_cap[j]) * px) if per > 0 else per)
                else:
                    cost = value * float(fee_rate[j])
                fees[t] -= cost * fx[t, j]
                traded[t] += value * fx[t, j]
            pos[t][j] = want
    return (
        np.array(pos, dtype=np.float64).reshape(n, legs),
        np.array(conv),
        np.array(cross),
        np.array(fees),
        np.array(fund),
        np.array(traded),
    )
