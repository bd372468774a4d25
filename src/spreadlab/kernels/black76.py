"""Black-76 prices and greeks of European options on a forward.

With forward ``F``, strike ``K``, time to expiry ``T`` (years), volatility
``s`` and discount factor ``D = exp(-r T)``::

    d1 = (ln(F / K) + s^2 T / 2) / (s sqrt(T))      d2 = d1 - s sqrt(T)
    call = D (F N(d1) - K N(d2))                     put = D (K N(-d2) - F N(-d1))

The price is *linear*: in the quote currency (USD) per unit of underlying.
A coin-settled (inverse) option such as Deribit's BTC options pays the same
USD amount converted to coin at expiry, so its premium in coin is the linear
price divided by the forward: ``price_coin = price_usd / F``.

Greeks of the linear price (per unit of underlying, in USD)::

    delta_call = D N(d1)                 delta_put = -D N(-d1)
    gamma      = D n(d1) / (F s sqrt(T))
    vega       = D F n(d1) sqrt(T)        (per unit of vol, i.e. per 1.00 = 100 vol points)
    theta      = -dV/dT  holding F, K, s and r fixed, with D = exp(-r T):
               = r V - D F n(d1) s / (2 sqrt(T))   (per year)

Greeks of the coin price ``V_c = V / F`` (what a Deribit position is worth in
coin)::

    delta_coin = dV_c/dF = (delta - V / F) / F         (coin per USD of forward)
    gamma_coin = (gamma - 2 delta_coin) / F
    vega_coin  = vega / F,  theta_coin = theta / F

Its USD-equivalent ``F * delta_coin = delta - V_c`` is the premium-adjusted
delta: an option paid for in coin is also a position in the coin, so a deep
in-the-money call has coin delta ~ ``D K / F`` rather than ``D``. Deribit's
API ``delta`` field is the plain linear delta ``D N(d1)`` (checked on the
shared Deribit chains) and its ``vega`` the linear vega per vol point.

Every kernel takes arrays of equal length and returns a new float64 array;
``is_call`` is a boolean array. Inputs are not validated here (the public
shell in :mod:`spreadlab.pricing.black76` does that); the normal CDF uses
``erfc`` so deep out-of-the-money prices keep full relative precision.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from spreadlab._typing import BoolArray, FloatArray

__all__ = [
    "GREEK_DELTA",
    "GREEK_GAMMA",
    "GREEK_THETA",
    "GREEK_VEGA",
    "black76_greeks",
    "black76_greeks_py",
    "black76_price",
    "black76_price_py",
    "norm_cdf",
    "norm_pdf",
]

GREEK_DELTA = 0
GREEK_GAMMA = 1
GREEK_VEGA = 2
GREEK_THETA = 3

_INV_SQRT2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327


@njit(cache=True, nogil=True)
def norm_cdf(x: float) -> float:
    """Standard normal CDF ``N(x) = erfc(-x / sqrt 2) / 2`` (accurate in both tails)."""
    return 0.5 * math.erfc(-x * _INV_SQRT2)


@njit(cache=True, nogil=True)
def norm_pdf(x: float) -> float:
    """Standard normal density ``n(x)``."""
    return _INV_SQRT_2PI * math.exp(-0.5 * x * x)


@njit(cache=True, nogil=True)
def _price_one(f: float, k: float, t: float, s: float, call: bool, d: float) -> float:
    sd = s * math.sqrt(t)
    if sd <= 0.0:
        intrinsic = f - k if call else k - f
        return d * max(intrinsic, 0.0)
    d1 = (math.log(f / k) + 0.5 * sd * sd) / sd
    d2 = d1 - sd
    if call:
        return d * (f * norm_cdf(d1) - k * norm_cdf(d2))
    return d * (k * norm_cdf(-d2) - f * norm_cdf(-d1))


@njit(cache=True, nogil=True)
def black76_price(
    forward: FloatArray,
    strike: FloatArray,
    expiry_years: FloatArray,
    vol: FloatArray,
    is_call: BoolArray,
    discount: FloatArray,
) -> FloatArray:
    """Black-76 price of each option (linear, quote currency): undiscounted price times ``discount``.

    For a coin-settled option divide the result by ``forward``.
    """
    n = forward.shape[0]
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        out[i] = _price_one(forward[i], strike[i], expiry_years[i], vol[i], is_call[i], discount[i])
    return out


def black76_price_py(
    forward: FloatArray,
    strike: FloatArray,
    expiry_years: FloatArray,
    vol: FloatArray,
    is_call: BoolArray,
    discount: FloatArray,
) -> FloatArray:
    """Plain-Python twin of :func:`black76_price`."""
    res = []
    for f, k, t, s, c, d in zip(forward, strike, expiry_years, vol, is_call, discount, strict=True):
        sd = s * math.sqrt(t)
        if sd <= 0.0:
            res.append(d * max((f - k) if c else (k - f), 0.0))
            continue
        d1 = (math.log(f / k) + 0.5 * sd * sd) / sd
        d2 = d1 - sd
        cdf = lambda x: 0.5 * math.erfc(-x / math.sqrt(2.0))  # noqa: E731
        if c:
            res.append(d * (f * cdf(d1) - k * cdf(d2)))
        else:
            res.append(d * (k * cdf(-d2) - f * cdf(-d1)))
    return np.array(res, dtype=np.float64)


@njit(cache=True, nogil=True)
def black76_greeks(
    forward: FloatArray,
    strike: FloatArray,
    expiry_years: FloatArray,
    vol: FloatArray,
    is_call: BoolArray,
    discount: FloatArray,
    rate: FloatArray,
    coin: bool,
) -> FloatArray:
    """Delta, gamma, vega and theta of each option as an ``(n, 4)`` array.

    Columns are indexed by ``GREEK_DELTA``, ``GREEK_GAMMA``, ``GREEK_VEGA`` and
    ``GREEK_THETA``. With ``coin`` the greeks are of the coin price ``V / F``
    (see the module docstring); otherwise of the linear price.
    """
    n = forward.shape[0]
    out = np.empty((n, 4), dtype=np.float64)
    for i in range(n):
        f = forward[i]
        k = strike[i]
        t = expiry_years[i]
        s = vol[i]
        d = discount[i]
        c = is_call[i]
        sqt = math.sqrt(t)
        sd = s * sqt
        d1 = (math.log(f / k) + 0.5 * sd * sd) / sd
        d2 = d1 - sd
        pdf = norm_pdf(d1)
        if c:
            v = d * (f * norm_cdf(d1) - k * norm_cdf(d2))
            delta = d * norm_cdf(d1)
        else:
            v = d * (k * norm_cdf(-d2) - f * norm_cdf(-d1))
            delta = -d * norm_cdf(-d1)
        gamma = d * pdf / (f * sd)
        vega = d * f * pdf * sqt
        theta = rate[i] * v - d * f * pdf * s / (2.0 * sqt)
        if coin:
            dc = (delta - v / f) / f
            out[i, 0] = dc
            out[i, 1] = (gamma - 2.0 * dc) / f
            out[i, 2] = vega / f
            out[i, 3] = theta / f
        else:
            out[i, 0] = delta
            out[i, 1] = gamma
            out[i, 2] = vega
            out[i, 3] = theta
    return out


def black76_greeks_py(
    forward: FloatArray,
    strike: FloatArray,
    expiry_years: FloatArray,
    vol: FloatArray,
    is_call: BoolArray,
    discount: FloatArray,
    rate: FloatArray,
    coin: bool,
) -> FloatArray:
    """Plain-Python twin of :func:`black76_greeks`."""
    rows = []
    for f, k, t, s, c, d, r in zip(forward, strike, expiry_years, vol, is_call, discount, rate, strict=True):
        sqt = math.sqrt(t)
        d1 = (math.log(f / k) + 0.5 * s * s * t) / (s * sqt)
        d2 = d1 - s * sqt
        cdf = lambda x: 0.5 * math.erfc(-x / math.sqrt(2.0))  # noqa: E731
        pdf = math.exp(-0.5 * d1 * d1) / math.sqrt(2.0 * math.pi)
        v = d * (f * cdf(d1) - k * cdf(d2)) if c else d * (k * cdf(-d2) - f * cdf(-d1))
        delta = d * cdf(d1) if c else -d * cdf(-d1)
        gamma = d * pdf / (f * s * sqt)
        vega = d * f * pdf * sqt
        theta = r * v - d * f * pdf * s / (2.0 * sqt)
        if coin:
            dc = (delta - v / f) / f
            rows.append([dc, (gamma - 2.0 * dc) / f, vega / f, theta / f])
        else:
            rows.append([delta, gamma, vega, theta])
    return np.array(rows, dtype=np.float64).reshape(len(rows), 4)
