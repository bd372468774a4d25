"""Book query kernels on one side's flat arrays (keys ascending, best level last).

A side is given as ``keys`` (bid prices, or minus ask prices) and ``sizes``
with ``n`` live levels, as :func:`spreadlab.kernels.orderbook.side_flat`
returns them: depth within a key limit, the size of the top levels, and a
walk of the levels for a quantity (filled, notional, last price, levels used).
Each kernel has a plain-Python twin.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from spreadlab._typing import FloatArray

__all__ = ["side_depth", "side_depth_py", "side_top_sum", "side_top_sum_py", "side_walk", "side_walk_py"]


# --------------------------------------------------------------------------- queries


@njit(cache=True, nogil=True)
def side_depth(keys: FloatArray, sizes: FloatArray, n: int, limit_key: float) -> float:
    """Sum the sizes of the levels whose key is >= ``limit_key`` (from the top down)."""
    total = 0.0
    for i in range(n - 1, -1, -1):
        if keys[i] < limit_key:
            break
        total += sizes[i]
    return total


def side_depth_py(keys: FloatArray, sizes: FloatArray, n: int, limit_key: float) -> float:
    """Plain-Python twin of :func:`side_depth`."""
    return float(sum(s for k, s in zip(keys[:n], sizes[:n]) if k >= limit_key))


@njit(cache=True, nogil=True)
def side_top_sum(sizes: FloatArray, n: int, levels: int) -> float:
    """Sum the sizes of the best ``levels`` levels."""
    total = 0.0
    for i in range(n - 1, max(n - levels, 0) - 1, -1):
        total += sizes[i]
    return total


def side_top_sum_py(sizes: FloatArray, n: int, levels: int) -> float:
    """Plain-Python twin of :func:`side_top_sum`."""
    return float(sum(list(sizes[:n])[::-1][:levels]))


@njit(cache=True, nogil=True)
def side_walk(keys: FloatArray, sizes: FloatArray, n: int, qty: float) -> tuple[float, float, float, int]:
    """Walk the levels from the top to fill ``qty``.

    Return ``(filled, notional, last_price, levels_used)`` where ``notional``
    is ``sum(price * size)`` over the fills and prices are ``abs(key)``.
    """
    left = qty
    notional = 0.0
    last_price = np.nan
    used = 0
    for i in range(n - 1, -1, -1):
        if left <= 0.0:
            break
        take = min(left, sizes[i])
        px = abs(keys[i])
        notional += take * px
        left -= take
        last_price = px
        used += 1
    return qty - max(left, 0.0), notional, last_price, used


def side_walk_py(keys: FloatArray, sizes: FloatArray, n: int, qty: float) -> tuple[float, float, float, int]:
    """Plain-Python twin of :func:`side_walk`."""
    levels = sorted(zip(keys[:n], sizes[:n]), reverse=True)
    filled, notional, last, used = 0.0, 0.0, float("nan"), 0
    for k, s in levels:
        if filled >= qty:
            break
        take = min(qty - filled, s)
        filled += take
        notional += take * abs(k)
        last = abs(k)
        used += 1
    return filled, notional, last, used
