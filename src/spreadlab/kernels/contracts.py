"""Notional, PnL and funding of linear and inverse contracts.

Quantities are signed numbers of contracts (positive long); ``multiplier`` is
the contract size (coin per contract for linear contracts, USD per contract
for inverse ones).

Linear (USDT/USDC-margined, spot):
    notional  = q * m * P                  (quote currency)
    pnl       = q * m * (P_exit - P_entry)  (quote currency)
    funding   = -q * m * P_mark * rate      (quote currency, received if > 0)

Inverse (coin-margined, e.g. Deribit BTC-PERPETUAL, Binance COIN-M):
    notional  = q * m / P                   (coin)
    pnl       = q * m * (1/P_entry - 1/P_exit)   (coin)
    funding   = -q * m / P_mark * rate      (coin, received if > 0)

A long position pays funding when the rate is positive.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from spreadlab._typing import FloatArray

__all__ = [
    "funding_payment",
    "funding_payment_py",
    "notional",
    "notional_py",
    "pnl",
    "pnl_py",
]


@njit(cache=True, nogil=True)
def notional(qty: FloatArray, price: FloatArray, multiplier: float, inverse: bool) -> FloatArray:
    """Signed notional of each position (quote currency if linear, coin if inverse)."""
    n = qty.shape[0]
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        if inverse:
            out[i] = qty[i] * multiplier / price[i]
        else:
            out[i] = qty[i] * multiplier * price[i]
    return out


def notional_py(qty: FloatArray, price: FloatArray, multiplier: float, inverse: bool) -> FloatArray:
    """Plain-Python twin of :func:`notional`."""
    return np.array(
        [q * multiplier / p if inverse else q * multiplier * p for q, p in zip(qty, price, strict=True)],
        dtype=np.float64,
    )


@njit(cache=True, nogil=True)
def pnl(
    qty: FloatArray, entry: FloatArray, exit_: FloatArray, multiplier: float, inverse: bool
) -> FloatArray:
    """PnL of each position from ``entry`` to ``exit_`` (quote currency or coin)."""
    n = qty.shape[0]
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        if inverse:
            out[i] = qty[i] * multiplier * (1.0 / entry[i] - 1.0 / exit_[i])
        else:
            out[i] = qty[i] * multiplier * (exit_[i] - entry[i])
    return out


def pnl_py(
    qty: FloatArray, entry: FloatArray, exit_: FloatArray, multiplier: float, inverse: bool
) -> FloatArray:
    """Plain-Python twin of :func:`pnl`."""
    res = []
    for q, a, b in zip(qty, entry, exit_, strict=True):
        res.append(q * multiplier * (1.0 / a - 1.0 / b) if inverse else q * multiplier * (b - a))
    return np.array(res, dtype=np.float64)


@njit(cache=True, nogil=True)
def funding_payment(
    qty: FloatArray, mark: FloatArray, rate: FloatArray, multiplier: float, inverse: bool
) -> FloatArray:
    """Funding cash flow of each position at a funding time (positive = received)."""
    n = qty.shape[0]
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        if inverse:
            out[i] = -qty[i] * multiplier / mark[i] * rate[i]
        else:
            out[i] = -qty[i] * multiplier * mark[i] * rate[i]
    return out


def funding_payment_py(
    qty: FloatArray, mark: FloatArray, rate: FloatArray, multiplier: float, inverse: bool
) -> FloatArray:
    """Plain-Python twin of :func:`funding_payment`."""
    res = []
    for q, m, r in zip(qty, mark, rate, strict=True):
        res.append(-q * multiplier / m * r if inverse else -q * multiplier * m * r)
    return np.array(res, dtype=np.float64)
