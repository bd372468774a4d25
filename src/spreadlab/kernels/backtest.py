"""Vectorised multi-leg backtest kernel: target positions -> positions, PnL components.

For bars t = 0..n-1 and legs l, with ``q[t, l] = target[t] * ratio[l]`` the leg
quantity held from bar t on (the caller applies any decision delay first):

1. convergence[t] += q[t-1, l] * pnl(mid[t-1, l] -> mid[t, l]) * fx[t, l]
   (mark-to-market at mids of the position held over (t-1, t]);
2. funding[t]     += funding_payment(q[t-1, l], mid[t, l], rate[t, l]) * fx[t, l]
   where ``rate`` is non-zero only at the leg's funding times (the position held
   over a funding time pays or earns it);
3. a trade dq = q[t, l] - q[t-1, l] executes at the ask if dq > 0, at the bid if
   dq < 0 (deeper levels are the caller's business): its crossing cost
   ``pnl(exec -> mid)`` goes to ``crossing[t]`` and its fee
   ``|dq| * multiplier * price * fee_rate`` (linear) or ``|dq| * multiplier /
   price * fee_rate`` (inverse, in coin) goes to ``fees[t]`` (as a negative flow).

``pnl`` and ``funding_payment`` are the linear/inverse contract formulas of
:mod:`spreadlab.kernels.contracts`. ``fx[t, l]`` converts leg l's settlement
currency into the reporting currency (1 for USD-like, the coin's price for
inverse legs). The sum convergence + crossing + fees + funding is the total PnL.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from spreadlab._typing import BoolArray, FloatArray

__all__ = ["run_legs", "run_legs_py"]


@njit(cache=True, nogil=True)
def _pnl(q: float, a: float, b: float, m: float, inverse: bool) -> float:
    if inverse:
        return q * m * (1.0 / a - 1.0 / b)
    return q * m * (b - a)


@njit(cache=True, nogil=True)
def run_legs(
    target: FloatArray,
    bid: FloatArray,
    ask: FloatArray,
    mid: FloatArray,
    ratio: FloatArray,
    multiplier: FloatArray,
    inverse: BoolArray,
    fee_rate: FloatArray,
    funding_rate: FloatArray,
    fx: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
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
            prev = pos[t - 1, j] if t > 0 else 0.0
            if t > 0 and prev != 0.0:
                conv[t] += _pnl(prev, mid[t - 1, j], mid[t, j], multiplier[j], inverse[j]) * fx[t, j]
                r = funding_rate[t, j]
                if r != 0.0:
                    if inverse[j]:
                        fund[t] += -prev * multiplier[j] / mid[t, j] * r * fx[t, j]
                    else:
                        fund[t] += -prev * multiplier[j] * mid[t, j] * r * fx[t, j]
            want = target[t] * ratio[j]
            dq = want - prev
            if dq != 0.0:
                px = ask[t, j] if dq > 0.0 else bid[t, j]
                cross[t] += _pnl(dq, px, mid[t, j], multiplier[j], inverse[j]) * fx[t, j]
                if inverse[j]:
                    notional = abs(dq) * multiplier[j] / px
                else:
                    notional = abs(dq) * multiplier[j] * px
                fees[t] -= notional * fee_rate[j] * fx[t, j]
                traded[t] += notional * fx[t, j]
            pos[t, j] = want
    return pos, conv, cross, fees, fund, traded


def run_legs_py(
    target: FloatArray,
    bid: FloatArray,
    ask: FloatArray,
    mid: FloatArray,
    ratio: FloatArray,
    multiplier: FloatArray,
    inverse: BoolArray,
    fee_rate: FloatArray,
    funding_rate: FloatArray,
    fx: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Plain-Python twin of :func:`run_legs`."""
    n, legs = bid.shape
    pos = [[0.0] * legs for _ in range(n)]
    conv, cross, fees, fund, traded = ([0.0] * n for _ in range(5))
    for t in range(n):
        for j in range(legs):
            prev = pos[t - 1][j] if t > 0 else 0.0
            m, inv = float(multiplier[j]), bool(inverse[j])
            if t > 0 and prev != 0.0:
                a, b = float(mid[t - 1, j]), float(mid[t, j])
                conv[t] += (prev * m * (1 / a - 1 / b) if inv else prev * m * (b - a)) * fx[t, j]
                r = float(funding_rate[t, j])
                if r != 0.0:
                    fund[t] += (-prev * m / b * r if inv else -prev * m * b * r) * fx[t, j]
            want = float(target[t]) * float(ratio[j])
            dq = want - prev
            if dq != 0.0:
                px = float(ask[t, j] if dq > 0 else bid[t, j])
                md = float(mid[t, j])
                cross[t] += (dq * m * (1 / px - 1 / md) if inv else dq * m * (md - px)) * fx[t, j]
                notional = abs(dq) * m / px if inv else abs(dq) * m * px
                fees[t] -= notional * fee_rate[j] * fx[t, j]
                traded[t] += notional * fx[t, j]
            pos[t][j] = want
    return (
        np.array(pos, dtype=np.float64).reshape(n, legs),
        np.array(conv),
        np.array(cross),
        np.array(fees),
        np.array(fund),
        np.array(traded),
    )
