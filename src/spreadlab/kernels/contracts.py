"""Notional, PnL, funding, fees and USD conversion of every contract kind.

Quantities are signed numbers of contracts (positive long); ``m`` is the
multiplier (contract size). ``kind`` is the integer code of
:class:`spreadlab.core.enums.ContractKind`:

LINEAR (0): spot, USDT/USDC-margined perpetuals and futures; price in the
quote currency per coin, ``m`` coin per contract, settled in the quote::

    notional = q * m * P            pnl = q * m * (P_exit - P_entry)
    funding  = -q * m * P_mark * rate

INVERSE (1): coin-margined perpetuals and futures (Deribit BTC-PERPETUAL,
Binance COIN-M); price in USD per coin, ``m`` USD per contract, settled in coin::

    notional = q * m / P            pnl = q * m * (1/P_entry - 1/P_exit)
    funding  = -q * m / P_mark * rate

COIN_OPTION (2): coin-settled options (Deribit BTC options); the premium is
quoted in coin per coin of underlying, so PnL is linear in the premium and
paid in coin::

    notional = q * m * P            pnl = q * m * (P_exit - P_entry)    (coin)

LINEAR_OPTION (3): USDC/USDT-settled options; the same formulas in the quote.

Fees (settlement currency, negative = rebate) for rate ``r`` and option cap ``c``::

    LINEAR      |q| * m * P * r           INVERSE      |q| * m / P * r
    COIN_OPTION |q| * m * min(r, c * P)   LINEAR_OPTION |q| * m * min(r * U, c * P)

where ``U`` is the underlying's price; the cap only applies to a positive fee.

USD per unit of settlement currency (``fx``): 1 for LINEAR and LINEAR_OPTION
(settled in a USD stablecoin, taken at par), the contract's own price for
INVERSE (USD per coin), the underlying's USD price for COIN_OPTION (a coin
option's premium is not a USD price).

A long position pays funding when the rate is positive. Every array kernel
has a plain-Python twin (``*_py``) that the tests compare against.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from spreadlab._typing import FloatArray

__all__ = [
    "COIN_OPTION",
    "INVERSE",
    "LINEAR",
    "LINEAR_OPTION",
    "fee",
    "fee_py",
    "funding_payment",
    "funding_payment_py",
    "notional",
    "notional_py",
    "pnl",
    "pnl_py",
    "settlement_fx",
    "settlement_fx_py",
]

LINEAR = 0
INVERSE = 1
COIN_OPTION = 2
LINEAR_OPTION = 3


@njit(cache=True, nogil=True)
def notional1(q: float, p: float, m: float, kind: int) -> float:
    """Signed value of ``q`` contracts at price ``p`` in the settlement currency."""
    if kind == INVERSE:
        return q * m / p
    return q * m * p


@njit(cache=True, nogil=True)
def pnl1(q: float, a: float, b: float, m: float, kind: int) -> float:
    """PnL of ``q`` contracts from price ``a`` to ``b`` in the settlement currency."""
    if kind == INVERSE:
        return q * m * (1.0 / a - 1.0 / b)
    return q * m * (b - a)


@njit(cache=True, nogil=True)
def funding1(q: float, mark: float, rate: float, m: float, kind: int) -> float:
    """Funding cash flow of ``q`` contracts at ``mark`` (received if > 0)."""
    if kind == INVERSE:
        return -q * m / mark * rate
    return -q * m * mark * rate


@njit(cache=True, nogil=True)
def fee1(q: float, p: float, u: float, m: float, kind: int, rate: float, cap: float) -> float:
    """Fee of one fill of ``q`` contracts at ``p`` (``u``: underlying price, LINEAR_OPTION only)."""
    aq = abs(q)
    if kind == INVERSE:
        return aq * m / p * rate
    if kind in (COIN_OPTION, LINEAR_OPTION):
        per = rate if kind == COIN_OPTION else rate * u
        if per > 0.0:
            per = min(per, cap * p)
        return aq * m * per
    return aq * m * p * rate


@njit(cache=True, nogil=True)
def fx1(p: float, u: float, kind: int) -> float:
    """USD per unit of settlement currency (``p`` the contract price, ``u`` the underlying price)."""
    if kind == INVERSE:
        return p
    if kind == COIN_OPTION:
        return u
    return 1.0


@njit(cache=True, nogil=True)
def notional(qty: FloatArray, price: FloatArray, multiplier: float, kind: int) -> FloatArray:
    """Signed notional of each position in the settlement currency."""
    out = np.empty(qty.shape[0], dtype=np.float64)
    for i in range(qty.shape[0]):
        out[i] = notional1(qty[i], price[i], multiplier, kind)
    return out


@njit(cache=True, nogil=True)
def pnl(qty: FloatArray, entry: FloatArray, exit_: FloatArray, multiplier: float, kind: int) -> FloatArray:
    """PnL of each position from ``entry`` to ``exit_`` in the settlement currency."""
    out = np.empty(qty.shape[0], dtype=np.float64)
    for i in range(qty.shape[0]):
        out[i] = pnl1(qty[i], entry[i], exit_[i], multiplier, kind)
    return out


@njit(cache=True, nogil=True)
def funding_payment(
    qty: FloatArray, mark: FloatArray, rate: FloatArray, multiplier: float, kind: int
) -> FloatArray:
    """Funding cash flow of each position at a funding time (positive = received)."""
    out = np.empty(qty.shape[0], dtype=np.float64)
    for i in range(qty.shape[0]):
        out[i] = funding1(qty[i], mark[i], rate[i], multiplier, kind)
    return out


@njit(cache=True, nogil=True)
def fee(
    qty: FloatArray,
    price: FloatArray,
    underlying: FloatArray,
    multiplier: float,
    kind: int,
    rate: float,
    cap: float,
) -> FloatArray:
    """Fee of each fill in the settlement currency (``cap`` = inf for no option cap)."""
    out = np.empty(qty.shape[0], dtype=np.float64)
    for i in range(qty.shape[0]):
        out[i] = fee1(qty[i], price[i], underlying[i], multiplier, kind, rate, cap)
    return out


@njit(cache=True, nogil=True)
def settlement_fx(price: FloatArray, underlying: FloatArray, kind: int) -> FloatArray:
    """USD per unit of settlement currency at each price."""
    out = np.empty(price.shape[0], dtype=np.float64)
    for i in range(price.shape[0]):
        out[i] = fx1(price[i], underlying[i], kind)
    return out


# ----------------------------------------------------------------------------- plain-Python twins


def notional_py(qty: FloatArray, price: FloatArray, multiplier: float, kind: int) -> FloatArray:
    """Plain-Python twin of :func:`notional`."""
    res = [
        q * multiplier / p if kind == INVERSE else q * multiplier * p for q, p in zip(qty, price, strict=True)
    ]
    return np.array(res, dtype=np.float64)


def pnl_py(qty: FloatArray, entry: FloatArray, exit_: FloatArray, multiplier: float, kind: int) -> FloatArray:
    """Plain-Python twin of :func:`pnl`."""
    res = []
    for q, a, b in zip(qty, entry, exit_, strict=True):
        res.append(q * multiplier * (1.0 / a - 1.0 / b) if kind == INVERSE else q * multiplier * (b - a))
    return np.array(res, dtype=np.float64)


def funding_payment_py(
    qty: FloatArray, mark: FloatArray, rate: FloatArray, multiplier: float, kind: int
) -> FloatArray:
    """Plain-Python twin of :func:`funding_payment`."""
    res = []
    for q, mk, r in zip(qty, mark, rate, strict=True):
        res.append(-q * multiplier / mk * r if kind == INVERSE else -q * multiplier * mk * r)
    return np.array(res, dtype=np.float64)


def fee_py(
    qty: FloatArray,
    price: FloatArray,
    underlying: FloatArray,
    multiplier: float,
    kind: int,
    rate: float,
    cap: float,
) -> FloatArray:
    """Plain-Python twin of :func:`fee`."""
    res = []
    for q, p, u in zip(qty, price, underlying, strict=True):
        if kind in (COIN_OPTION, LINEAR_OPTION):
            per = rate if kind == COIN_OPTION else rate * u
            res.append(abs(q) * multiplier * (min(per, cap * p) if per > 0 else per))
        elif kind == INVERSE:
            res.append(abs(q) * multiplier / p * rate)
        else:
            res.append(abs(q) * multiplier * p * rate)
    return np.array(res, dtype=np.float64)


def settlement_fx_py(price: FloatArray, underlying: FloatArray, kind: int) -> FloatArray:
    """Plain-Python twin of :func:`settlement_fx`."""
    res = [
        p if kind == INVERSE else (u if kind == COIN_OPTION else 1.0)
        for p, u in zip(price, underlying, strict=True)
    ]
    return np.array(res, dtype=np.float64)
