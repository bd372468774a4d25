"""Many order books in one set of stacked arrays, for the engine's per-event loop.

Each instrument ``i`` owns one book in the block layout of
:mod:`spreadlab.kernels.orderbook` (levels sorted by key, best last; the key of
a bid is its price, of an ask minus its price): ``K[i]``, ``S[i]``, ``cnt[i]``,
``dr[i]``, ``dmax[i]``, ``free[i]``, ``sc[i]`` and a state vector ``st[i]``.
A book is the tuple ``bk = (K, S, cnt, dr, dmax, free, sc, st, sd1, px1, sz1)``;
the last three are one-row scratch arrays for single-level updates. Level
updates use the order-book kernel's ``_apply_rows`` (with its uncrossing
rule), so a book here is never crossed after an update.

:class:`PyBooks` is the plain-Python twin (dicts price -> size).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from spreadlab.kernels import engine_layout as _layout  # noqa: F401  (drops stale engine caches first)
from spreadlab.kernels.orderbook import BLOCK, ST_SIZE, _apply_rows, side_reset

__all__ = [
    "PyBooks",
    "bk_apply",
    "bk_best",
    "bk_clear",
    "bk_levels",
    "bk_set",
    "bk_size_at",
    "blocks_for",
    "new_books",
]


def blocks_for(levels: int) -> int:
    """Return the number of blocks per side that holds ``levels`` levels in the worst fill (half blocks)."""
    return max(2, 2 * (int(levels) // BLOCK + 1) + 1)


def new_books(n: int, blocks: int) -> tuple[np.ndarray, ...]:
    """Return ``n`` empty books with ``blocks`` blocks per side (see the module doc for the tuple)."""
    K = np.zeros((n, 2, blocks, BLOCK), dtype=np.float64)
    S = np.zeros((n, 2, blocks, BLOCK), dtype=np.float64)
    cnt = np.zeros((n, 2, blocks), dtype=np.int64)
    dr = np.zeros((n, 2, blocks), dtype=np.int64)
    dmax = np.zeros((n, 2, blocks), dtype=np.float64)
    free = np.zeros((n, 2, blocks), dtype=np.int64)
    sc = np.zeros((n, 2, 3), dtype=np.int64)
    st = np.zeros((n, ST_SIZE), dtype=np.int64)
    for i in range(n):
        for s in range(2):
            side_reset(cnt[i], free[i], sc[i], s)
    sd1 = np.zeros(1, dtype=np.int8)
    px1 = np.zeros(1, dtype=np.float64)
    sz1 = np.zeros(1, dtype=np.float64)
    return K, S, cnt, dr, dmax, free, sc, st, sd1, px1, sz1


@njit(cache=True, nogil=True)
def bk_apply(bk, i, side, price, size, r0, r1):  # type: ignore[no-untyped-def]
    """Apply level rows ``r0:r1`` (side +1 bid / -1 ask, absolute size, 0 removes) to book ``i``."""
    _apply_rows(
        bk[0][i],
        bk[1][i],
        bk[2][i],
        bk[3][i],
        bk[4][i],
        bk[5][i],
        bk[6][i],
        bk[7][i],
        side,
        price,
        size,
        r0,
        r1,
    )


@njit(cache=True, nogil=True)
def bk_set(bk, i, sd, price, size):  # type: ignore[no-untyped-def]
    """Set the level ``price`` of side ``sd`` (+1 bid, -1 ask) of book ``i`` to ``size``."""
    bk[8][0] = sd
    bk[9][0] = price
    bk[10][0] = size
    bk_apply(bk, i, bk[8], bk[9], bk[10], 0, 1)


@njit(cache=True, nogil=True)
def bk_clear(bk, i):  # type: ignore[no-untyped-def]
    """Empty both sides of book ``i``."""
    side_reset(bk[2][i], bk[5][i], bk[6][i], 0)
    side_reset(bk[2][i], bk[5][i], bk[6][i], 1)


@njit(cache=True, nogil=True)
def bk_best(bk, i, sd):  # type: ignore[no-untyped-def]
    """Return ``(price, size)`` of the best level of side ``sd`` (+1 bid, -1 ask); ``(nan, 0)`` if empty."""
    s = 0 if sd > 0 else 1
    sc = bk[6][i]
    if sc[s, 1] == 0:
        return np.nan, 0.0
    blk = bk[3][i][s, sc[s, 1] - 1]
    t = bk[2][i][s, blk] - 1
    key = bk[0][i][s, blk, t]
    return (key if s == 0 else -key), bk[1][i][s, blk, t]


@njit(cache=True, nogil=True)
def bk_size_at(bk, i, sd, price):  # type: ignore[no-untyped-def]
    """Return the size at ``price`` on side ``sd`` of book ``i`` (0 when there is no such level)."""
    s = 0 if sd > 0 else 1
    key = price if s == 0 else -price
    K = bk[0][i]
    cnt = bk[2][i]
    dr = bk[3][i]
    sc = bk[6][i]
    for j in range(sc[s, 1] - 1, -1, -1):
        blk = dr[s, j]
        n = cnt[s, blk]
        if n == 0 or K[s, blk, 0] > key:
            continue
        for t in range(n - 1, -1, -1):
            if K[s, blk, t] == key:
                return bk[1][i][s, blk, t]
            if K[s, blk, t] < key:
                return 0.0
    return 0.0


@njit(cache=True, nogil=True)
def bk_levels(bk, i, sd, limit, qty, out_px, out_sz):  # type: ignore[no-untyped-def]
    """Write side ``sd``'s levels from the best into ``out_px``/``out_sz`` until ``qty`` is covered.

    Levels worse than ``limit`` (a price; NaN: none) are not taken. Return the
    number of levels written (at most ``len(out_px)``).
    """
    s = 0 if sd > 0 else 1
    K = bk[0][i]
    S = bk[1][i]
    cnt = bk[2][i]
    dr = bk[3][i]
    sc = bk[6][i]
    has_limit = not np.isnan(limit)
    lim_key = limit if s == 0 else -limit
    m = 0
    got = 0.0
    cap = out_px.shape[0]
    for j in range(sc[s, 1] - 1, -1, -1):
        blk = dr[s, j]
        for t in range(cnt[s, blk] - 1, -1, -1):
            key = K[s, blk, t]
            if has_limit and key < lim_key:
                return m
            if m >= cap or got >= qty:
                return m
            out_px[m] = key if s == 0 else -key
            out_sz[m] = S[s, blk, t]
            got += S[s, blk, t]
            m += 1
    return m


class PyBooks:
    """Plain-Python twin of the stacked books: one ``{price: size}`` dict per side and instrument."""

    def __init__(self, n: int) -> None:
        self.bids: list[dict[float, float]] = [{} for _ in range(n)]
        self.asks: list[dict[float, float]] = [{} for _ in range(n)]

    def set(self, i: int, sd: int, price: float, size: float) -> None:
        """Set a level, then remove the far side's levels at or through it (the uncrossing rule)."""
        own, far = (self.bids[i], self.asks[i]) if sd > 0 else (self.asks[i], self.bids[i])
        if size > 0.0:
            own[price] = size
            for p in [p for p in far if (p <= price if sd > 0 else p >= price)]:
                del far[p]
        else:
            own.pop(price, None)

    def clear(self, i: int) -> None:
        """Empty both sides."""
        self.bids[i].clear()
        self.asks[i].clear()

    def best(self, i: int, sd: int) -> tuple[float, float]:
        """Best level of a side, ``(nan, 0)`` if empty."""
        side = self.bids[i] if sd > 0 else self.asks[i]
        if not side:
            return float("nan"), 0.0
        p = max(side) if sd > 0 else min(side)
        return p, side[p]

    def size_at(self, i: int, sd: int, price: float) -> float:
        """Size at an exact price (0 if absent)."""
        return (self.bids[i] if sd > 0 else self.asks[i]).get(price, 0.0)

    def levels(self, i: int, sd: int, limit: float, qty: float, cap: int) -> list[tuple[float, float]]:
        """Levels from the best until ``qty`` is covered, none worse than ``limit``, at most ``cap``."""
        side = self.bids[i] if sd > 0 else self.asks[i]
        out: list[tuple[float, float]] = []
        got = 0.0
        for p in sorted(side, reverse=sd > 0):
            if not math.isnan(limit) and (p < limit if sd > 0 else p > limit):
                break
            if len(out) >= cap or got >= qty:
                break
            out.append((p, side[p]))
            got += side[p]
        return out
